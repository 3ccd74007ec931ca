"""The judge on hand-built trees: true identities verified, planted errors refuted with
evidence, undecidable ones left unverified with a reason (never a guess)."""
from fractions import Fraction as F

import pytest

from numeric.witness import World
from symbolic.expr import Add, Delta, Deriv, Func, Mul, Num, Pow, Sum, Sym, Transpose
from symbolic.verdict import REFUTED, UNVERIFIED, VERIFIED, judge

n, d, one = Sym("n"), Sym("d"), Num(1)
X, y, w, b = Sym("X"), Sym("y"), Sym("w"), Sym("b")
i, j = Sym("i"), Sym("j")
T = Transpose


def neg(e):
    return Mul((Num(-1), e))


def frac(p, q=1):
    return Num(F(p, q))


residual = Add((y, neg(Mul((X, w)))))
MATRIX_WORLD = World(
    shapes={("X", (), ()): (n, d), ("y", (), ()): (n, one), ("w", (), ()): (d, one)},
    definitions={"L": ((), Mul((frac(1, 2), Pow(n, Num(-1)), T(residual), residual)))},
    dims=frozenset({"n", "d"}),
)
grad = Deriv(Sym("L"), w, kind="nabla")
gradient_formula = Mul((Pow(n, Num(-1)), Add((Mul((T(X), X, w)), neg(Mul((T(X), y)))))))

# per-sample scalar world of problem 1a: ŷ = Σ_j w_j x_j + b, L = 1/(2n) Σ_i (y^(i) − ŷ^(i))²
yhat_def = Add((Sum(Mul((Sym("w", sub=(j,)), Sym("x", sub=(j,)))), "j", one, d), b))
L_def = Mul((frac(1, 2), Pow(n, Num(-1)),
             Sum(Pow(Add((Sym("y", sup=(i,)), neg(Sym("hat_y", sup=(i,))))), Num(2)), "i", one, n)))
SAMPLE_WORLD = World(definitions={"hat_y": ((), yhat_def), "L": ((), L_def)},
                     families=frozenset({"x", "y", "hat_y"}), dims=frozenset({"n", "d"}))
residual_i = Add((Sym("hat_y", sup=(i,)), neg(Sym("y", sup=(i,)))))


def per_coordinate(scale, factor=None):
    body = Mul((residual_i, factor)) if factor is not None else residual_i
    return Mul((scale, Pow(n, Num(-1)), Sum(body, "i", one, n)))


CASES = [
    # (name, lhs, rhs, world, expected status)
    ("gradient of least squares", grad, gradient_formula, MATRIX_WORLD, VERIFIED),
    ("planted: XXᵀ for XᵀX (shape)", grad,
     Mul((Pow(n, Num(-1)), Add((Mul((X, T(X), w)), neg(Mul((T(X), y))))))), MATRIX_WORLD, REFUTED),
    ("planted: sign of Xᵀy", grad,
     Mul((Pow(n, Num(-1)), Add((Mul((T(X), X, w)), Mul((T(X), y)))))), MATRIX_WORLD, REFUTED),
    ("planted: factor 2", grad, Mul((Num(2), gradient_formula)), MATRIX_WORLD, REFUTED),
    ("expansion of (y−Xw)ᵀ(y−Xw)", Mul((T(residual), residual)),
     Add((Mul((T(y), y)), neg(Mul((Num(2), T(y), X, w))), Mul((T(w), T(X), X, w)))), MATRIX_WORLD, VERIFIED),
    ("planted: dropped transpose yᵀXw -> yXw", Mul((T(residual), residual)),
     Add((Mul((T(y), y)), neg(Mul((Num(2), y, X, w))), Mul((T(w), T(X), X, w)))), MATRIX_WORLD, REFUTED),
    ("∂L/∂w_1 per coordinate", Deriv(Sym("L"), Sym("w", sub=(one,))),
     per_coordinate(one, Sym("x", sub=(one,), sup=(i,))), SAMPLE_WORLD, VERIFIED),
    ("planted: sign of ∂L/∂w_1", Deriv(Sym("L"), Sym("w", sub=(one,))),
     per_coordinate(Num(-1), Sym("x", sub=(one,), sup=(i,))), SAMPLE_WORLD, REFUTED),
    ("∂L/∂b", Deriv(Sym("L"), b), per_coordinate(one), SAMPLE_WORLD, VERIFIED),
    ("planted: sign of ∂L/∂b", Deriv(Sym("L"), b), per_coordinate(Num(-1)), SAMPLE_WORLD, REFUTED),
    ("sigmoid derivative", Deriv(Func("sigma", (Sym("z"),)), Sym("z")),
     Mul((Func("sigma", (Sym("z"),)), Add((one, neg(Func("sigma", (Sym("z"),))))))), World(), VERIFIED),
    ("planted: exponent in sigmoid derivative", Deriv(Func("sigma", (Sym("z"),)), Sym("z")),
     Mul((Func("sigma", (Sym("z"),)), Pow(Add((one, neg(Func("sigma", (Sym("z"),))))), Num(2)))), World(), REFUTED),
    ("geometric sum, symbolic t", Mul((Add((one, neg(Sym("beta")))), Sum(Pow(Sym("beta"), Add((Sym("t"), neg(i)))), "i", one, Sym("t")))),
     Add((one, neg(Pow(Sym("beta"), Sym("t"))))), World(dims=frozenset({"t"})), VERIFIED),
    ("planted: exponent t−1 in bias correction", Mul((Add((one, neg(Sym("beta")))), Sum(Pow(Sym("beta"), Add((Sym("t"), neg(i)))), "i", one, Sym("t")))),
     Add((one, neg(Pow(Sym("beta"), Add((Sym("t"), Num(-1))))))), World(dims=frozenset({"t"})), REFUTED),
    ("softmax Jacobian entry", Deriv(Sym("hat_y", sub=(i,)), Sym("u", sub=(j,))),
     Mul((Sym("hat_y", sub=(i,)), Add((Delta(i, j), neg(Sym("hat_y", sub=(j,))))))),
     World(shapes={("u", (), ()): (d, one)}, definitions={"hat_y": ((), Func("softmax", (Sym("u"),)))}, dims=frozenset({"d"})),
     VERIFIED),
    ("planted: wrong index in softmax Jacobian", Deriv(Sym("hat_y", sub=(i,)), Sym("u", sub=(j,))),
     Mul((Sym("hat_y", sub=(i,)), Add((Delta(i, j), neg(Sym("hat_y", sub=(i,))))))),
     World(shapes={("u", (), ()): (d, one)}, definitions={"hat_y": ((), Func("softmax", (Sym("u"),)))}, dims=frozenset({"d"})),
     REFUTED),
    ("big-O: dominant terms",
     Func("O", (Add((Mul((n, Pow(d, Num(2)))), Pow(d, Num(3)), Mul((n, d)), Pow(d, Num(2)))),)),
     Func("O", (Mul((Pow(d, Num(2)), Add((n, d)))),)), World(), VERIFIED),
    ("planted: big-O drops d³", Func("O", (Add((Mul((n, Pow(d, Num(2)))), Pow(d, Num(3)))),)),
     Func("O", (Mul((n, Pow(d, Num(2)))),)), World(), REFUTED),
    ("undefined function on both sides", Func("J", (w,)), Func("J", (w,)), World(), VERIFIED),
    ("undefined function, same application: one unknown value", Func("J", (w,)), Mul((Num(2), Func("J", (w,)))),
     World(), REFUTED),
    ("undefined function, other arguments: never refuted", Func("J", (Mul((Num(2), w)),)),
     Mul((Num(2), Func("J", (w,)))), World(), UNVERIFIED),
]


@pytest.mark.parametrize("name,lhs,rhs,world,expected", CASES, ids=[c[0] for c in CASES])
def test_judge(name, lhs, rhs, world, expected):
    v = judge(lhs, rhs, world)
    assert v.status == expected, v
    if expected == REFUTED:
        assert v.counterexample, "a refutation carries its evidence"
    if expected == UNVERIFIED:
        assert v.reason


def test_counterexample_shows_both_sides():
    v = judge(grad, Mul((Num(2), gradient_formula)), MATRIX_WORLD)
    ce = v.counterexample
    assert set(ce) >= {"sizes", "values", "lhs", "rhs", "tolerance"}
    assert ce["lhs"] != ce["rhs"]


def test_same_seed_same_evidence():
    a = judge(grad, Mul((Num(2), gradient_formula)), MATRIX_WORLD, seed=3)
    b = judge(grad, Mul((Num(2), gradient_formula)), MATRIX_WORLD, seed=3)
    assert a == b


def test_an_undefined_function_refutes_only_when_no_meaning_rescues_it():
    from symbolic.cli import main
    import contextlib, io, json

    def verdict(a, b):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(["compare", a, b, "--format", "json"])
        return json.loads(out.getvalue())

    doubled = verdict(r"2 \nabla J_1", r"\nabla J_1")  # wrong under every meaning of ∇J
    assert doubled["verdict"] == "different" and "linear meaning" in doubled["method"]
    for a, b in ((r"\nabla(a+b)", r"\nabla a + \nabla b"), ("f(2x)", "2 f(x)")):  # true for linear f
        assert verdict(a, b)["verdict"] == "undecided"
    assert verdict("f(x)^2", "f(x) f(x)")["verdict"] == "equal"


def test_free_indices_that_differ_are_drawn_apart_unless_a_summation_convention_may_be_meant():
    from symbolic.latex import parse
    from numeric.witness import World
    from symbolic.verdict import judge

    def v(a, b):
        return judge(parse(a).expr, parse(b).expr, World())

    typo = v(r"\hat{y}_i - y_i", r"\hat{y}_j - y_j")  # a renaming typo: false for i ≠ j
    assert typo.status == "refuted"
    assert typo.counterexample["indices"]["i"] != typo.counterexample["indices"]["j"]
    assert "on the left" in typo.counterexample["free_indices"]
    assert v(r"\hat{y}_i - y_i", r"\hat{y}_i - y_i").status == "verified"
    for a, b in (("z_i", "W_{ij} x_j"), ("x_i y_i", "x_j y_j")):  # Einstein's convention may be meant
        assert v(a, b).reason == "index-mismatch"


def test_identities_that_hold_only_for_positive_values_are_not_verified():
    from symbolic.latex import parse
    from numeric.witness import World
    from symbolic.verdict import judge

    def v(a, b):
        return judge(parse(a).expr, parse(b).expr, World()).status

    for a, b in ((r"\text{ReLU}(z)", "z"), (r"\text{sign}(x)", "1"), (r"\mathbb{1}[z > 0]", "1"), ("|x|", "x"),
                 (r"\max(0, z)", "z")):
        assert v(a, b) == "refuted", (a, b)  # planted: true only for z > 0
    for a, b in ((r"\mathbb{1}[z > 0] \cdot z", r"\text{ReLU}(z)"), ("|x|", r"\sqrt{x^2}"),
                 (r"\frac{d}{dz}\text{ReLU}(z)", r"\mathbb{1}[z > 0]"), (r"\mathbb{1}[z \geq 0]", r"1 - \mathbb{1}[z < 0]")):
        assert v(a, b) == "verified", (a, b)
