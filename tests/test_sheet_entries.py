"""The answer sheet's remaining claims (issue 4): experiments at reduced sizes give the
qualitative result the sheet states, and `derivcheck figures` writes its PNGs or says
how to install matplotlib.

The entries' proofs, planted errors and numeric cross-checks are tested by the
catalog-wide tests (tests/test_catalog.py, tests/test_numeric_crosschecks.py); this
file only adds what those cannot see.  Sources: answer sheet problems 1c, 2a-2c, 3a,
3c, 4a (symbolic/catalog/sheet.py).
"""
from __future__ import annotations

import builtins
import functools

import numpy as np
import pytest

import numeric.crosschecks  # noqa: F401  (registers the checks)
from numeric import experiments as ex
from numeric.crosscheck import CROSSCHECKS
from symbolic.catalog import load
from symbolic.cli import main

SHEET = ("complexity", "sigmoid-gradient", "xavier-variance", "sigmoid-saturation", "l1-sparsity",
         "batchnorm-batch-size", "zero-init")


@functools.cache
def reduced(name: str) -> dict:
    """An experiment at its reduced (QUICK) sizes, computed once per test session."""
    return ex.run(name, quick=True)


# --- every sheet entry is in the catalog, cross-checked, and stated as claims ---------

@pytest.mark.parametrize("entry", SHEET)
def test_entry_is_registered_and_cross_checked(entry):
    assert entry in load() and CROSSCHECKS.get(entry)


@pytest.mark.parametrize("entry, lhs", [
    ("complexity", "O(nd^2 + d^3 + nd + d^2)"),  # the sheet's 1c chain starts here
    ("zero-init", r"\frac{\partial L}{\partial z^3}"),  # the sheet's 4a
])
def test_claims_the_sheet_states(entry, lhs):
    assert lhs in [c.lhs for c in load()[entry]().claims]


# --- experiments: the qualitative result at reduced size ------------------------------

def test_complexity_timing_closed_form_grows_faster_in_d():
    s = reduced("complexity-timing")["series"]
    assert all(np.isfinite(t) and t > 0 for v in s.values() for t in v["seconds"])
    assert all(np.isfinite(v["slope"][0]) and np.isfinite(v["slope"][1]) for v in s.values())
    assert s["closed_vs_d"]["seconds"][-1] > 5 * s["gd_vs_d"]["seconds"][-1]  # ~100x the operations at d=200


def test_closed_form_at_size_reports_break_even():
    r = reduced("closed-form-at-5000")
    assert r["closed_total_s"] > r["gd_update_s"] > 0 and r["break_even_updates"] > 1


def test_loglog_slope_recovers_a_power_law():
    x = np.array([1, 2, 4, 8, 16.0])
    slope, se = ex.loglog_slope(x, 3 * x**2)
    assert slope == pytest.approx(2) and se < 1e-9


def test_sigmoid_gradients_vanish_relu_gradients_do_not():
    r = reduced("gradient-norms")
    assert r["sigmoid_first_over_last"] < 1e-3
    assert 0.1 < r["relu_first_over_last"] < 10


def test_activation_variance_per_init_scheme():
    r = reduced("activation-variance")
    relu, tanh = r["variance"]["relu"], r["variance"]["tanh"]
    assert 0.1 < relu["He N(0, 2/n)"][-1] / relu["He N(0, 2/n)"][0] < 10  # kept
    assert relu["Glorot U[-sqrt(6/(n+m)), sqrt(6/(n+m))]"][-1] < 1e-3  # halves per layer
    assert relu["N(0, 1)"][-1] > 1e10  # explodes
    assert tanh["standard U[-1/sqrt(n), 1/sqrt(n)]"][-1] < 1e-4  # vanishes
    assert r["relu_model_factor"]["He N(0, 2/n)"] == pytest.approx(1)
    assert "layer 20" in ex.variance_table(r)


def test_mean_sigmoid_slope_collapses_with_weight_scale():
    r = reduced("saturation")
    means = r["mean_dsigma"]
    assert all(a > b for a, b in zip(means, means[1:])) and means[0] <= 0.25
    assert means[-1] < 0.01 and all(m <= 1.05 * b for m, b in zip(means, r["bound"]))


def test_lasso_has_exact_zeros_ridge_has_none():
    r = reduced("lasso-vs-ridge")
    assert r["zeros_cd"] > 0 and r["zeros_ista"] > 0 and r["zeros_ridge"] == 0
    assert r["nonzeros_lost"] == 0 and r["cd_vs_ista_max_diff"] < 1e-6


def test_batch_mean_noise_follows_sigma_over_sqrt_b():
    r = reduced("batchnorm-noise")
    assert max(abs(e) for e in r["relative_error"]) < 0.1
    assert r["std_batch_mean"][0] > 3 * r["std_batch_mean"][-1]


def test_zero_init_one_step_and_symmetry():
    r = reduced("zero-init-sgd")
    s = r["after_one_step"]
    assert r["output_before"] == 0.5
    assert s["W3"][0] == [r["W3_formula"]] * 3 and s["b3"] == [r["b3_formula"]]
    assert all(not np.any(s[k]) for k in ("W1", "b1", "W2", "b2"))
    assert r["unit_spread_after_training"] == 0  # the hidden units never differ


def test_adam_bias_and_correction():
    r = reduced("adam-bias")
    z = np.abs(np.array(r["mean_m"]) - r["formula"]) / np.array(r["se_m"])
    assert z.max() < 5 and abs(r["mean_m_hat"][0] - r["mu"]) < 5 * r["se_m_hat"][0]


def test_noise_l2_estimate_converges_to_the_penalised_loss():
    r = reduced("noise-l2-mc")
    assert abs(r["running_mean"][-1] - r["formula"]) < 5 * r["se"][-1]
    assert abs(r["running_mean"][-1] - r["without_noise_term"]) > 10 * r["se"][-1]


@pytest.mark.parametrize("name", [n for n in ex.EXPERIMENTS if n != "complexity-timing"])
def test_every_experiment_is_seeded_and_summarised(name):
    again = ex.run(name, quick=True)
    if name != "closed-form-at-5000":  # timings differ between runs
        assert again == reduced(name)
    text = ex.summary(name, reduced(name))
    assert text.startswith(f"[{name}]") and "seed" in text


# --- the figures command ----------------------------------------------------------------

def test_figures_writes_every_png(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    from numeric.figures import FIGURES

    monkeypatch.setattr(ex, "run", lambda name, quick=False: reduced(name))  # reuse the data above
    assert main(["figures", "--out", str(tmp_path), "--quick"]) == 0
    out = capsys.readouterr().out
    for name in FIGURES:
        png = tmp_path / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
        assert str(png) in out


def test_figures_without_matplotlib_exits_2_with_one_line(monkeypatch, capsys, tmp_path):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    assert main(["figures", "--out", str(tmp_path / "figs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "matplotlib is not installed: pip install 'derivcheck[plots]'" in err
    assert not (tmp_path / "figs").exists()
