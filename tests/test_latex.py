"""symbolic.latex: one side of a relation -> IR.  Case tables grouped by what they test.

Sources: rows marked "sheet" are written as in the built-in answer sheet
(symbolic/data/answer_sheet_fa.txt); rows marked "fixture" as in tests/fixtures/*.md, *.tex;
the others are common ML notation.
"""
from fractions import Fraction

import pytest

from symbolic import latex as L
from symbolic import latex_engine as le
from symbolic.expr import (Add, Delta, Deriv, Expect, Func, Matrix, Mul, Norm, Num, Pow, Product,
                           Sum, Sym, Transpose)
from symbolic.latex import Notation, parse, scan_notation, summation_indices


# -- builders for expected trees ------------------------------------------------------
def S(name, sub=(), sup=()):
    wrap = lambda xs: tuple(x if not isinstance(x, (int, str)) else (N(x) if isinstance(x, int) else S(x))
                            for x in xs)
    return Sym(name, wrap(sub), wrap(sup))


def N(v):
    return Num(Fraction(v))


def M(*f):
    return Mul(tuple(f))


def A(*t):
    return Add(tuple(t))


def P(b, e):
    return Pow(b, N(e) if isinstance(e, (int, Fraction)) else e)


def F(name, *args):
    return Func(name, tuple(args))


def T(x):
    return Transpose(x)


def neg(*f):
    return M(N(-1), *f)


X, Y, w, y, x, a, b, n, z, I = (S(c) for c in "XYwyxabnzI")
HATY = S("hat_y")
INDEXED = Notation(index_superscripts=frozenset({"y", "hat_y", "x", "W", "Z", "a", "z"}))


def ok(latex, notation=Notation()):
    r = parse(latex, notation)
    assert r.reason is None, (latex, r.reason, r.message)
    return r.expr


def check(latex, expected, notation=Notation()):
    assert ok(latex, notation) == expected, latex


# -- products keep their written order (matrices do not commute) ----------------------
ORDER = [
    (r"X^T X w", M(T(X), X, w)),  # sheet
    (r"X X^T w", M(X, T(X), w)),
    (r"(X^T X)^{-1} X^T y", M(P(M(T(X), X), -1), T(X), y)),  # sheet, normal equations
    (r"(X X^T)^{-1} X^T y", M(P(M(X, T(X)), -1), T(X), y)),
    (r"y^T X w", M(T(y), X, w)),
    (r"w^T X^T y", M(T(w), T(X), y)),
    (r"h(\hat{y} - y)^T", M(S("h"), T(A(HATY, neg(y))))),  # sheet: a product, not h(...)
    (r"A \cdot B \times C", M(S("A"), S("B"), S("C"))),
    (r"A @ B", M(S("A"), S("B"))),
    (r"B A", M(S("B"), S("A"))),
]


@pytest.mark.parametrize("latex,expected", ORDER)
def test_order_kept(latex, expected):
    check(latex, expected)


def test_xtxw_differs_from_xxtw():
    assert ok(r"X^T X w") != ok(r"X X^T w")
    assert ok(r"(X^T X)^{-1} X^T y") != ok(r"(X X^T)^{-1} X^T y")


# -- transposes in every spelling, inverses ---------------------------------------------
@pytest.mark.parametrize("latex", [
    r"X^T", r"X^{T}", r"X^\top", r"X^{\top}", r"X^{\intercal}", r"X^\intercal", r"X^{\mathsf{T}}",
    r"X^{\mathrm{T}}", r"X^{\text{T}}", "Xᵀ", r"X^{ T }",
])
def test_transpose_spellings(latex):
    check(latex, T(X))


TRANSPOSES = [
    (r"(y - Xw)^T", T(A(y, neg(X, w)))),  # sheet
    (r"(y - Xw)^T (y - Xw)", M(T(A(y, neg(X, w))), A(y, neg(X, w)))),
    (r"x^{(i)T} w", M(T(S("x", sup=["i"])), w)),  # sheet: sample index, then transpose
    (r"x^{(i)\top} w", M(T(S("x", sup=["i"])), w)),
    (r"X^{-1}", P(X, -1)),
    (r"X^{-T}", P(T(X), -1)),
    (r"[0.5, 0.5]^T", T(Matrix(((N(Fraction(1, 2)), N(Fraction(1, 2))),)))),  # sheet
    (r"(\hat{y} - y)^T X", M(T(A(HATY, neg(y))), X)),  # sheet
    (r"\sum_{t=1}^T x_t", Sum(S("x", sub=["t"]), "t", N(1), S("T"))),  # T as a bound, not a transpose
]


@pytest.mark.parametrize("latex,expected", TRANSPOSES)
def test_transposes(latex, expected):
    check(latex, expected)


# -- primes are part of the name --------------------------------------------------------
@pytest.mark.parametrize("latex,expected", [
    (r"W'", S("W'")),
    (r"W'^T h", M(T(S("W'")), S("h"))),  # sheet
    (r"w'^T", T(S("w'"))),
    (r"W^{\prime}", S("W'")),
    (r"\hat{y}'", S("hat_y'")),
    (r"f'(x)", F("f'", x)),
    (r"\sigma'(z)", F("sigma'", z)),  # fixture linreg_en.md
    (r"\sigma''(z)", F("sigma''", z)),
    (r"\sigma'(\mathbf{z}_1)", F("sigma'", S("z", sub=[1]))),  # fixture mlp_backprop.tex
])
def test_primes(latex, expected):
    check(latex, expected)


# -- superscript indices vs powers; subscripts ------------------------------------------
INDICES = [
    (r"\hat{y}^{(i)}", Notation(), S("hat_y", sup=["i"])),  # sheet
    (r"x_1^{(i)}", Notation(), S("x", sub=[1], sup=["i"])),  # sheet
    (r"x^{(i)}_1", Notation(), S("x", sub=[1], sup=["i"])),
    (r"y^{(1)}", Notation(), S("y", sup=[1])),
    (r"W^{[l]}", Notation(), S("W", sup=["l"])),
    (r"y^i", INDEXED, S("y", sup=["i"])),  # sheet convention: y^i is sample i
    (r"y^i", Notation(), P(y, S("i"))),  # no convention: a power
    (r"W^1 x", INDEXED, M(S("W", sup=[1]), x)),  # sheet: layer 1
    (r"a^3 - y", INDEXED, A(S("a", sup=[3]), neg(y))),  # sheet
    (r"\sum_i \hat{y}^i", Notation(), Sum(S("hat_y", sup=["i"]), "i")),  # bound index
    (r"\sum_k \gamma^k r_k", Notation(), Sum(M(P(S("gamma"), S("k")), S("r", sub=["k"])), "k")),  # Greek: power
    (r"\sigma^2", INDEXED, P(S("sigma"), 2)),
    (r"\beta_1^t", Notation(), P(S("beta", sub=[1]), S("t"))),  # sheet: Adam bias correction
    (r"\hat{y}_i^2", Notation(), P(S("hat_y", sub=["i"]), 2)),
]


@pytest.mark.parametrize("latex,notation,expected", INDICES)
def test_indices_and_powers(latex, notation, expected):
    check(latex, expected, notation)


SUBSCRIPTS = [
    (r"w_j", S("w", sub=["j"])),
    (r"w_{ij}", S("w", sub=["i", "j"])),
    (r"w_{i,j}", S("w", sub=["i", "j"])),
    (r"w_{n1}", S("w", sub=["n", 1])),
    (r"x_{12}", S("x", sub=[12])),
    (r"x_{1}", S("x", sub=[1])),
    (r"\beta_1", S("beta", sub=[1])),
    (r"m_{t-1}", S("m", sub=[A(S("t"), N(-1))])),  # sheet
    (r"x_{i+1}", S("x", sub=[A(S("i"), N(1))])),
    (r"\lambda_{\max}", S("lambda", sub=["max"])),
    (r"x_{\text{train}}", S("x", sub=["train"])),
    (r"\theta_t", S("theta", sub=["t"])),
]


@pytest.mark.parametrize("latex,expected", SUBSCRIPTS)
def test_subscripts(latex, expected):
    check(latex, expected)


# -- accents, fonts, Greek --------------------------------------------------------------
@pytest.mark.parametrize("latex,name", [
    (r"\hat{y}", "hat_y"), (r"\widehat{y}", "hat_y"), (r"\bar{x}", "bar_x"), (r"\overline{x}", "bar_x"),
    (r"\tilde{x}", "tilde_x"), (r"\mathbf{x}", "x"), (r"\boldsymbol{x}", "x"), (r"\bm{x}", "x"),
    (r"\vec{x}", "x"), (r"\mathcal{L}", "L"), (r"\beta", "beta"), (r"\epsilon", "epsilon"),
    (r"\varepsilon", "epsilon"), (r"\sigma", "sigma"), (r"\hat{\beta}", "hat_beta"),
    (r"\hat{\mathbf{x}}", "hat_x"), (r"\mathrm{x}", "x"), (r"\hat y", "hat_y"), ("β", "beta"),
])
def test_accents_and_fonts(latex, name):
    check(latex, S(name))


def test_accent_keeps_scripts_inside_or_outside():
    assert ok(r"\hat{y}_i") == ok(r"\hat{y_i}") == S("hat_y", sub=["i"])
    assert ok(r"\hat{m}_t") == S("hat_m", sub=["t"])  # sheet


# -- functions vs products --------------------------------------------------------------
FUNCTIONS = [
    (r"a(1-a)", M(a, A(N(1), neg(a)))),  # sheet: a product
    (r"L(w)", F("L", w)),
    (r"\mathcal{L}(w, b)", F("L", w, b)),  # sheet
    (r"J(\theta_t)", F("J", S("theta", sub=["t"]))),  # sheet
    (r"O(nd^2)", F("O", M(n, P(S("d"), 2)))),  # sheet: one argument, not a product
    (r"O(dmn)", F("O", M(S("d"), S("m"), n))),  # sheet
    (r"N(0, \sigma^2 I)", F("N", N(0), M(P(S("sigma"), 2), I))),
    (r"\mathcal{N}(0, \sigma^2 I)", F("N", N(0), M(P(S("sigma"), 2), I))),  # sheet
    (r"N(y_n | \beta x_n, \sigma^2)", F("N", S("y", sub=["n"]), M(S("beta"), S("x", sub=["n"])),
                                        P(S("sigma"), 2))),  # sheet: | separates
    (r"U[-1, 1]", F("U", N(-1), N(1))),
    (r"\sigma(z)", F("sigma", z)),
    (r"\sigma(z^3)(1-\sigma(z^3))", M(F("sigma", P(z, 3)), A(N(1), neg(F("sigma", P(z, 3)))))),  # z^3: no convention
    (r"\text{Sigmoid}(z)", F("sigma", z)),  # sheet
    (r"\mathrm{sigmoid}(z)", F("sigma", z)),
    (r"\text{Softmax}(u)", F("softmax", S("u"))),  # sheet
    (r"\operatorname{softmax}(u)", F("softmax", S("u"))),
    (r"\text{ReLU}(x)", F("relu", x)),
    (r"\tanh(x)", F("tanh", x)),
    (r"\text{tr}(A+B)", F("tr", A(S("A"), S("B")))),  # sheet
    (r"\operatorname{tr}(A)", F("tr", S("A"))),
    (r"\mathrm{tr}(A)", F("tr", S("A"))),
    (r"\text{tr} A^T", F("tr", T(S("A")))),  # sheet: no parentheses
    (r"\text{tr} w^T X^T Xw - 2 \text{tr} y^T Xw",
     A(F("tr", M(T(w), T(X), X, w)), M(N(-2), F("tr", M(T(y), X, w))))),  # sheet
    (r"\log(1-a)", F("log", A(N(1), neg(a)))),  # natural log
    (r"\ln(x)", F("log", x)),
    (r"-y^T \log \hat{y}", neg(T(y), F("log", HATY))),  # sheet
    (r"\log_2 x", M(F("log", x), P(F("log", N(2)), -1))),
    (r"\exp(x)", F("exp", x)),
    (r"e^{z_j}", F("exp", S("z", sub=["j"]))),  # sheet
    (r"e^{-z}", F("exp", neg(z))),
    (r"\sqrt{n}", F("sqrt", n)),
    (r"\sqrt[3]{x}", P(x, Fraction(1, 3))),
    (r"|x - y|", F("abs", A(x, neg(y)))),
    (r"\max(a, b)", F("max", a, b)),
    (r"\det(A)", F("det", S("A"))),
    (r"\det A B", F("det", M(S("A"), S("B")))),
    (r"\text{Cov}(x)", F("Cov", x)),  # an unknown \text name keeps its spelling (Var: see below)
    (r"\sin^2 x", P(F("sin", x), 2)),
    (r"-\log \sigma(w^T x)", neg(F("log", F("sigma", M(T(w), x))))),  # the factor includes the call
    (r"\log f(x) + 1", A(F("log", F("f", x)), N(1))),
    (r"h_\theta(x^{(i)})", F("h_{theta}", S("x", sup=["i"]))),  # parameterised function
    (r"\log p_\theta(x)", F("log", F("p_{theta}", x))),
    (r"p(y|x)", F("p", y, x)),  # a bar or comma inside: a call, never a product
    (r"h(a, b)", F("h", a, b)),
    (r"J_1(\theta)", F("J_{1}", S("theta"))),
    (r"\text{Sigmoid}(0)", F("sigma", N(0))),  # sheet
]


@pytest.mark.parametrize("latex,expected", FUNCTIONS)
def test_functions_vs_products(latex, expected):
    check(latex, expected)


def test_document_function_letters():
    assert ok(r"h(x)") == M(S("h"), x)
    assert ok(r"h(x)", Notation(functions=frozenset({"h"}))) == F("h", x)
    assert ok(r"f(x + 1)") == F("f", A(x, N(1)))


# -- the argument of a parenthesis-less \log, \ln, \exp: one factor, applications included ---
SIG_Z = F("sigma", z)
LOG_FACTOR = [
    (r"-y \log \sigma(z) - (1 - y) \log ( 1 - \sigma(z) )",
     A(neg(y, F("log", SIG_Z)), neg(A(N(1), neg(y)), F("log", A(N(1), neg(SIG_Z)))))),  # fixture linreg_en.md
    (r"\log \sigma(z)", F("log", SIG_Z)),
    (r"\ln \sigma(z)", F("log", SIG_Z)),
    (r"\exp \sigma(z)", F("exp", SIG_Z)),
    (r"\log \hat{y}", F("log", HATY)),
    (r"\log \hat{y}_i", F("log", S("hat_y", sub=["i"]))),
    (r"\log s_k", F("log", S("s", sub=["k"]))),
    (r"-\sum_{k=1}^{K} y_k \log s_k", neg(Sum(M(S("y", sub=["k"]), F("log", S("s", sub=["k"]))), "k", N(1), S("K")))),
    (r"\log \sigma(w^\top x)", F("log", F("sigma", M(T(w), x)))),
    (r"\log \text{Softmax}(u)", F("log", F("softmax", S("u")))),
    (r"\log x^{(i)}", F("log", S("x", sup=["i"]))),
    (r"\log x^2", F("log", P(x, 2))),  # log(x²), not (log x)²
    (r"\log \sigma^2", F("log", P(S("sigma"), 2))),  # log-variance
    (r"\log \sigma(z)^2", F("log", P(SIG_Z, 2))),  # the power on an application is inside too
    (r"\exp \sigma(z)^2", F("exp", P(SIG_Z, 2))),
    (r"\log \sigma(z)_j", F("log", F("entry", SIG_Z, S("j")))),
    (r"\log(1-a)", F("log", A(N(1), neg(a)))),
    (r"\log \sigma(z) + 1", A(F("log", SIG_Z), N(1))),
    (r"\log p(x)", F("log", F("p", x))),  # a letter applied after a bare \log is a function
    (r"\log \hat{p}(x)", F("log", F("hat_p", x))),
    (r"\log q(z) - \log p(z)", A(F("log", F("q", z)), neg(F("log", F("p", z))))),
    (r"-\sum_x p(x) \log p(x)", neg(Sum(M(F("p", x), F("log", F("p", x))), "x"))),  # in the whole side
    (r"\log^2 p(x)", P(F("log", F("p", x)), 2)),
    (r"\log a(1-a)", M(F("log", a), A(N(1), neg(a)))),  # a(1-a) stays a product: log takes a
    (r"\log p(0)", F("log", F("p", N(0)))),
]


@pytest.mark.parametrize("latex,expected", LOG_FACTOR)
def test_log_takes_one_factor(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex,wrong", [
    (r"\log \sigma(z)", M(F("log", S("sigma")), z)),
    (r"\log p(x)", M(F("log", S("p")), x)),
    (r"\log \sigma(z)^2", P(F("log", SIG_Z), 2)),
    (r"\nabla_w^2 f", Deriv(S("f"), w, order=1, kind="nabla")),
    (r"a \odot b \cdot c", F("hadamard", a, M(b, S("c")))),
])
def test_old_wrong_parses_are_gone(latex, wrong):
    assert ok(latex) != wrong


# -- a star superscript decorates a name ("optimal") -----------------------------------
STARS = [
    (r"\mathbf{w}^{\star}", S("w*")),  # fixture linreg_en.md
    (r"X^{\top} X \mathbf{w}^{\star}", M(T(X), X, S("w*"))),  # fixture linreg_en.md
    (r"w^*", S("w*")),
    (r"w^{*}", S("w*")),
    (r"\theta^\star", S("theta*")),
    (r"\theta^{\ast}", S("theta*")),
    (r"\hat{w}^*", S("hat_w*")),
    (r"w_i^*", S("w*", sub=["i"])),
    (r"w^*_i", S("w*", sub=["i"])),
    (r"x^{*(i)}", S("x*", sup=["i"])),
    (r"w^{*\top} x", M(T(S("w*")), x)),
    (r"\|w - w^*\|^2", P(Norm(A(w, neg(S("w*")))), 2)),
    (r"f^*(x)", F("f*", x)),
    (r"\frac{\partial L}{\partial w^*}", Deriv(S("L"), S("w*"))),
    (r"a * b", M(a, b)),  # between factors: a product
    (r"a * b^*", M(a, S("b*"))),
]


@pytest.mark.parametrize("latex,expected", STARS)
def test_star_decorations(latex, expected):
    check(latex, expected)


# -- elementwise operators: \odot, \circ, \oslash ----------------------------------------
A1 = S("a", sub=[1])
DELTA = S("delta")
HADAMARD = [
    (r"\mathbf{a}_1 \odot (\mathbf{a}_1 - \mathbf{1})", F("hadamard", A1, A(A1, neg(S("ones"))))),  # fixture mlp
    (r"\left( W_2^{\top} (\hat{\mathbf{y}} - \mathbf{y}) \right) \odot \mathbf{a}_1 \odot (\mathbf{1} - \mathbf{a}_1)",
     F("hadamard", F("hadamard", M(T(S("W", sub=[2])), A(HATY, neg(y))), A1), A(S("ones"), neg(A1)))),  # fixture mlp
    (r"a \odot b", F("hadamard", a, b)),
    (r"a \circ b", F("hadamard", a, b)),
    (r"a \oslash b", F("hadamard_div", a, b)),
    (r"a \odot b \odot c", F("hadamard", F("hadamard", a, b), S("c"))),  # left fold
    (r"W^T \delta \odot \sigma'(z)", F("hadamard", M(T(S("W")), DELTA), F("sigma'", z))),  # juxtaposition first
    (r"\sigma'(z) \odot W^T \delta", F("hadamard", F("sigma'", z), M(T(S("W")), DELTA))),
    (r"a \odot b \cdot c", M(F("hadamard", a, b), S("c"))),  # like \cdot: left to right
    (r"a \cdot b \odot c", F("hadamard", M(a, b), S("c"))),
    (r"a \odot b / c", M(F("hadamard", a, b), P(S("c"), -1))),
    (r"a - b \odot c + d", A(a, neg(F("hadamard", b, S("c"))), S("d"))),  # inside one term
    (r"-a \odot b", neg(F("hadamard", a, b))),
    (r"a \odot -b", F("hadamard", a, neg(b))),
    (r"(a \odot b)^T c", M(T(F("hadamard", a, b)), S("c"))),
    (r"a \odot b^2", F("hadamard", a, P(b, 2))),
    (r"\sum_i a_i \odot b_i", Sum(F("hadamard", S("a", sub=["i"]), S("b", sub=["i"])), "i")),
    (r"\log a \odot b", F("hadamard", F("log", a), b)),
]


@pytest.mark.parametrize("latex,expected", HADAMARD)
def test_elementwise_operators(latex, expected):
    check(latex, expected)


# -- a subscript on a value is an entry -------------------------------------------------
ENTRIES = [
    (r"\text{softmax}(z)_i", F("entry", F("softmax", z), S("i"))),
    (r"\sigma(z)_j", F("entry", SIG_Z, S("j"))),
    (r"(Xw)_i", F("entry", M(X, w), S("i"))),
    (r"(XW)_{ij}", F("entry", M(X, S("W")), S("i"), S("j"))),
    (r"(XW)_{i,j}", F("entry", M(X, S("W")), S("i"), S("j"))),
    (r"\sigma(z)_j^2", P(F("entry", SIG_Z, S("j")), 2)),
    (r"\text{softmax}(\mathbf{z})_i - y_i", A(F("entry", F("softmax", z), S("i")), neg(S("y", sub=["i"])))),
    (r"[a, b]_1", F("entry", Matrix(((a, b),)), N(1))),
    (r"a \odot \sigma(z)_j", F("hadamard", a, F("entry", SIG_Z, S("j")))),
]


@pytest.mark.parametrize("latex,expected", ENTRIES)
def test_value_subscripts_are_entries(latex, expected):
    check(latex, expected)


# -- derivatives are built, never evaluated ---------------------------------------------
DERIVATIVES = [
    (r"\frac{\partial L}{\partial w}", Deriv(S("L"), w)),  # SymPy would make this 0
    (r"\frac{\partial \mathcal{L}}{\partial w_1}", Deriv(S("L"), S("w", sub=[1]))),  # sheet
    (r"\frac{\partial}{\partial w_1} f", Deriv(S("f"), S("w", sub=[1]))),
    (r"\frac{\partial L}{\partial z^3}", Deriv(S("L"), S("z", sup=[3]))),  # sheet: index in the denominator
    (r"\frac{\partial \hat{y}_i}{\partial u_j}", Deriv(S("hat_y", sub=["i"]), S("u", sub=["j"]))),  # sheet
    (r"\frac{\partial^2 f}{\partial w^2}", Deriv(S("f"), w, order=2)),
    (r"\frac{\partial^2 f}{\partial u \partial v}", Deriv(Deriv(S("f"), S("v")), S("u"))),
    (r"\frac{\partial L}{\partial W'}", Deriv(S("L"), S("W'"))),  # sheet
    (r"\frac{\partial L}{\partial \hat{y}}", Deriv(S("L"), HATY)),  # sheet
    (r"\frac{d f}{d x}", Deriv(S("f"), x)),
    (r"\frac{\mathrm{d} f}{\mathrm{d} x}", Deriv(S("f"), x)),
    (r"\frac{d}{dt} t^2", Deriv(P(S("t"), 2), S("t"))),
    (r"\nabla_w L(w)", Deriv(F("L", w), w, kind="nabla")),  # sheet
    (r"\nabla_{W'} L", Deriv(S("L"), S("W'"), kind="nabla")),
    (r"\nabla_{\theta} J(\theta_t)", Deriv(F("J", S("theta", sub=["t"])), S("theta"), kind="nabla")),  # sheet
    (r"\nabla J_1", F("grad", S("J", sub=[1]))),  # sheet: no subscript
    (r"\partial_w L", Deriv(S("L"), w)),
    (r"\nabla_w f + g", A(Deriv(S("f"), w, kind="nabla"), S("g"))),
    (r"2 \nabla_w f", M(N(2), Deriv(S("f"), w, kind="nabla"))),
    (r"\frac{1}{2n} \nabla_w (y^T y - w^T X^T y)",
     M(P(M(N(2), n), -1), Deriv(A(M(T(y), y), neg(T(w), T(X), y)), w, kind="nabla"))),  # sheet
    (r"\frac{\partial}{\partial a} -(y \log a)", Deriv(neg(y, F("log", a)), a)),  # sheet: sign in scope
    (r"\nabla_A \text{tr} AB", Deriv(F("tr", M(S("A"), S("B"))), S("A"), kind="nabla")),  # sheet
    (r"\frac{\partial L}{\partial z^3} \cdot \frac{\partial z^3}{\partial w^3}",
     M(Deriv(S("L"), S("z", sup=[3])), Deriv(S("z", sup=[3]), S("w", sup=[3])))),  # sheet
    (r"\frac{d}{2}", M(N(Fraction(1, 2)), S("d"))),  # not a derivative
    (r"\nabla^2_w f", Deriv(S("f"), w, order=2, kind="nabla")),  # Hessian, either script order
    (r"\nabla_w^2 f", Deriv(S("f"), w, order=2, kind="nabla")),
    (r"\nabla_{\mathbf{w}}^{2} L(\mathbf{w}) + 1", A(Deriv(F("L", w), w, order=2, kind="nabla"), N(1))),
]


@pytest.mark.parametrize("latex,expected", DERIVATIVES)
def test_derivatives(latex, expected):
    check(latex, expected, INDEXED)


# -- sums and products are never collapsed ----------------------------------------------
SUMS = [
    (r"\sum_{i=1}^n y_i", Sum(S("y", sub=["i"]), "i", N(1), n)),  # SymPy's doit gives n*y_i
    (r"\sum_{j=1}^d w_j x_j + b", A(Sum(M(S("w", sub=["j"]), S("x", sub=["j"])), "j", N(1), S("d")), b)),  # sheet
    (r"\sum_i (y^{(i)} - \hat{y}^{(i)})^2", Sum(P(A(S("y", sup=["i"]), neg(S("hat_y", sup=["i"]))), 2), "i")),
    (r"\sum y_i", Sum(S("y", sub=["i"]), "i")),  # bare: index inferred
    (r"\sum x_{ij}", Sum(S("x", sub=["i", "j"]), "")),  # bare, ambiguous: no index
    (r"\sum_{i=1}^{n} \beta^{n-i} \nabla J_i",
     Sum(M(P(S("beta"), A(n, neg(S("i")))), F("grad", S("J", sub=["i"]))), "i", N(1), n)),  # sheet
    (r"\frac{1}{n} \sum_i x_i y_i", M(P(n, -1), Sum(M(S("x", sub=["i"]), S("y", sub=["i"])), "i"))),
    (r"\sum_{i=1}^d y_i \cdot \log(\hat{y}_i)",
     Sum(M(S("y", sub=["i"]), F("log", S("hat_y", sub=["i"]))), "i", N(1), S("d"))),  # sheet: \cdot in the body
    (r"\prod_{n=1}^N p_n", Product(S("p", sub=["n"]), "n", N(1), S("N"))),
    (r"\sum_{l=1}^n e^{z_l}", Sum(F("exp", S("z", sub=["l"])), "l", N(1), n)),  # sheet
]


@pytest.mark.parametrize("latex,expected", SUMS)
def test_sums_not_collapsed(latex, expected):
    check(latex, expected)


# -- ellipses become sums and vectors, or a reason ---------------------------------------
def K(name="k"):
    return S(name)


ELLIPSES = [
    (r"x_1 + x_2 + \dots + x_n", Sum(S("x", sub=["k"]), "k", N(1), n)),
    (r"x_1 + x_2 + \cdots + x_n", Sum(S("x", sub=["k"]), "k", N(1), n)),
    (r"x_1 + \ldots + x_d", Sum(S("x", sub=["k"]), "k", N(1), S("d"))),
    (r"x_0 + x_1 + \dots + x_n", Sum(S("x", sub=["k"]), "k", N(0), n)),
    (r"-a_1 - a_2 - \dots - a_n", neg(Sum(S("a", sub=["k"]), "k", N(1), n))),
    (r"c + x_1 + x_2 + \dots + x_n", A(S("c"), Sum(S("x", sub=["k"]), "k", N(1), n))),
    (r"a_0 + a_1 + \ldots + a_{n-1}", Sum(S("a", sub=["k"]), "k", N(0), A(n, N(-1)))),
    (r"x_1 y_2 + x_2 y_3 + \dots + x_n y_{n+1}", Sum(M(S("x", sub=["k"]), S("y", sub=[A(K(), N(1))])), "k", N(1), n)),
    (r"y^{(1)} + y^{(2)} + \dots + y^{(m)}", Sum(S("y", sup=["k"]), "k", N(1), S("m"))),
    (r"1 + 2 + \dots + n", Sum(K(), "k", N(1), n)),
    (r"(x_1 + x_2 + \dots + x_n)^2", P(Sum(S("x", sub=["k"]), "k", N(1), n), 2)),
    (r"\frac{1}{m}(a_1 b_1 + \dots + a_m b_m)",
     M(P(S("m"), -1), Sum(M(S("a", sub=["k"]), S("b", sub=["k"])), "k", N(1), S("m")))),
    (r"\frac{1}{2n} [(y^{(1)} - \hat{y}^{(1)})^2 + (y^{(2)} - \hat{y}^{(2)})^2 + \dots + (y^{(n)} - \hat{y}^{(n)})^2]",
     M(P(M(N(2), n), -1), Sum(P(A(S("y", sup=["k"]), neg(S("hat_y", sup=["k"]))), 2), "k", N(1), n))),  # sheet
    (r"[2 \times (y^{(1)} - \hat{y}^{(1)}) \times (-x_1^{(1)}) + 2 \times (y^{(2)} - \hat{y}^{(2)}) \times (-x_1^{(2)})"
     r" + \dots + 2 \times (y^{(n)} - \hat{y}^{(n)}) \times (-x_1^{(n)})]",  # sheet
     Sum(M(N(-2), A(S("y", sup=["k"]), neg(S("hat_y", sup=["k"]))), S("x", sub=[1], sup=["k"])), "k", N(1), n)),
    (r"[a_1, a_2, \dots, a_d]", F("rowvec", S("a", sub=["k"]), K(), N(1), S("d"))),
    (r"[\hat{y}^1 - y^1, \hat{y}^2 - y^2, \dots, \hat{y}^n - y^n]",
     F("rowvec", A(S("hat_y", sup=["k"]), neg(S("y", sup=["k"]))), K(), N(1), n)),  # sheet
    (r"\begin{pmatrix} a_1 \\ a_2 \\ \vdots \\ a_n \end{pmatrix}", F("colvec", S("a", sub=["k"]), K(), N(1), n)),
    (r"\begin{bmatrix} \text{Sigmoid}(Z_1^1) \\ \vdots \\ \text{Sigmoid}(Z_4^1) \end{bmatrix}",
     F("colvec", F("sigma", S("Z", sub=["k"], sup=[1])), K(), N(1), N(4))),  # sheet
    (r"\begin{bmatrix} x_1^1 & x_2^1 & \dots & x_d^1 \\ x_1^2 & x_2^2 & \dots & x_d^2 \\ \vdots & \vdots & \ddots"
     r" & \vdots \\ x_1^n & x_2^n & \dots & x_d^n \end{bmatrix}",
     F("array", S("x", sub=["k"], sup=["j"]), S("j"), N(1), n, K(), N(1), S("d"))),  # sheet
    (r"\begin{bmatrix} w_{11} x_1 + w_{21} x_2 + \dots + w_{n1} x_n \\ w_{12} x_1 + w_{22} x_2 + \dots + w_{n2} x_n"
     r" \\ \vdots \\ w_{14} x_1 + w_{24} x_2 + \dots + w_{n4} x_n \end{bmatrix}",
     F("colvec", Sum(M(S("w", sub=["k", "j"]), S("x", sub=["k"])), "k", N(1), n), S("j"), N(1), N(4))),  # sheet-like
]


@pytest.mark.parametrize("latex,expected", ELLIPSES)
def test_ellipsis_expansion(latex, expected):
    check(latex, expected, INDEXED)


@pytest.mark.parametrize("latex", [
    r"a + b + \dots + z",  # nothing counts
    r"x_1 + x_3 + \dots + x_n",  # step 2 is not guessed
    r"x_1 + x_2 + \dots",  # no last term
    r"x_1 - x_2 + \dots + x_n",  # alternating signs
    r"\vdots",
    r"\beta^{n-1} g_1 + \beta^{n-2} g_2 + \dots + g_{n-1}",  # the left-out power would be β^1, not 1
    r"\beta^{n-1} g_1 + \beta^{n-2} g_2 + \dots + \beta g_n",  # last term not the template at n
    r"\begin{bmatrix} a_1 + b_1 \\ \vdots \\ c \end{bmatrix}",
    r"a_1 \cdots a_n",  # product ellipsis
])
def test_ellipsis_failure_has_reason(latex):
    r = parse(latex)
    assert (r.expr, r.reason) == (None, "ellipsis"), (latex, r)


# -- norms, expectation, Kronecker delta, identity, constants ---------------------------
OPERATORS = [
    (r"\|x\|", Norm(x)),
    (r"\lVert x \rVert", Norm(x)),
    (r"\left\| x \right\|_2^2", P(Norm(x, N(2)), 2)),
    (r"\|W\|_F", Norm(S("W"), S("F"))),
    (r"||x - y||", Norm(A(x, neg(y)))),
    (r"\lambda \|w\|^2", M(S("lambda"), P(Norm(w), 2))),
    (r"\mathbb{E}[X]", Expect(X)),
    (r"\mathbb{E}_{x}[f(x)]", Expect(F("f", x), x)),
    (r"\mathbb{E}_{\epsilon \sim N(0, 1)}\left[\epsilon^2\right]", Expect(P(S("epsilon"), 2), S("epsilon"))),
    (r"E[X^2] - E[X]^2", A(Expect(P(X, 2)), neg(P(Expect(X), 2)))),
    (r"\mathop{\mathbb{E}}[X]", Expect(X)),
    (r"\delta_{ij}", Delta(S("i"), S("j"))),
    (r"\delta_{i,j}", Delta(S("i"), S("j"))),
    (r"\delta^{(l)}", S("delta", sup=["l"])),  # backprop error term, not Kronecker
    (r"\mathbb{1}_{i=j} - s_j", A(Delta(S("i"), S("j")), neg(S("s", sub=["j"])))),  # sheet
    (r"\mathbb{1}[i=j]", Delta(S("i"), S("j"))),
    (r"\mathbb{1}_{\{i=j\}}", Delta(S("i"), S("j"))),
    (r"\sigma^2 I", M(P(S("sigma"), 2), I)),  # sheet: identity, never sqrt(-1)
    (r"I - A", A(I, neg(S("A")))),
    (r"\mathbf{I}", I),
    (r"\mathbf{1}^T x", M(T(S("ones")), x)),
    (r"(\mathbf{a}_1 - \mathbf{1})", A(S("a", sub=[1]), neg(S("ones")))),  # fixture mlp_backprop.tex
    (r"\mathbf{0}", N(0)),
    (r"e", S("e")),
    (r"\pi r^2", M(S("pi"), P(S("r"), 2))),
    (r"\infty", S("infty")),
]


@pytest.mark.parametrize("latex,expected", OPERATORS)
def test_norms_expectation_delta_constants(latex, expected):
    check(latex, expected)


# -- numbers are exact; layout commands vanish; matrices ---------------------------------
MISC = [
    (r"0.5", N(Fraction(1, 2))),
    (r"\text{0.5}", N(Fraction(1, 2))),  # sheet
    (r"-0.5 x", M(N(Fraction(-1, 2)), x)),
    (r"\frac{1}{2n}", P(M(N(2), n), -1)),
    (r"\frac{1}{2} x", M(N(Fraction(1, 2)), x)),
    (r"2^{-1}", N(Fraction(1, 2))),
    (r"(-0.5) \times 0.5", N(Fraction(-1, 4))),
    (r"\left( x \right)", x),
    (r"\displaystyle \sum\limits_{i=1}^{n} x_i", Sum(S("x", sub=["i"]), "i", N(1), n)),
    (r"a \, b \! c \quad d", M(a, b, S("c"), S("d"))),
    (r"\dfrac{a}{b}", M(a, P(b, -1))),
    (r"x_۱ + ۲", A(S("x", sub=[1]), N(2))),  # Persian digits
    (r"\begin{bmatrix} 1 & a \\ b & 2 \end{bmatrix}", Matrix(((N(1), a), (b, N(2))))),
    (r"\begin{pmatrix} 0 \\ 0 \end{pmatrix}", Matrix(((N(0),), (N(0),)))),
    (r"[0, 0, 0]^T", T(Matrix(((N(0), N(0), N(0)),)))),  # sheet
    (r"10^{10^{10}}", P(N(10), N(10 ** 10))),  # not evaluated
    (r"100000!", F("factorial", N(100000))),
    (r"a + b.", A(a, b)),  # trailing punctuation
    (r"\text{Scalar}", S("Scalar")),  # sheet
    (r"(n \times d)", M(n, S("d"))),  # sheet (shape annotations parse as products)
]


@pytest.mark.parametrize("latex,expected", MISC)
def test_numbers_layout_matrices(latex, expected):
    check(latex, expected)


# -- notation that belongs elsewhere: a reason naming it ---------------------------------
@pytest.mark.parametrize("latex,reason,mentions", [
    (r"x \in \mathbb{R}^d", "unsupported-notation", r"\in"),
    (r"\mathbb{R}^d", "unsupported-notation", r"\mathbb{R}"),
    (r"W \sim U[-1, 1]", "unsupported-notation", r"\sim"),
    (r"a = b", "unsupported-notation", "="),
    (r"\dim(X)", "unsupported-notation", r"\dim"),
    (r"\int x dx", "unsupported-notation", r"\int"),
    (r"\langle a, b \rangle", "unsupported-notation", r"\langle"),
    (r"\{(x^{(i)}, y^{(i)})\}_{i=1}^n", "unsupported-notation", "tuple"),  # sheet
    (r"\{a, b\}", "unsupported-notation", "set"),
    (r"(a, b)", "unsupported-notation", "tuple"),
    (r"a, b", "unsupported-notation", "comma"),
    (r"\text{closed-form: } x", "unsupported-notation", "closed-form"),  # sheet label
    (r"\min_x f(x)", "unsupported-notation", r"\min"),
    (r"(a+b)'", "unsupported-notation", "prime"),
    (r"\frac{\partial L}{\partial (Xw)}", "unsupported-notation", "derivative"),
    (r"\dcrowvec{k}{1}{n}{x}", "unsupported-notation", "reserved"),
    (r"(AB)^*", "unsupported-notation", "^*"),  # a star decorates a name, not a group
    (r"X^\dagger y", "unsupported-notation", r"\dagger"),
    (r"\nabla^2 f", "unsupported-notation", r"\nabla^2"),  # Hessian or Laplacian: no variable
    (r"\nabla^k_w f", "unsupported-notation", r"\nabla^{k}"),
    (r"(f \circ g)(x)", "unsupported-notation", "composition"),
    (r"\odot a", "unparsed", r"\odot"),
    (r"a \odot", "unparsed", r"\odot"),
    (r"|x|_1", "unparsed", "_"),  # only a value in ( ) or [ ] takes an entry subscript
    (r"x_i_j", "unparsed", "_"),
    (r"\frac{1}{", "unparsed", ""),
    (r"x + y)", "unparsed", ""),
    (r"x^", "unparsed", ""),
    ("", "empty", ""),
    ("   ", "empty", ""),
    (r"\, \quad", "empty", ""),
])
def test_reasons(latex, reason, mentions):
    r = parse(latex)
    assert (r.expr, r.reason) == (None, reason), (latex, r)
    assert mentions in r.message


# -- latex2sympy2's module state cannot leak between calls -------------------------------
def test_global_state_bug_does_not_leak():
    # bare latex2sympy2: O(dmn) rebinds its `var` dict; every later call then fails
    assert ok(r"O(dmn)") == F("O", M(S("d"), S("m"), n))
    assert ok(r"(d \times 1)") == S("d")
    assert ok("x") == x
    assert ok(r"d x + y") == A(M(S("d"), x), y)


def test_engine_state_restored_after_a_raw_differential():
    engine = le.engine()
    with pytest.raises(le.EngineError):
        engine(r"O(dmn) + )")
    engine(r"\frac{d}{dx} x")  # a differential through the raw engine rebinds `var`
    assert ok("x") == x


# -- hostile input: a reason, never an exception -----------------------------------------
@pytest.mark.parametrize("latex,reason", [
    ("(" * 1000 + "x" + ")" * 1000, "too-large"),
    ("(" * 100 + "x" + ")" * 100, "too-large"),
    ("{" * 61 + "x" + "}" * 61, "too-large"),
    ("x+" * 1500 + "x", "too-large"),
    (r"\def\x{y}\x+1", "unsupported-notation"),
    (r"\newcommand{\x}{y}", "unsupported-notation"),
    (r"\input{/etc/passwd}", "unsupported-notation"),
    (r"\write18{rm -rf /}", "unsupported-notation"),
    (r"\variable{x}", "unsupported-notation"),
    ("__import__('os').system('ls')", "unparsed"),
    ("x\x00y", None),
    ("-" * 900 + "x", None),
    ("\\hat" * 300 + "{x}", None),
    (r"x^{" * 30 + "x" + "}" * 30, None),
])
def test_hostile_inputs(latex, reason):
    r = parse(latex)
    assert (r.expr is None) == (r.reason is not None)
    if reason is not None:
        assert r.reason == reason, r


@pytest.mark.parametrize("value", [None, 3, b"x", ["x"]])
def test_non_strings(value):
    assert parse(value).reason == "unparsed"


def test_depth_at_the_limit_parses():
    assert ok("(" * 60 + "x" + ")" * 60) == x


# -- notation scanning --------------------------------------------------------------------
SHEET_PIECES = [  # sheet
    r"\mathcal{L}(w, b) = \frac{1}{2n} \sum_{i=1}^n (y^{(i)} - \hat{y}^{(i)})^2",
    r"x_j^{(1)}", r"\dim(W^1) = (4 \times n)", r"\frac{\partial L}{\partial z^3} = a^3 - y",
    r"Z^1 = W^1 x + b^1", r"Z^2 = W^2 a^1 + b^2", r"O(nd^2 + d^3 + nd + d^2)", r"\beta^2(1 - \beta)",
    r"\frac{\partial^2 f}{\partial v^2}", r"h(x) = W^T x", r"\sigma(z) = \frac{1}{1 + e^{-z}}",
]


def test_scan_notation():
    nt = scan_notation(SHEET_PIECES)
    assert {"y", "hat_y", "x", "W", "z", "Z", "b", "a"} <= nt.index_superscripts
    assert not {"d", "beta", "v", "j"} & nt.index_superscripts
    assert {"h", "sigma", "L"} <= nt.functions
    assert ok(r"y^i - \hat{y}^i", nt) == A(S("y", sup=["i"]), neg(S("hat_y", sup=["i"])))
    assert ok(r"O(nd^2)", nt) == F("O", M(n, P(S("d"), 2)))


def test_scan_notation_tolerates_garbage():
    assert scan_notation(["\\frac{", "}}}", "", "x^{(i"]).index_superscripts == frozenset()


def test_summation_indices():
    assert summation_indices(r"\sum_i \hat{y}^i = \sum_{j=1}^n y^j") == {"i", "j"}
    assert summation_indices(r"\frac{") == frozenset()
    assert ok(r"\hat{y}^i", Notation(bound_indices=frozenset({"i"}))) == S("hat_y", sup=["i"])


# -- the SLL shortcut gives the trees full LL gives -------------------------------------
ALL_INPUTS = ([r[0] for r in ORDER + TRANSPOSES + FUNCTIONS + DERIVATIVES + SUMS + ELLIPSES + OPERATORS + MISC
                         + LOG_FACTOR + STARS + HADAMARD + ENTRIES]
              + [r[0] for r in INDICES])


def test_sll_and_ll_agree(monkeypatch):
    engine = le.engine()
    texts = []
    real = engine.__call__

    class Recorder:
        sympy = engine.sympy

        def __call__(self, text, mode="auto"):
            texts.append(text)
            return real(text, mode)

    monkeypatch.setattr(le, "_ENGINE", Recorder())
    for latex in ALL_INPUTS:
        parse(latex, INDEXED)
    assert len(texts) > 50
    for text in texts:
        assert engine.sympy.srepr(engine(text, "sll")) == engine.sympy.srepr(engine(text, "ll")), text


# -- the normalization table documents itself ---------------------------------------------
def test_every_rule_has_an_example():
    assert all(r.name and " -> " in r.example for r in L.NORMALIZATION)


@pytest.mark.parametrize("latex,upper", [
    (r"\beta^{n-1}(1 - \beta) \nabla J_1 + \beta^{n-2}(1 - \beta) \nabla J_2 + \dots + (1 - \beta) \nabla J_n", "n"),
    (r"\beta_1^{t-1} g_1 + \beta_1^{t-2} g_2 + \dots + g_t", "t"),
])
def test_ellipsis_last_term_without_its_vanishing_power(latex, upper):
    """`β^{n-k}` is β^0 = 1 in the last term, and writers leave it out."""
    r = parse(latex)
    assert isinstance(r.expr, Sum) and r.expr.upper == Sym(upper) and r.expr.lower == Num(1), r
    assert "beta" in str(r.expr) and f"({upper} + (-1·{r.expr.index}))" in str(r.expr)


def test_variance_is_written_out_as_expectations():
    from symbolic.expr import Add, Expect, Mul, Num, Pow, Sym
    x = Sym("x")
    want = Add((Expect(Pow(x, Num(2))), Mul((Num(-1), Pow(Expect(x), Num(2))))))
    for text in (r"\text{Var}(x)", r"\mathrm{Var}(x)", r"\operatorname{Var}(x)"):
        assert L.parse(text).expr == want, text
