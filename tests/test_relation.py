"""Segments -> relations: chains, rows, separators, kinds, lines (symbolic.relation).
The fixture tests check that every row of the answer keys names a relation of its line."""
import json
import time
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symbolic.document import Segment, parse_document, read_document
from symbolic.relation import (KINDS, OPS, Relation, relations, split_document, split_relations,
                               split_segment)

FIXTURES = Path(__file__).parent / "fixtures"


def seg(latex: str, env: str = "$$", line: int = 1, broken: bool = False) -> Segment:
    return Segment(0, line, line + latex.count("\n"), latex, env != "$", "1", "a", env, broken)


def triples(latex: str, env: str = "$$", previous: Relation | None = None):
    return [(r.lhs, r.op, r.rhs) for r in split_relations(seg(latex, env), previous)]


def kinds(latex: str, env: str = "$$"):
    return [(r.lhs, r.op, r.rhs, r.kind) for r in split_relations(seg(latex, env))]


# ----------------------------------------------------------------------------- chains and operators
@pytest.mark.parametrize("latex, expected", [
    ("a = b", [("a", "=", "b")]),
    ("a = b = c", [("a", "=", "b"), ("b", "=", "c")]),
    ("a \\le b < c \\leq d", [("a", "\\le", "b"), ("b", "<", "c"), ("c", "\\le", "d")]),
    ("a \\geqslant b > c \\ge d", [("a", "\\ge", "b"), ("b", ">", "c"), ("c", "\\ge", "d")]),
    ("a \\ne b \\neq c", [("a", "\\neq", "b"), ("b", "\\neq", "c")]),
    ("a \\approx b \\simeq c \\propto d", [("a", "\\approx", "b"), ("b", "\\approx", "c"), ("c", "\\propto", "d")]),
    ("a <= b >= c", [("a", "\\le", "b"), ("b", "\\ge", "c")]),
    ("a \\equiv b", [("a", "=", "b")]),
    ("a \\lt b", [("a", "<", "b")]),
    # operators only at the top level
    ("\\frac{a = b}{c} = d", [("\\frac{a = b}{c}", "=", "d")]),
    ("\\mathbb{1}_{i=j} = \\delta_{ij}", [("\\mathbb{1}_{i=j}", "=", "\\delta_{ij}")]),
    ("\\sum_{i=1}^{n} x_i = S", [("\\sum_{i=1}^{n} x_i", "=", "S")]),
    ("P(X = x) = p", [("P(X = x)", "=", "p")]),
    ("\\left( a = b \\right) = c", [("\\left( a = b \\right)", "=", "c")]),
    ("\\langle x, y = 1 \\rangle = 0", [("\\langle x, y = 1 \\rangle", "=", "0")]),
    ("A = \\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}", [("A", "=", "\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}")]),
    ("f(x) = \\begin{cases} 1 & x > 0 \\\\ 0 & \\text{otherwise} \\end{cases}",
     [("f(x)", "=", "\\begin{cases} 1 & x > 0 \\\\ 0 & \\text{otherwise} \\end{cases}")]),
    # an unbalanced bracket cannot hide operators
    ("[0, 1) = I", [("[0, 1)", "=", "I")]),
    ("f(x = 1", [("f(x", "=", "1")]),
    # sides are the LaTeX as written (whitespace runs collapsed, \left/\right kept)
    ("a  =\n  \\left( b \\right)", [("a", "=", "\\left( b \\right)")]),
    ("a = b.", [("a", "=", "b")]),
    ("a = b \\, ,", [("a", "=", "b")]),
    ("a = \\left. x \\right|_{0}^{1}", [("a", "=", "\\left. x \\right|_{0}^{1}")]),
    ("a = 0.5", [("a", "=", "0.5")]),
    ("a = b \\label{eq:1} \\tag{3}", [("a", "=", "b")]),
    ("a = b \\nonumber", [("a", "=", "b")]),
    ("a =", [("a", "=", "")]),
])
def test_chains_and_operators(latex, expected):
    assert triples(latex) == expected


# ----------------------------------------------------------------------------- statements
@pytest.mark.parametrize("latex, expected", [
    ("a = b \\quad c = d", [("a", "=", "b"), ("c", "=", "d")]),
    ("a = b \\qquad c = d", [("a", "=", "b"), ("c", "=", "d")]),
    ("a = b \\Rightarrow c = d", [("a", "=", "b"), ("c", "=", "d")]),
    ("a = b \\rightarrow c = d", [("a", "=", "b"), ("c", "=", "d")]),
    ("a = b \\Longrightarrow c = d \\implies e = f", [("a", "=", "b"), ("c", "=", "d"), ("e", "=", "f")]),
    ("a = b \\leftarrow c", [("a", "=", "b"), ("c", "", "")]),
    ("a = b \\iff c = d \\therefore e = f", [("a", "=", "b"), ("c", "=", "d"), ("e", "=", "f")]),
    ("a = b \\hspace{1cm} c = d", [("a", "=", "b"), ("c", "=", "d")]),
    ("a = b \\text{ and } c = d", [("a", "=", "b"), ("c", "=", "d")]),
    ("a = b \\text{ and } -c = d", [("a", "=", "b"), ("-c", "=", "d")]),
    ("a = b \\text{ for all } i", [("a", "=", "b"), ("i", "", "")]),
    ("\\Rightarrow a = b", [("a", "=", "b")]),
    # commas and semicolons between two relations, never inside brackets
    ("a = b, c = d", [("a", "=", "b"), ("c", "=", "d")]),
    ("a = b; c = d", [("a", "=", "b"), ("c", "=", "d")]),
    ("L(w, b) = 1", [("L(w, b)", "=", "1")]),
    ("[a, b, c]^T = v", [("[a, b, c]^T", "=", "v")]),
    ("\\left[ a = 1, b = 2 \\right]", [("\\left[ a = 1, b = 2 \\right]", "", "")]),
    ("x_{i,j} = 1, y = 2", [("x_{i,j}", "=", "1"), ("y", "=", "2")]),
    ("a = 1, 2, b = 3", [("a", "=", "1, 2"), ("b", "=", "3")]),
    ("\\text{tr}(A+B) = \\text{tr}(A) + \\text{tr}(B), \\text{tr} A^T = \\text{tr} A",
     [("\\text{tr}(A+B)", "=", "\\text{tr}(A) + \\text{tr}(B)"), ("\\text{tr} A^T", "=", "\\text{tr} A")]),
    # a one-word \text{...} or a worded quantity next to an operator is part of the formula
    ("\\hat{y} = \\text{Softmax}(u)", [("\\hat{y}", "=", "\\text{Softmax}(u)")]),
    ("\\text{learning rate} \\times g = \\text{step size}",
     [("\\text{learning rate} \\times g", "=", "\\text{step size}")]),
    ("A = \\text{Scalar}", [("A", "=", "\\text{Scalar}")]),
])
def test_statements(latex, expected):
    assert triples(latex) == expected


@pytest.mark.parametrize("latex, expected", [
    ("\\text{closed-form: } \\nabla_w L = 0 \\Rightarrow w = c", ["closed-form:", None]),
    ("a = b \\xrightarrow{w, b=0} c = d", [None, "w, b=0"]),
    ("a = b \\xrightarrow[n \\to \\infty]{t} c = d", [None, "t, n \\to \\infty"]),
    ("*) a = b \\quad c = d", ["*)", None]),
    ("a = b \\quad \\text{(by (3))}", ["(by (3))"]),
    ("f(x) = 1 \\text{ if } x > 0", [None, "if"]),
    ("x \\overset{(a)}{=} y", ["(a)"]),
])
def test_notes_keep_labels(latex, expected):
    assert [r.note for r in split_relations(seg(latex))] == expected


# ----------------------------------------------------------------------------- kinds
@pytest.mark.parametrize("latex, expected", [
    ("x \\in \\mathbb{R}^{d}", [("x", "\\in", "\\mathbb{R}^{d}", "declaration")]),
    ("x, y \\in \\mathbb{R}^{n}", [("x, y", "\\in", "\\mathbb{R}^{n}", "declaration")]),
    ("W \\sim U[-\\frac{1}{\\sqrt{n}}, \\frac{1}{\\sqrt{n}}]",
     [("W", "\\sim", "U[-\\frac{1}{\\sqrt{n}}, \\frac{1}{\\sqrt{n}}]", "declaration")]),
    ("\\dim(X) = (n \\times d)", [("X", "dim", "(n \\times d)", "declaration")]),
    ("\\dim(W^1) = (4 \\times n) \\quad \\dim(W^2) = (3 \\times 4)",
     [("W^1", "dim", "(4 \\times n)", "declaration"), ("W^2", "dim", "(3 \\times 4)", "declaration")]),
    ("(1 \\times d) @ (d \\times n) - (1 \\times n) @ (n \\times n) = (1 \\times n)",
     [("(1 \\times d) @ (d \\times n) - (1 \\times n) @ (n \\times n)", "dim", "(1 \\times n)", "declaration")]),
    ("h(\\hat{y} - y)^T \\xrightarrow{\\dim} (h \\times d)",
     [("h(\\hat{y} - y)^T", "dim", "(h \\times d)", "declaration")]),
    ("w := w - \\alpha g", [("w", ":=", "w - \\alpha g", "definition")]),
    ("w \\coloneqq v", [("w", ":=", "v", "definition")]),
    ("f \\triangleq g", [("f", ":=", "g", "definition")]),
    ("f \\stackrel{\\text{def}}{=} g", [("f", ":=", "g", "definition")]),
    ("u =: v", [("v", ":=", "u", "definition")]),
    ("a = b", [("a", "=", "b", "relation")]),
    ("O(nd^2)", [("O(nd^2)", "", "", "expression")]),
    ("\\text{Sigmoid gradient}", [("\\text{Sigmoid gradient}", "", "", "prose")]),
    ("\\text{closed-form:}", [("\\text{closed-form:}", "", "", "prose")]),
    ("a = 0.5 \\leftarrow \\text{0.5}", [("a", "=", "0.5", "relation"), ("\\text{0.5}", "", "", "prose")]),
])
def test_kinds(latex, expected):
    assert kinds(latex) == expected


# ----------------------------------------------------------------------------- rows
ALIGNED = """\\begin{aligned}
  L &= a + b \\\\
    &= c & M &= d \\\\
    &\\vdots \\\\
  N &= e \\\\
\\end{aligned}"""


def test_aligned_rows_pairs_continuations_and_lines():
    rels, skipped = split_segment(seg(ALIGNED, line=10))
    assert [(r.lhs, r.op, r.rhs, r.line) for r in rels] == [
        ("L", "=", "a + b", 11), ("a + b", "=", "c", 12), ("M", "=", "d", 12), ("N", "=", "e", 14)]
    assert [(s.line, s.text, s.reason) for s in skipped] == [(13, "\\vdots", "ellipsis-row"), (14, "", "empty-row")]


@pytest.mark.parametrize("latex, env, expected", [
    # a row that starts with a binary operator, or follows an open bracket, continues its row
    ("\\begin{aligned} L &= a + b \\\\ &\\quad + c \\\\ &= e \\end{aligned}", "$$",
     [("L", "=", "a + b + c"), ("a + b + c", "=", "e")]),
    ("\\begin{aligned} L &= \\frac{1}{2}[a + b \\\\ + c] \\\\ - x + y &= 3 \\end{aligned}", "$$",
     [("L", "=", "\\frac{1}{2}[a + b + c]"), ("- x + y", "=", "3")]),
    ("L = a \\\\ + b", "multline", [("L", "=", "a + b")]),
    ("L = a \\\\ + b", "multline*", [("L", "=", "a + b")]),
    # environments of the segment itself
    ("z &= Wx \\\\ a &= \\sigma(z) \\\\ &= s", "align*", [("z", "=", "Wx"), ("a", "=", "\\sigma(z)"), ("\\sigma(z)", "=", "s")]),
    ("x &= 1 &\\quad y &= 2", "alignat*", [("x", "=", "1"), ("y", "=", "2")]),
    ("f = g \\\\ h = i", "gather", [("f", "=", "g"), ("h", "=", "i")]),
    ("j &=& k \\\\ l &=& m", "eqnarray", [("j", "=", "k"), ("l", "=", "m")]),
    ("\\begin{split} a &= b \\\\ &= c \\end{split}", "equation", [("a", "=", "b"), ("b", "=", "c")]),
    ("a = b \\\\ c = d", "$$", [("a", "=", "b"), ("c", "=", "d")]),
    ("\\begin{aligned} a &= b \\end{aligned} \\quad c = d", "$$", [("a", "=", "b"), ("c", "=", "d")]),
    # a matrix's rows and columns belong to the matrix
    ("\\begin{aligned} Z &= \\begin{bmatrix} a & b \\\\ c & d \\end{bmatrix} \\\\ &= M \\end{aligned}", "$$",
     [("Z", "=", "\\begin{bmatrix} a & b \\\\ c & d \\end{bmatrix}"),
      ("\\begin{bmatrix} a & b \\\\ c & d \\end{bmatrix}", "=", "M")]),
    # a system of equations: each row is a relation
    ("\\left\\{ \\begin{aligned} a &= b \\\\ c &= d \\end{aligned} \\right.", "$$",
     [("a", "=", "b"), ("c", "=", "d")]),
])
def test_rows(latex, env, expected):
    assert triples(latex, env) == expected


def test_multi_line_rows_get_their_own_lines():
    latex = "\n  a &= b \\\\\n  c &= d\n    + e \\\\\n    &= f\n"
    assert [(r.lhs, r.line) for r in split_relations(seg(latex, "align*", line=20))] == [
        ("a", 21), ("c", 22), ("d + e", 24)]


# ----------------------------------------------------------------------------- continuation across segments
PREVIOUS = Relation(0, 1, "1", "a", "x", "y", "=", "relation", 4)


@pytest.mark.parametrize("previous, expected", [
    (PREVIOUS, [("y", "=", "z")]),
    (Relation(0, 1, "1", "a", "x + 1", "", "", "expression", 4), [("x + 1", "=", "z")]),
    (None, [("", "=", "z")]),
])
def test_leading_operator_continues_previous(previous, expected):
    assert triples("= z", previous=previous) == expected


def test_index_starts_after_previous_or_at_start():
    assert [r.index for r in split_relations(seg("a = b = c"), PREVIOUS)] == [5, 6]
    assert [r.index for r in split_relations(seg("a = b = c"), None, start=10)] == [10, 11]


@pytest.mark.parametrize("text, expected", [
    ("$$a = b$$\n\n$$= c$$", [("a", "b"), ("b", "c")]),
    ("$$a = b$$ and $t$ here\n\n$$= c$$", [("a", "b"), ("t", ""), ("b", "c")]),
    ("Problem 1\n$$a = b$$\nProblem 2\n$$= c$$", [("a", "b"), ("", "c")]),
    ("$$a = b \\quad \\text{so}$$\n$$= c$$", [("a", "b"), ("b", "c")]),
])
def test_display_blocks_continue_across_segments(text, expected):
    assert [(r.lhs, r.rhs) for r in relations(parse_document(text, "t", "md"))] == expected


# ----------------------------------------------------------------------------- totality
@pytest.mark.parametrize("latex", ["", "   ", "\\vdots", "\\quad", "\\\\", "&", "\\begin{aligned} \\end{aligned}",
                                   "\\text{}", "}", "{", "\\left(", "\\xrightarrow{", "\\frac{a}{"])
def test_every_segment_yields_at_least_one_relation(latex):
    rels = split_relations(seg(latex))
    assert len(rels) >= 1 and rels[0].segment == 0


def test_broken_segments_are_flagged_on_their_relations():
    doc = parse_document("text $a = b and more", "t", "md")
    assert [(r.lhs, r.rhs, r.broken) for r in relations(doc)] == [("a", "b and more", True)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("ab=,;&()[]{}\\ \n$^_*.") + [
    "\\\\", "\\quad", "\\text{x y}", "\\text{(c)}", "\\begin{aligned}", "\\end{aligned}", "\\begin{bmatrix}",
    "\\left(", "\\right)", ":=", "\\in", "\\xrightarrow{c}", "\\vdots", "\\dim", "\\overset{d}{=}", "@", "\\times"]),
    max_size=40).map("".join))
def test_splitting_is_total(latex):
    rels = split_relations(seg(latex))
    assert rels and all(r.op in OPS and r.kind in KINDS for r in rels)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("ab$\\[]() \n`%{}=") + [
    "$$", "\\[", "\\]", "\\(", "\\)", "\\begin{align}", "\\end{align}", "\\begin{document}", "مسئله ۱", "(a)", "الف)",
    "\\section{x}", "```", "\u200f", "\r\n"]), max_size=50).map("".join))
def test_documents_are_total(text):
    for fmt in ("md", "tex"):
        doc = parse_document(text, "t", fmt)
        split = split_document(doc)
        assert {r.segment for r in split.relations} == {s.index for s in doc.segments}


# ----------------------------------------------------------------------------- documents
def builtin():
    text = resources.files("symbolic").joinpath("data", "answer_sheet_fa.txt").read_text(encoding="utf-8")
    return parse_document(text, "built-in", "md")


DOCUMENTS = [pytest.param(builtin, id="builtin"),
             pytest.param(lambda: read_document(FIXTURES / "linreg_en.md"), id="linreg_en.md"),
             pytest.param(lambda: read_document(FIXTURES / "mlp_backprop.tex"), id="mlp_backprop.tex")]


@pytest.mark.parametrize("load", DOCUMENTS)
def test_every_segment_is_represented(load):
    doc = load()
    split = split_document(doc)
    rels = split.relations
    assert {r.segment for r in rels} == {s.index for s in doc.segments}
    assert [r.index for r in rels] == list(range(len(rels)))
    assert all(r.op in OPS and r.kind in KINDS for r in rels)
    assert all(doc.segments[r.segment].line <= r.line <= doc.segments[r.segment].end_line for r in rels)
    assert all((r.kind == "expression") == (r.op == "" and r.kind != "prose") for r in rels if r.kind != "prose")
    assert {r.kind for r in rels} >= {"relation", "declaration", "expression"}


def test_builtin_sheet_splits_fast():
    doc = builtin()
    best = min(_timed(lambda: split_document(doc)) for _ in range(5))
    assert best < 0.05, f"splitting took {best * 1000:.1f} ms"


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


# ----------------------------------------------------------------------------- answer keys of the fixtures
KEYS = [("linreg_en.md", "linreg_en.key.json"), ("mlp_backprop.tex", "mlp_backprop.key.json")]
ERROR_KINDS = {"sign", "transpose", "order", "factor", "exponent", "shape", "missing-term", "index"}


def key_rows() -> list:
    return [pytest.param(doc_name, row, id=f"{doc_name}:{row['line']}:{row['lhs_contains'][:30]}")
            for doc_name, key_name in KEYS
            for row in json.loads((FIXTURES / key_name).read_text(encoding="utf-8"))]


def find(rels, row) -> list[Relation]:
    """The relations a key row names: on its line, lhs containing `lhs_contains` (an exact
    lhs wins when several contain it)."""
    hits = [r for r in rels if r.line == row["line"] and row["lhs_contains"] in r.lhs and r.op]
    exact = [r for r in hits if r.lhs == row["lhs_contains"]]
    return exact or hits


@pytest.fixture(scope="module")
def fixture_relations():
    return {name: relations(read_document(FIXTURES / name)) for name, _ in KEYS}


@pytest.mark.parametrize("doc_name, row", key_rows())
def test_key_row_names_one_relation(fixture_relations, doc_name, row):
    assert row["expect"] in ("verified", "refuted", "unverified")
    assert (row["kind"] in ERROR_KINDS) == (row["expect"] == "refuted")
    assert len(find(fixture_relations[doc_name], row)) == 1


def test_keys_plant_enough_errors_of_every_kind():
    rows = [r for _, key in KEYS for r in json.loads((FIXTURES / key).read_text(encoding="utf-8"))]
    refuted = [r for r in rows if r["expect"] == "refuted"]
    assert len(refuted) >= 24
    assert {r["kind"] for r in refuted} == ERROR_KINDS
    assert sum(r["expect"] == "verified" for r in rows) >= len(refuted)
    assert any(r["expect"] == "unverified" for r in rows)
