"""The numeric witness: every registered cross-check passes with its stated formula,
rejects each of its planted errors, and is reproducible.  Parametrized from the
registry, so a newly registered check is tested with no new test code."""
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import numeric.crosschecks  # noqa: F401  (registers every check)
from numeric.crosscheck import CROSSCHECKS, CheckResult, CrossCheck, select
from numeric.finite_diff import GRADCHECK, Tolerance, compare, gradient, jacobian
from symbolic.cli import main

CHECKS = [c for checks in CROSSCHECKS.values() for c in checks]
MUTANTS = [(c, name) for c in CHECKS for name in c.mutants]
CORE_IDS = ("normal-equations", "noise-l2", "adam-bias", "softmax-jacobian", "softmax-ce-grad")


def _id(check: CrossCheck) -> str:
    return f"{check.entry}/{check.name}"


# --- every registered check --------------------------------------------------------

@pytest.mark.parametrize("check", CHECKS, ids=_id)
def test_stated_formula_passes(check):
    result = check.run()
    assert isinstance(result, CheckResult)
    assert (result.entry, result.check) == (check.entry, check.name)
    assert result.passed, result.observed


@pytest.mark.parametrize("check,mutant", MUTANTS, ids=[f"{_id(c)}:{m}" for c, m in MUTANTS])
def test_planted_error_is_rejected(check, mutant):
    result = check.run(check.mutants[mutant])
    assert not result.passed, f"mutant accepted: {result.observed}"


@pytest.mark.parametrize("check", CHECKS, ids=_id)
def test_same_seed_same_figures(check):
    first, second = check.run(), check.run()
    assert first.figures == second.figures and first.observed == second.observed


@pytest.mark.parametrize("check", CHECKS, ids=_id)
def test_every_check_has_a_planted_error(check):
    assert check.mutants


@pytest.mark.parametrize("entry", CORE_IDS)
def test_every_core_entry_is_cross_checked(entry):
    assert CROSSCHECKS.get(entry)


def test_numeric_does_not_import_sympy_or_symbolic():
    # the witness must be independent of what it witnesses
    code = ("import sys, numeric.crosschecks; "
            "bad = sorted({m.split('.')[0] for m in sys.modules} & {'sympy', 'symbolic'}); "
            "print(bad); sys.exit(bool(bad))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_select_keeps_order_and_names_unknown_ids():
    assert [c.entry for c in select(("noise-l2",))] == ["noise-l2"] * len(CROSSCHECKS["noise-l2"])
    assert len(select()) == len(CHECKS)
    with pytest.raises(KeyError, match="no-such-id"):
        select(("noise-l2", "no-such-id"))


# --- finite differences and the comparison rule ----------------------------------------

def test_gradient_of_a_cubic():
    x = np.array([[0.5, -1.0], [2.0, 0.1]])
    assert compare(gradient(lambda v: np.sum(v**3), x), 3 * x**2).passed


def test_jacobian_shape_is_output_then_input():
    A = np.arange(6.0).reshape(3, 2)
    J = jacobian(lambda v: A @ v, np.ones(2))
    assert J.shape == (3, 2) and compare(J, A).passed


def test_gradient_refuses_a_vector_function():
    with pytest.raises(ValueError, match="scalar"):
        gradient(lambda v: 2 * v, np.ones(3))


@pytest.mark.parametrize("numeric_,analytic,passed,max_rel", [
    # opposite signs: a + b = 0 must not blow up the relative error
    ([1.0], [-1.0], False, 2.0),
    # off by 1%: beyond rtol = 1e-3
    ([2.0], [2.02], False, 0.02 / 2.02),
    # below atol, judged on absolute error only
    ([0.0], [3e-7], True, 3e-7 / GRADCHECK.atol),
    ([0.0], [0.0], True, 0.0),
])
def test_compare_rule(numeric_, analytic, passed, max_rel):
    c = compare(np.array(numeric_), np.array(analytic))
    assert c.passed is passed and c.max_rel_err == pytest.approx(max_rel)


def test_compare_reports_shape_mismatch():
    c = compare(np.zeros((3, 4)), np.zeros((4, 3)))
    assert not c.passed and "shape mismatch" in c.note


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, 5, elements=st.floats(-1e6, 1e6)),
       hnp.arrays(np.float64, 5, elements=st.floats(-1e6, 1e6)))
def test_relative_error_is_bounded_and_rule_is_allclose(numeric_, analytic):
    tol = Tolerance(rtol=1e-3, atol=1e-5)
    c = compare(numeric_, analytic, tol)
    assert 0.0 <= c.max_rel_err <= 2.0  # |a - n| <= 2 max(|a|, |n|): never divides by a + b
    assert c.passed == bool(np.all(np.abs(analytic - numeric_) <= tol.atol + tol.rtol * np.abs(numeric_)))


# --- `derivcheck numeric` ----------------------------------------------------------------

def test_cli_prints_one_row_per_check(capsys):
    assert main(["numeric", "adam-bias"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["entry", "check"]
    assert [line.split()[-1] for line in lines[1:]] == ["PASS"] * len(CROSSCHECKS["adam-bias"])


def test_cli_mutants_are_listed_as_rejected(capsys):
    assert main(["numeric", "softmax-jacobian", "--mutants"]) == 0
    out = capsys.readouterr().out
    assert out.count("rejected") == sum(len(c.mutants) for c in CROSSCHECKS["softmax-jacobian"])


def test_cli_unknown_id_is_a_usage_error(capsys):
    assert main(["numeric", "no-such-id"]) == 2
    assert "no-such-id" in capsys.readouterr().err


def test_cli_exit_status_1_when_a_check_fails(monkeypatch, capsys):
    failing = CheckResult("planted", "always fails", "none", "-", "-", "wrong on purpose", False)
    check = CrossCheck("planted", "always fails", lambda formula=None: failing)
    monkeypatch.setitem(CROSSCHECKS, "planted", [check])
    assert main(["numeric", "planted"]) == 1
    assert capsys.readouterr().out.splitlines()[-1].endswith("FAIL")
