"""The stacking convention (`symbolic.stacking`): a sheet that declares one sample and
writes the batch form with an undeclared X.  Verified when one stacking (rows or
columns) holds, refuted only when both fail, never read when X is declared."""
from symbolic.checker import CheckOptions, check_document
from symbolic.document import parse_document

SHEET = r"""# Problem 1

The samples are $(x^{(i)}, y^{(i)})$ with $x \in \mathbb{R}^d$, $y \in \mathbb{R}$, $\hat{y}^{(i)} = \sum_{j=1}^d w_j x_j^{(i)}$ and
$L = \frac{1}{2n} \sum_{i=1}^n (\hat{y}^{(i)} - y^{(i)})^2$.

$$\nabla_w L = \frac{1}{n} X^T (\hat{y} - y)$$

$$\nabla_w L = \frac{1}{n} (X^T X w - X^T y)$$

$$\nabla_w L = \frac{2}{n} X^T (\hat{y} - y)$$

$$\nabla_w L = \frac{1}{n} X^T (\hat{y} + y)$$

$$\nabla_w L = \frac{1}{n} X (\hat{y} - y)$$
"""


def verdicts(text: str):
    rep = check_document(parse_document(text, "s.md", "md"), CheckOptions(sandbox=False))
    return [i.verdict for i in rep.items if i.relation.op == "=" and "nabla" in i.relation.lhs]


def test_the_batch_form_is_read_with_the_samples_stacked():
    right, expanded, factor, sign, columns = verdicts(SHEET)
    assert right.status == expanded.status == "verified"
    assert "samples x^(i)ᵀ as rows" in right.message
    assert factor.status == sign.status == "refuted"  # planted: wrong factor, wrong sign
    assert "stacked either way" in factor.message
    # X (ŷ - y) holds only when the samples are X's columns: that convention, or a dropped
    # transpose -- undecided, never verified
    assert columns.status == "unverified" and columns.reason == "ambiguous" and "as columns" in columns.message


def test_a_declared_matrix_is_not_restacked():
    declared = SHEET.replace("with $x", r"with $X \in \mathbb{R}^{d \times n}$, $x")
    assert all("stacking" not in v.message for v in verdicts(declared))
