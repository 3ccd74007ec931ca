"""The proof catalog as tests: every entry verifies, every planted error is caught
with evidence, every rendering is well formed, and the CLI reports both.

Parametrized from the catalog (`symbolic.catalog.load()`), so a new entry or a new
mutant is tested with no new test code.  Sources of the expected results are cited in
the entries themselves (symbolic/catalog/*.py)."""
from __future__ import annotations

import functools
import re

import pytest
import sympy as sp

from symbolic.catalog import load
from symbolic.cli import main
from symbolic.derivation import (
    Context, Derivation, Refuted, Step, StepFailed, Undecided, check_inverses, check_shapes, equal,
    find_counterexample, verify,
)
from symbolic.render import FORMATS, render

CATALOG = load()
IDS = sorted(CATALOG)
CORE = ("normal-equations", "noise-l2", "adam-bias", "softmax-jacobian", "softmax-ce-grad")  # issue 2


@functools.cache
def built(entry: str) -> Derivation:
    return CATALOG[entry]()


@functools.cache
def report(entry: str):
    return verify(built(entry))


@functools.cache
def mutant_report(entry: str, mutant: str):
    return verify(built(entry).mutants[mutant]())


def _mutant_params():
    params = []
    for entry in IDS:
        try:
            names = list(built(entry).mutants)
        except Exception:  # noqa: BLE001 - the entry's own tests fail with the real error
            names = []
        params += [pytest.param(entry, name, id=f"{entry}: {name}") for name in names]
    return params


# --- every entry is complete and verifies ------------------------------------------


def test_core_entries_are_registered():
    assert set(CORE) <= set(IDS)


@pytest.mark.parametrize("entry", IDS)
def test_entry_is_complete(entry):
    d = built(entry)
    assert d.id == entry, "id must be the builder's name with _ -> -, as numeric cross-checks key on it"
    assert d.title and d.source and d.hypotheses and len(d.steps) >= 2
    assert d.mutants, "every entry needs at least one planted-error twin"


@pytest.mark.parametrize("entry", CORE)
def test_core_entry_states_its_claims(entry):
    assert built(entry).claims


@pytest.mark.parametrize("entry", IDS)
def test_entry_verifies(entry):
    report(entry).raise_for_failure()  # StepFailed names the step, both sides, the counterexample


# --- planted errors are rejected, with evidence -------------------------------------


@pytest.mark.parametrize("entry, mutant", _mutant_params())
def test_mutant_is_rejected(entry, mutant):
    r = mutant_report(entry, mutant)
    assert not r.ok, f"the verifier accepted the planted error {mutant!r}"
    first = r.failures[0]
    assert first.status in ("refuted", "undecided") and first.reason
    with pytest.raises(StepFailed, match=re.escape(first.name)):
        r.raise_for_failure()


# A wrong formula is refuted by a counterexample or a shape error; a dropped hypothesis
# (named so) may leave its step merely undecided, which test_mutant_is_rejected covers.
WRONG_FORMULAS = [p for p in _mutant_params() if p.values[0] in CORE and "hypothesis" not in p.values[1]]


@pytest.mark.parametrize("entry, mutant", WRONG_FORMULAS)
def test_core_wrong_formula_is_refuted_with_evidence(entry, mutant):
    first = mutant_report(entry, mutant).failures[0]
    assert first.status == "refuted"
    assert first.counterexample is not None or "shape" in first.reason


# --- renderings ----------------------------------------------------------------------


def _rows(block: str, env: str) -> list[str]:
    """Rows of the top-level `env`: nested environments (cases, matrix) removed first."""
    inner = block.split(rf"\begin{{{env}}}")[1].split(rf"\end{{{env}}}")[0]
    while (flat := re.sub(r"\\begin\{(\w+)\}((?!\\begin\{).)*?\\end\{\1\}", "NESTED", inner, flags=re.S)) != inner:
        inner = flat
    return inner.split(r" \\")


def _balanced_braces(tex: str) -> bool:
    depth = 0
    for ch in re.sub(r"\\[{}]", "", re.sub(r"%.*", "", tex)):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize("entry", IDS)
def test_latex_is_one_balanced_align(entry):
    tex = render(built(entry), "latex", report(entry))
    body = "\n".join(line for line in tex.splitlines() if not line.startswith("%"))
    assert tex.isascii(), "pdflatex with amsmath alone cannot take Unicode in math"
    assert body.count(r"\begin{align*}") == body.count(r"\end{align*}") == 1
    assert sorted(re.findall(r"\\begin\{(\w+\*?)\}", body)) == sorted(re.findall(r"\\end\{(\w+\*?)\}", body))
    assert body.count(r"\left") == body.count(r"\right") and _balanced_braces(body)
    assert "$" not in body.replace(r"\$", "")
    assert not re.search(r"\\(mathbb|boldsymbol|bm|square|blacksquare|varnothing)\b", body), "needs more than amsmath"
    rows = _rows(body, "align*")
    assert len(rows) == len(built(entry).steps) and all(re.search(r"&&\s*\S", r) for r in rows)


@pytest.mark.parametrize("entry", IDS)
def test_markdown_is_a_github_math_block(entry):
    md = render(built(entry), "markdown", report(entry))
    block = md.split("$$\n")[1]
    assert md.count("$$") == 2 and block.startswith(r"\begin{aligned}") and block.rstrip().endswith(r"\end{aligned}")
    assert "\n\n" not in block, "a blank line ends a math block on GitHub"
    assert len(_rows(block, "aligned")) == len(built(entry).steps)


@pytest.mark.parametrize("entry", IDS)
@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "markdown"])  # markdown: rows checked above
def test_every_step_is_printed_with_its_status(entry, fmt):
    out = render(built(entry), fmt, report(entry))
    assert len(re.findall(r"(verified|refuted|undecided) \(", out)) >= len(built(entry).steps)


# --- the CLI ----------------------------------------------------------------------------


def test_cli_prove_latex_exits_0(capsys):
    assert main(["prove", "--format", "latex"]) == 0
    assert capsys.readouterr().out.count(r"\begin{align*}") == len(IDS)


def test_cli_formats_match_the_renderers():
    from symbolic.commands import prove

    assert set(prove.FORMATS) == set(FORMATS)


def test_cli_prove_unknown_id_exits_2(capsys):
    assert main(["prove", "no-such-derivation"]) == 2
    assert "unknown derivation id" in capsys.readouterr().err


def test_cli_prove_exits_1_and_names_the_step(monkeypatch, capsys):
    wrong = built("adam-bias").mutants["exponent t-1 for t in E[m_t]"]
    monkeypatch.setattr("symbolic.catalog.load", lambda: {"adam-bias": wrong})
    assert main(["prove", "adam-bias"]) == 1
    err = capsys.readouterr().err
    assert r"step 3 (\mathbb{E}[m_t])" in err and "counterexample at" in err


def test_cli_list_shows_status(monkeypatch, capsys):
    monkeypatch.setattr("symbolic.catalog.load", lambda: {e: CATALOG[e] for e in CORE})
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(re.search(rf"^{e}\s+verified\s", out, re.M) for e in CORE)


# --- the verifier's guards against SymPy pitfalls (issue 2) -----------------------------

n, d = sp.symbols("n d", integer=True, positive=True)
X, y, w = sp.MatrixSymbol("X", n, d), sp.MatrixSymbol("y", n, 1), sp.MatrixSymbol("w", d, 1)


@pytest.mark.parametrize("expr", [
    sp.MatMul(w.T, w.T, evaluate=False),  # (1 x d)(1 x d): SymPy builds w.T**2
    X + X.T * X,  # n x d plus d x d
    (X * X.T).I * X.T * y,  # (n x n)(d x n)
])
def test_shape_errors_are_refuted(expr):
    with pytest.raises(Refuted, match="shape"):
        check_shapes(expr)


def test_a_1x1_matrix_equals_its_transpose():
    assert equal(y.T * X * w, w.T * X.T * y)


def test_an_inverse_needs_a_stated_hypothesis():
    with pytest.raises(Undecided, match="not declared invertible"):
        check_inverses((X.T * X).I, Context())
    check_inverses((X.T * X).I, Context(invertible=(X.T * X,)))


def test_piecewise_from_a_delta_sum_is_settled_by_the_index_range():
    j, k = sp.symbols("j k", integer=True, positive=True)
    x = sp.IndexedBase("x")
    delta_sum = sp.Sum(x[k] * sp.KroneckerDelta(j, k), (k, 1, d))
    assert equal(delta_sum, x[j], Context(facts=(sp.Le(j, d),)))
    assert not equal(delta_sum, x[j])  # without the range SymPy keeps a Piecewise


def test_a_wrong_identity_gets_a_counterexample():
    cex = find_counterexample(y.T * X * w, 2 * w.T * X.T * y)
    assert cex is not None and cex.gap > 0 and "X" in cex.point


def test_a_custom_check_is_honoured():
    a = sp.Symbol("a")
    d_ = Derivation("t", "t", "test", None, None, ("a real",),
                    (Step(a, "given"), Step(a + 1, "custom", check=lambda p, q: False)))
    r = verify(d_)
    assert r.failures[0].status == "refuted" and r.failures[0].name == "step 2"
