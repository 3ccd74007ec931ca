"""The exact witness (`numeric.exact`): rational expressions evaluated with Fractions, so
large values are no excuse, and a planted error is caught exactly."""
from fractions import Fraction

from numeric import exact
from numeric.witness import World
from symbolic.expr import Num, Sym
from symbolic.latex import parse
from symbolic.verdict import judge


def sides(a: str, b: str):
    return parse(a).expr, parse(b).expr


def test_large_values_are_decided_exactly():
    v = judge(*sides("(x + 999)^2", "x^2 + 1998x + 998001"), World())
    assert v.status == "verified" and "exact rational" in v.method
    wrong = judge(*sides("(x + 999)^2", "x^2 + 1998x + 998002"), World())  # planted: constant off by 1
    assert wrong.status == "refuted"


def test_planted_errors_in_rational_identities_are_caught_with_exact_values():
    for a, b in (("(a+b)^2", "a^2 + b^2"), (r"\frac{1}{x} + \frac{1}{y}", r"\frac{x+y}{2xy}"),
                 ("(a-b)(a+b)", "a^2 + b^2"), ("x^3 x", "x^5")):
        v = judge(*sides(a, b), World())
        assert v.status == "refuted", (a, b)
        ce = v.counterexample
        assert ce["tolerance"] == "exact" or "difference" in ce
    found = exact.compare_exact(*sides("(a+b)^2", "a^2 + b^2"))
    assert found.outcome == "different" and Fraction(found.evidence["lhs"]) != Fraction(found.evidence["rhs"])


def test_what_is_not_rational_in_free_scalars_is_left_to_the_float_witness():
    scalar = exact.undefined_scalar(World(shapes={("w", (), ()): (Sym("d"), Num(1))}))
    for a, b in (("x^{100000}", "x"), (r"\log x", "x"), ("w + 1", "1 + w"), ("AB", "BA"), ("x_i", "x_i")):
        assert not exact.evaluable(*sides(a, b), scalar), (a, b)


def test_undeclared_capitals_multiplied_together_are_read_as_matrices():
    assert judge(*sides("AB", "BA"), World()).status == "refuted"
    assert judge(*sides("(AB)C", "A(BC)"), World()).status == "verified"
