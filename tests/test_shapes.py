"""Shapes solved for undeclared matrices, and shape arithmetic (`symbolic.shapes`)."""
import pytest

from symbolic.expr import Func, Mul, Num, Sym, Transpose
from symbolic.meaning import dim_of
from symbolic.shapes import ShapeError, Var, generic_shapes, is_scalar_word, shape_arithmetic

A, B, C = Sym("A"), Sym("B"), Sym("C")
nobody = lambda s: None  # noqa: E731  (nothing declared)


def test_trace_of_a_product_ties_the_outer_sizes():
    shapes = generic_shapes((Func("tr", (Mul((A, B)),)), Func("tr", (Mul((B, A)),))), nobody)
    a, b = shapes[("A", (), ())], shapes[("B", (), ())]
    assert a[1] == b[0] and a[0] == b[1] and a[0] != a[1]  # A is r×c, B is c×r: rectangular allowed
    assert all(isinstance(d, Var) for d in a + b)


def test_declared_sizes_reach_undeclared_names():
    known = lambda s: (Sym("n"), Sym("d")) if s.name == "X" else None  # noqa: E731
    shapes = generic_shapes((Mul((Sym("X"), A)), Mul((Sym("X"), A))), known)
    assert shapes[("A", (), ())][0] == Sym("d")


@pytest.mark.parametrize("sides", [
    (Mul((A, B)), Num(1)),  # a matrix equals a scalar: no matrix reading
    (Func("f", (A,)), A),  # an unknown function of a matrix
])
def test_unsolvable_readings_give_none(sides):
    assert generic_shapes(sides, nobody) is None


def test_lower_case_names_stay_scalars():
    assert generic_shapes((Mul((Sym("a"), Sym("b"))), Mul((Sym("b"), Sym("a")))), nobody) is None


def test_transpose_swaps():
    shapes = generic_shapes((Transpose(Mul((A, B))), Mul((Transpose(B), Transpose(A)))), nobody)
    assert shapes is not None


def test_shape_arithmetic():
    assert shape_arithmetic(r"(1 \times d) @ (d \times n) @ (n \times 1)", dim_of) == (Num(1), Num(1))
    assert shape_arithmetic(r"(n \times d) @ (d \times 1) - (n \times 1)", dim_of) == (Sym("n"), Num(1))
    assert shape_arithmetic(r"w^T X", dim_of) is None


@pytest.mark.parametrize("latex", [r"(1 \times d) @ (n \times d)", r"(1 \times d) @ (d \times 1) + (d \times 1)"])
def test_shape_arithmetic_catches_mismatches(latex):
    with pytest.raises(ShapeError):
        shape_arithmetic(latex, dim_of)


def test_scalar_words():
    assert is_scalar_word(r"\text{Scalar}") and is_scalar_word("scalar") and not is_scalar_word("(n \\times 1)")


# -- property: products of undeclared matrices ---------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

from numeric.witness import World  # noqa: E402
from symbolic.verdict import judge  # noqa: E402

FACTORS = [A, B, C, Transpose(A), Transpose(B)]
products = st.lists(st.sampled_from(FACTORS), min_size=2, max_size=4)


def transposed(f):
    return f.arg if isinstance(f, Transpose) else Transpose(f)


@settings(max_examples=25, deadline=None)
@given(products)
def test_transpose_of_a_product_reverses_it(factors):
    """(F_1 … F_k)^T = F_k^T … F_1^T for any sizes that make the product defined."""
    lhs = Transpose(Mul(tuple(factors)))
    assert judge(lhs, Mul(tuple(transposed(f) for f in reversed(factors))), World()).status == "verified"


@settings(max_examples=25, deadline=None)
@given(products)
def test_transpose_without_reversing_is_never_verified(factors):
    """The planted twin, F_1^T … F_k^T, holds only when the factors read the same both ways."""
    if factors == factors[::-1]:
        return
    lhs = Transpose(Mul(tuple(factors)))
    assert judge(lhs, Mul(tuple(transposed(f) for f in factors)), World()).status != "verified"
