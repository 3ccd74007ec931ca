"""Lower-case entries of a declared matrix (`w_{kj}^1` of W^1): the declared shape picks
the index order, or nothing is read; and the layer-numbering conventions around them."""
from symbolic import entries, latex
from symbolic.checker import CheckOptions, check_document
from symbolic.document import parse_document
from symbolic.expr import Num, Sym

N = Sym("n")


def uses(*pairs, bounds=None):
    return [(Sym("w", (a, b), (Num(1),)), bounds or {}) for a, b in pairs]


def test_first_index_running_to_n_is_a_column_of_a_4_by_n_matrix():
    assert entries.order(uses((Num(1), Num(1)), (N, Num(4))), (Num(4), N)) == entries.TRANSPOSED
    assert entries.order(uses((Num(1), N), (Num(4), Num(1))), (Num(4), N)) == entries.ROW_MAJOR


def test_a_summation_index_fits_through_its_upper_bound():
    k = Sym("k")
    assert entries.order(uses((k, Num(2)), bounds={"k": N}), (Num(4), N)) == entries.TRANSPOSED


def test_square_or_too_small_indices_are_not_read():
    assert entries.order(uses((Num(1), Num(3)), (Num(3), Num(1))), (Num(3), Num(3))) is None
    assert entries.order(uses((Num(1), Num(2))), (Num(4), N)) is None  # both orders fit
    assert entries.order(uses((Sym("m"), Num(1))), (Num(4), N)) is None  # m against n: unknown


def check(md: str):
    return check_document(parse_document(md, "t.md", "md"), CheckOptions(sandbox=False))


def test_layer_superscript_one_is_an_index_where_layers_are_numbered():
    assert latex.scan_notation(["b^1"], layers=["W"]).index_superscripts >= {"b", "W"}
    assert "b" not in latex.scan_notation(["b^1"]).index_superscripts


def test_an_undeclared_bias_beside_a_layer_is_a_vector_not_a_shape_error():
    rep = check("$$\\dim(W^1) = (4 \\times n) \\quad x \\in \\mathbb{R}^n$$\n\n"
                "$$W^1 x + b^1 = b^1 + W^1 x$$\n\n$$W^1 x + b^1 = W^1 x + 2 b^1$$\n")
    assert [i.verdict.status for i in rep.items if i.relation.op == "="] == ["verified", "refuted"]


def test_rows_elided_by_vdots_are_matched_against_a_row_written_out():
    md = ("$$W \\in \\mathbb{R}^{3 \\times 4} \\quad a \\in \\mathbb{R}^4$$\n\n"
          "$$\\begin{bmatrix} w_{11} a_1 + w_{12} a_2 + \\dots + w_{14} a_4 \\\\ \\vdots \\\\ "
          "w_{31} a_1 + w_{32} a_2 + w_{33} a_3 + w_{34} a_4 \\end{bmatrix} = W a$$\n\n"
          "$$\\begin{bmatrix} w_{11} a_1 + w_{12} a_2 + \\dots + w_{14} a_4 \\\\ \\vdots \\\\ "
          "w_{31} a_1 + w_{32} a_2 + w_{33} a_3 + w_{34} a_4 \\end{bmatrix} = 2 W a$$\n")
    eqs = [i for i in check(md).items if i.relation.op == "="]
    assert [i.verdict.status for i in eqs] == ["verified", "refuted"]
    assert "entry (a, b) of W" in eqs[0].verdict.message


def test_an_undeclared_vector_forced_to_two_lengths_is_a_shape_error():
    rep = check("$$X \\in \\mathbb{R}^{n \\times d}$$\n\n$$X^\\top X w = X X^\\top w$$\n\n$$X^\\top X w = X^\\top X w + 0$$\n")
    assert [i.verdict.status for i in rep.items if i.relation.op == "="] == ["refuted", "verified"]
