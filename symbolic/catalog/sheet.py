"""Catalog entries for the rest of the built-in answer sheet: problems 1c, 2a-2c, 3a, 3c, 4a.

Equalities are proven by the prover's own rules (`by="apply"`: this row is f(previous
row), e.g. a cost model applied to the shapes, a substitution, an SGD step).  Rows that
are not equalities -- bounds, orders of growth, minimisers -- carry a
`check(prev, this)`; the checks below reduce each claim to SymPy facts (nonnegativity
under sign assumptions, nonnegative polynomial coefficients) and raise `Refuted` with a
point where the claim fails, or `Undecided`, instead of returning False.  Nonsmooth
problems are done by case analysis, never by `solve` (issue 2: `solve` on the L1
problem drops the zero minimiser).

A row with `by="given"` starts a new line of the derivation (a second result of the
same problem); side facts it relies on are `witnesses` of the derivation.
"""
from __future__ import annotations

import itertools
import random
from dataclasses import replace
from functools import partial
from typing import Callable

import sympy as sp

from symbolic.derivation import (Claim, Context, Derivation, Obligation, Refuted, Step, Undecided, Witness,
                                 derivation, equal)

Check = Callable[[sp.Basic, sp.Basic], bool]


# --------------------------------------------------------------------------- proofs
# Equalities go through the prover's own `by="apply"` rule (this == f(prev)); the
# checks below are for what is not an equality: bounds, orders, minimisers.

def _nonneg(e) -> bool:
    """e >= 0 for all values of its symbols (within their assumptions).  Sufficient
    tests only: SymPy's sign inference on e, on its factored form and on each factor;
    an exponential of known sign is replaced by a fresh variable ranging over a
    superset of its values (exp(X) = 1/(1+r) if X <= 0, 1 + r if X >= 0, r >= 0)."""
    f = sp.factor(e)
    if e.is_nonnegative or f.is_nonnegative:
        return True
    if isinstance(f, sp.Mul):
        return all(_nonneg(arg) for arg in f.args)
    bounded = _bound_exponentials(f)
    if bounded != f:
        return _nonneg(bounded)
    simpler = sp.simplify(e)
    return simpler != e and bool(simpler.is_nonnegative)


def _bound_exponentials(e):
    swap = {}
    for k, x in enumerate(sorted(e.atoms(sp.exp), key=sp.default_sort_key)):
        r = sp.Symbol(f"_r{k}", nonnegative=True)
        if x.exp.is_nonpositive:
            swap[x] = 1 / (1 + r)
        elif x.exp.is_nonnegative:
            swap[x] = 1 + r
    return e.xreplace(swap)


def _require_nonneg(e, what: str) -> bool:
    """Prove e >= 0; else raise Refuted with a point where e < 0, or Undecided.
    (Raising keeps a failed bound from being retried as an equality prev == this.)"""
    if _nonneg(e):
        return True
    point = _negative_point(e)
    if point is None:
        raise Undecided(f"{what}: SymPy could not show {e} >= 0, and no sampled point makes it negative")
    shown = ", ".join(f"{k}={v}" for k, v in point.items())
    raise Refuted(f"{what} is false: {e} = {float(sp.N(e.xreplace(point))):.4g} < 0 at {shown}")


SAMPLE_MAGNITUDES = (0, sp.Rational(1, 1000), sp.Rational(1, 10), sp.Rational(1, 2), 1, 2, 10, 1000)


def _negative_point(e, trials: int = 400, seed: int = 0) -> dict | None:
    """A random point (respecting each symbol's sign assumptions) where e < 0."""
    e = e.xreplace({x: sp.Dummy(str(x), real=True) for x in e.atoms(sp.Indexed)})
    symbols = sorted(e.free_symbols, key=str)
    rng = random.Random(seed)
    ones = {x: -1 if x.is_nonpositive and not x.is_zero else 1 for x in symbols}
    for trial in range(trials):
        point = ones if trial == 0 else {x: _sample(x, rng) for x in symbols}
        value = sp.N(e.xreplace(point))
        if value.is_real and value < -1e-9:
            return point
    return None


def _sample(x: sp.Symbol, rng: random.Random):
    if x.is_integer:
        return rng.choice((1, 2, 3, 10, 1000))
    magnitude = rng.choice(SAMPLE_MAGNITUDES[1:] if x.is_positive or x.is_negative else SAMPLE_MAGNITUDES)
    sign = -1 if x.is_nonpositive else 1 if x.is_nonnegative else rng.choice((-1, 1))
    return sign * magnitude


def at_most(prev, this) -> bool:
    """prev <= this."""
    return _require_nonneg(this.doit() - prev.doit(), f"{prev} <= {this}")


def factorwise_at_most(prev, this) -> bool:
    """prod_l f(l) <= prod_l g(l) over the same range because 0 <= f(l) <= g(l)."""
    if not (isinstance(prev, sp.Product) and isinstance(this, sp.Product) and prev.limits == this.limits):
        raise Undecided("factorwise bound needs two products over the same range")
    f, g = prev.function, this.function
    return _require_nonneg(f, "factor >= 0") and _require_nonneg(g - f, f"factor bound {f} <= {g}")


def integrand_at_most(prev, this) -> bool:
    """int f <= int g over the same increasing range because f <= g pointwise."""
    if not (isinstance(prev, sp.Integral) and isinstance(this, sp.Integral) and prev.limits == this.limits):
        raise Undecided("integrand bound needs two integrals over the same range")
    (_, lo, hi), = prev.limits
    if not bool(hi > lo):
        raise Undecided(f"integration range [{lo}, {hi}] is not increasing")
    f, g = prev.function, this.function
    return _require_nonneg(g - f, f"integrand bound {f} <= {g}")


def theta(c: int, domain: dict) -> Check:
    """Theta-equivalence: prev <= c*this and this <= c*prev on `domain`, a substitution
    writing each size as 1 plus nonnegative offsets (n = 1 + u + v, d = 1 + v encodes
    n >= d >= 1).  Proof: every coefficient of the polynomial in the offsets is >= 0."""
    def check(prev, this) -> bool:
        for a, b in ((prev, this), (this, prev)):
            gap = sp.expand((c * b - a).xreplace(domain))
            if not _nonneg_coefficients(gap):
                _refute_order(a, b, c, gap, domain)
        return True
    return check


def _nonneg_coefficients(p) -> bool:
    offsets = sorted(p.free_symbols, key=sp.default_sort_key)
    if not offsets:
        return bool(p >= 0)
    return all(coeff >= 0 for coeff in sp.Poly(p, *offsets).coeffs())


def _refute_order(a, b, c, gap, domain):
    """Evidence against a <= c*b: the offsets (0, 1, 10 or 1000 each) where a/b is
    largest, and a/b again at ten times those offsets."""
    offsets = sorted(gap.free_symbols, key=str)
    ratio = sp.lambdify(offsets, (a / b).xreplace(domain))
    grid = itertools.product((0, 1, 10, 1000), repeat=len(offsets))
    worst = max(grid, key=lambda p: ratio(*p))
    if ratio(*worst) <= c:
        raise Undecided(f"could not show {a} <= {c}*({b}): a coefficient is negative")
    point = dict(zip(offsets, worst))
    sizes = ", ".join(f"{k}={v.xreplace(point)}" for k, v in domain.items() if k in (a - b).free_symbols)
    raise Refuted(f"{a} <= {c}*({b}) is false at {sizes}: the ratio is {ratio(*worst):.4g} > {c} there "
                  f"and {ratio(*(10 * x for x in worst)):.4g} at ten times the offsets")


def by_sign(x: sp.Symbol) -> Check:
    """this (a Piecewise in x) equals prev on x < 0 and on x > 0 (the kink is excluded)."""
    t = sp.Symbol("_t", positive=True)

    def check(prev, this) -> bool:
        for s in (-1, 1):
            if not equal(prev.doit().subs(x, s * t), this.subs(x, s * t)):
                raise Undecided(f"could not show {prev} = {this} for {x} {'<' if s < 0 else '>'} 0")
        return True
    return check


def argmin_by_cases(x: sp.Symbol, cases: tuple) -> Check:
    """this (a candidate in closed form) is the unique minimiser of prev over x:
    f(x) - f(x*) >= (x - x*)^2/2 in every case.  `cases` rows are
    (name, substitution that evaluates the candidate in the region,
     substitutions of the objective, one per sign of x); a substitution may cover a
    superset of its region, which only makes the proof stronger."""
    def check(prev, this) -> bool:
        for name, where, pieces in cases:
            star = this.subs(where)
            gap = prev - prev.subs(x, star) - (x - star) ** 2 / 2
            for piece in pieces:
                _require_nonneg(sp.expand(gap.subs(piece)), f"case {name}, {x} = {piece[x]}: "
                                f"f({x}) - f({x}*) - ({x} - {x}*)^2/2 >= 0 with {x}* = {star}")
        return True
    return check


def smooth_argmin(x: sp.Symbol, nonzero_unless: sp.Symbol) -> Check:
    """this minimises the smooth prev (f'(x*) = 0, f'' > 0) and is nonzero whenever
    `nonzero_unless` is."""
    def check(prev, this) -> bool:
        slope = sp.simplify(sp.diff(prev, x).subs(x, this))
        if not equal(slope, 0):
            raise Refuted(f"f'({x}*) = {slope}, not 0, at {x}* = {this}")
        if not sp.diff(prev, x, 2).is_positive:
            raise Undecided(f"could not show f'' = {sp.diff(prev, x, 2)} > 0")
        if not this.subs(nonzero_unless, sp.Symbol("_nz", real=True, nonzero=True)).is_nonzero:
            raise Undecided(f"could not show {this} != 0 for {nonzero_unless} != 0")
        return True
    return check


def at_point(point: dict) -> Callable:
    """prev evaluated at `point` (for the "apply" rule).  A partial derivative d f/d p
    is taken after substituting the point for every other variable -- the definition
    of a partial derivative; it keeps SymPy's expressions small."""
    def evaluate(e):
        partials = {x: _partial_at(x, point) for x in e.atoms(sp.Derivative)}  # each once
        return e.xreplace(partials).xreplace(point)
    evaluate.__name__ = evaluate.__qualname__ = "evaluate_at_point"
    return evaluate


def _partial_at(d: sp.Derivative, point: dict):
    (p, k), = d.variable_count
    line = d.expr.xreplace({q: v for q, v in point.items() if q != p})
    return sp.diff(line, p, k).xreplace({p: point[p]}) if p in point else sp.diff(line, p, k)


def witness(name: str, *facts: tuple) -> Witness:
    """Side facts (lhs, rhs) a derivation relies on, proven by `verify`."""
    return Witness(name, lambda: [Obligation(lhs, rhs, name) for lhs, rhs in facts])


def _entry(build: Callable[..., Derivation], mutants: dict[str, dict]) -> Derivation:
    """The correct derivation, with its planted-error twins built by the same code."""
    return replace(build(), mutants={name: partial(build, **kw) for name, kw in mutants.items()})


# --------------------------------------------------------------------------- 1c complexity

n, d, m = sp.symbols("n d m", positive=True, integer=True)
_u, _v, _k = sp.symbols("_u _v _k", nonnegative=True)
SIZES_AT_LEAST_1 = {n: 1 + _u, d: 1 + _v, m: 1 + _k}
N_AT_LEAST_D = {n: 1 + _u + _v, d: 1 + _v, m: 1 + _k}

X, y = sp.MatrixSymbol("X", n, d), sp.MatrixSymbol("y", n, 1)
w_vec, G, b_vec = sp.MatrixSymbol("w", d, 1), sp.MatrixSymbol("G", d, d), sp.MatrixSymbol("b", d, 1)
p_vec, r_vec, g_vec = sp.MatrixSymbol("p", n, 1), sp.MatrixSymbol("r", n, 1), sp.MatrixSymbol("g", d, 1)


def op_cost(e) -> sp.Expr:
    """Cost model in multiply-adds: (p x q)(q x r) costs pqr; inverting a k x k matrix
    by Gauss-Jordan costs k^3; adding or scaling a p x q matrix costs pq.  Shapes are
    checked here (SymPy does not check them for symbolic sizes)."""
    if isinstance(e, sp.Inverse):
        return e.arg.shape[0] ** 3
    if isinstance(e, sp.MatMul) and len(e.args) == 2:
        a, b = e.args
        if sp.expand(a.shape[1] - b.shape[0]) != 0:
            raise ValueError(f"shape mismatch in {e}: {a.shape} times {b.shape}")
        return a.shape[0] * a.shape[1] * b.shape[1]
    if isinstance(e, sp.MatAdd):
        return e.shape[0] * e.shape[1]
    raise ValueError(f"no cost rule for {e}")


def costs(ops: sp.Tuple) -> sp.Matrix:
    return sp.Matrix([op_cost(op) for op in ops])


def total_cost(v: sp.Matrix) -> sp.Expr:
    return sum(v)


def m_updates(v: sp.Matrix) -> sp.Expr:
    return m * sum(v)


def _complexity(gram_cost=n * d**2, closed_order=n * d**2 + d**3, gd_order=m * n * d) -> Derivation:
    return Derivation(
        id="complexity",
        title="Closed form O(nd^2 + d^3) against m steps of gradient descent O(mnd)",
        source="answer sheet problem 1c",
        problem="1",
        part="c",
        hypotheses=(
            "X is n x d, y is n x 1, w is d x 1; sizes n, d, m >= 1",
            "cost model: a (p x q)(q x r) product costs pqr multiply-adds, Gauss-Jordan "
            "inversion of a k x k matrix k^3, a p x q addition or scaling pq",
            "X^T X invertible, hence rank d, hence n >= d",
            "G = X^T X and b = X^T y are computed once; p = Xw, r = p - y, g = (alpha/n) X^T r",
        ),
        steps=(
            Step(sp.Tuple(X.T * X, sp.Inverse(G), X.T * y, sp.Inverse(G) * b_vec),
                 r"closed form $(X^TX)^{-1}X^Ty$, operation by operation", lhs=r"\text{closed form}",
                 latex=r"X^TX,\ G^{-1},\ X^Ty,\ G^{-1}b \quad (G = X^TX,\ b = X^Ty)"),
            Step(sp.Matrix([gram_cost, d**3, n * d, d**2]), "cost model on the shapes",
                 by="apply", given=(costs,), lhs=r"\text{cost}"),
            Step(n * d**2 + d**3 + n * d + d**2, "total", by="apply", given=(total_cost,),
                 lhs=r"T_{\text{closed}}"),
            Step(closed_order, r"same order: $T \le 2T'$ and $T' \le 2T$ for $n, d \ge 1$",
                 check=theta(2, SIZES_AT_LEAST_1), latex=rf"O({sp.latex(closed_order)})"),
            Step(d**2 * (n + d), r"factor $d^2$", latex=r"O(d^2(n + d))"),
            Step(n * d**2, r"$n \ge d$ ($X^TX$ invertible), so $d^3 \le nd^2$",
                 check=theta(2, N_AT_LEAST_D), latex=r"O(nd^2)"),
            Step(sp.Tuple(X * w_vec, p_vec - y, X.T * r_vec, w_vec - g_vec),
                 "gradient descent: one update, operation by operation", by="given",
                 lhs=r"\text{GD update}", latex=r"Xw,\ p - y,\ X^Tr,\ w - g"),
            Step(sp.Matrix([n * d, n, d * n, d]), "cost model on the shapes",
                 by="apply", given=(costs,), lhs=r"\text{cost}"),
            Step(m * (2 * n * d + n + d), r"$m$ updates", by="apply", given=(m_updates,),
                 lhs=r"T_{\text{GD}}"),
            Step(gd_order, r"same order: $T \le 4T'$ and $T' \le 4T$ for $n, d, m \ge 1$",
                 check=theta(4, SIZES_AT_LEAST_1), latex=rf"O({sp.latex(gd_order)})"),
        ),
        claims=(
            Claim(r"O(nd^2 + d^3 + nd + d^2)", r"O(nd^2 + d^3)", (r"X \in \mathbb{R}^{n \times d}",)),
        ),
        context=Context(invertible=(G,)),
    )


@derivation
def complexity() -> Derivation:
    return _entry(_complexity, {
        "cost of X^T X taken as n^2 d (transpose swapped)": {"gram_cost": n**2 * d},
        "closed form O(d^3) (the X^T X product dropped)": {"closed_order": d**3},
        "gradient descent O(mn) (d dropped)": {"gd_order": m * n},
    })


# --------------------------------------------------------------------------- 2a sigmoid gradient

z = sp.Symbol("z", real=True)
L_layers = sp.Symbol("L", integer=True, positive=True)
l_idx = sp.Symbol("l", integer=True, positive=True)
z_l, w_l = sp.IndexedBase("z", real=True), sp.IndexedBase("w", real=True)


def sigma(t):
    return 1 / (1 + sp.exp(-t))


def dsigma(t):
    return sigma(t) * (1 - sigma(t))


def _chain_rule_witness(depth: int = 3) -> tuple:
    """d a_L/d a_0 for a_l = act(w_l a_{l-1} + b_l), act any differentiable function,
    by SymPy's differentiation, and prod_l w_l act'(z_l): the chain rule at a fixed depth
    (a generic `act` keeps the expressions small; sigma' is handled by the rows)."""
    act, t = sp.Function("act"), sp.Symbol("t", real=True)
    a0 = sp.Symbol("a0", real=True)
    ws, bs = sp.symbols(f"w1:{depth + 1}", real=True), sp.symbols(f"b1:{depth + 1}", real=True)
    a, factors = a0, []
    for wk, bk in zip(ws, bs):
        factors.append(wk * sp.diff(act(t), t).subs(t, wk * a + bk))
        a = act(wk * a + bk)
    return sp.diff(a, a0), sp.Mul(*factors)


def _half_only_at_zero() -> tuple:
    roots = sp.solveset(sigma(z) - sp.Rational(1, 2), z, sp.S.Reals)  # smooth: solveset is fine
    return (sp.Integer(len(roots)), 1), (sp.Add(*roots), 0)


def _sigmoid_gradient(sign=-1, bound=sp.Rational(1, 4), chain_base=4) -> Derivation:
    s = sigma(z)
    return Derivation(
        id="sigmoid-gradient",
        title="sigma' = sigma(1 - sigma) <= 1/4 (maximum at 0), ReLU' in {0, 1}, and the (1/4)^L factor of L sigmoid layers",
        source="answer sheet problem 2a",
        problem="2",
        part="a",
        hypotheses=(
            "z real; sigma(z) = 1/(1 + e^{-z}); ReLU(z) = max(0, z), differentiable for z != 0",
            "scalar chain a_l = sigma(z_l), z_l = w_l a_{l-1} + b_l, l = 1..L (general L)",
            "vector layers: ||prod_l diag(sigma'(z_l)) W_l||_2 <= prod_l (1/4)||W_l||_2 by "
            "submultiplicativity of the operator norm (checked numerically, not symbolically)",
        ),
        steps=(
            Step(sp.Derivative(s, z), r"definition of $\sigma$", lhs=r"\sigma'(z)",
                 latex=r"\frac{d}{dz}\frac{1}{1+e^{-z}}"),
            Step(sp.exp(-z) / (1 + sp.exp(-z)) ** 2, "quotient rule"),
            Step(s * (1 + sign * s), r"$1 - \sigma(z) = e^{-z}\sigma(z)$",
                 latex=r"\sigma(z)(1 %s \sigma(z))" % ("-" if sign < 0 else "+")),
            Step(sp.Rational(1, 4) - (s - sp.Rational(1, 2)) ** 2, "complete the square",
                 latex=r"\frac{1}{4} - \left(\sigma(z) - \frac{1}{2}\right)^2"),
            Step(bound, r"a square is $\ge 0$ (upper bound)", check=at_most,
                 latex=r"\le " + sp.latex(bound)),
            Step(sp.Subs(sp.Derivative(s, z), z, 0), r"attained where $\sigma(z) = 1/2$, only at $z = 0$",
                 latex=r"\sigma'(0)"),
            Step(sp.Derivative(sp.Max(0, z), z), r"$\operatorname{ReLU}(z) = \max(0, z)$", by="given",
                 lhs=r"\operatorname{ReLU}'(z)", latex=r"\frac{d}{dz}\max(0, z)"),
            Step(sp.Piecewise((0, z < 0), (1, z > 0)), r"cases $z < 0$ and $z > 0$", check=by_sign(z)),
            Step(sp.Product(sp.Abs(w_l[l_idx]) * dsigma(z_l[l_idx]), (l_idx, 1, L_layers)),
                 r"chain rule through $L$ sigmoid layers", by="given",
                 lhs=r"\left|\frac{\partial a_L}{\partial a_0}\right|",
                 latex=r"\prod_{l=1}^{L} |w_l|\,\sigma'(z_l)"),
            Step(sp.Product(sp.Abs(w_l[l_idx]) / 4, (l_idx, 1, L_layers)),
                 r"$0 \le \sigma'(z_l) \le 1/4$ factor by factor", check=factorwise_at_most,
                 latex=r"\le \prod_{l=1}^{L} \frac{|w_l|}{4}"),
            Step(sp.Product(sp.Abs(w_l[l_idx]), (l_idx, 1, L_layers)) / chain_base ** L_layers,
                 "constant factor out of the product",
                 latex=r"%d^{-L} \prod_{l=1}^{L} |w_l|" % chain_base),
        ),
        claims=(
            Claim(r"\sigma'(z)", r"\sigma(z)(1-\sigma(z))", (r"\sigma(z) = \frac{1}{1+e^{-z}}",)),
            Claim(r"\sigma'(0)", r"\frac{1}{4}", (r"\sigma(z) = \frac{1}{1+e^{-z}}",)),
        ),
        witnesses=(
            witness("sigma(z) = 1/2 has the single real root z = 0", *_half_only_at_zero()),
            witness("chain rule at depth 3: SymPy's d a_3/d a_0 = prod w_l act'(z_l)",
                    _chain_rule_witness()),
        ),
    )


@derivation
def sigmoid_gradient() -> Derivation:
    return _entry(_sigmoid_gradient, {
        "sign flipped: sigma' = sigma(1 + sigma)": {"sign": +1},
        "bound 1/8 instead of 1/4": {"bound": sp.Rational(1, 8)},
        "chain factor (1/8)^L (factor 2)": {"chain_base": 8},
    })


# --------------------------------------------------------------------------- 2b Xavier / He

a_half = sp.Symbol("a", positive=True)
n_in, n_out = sp.symbols("n m", positive=True, integer=True)
w_s, u_s = sp.Symbol("w", real=True), sp.Symbol("u", real=True)
v_var = sp.Symbol("v", positive=True)  # Var(z^l)
GLOROT_A = sp.sqrt(6) / sp.sqrt(n_in + n_out)
STANDARD_A = 1 / sp.sqrt(n_in)


def _gauss(x, var):
    return sp.exp(-x**2 / (2 * var)) / sp.sqrt(2 * sp.pi * var)


def _glorot(e):
    return e.subs(a_half, GLOROT_A)


def _standard(e):
    return e.subs(a_half, STANDARD_A)


def _xavier_variance(uniform=sp.Rational(1, 3), glorot_a=GLOROT_A, he_var=2 / n_in) -> Derivation:
    density = 1 / (2 * a_half)
    return Derivation(
        id="xavier-variance",
        title="Var U[-a, a] = a^2/3: Glorot 2/(n+m), standard 1/(3n); He N(0, 2/n) keeps the variance through ReLU",
        source="answer sheet problem 2b; Glorot & Bengio (2010) eq. 16; He et al. (2015) eq. 10",
        problem="2",
        part="b",
        hypotheses=(
            "W ~ U[-a, a], a > 0, density 1/(2a)",
            "n inputs (fan-in), m outputs (fan-out) of the layer",
            "He: z^{l+1} = sum_{i=1}^n W_i ReLU(z^l_i), W_i iid zero-mean, independent of "
            "z^l, z^l_i ~ N(0, v)",
        ),
        steps=(
            Step(sp.Integral(w_s**2 * density, (w_s, -a_half, a_half))
                 - sp.Integral(w_s * density, (w_s, -a_half, a_half)) ** 2,
                 r"$\operatorname{Var} W = E[W^2] - E[W]^2$, density $1/(2a)$ on $[-a, a]$",
                 lhs=r"\operatorname{Var}(W)",
                 latex=r"\int_{-a}^{a} \frac{w^2}{2a}\,dw - \left(\int_{-a}^{a} \frac{w}{2a}\,dw\right)^2"),
            Step(uniform * a_half**2, "integrate"),
            Step(glorot_a**2 / 3, r"Glorot's normalized init, $a = \sqrt{6}/\sqrt{n+m}$",
                 by="apply", given=(_glorot,), lhs=r"\operatorname{Var}(W_{\text{Glorot}})"),
            Step(1 / (3 * n_in), r"standard init, $a = 1/\sqrt{n}$, in row 2", by="apply",
                 given=(_standard,), ref=1, lhs=r"\operatorname{Var}(W_{\text{standard}})"),
            Step(n_in * he_var * sp.Integral(u_s**2 * _gauss(u_s, v_var), (u_s, 0, sp.oo)),
                 r"He: $\operatorname{Var} z^{l+1} = n \operatorname{Var}(W)\, E[\operatorname{ReLU}(z^l)^2]$", by="given",
                 lhs=r"\operatorname{Var}(z^{l+1})",
                 latex=r"n \cdot %s \cdot \int_0^\infty u^2\, \mathcal{N}(u; 0, v)\,du" % sp.latex(he_var)),
            Step(v_var, r"integrate: $E[\operatorname{ReLU}(z)^2] = v/2$, so $v = \operatorname{Var} z^l$ is kept",
                 latex=r"v = \operatorname{Var}(z^l)"),
        ),
        claims=(
            Claim(r"\operatorname{Var}(W)", r"\frac{a^2}{3}", (r"W \sim U[-a, a]",)),
            Claim(r"\operatorname{Var}(z^{l+1})", r"\operatorname{Var}(z^{l})",
                  (r"W \sim N\left(0, \frac{2}{n}\right)", r"a^l = \operatorname{ReLU}(z^l)")),
        ),
        witnesses=(
            witness("U[-a, a] density: total mass 1", (sp.Integral(density, (w_s, -a_half, a_half)), 1)),
            witness("N(0, v) density: total mass 1, variance v",
                    (sp.Integral(_gauss(u_s, v_var), (u_s, -sp.oo, sp.oo)), 1),
                    (sp.Integral(u_s**2 * _gauss(u_s, v_var), (u_s, -sp.oo, sp.oo)), v_var)),
        ),
    )


@derivation
def xavier_variance() -> Derivation:
    return _entry(_xavier_variance, {
        "variance a^2/12 (the U[0, a] formula)": {"uniform": sp.Rational(1, 12)},
        "Glorot a = sqrt(6)/(n+m) (square root dropped)": {"glorot_a": sp.sqrt(6) / (n_in + n_out)},
        "He with Var W = 1/n (factor 2 lost)": {"he_var": 1 / n_in},
    })


# --------------------------------------------------------------------------- 2c saturation

scale = sp.Symbol("s", positive=True)  # standard deviation of the pre-activation
c_w = sp.Symbol("c", positive=True)  # weight scale
i_idx = sp.Symbol("i", integer=True, positive=True)
x_i = sp.IndexedBase("x", real=True)


def _to_infinity(e):
    return sp.limit(e, scale, sp.oo)


def _sigmoid_saturation(norm=sp.sqrt(2 * sp.pi), integral=1, growth=-1) -> Derivation:
    dsig_u = sp.exp(-u_s) / (1 + sp.exp(-u_s)) ** 2
    return Derivation(
        id="sigmoid-saturation",
        title="Large weights: Var z = c^2 ||x||^2 grows and E[sigma'(z)] <= 1/(sqrt(2 pi) s) collapses",
        source="answer sheet problem 2c",
        problem="2",
        part="c",
        hypotheses=(
            "z = sum_{i=1}^n w_i x_i, w_i iid with mean 0 and variance c^2, x fixed",
            "z ~ N(0, s^2) with s = c ||x|| (exactly for Gaussian w, by the CLT otherwise)",
        ),
        steps=(
            Step(sp.Sum(x_i[i_idx] ** 2 * c_w**2, (i_idx, 1, n)),
                 r"$\operatorname{Var} z = \sum_i x_i^2 \operatorname{Var} w_i$ (independent, zero mean)",
                 lhs=r"\operatorname{Var}(z)", latex=r"\sum_{i=1}^{n} x_i^2 c^2"),
            Step(c_w**2 * sp.Sum(x_i[i_idx] ** 2, (i_idx, 1, n)), "constant out of the sum",
                 latex=r"c^2 \|x\|^2 = s^2"),
            Step(sp.Integral(dsig_u * _gauss(u_s, scale**2), (u_s, -sp.oo, sp.oo)),
                 r"mean of $\sigma'$ over $z \sim N(0, s^2)$", by="given", lhs=r"\mathbb{E}[\sigma'(z)]",
                 latex=r"\int_{-\infty}^{\infty} \sigma'(u) \frac{e^{-u^2/(2s^2)}}{s\sqrt{2\pi}}\,du"),
            Step(sp.Integral(dsig_u / (norm * scale), (u_s, -sp.oo, sp.oo)),
                 r"$e^{-u^2/(2s^2)} \le 1$ and $\sigma' \ge 0$", check=integrand_at_most,
                 latex=r"\le \int_{-\infty}^{\infty} \frac{\sigma'(u)}{%s\, s}\,du" % sp.latex(norm)),
            Step(sp.Integral(dsig_u, (u_s, -sp.oo, sp.oo)) / (norm * scale), "constant out"),
            Step((sp.Limit(sigma(u_s), u_s, sp.oo) - sp.Limit(sigma(u_s), u_s, -sp.oo)) / (norm * scale),
                 r"fundamental theorem: $\sigma' = d\sigma/du$",
                 latex=r"\frac{\sigma(\infty) - \sigma(-\infty)}{%s\, s}" % sp.latex(norm)),
            Step(integral * scale**growth / norm, r"$\sigma(\infty) = 1$, $\sigma(-\infty) = 0$"),
            Step(sp.Integer(0), r"$s = c\|x\|$ grows without bound with the weight scale $c$",
                 by="apply", given=(_to_infinity,), lhs=r"\lim_{s\to\infty} \text{bound}"),
        ),
        claims=(
            Claim(r"\int_{-\infty}^{\infty} \sigma'(u)\,du", r"1", (r"\sigma(u) = \frac{1}{1+e^{-u}}",)),
        ),
    )


@derivation
def sigmoid_saturation() -> Derivation:
    return _entry(_sigmoid_saturation, {
        "Gaussian normaliser 2 pi without the square root": {"norm": 2 * sp.pi},
        "integral of sigma' taken as its maximum 1/4": {"integral": sp.Rational(1, 4)},
        "bound grows with s (exponent sign flipped)": {"growth": 1},
    })


# --------------------------------------------------------------------------- 3a L1 sparsity

a_s, w_r = sp.Symbol("a", real=True), sp.Symbol("w", real=True)
lam = sp.Symbol("lambda", positive=True)
_p, _q, _t = sp.Symbol("_p", positive=True), sp.Symbol("_q", nonnegative=True), sp.Symbol("_t", nonnegative=True)
_r = sp.Symbol("_r", nonpositive=True)
SOFT_THRESHOLD = sp.sign(a_s) * sp.Max(sp.Abs(a_s) - lam, 0)

# Case analysis for argmin_w (w - a)^2/2 + lambda|w|: the region of a, then the sign of w.
L1_CASES = (
    ("a > lambda", {a_s: lam + _p}, ({a_s: lam + _p, w_r: _t}, {a_s: lam + _p, w_r: -_t})),
    ("a < -lambda", {a_s: -lam - _p}, ({a_s: -lam - _p, w_r: _t}, {a_s: -lam - _p, w_r: -_t})),
    ("|a| <= lambda", {sp.Abs(a_s): lam + _r},
     ({a_s: lam - _q, w_r: _t}, {a_s: -lam + _q, w_r: -_t})),  # uses a <= lambda, resp. a >= -lambda
)


def _inside_threshold(e):
    """e where |a| <= lambda, i.e. |a| = lambda + r with r <= 0."""
    return e.subs(sp.Abs(a_s), lam + _r)


def _l1_sparsity(l1_min=SOFT_THRESHOLD, l2_min=a_s / (1 + lam)) -> Derivation:
    return Derivation(
        id="l1-sparsity",
        title="argmin (w-a)^2/2 + lambda|w| = sign(a) max(|a| - lambda, 0), exactly 0 for |a| <= lambda; "
              "the L2 minimiser a/(1+lambda) is never 0",
        source="answer sheet problem 3a",
        problem="3",
        part="a",
        hypotheses=("a, w real; lambda > 0",
                    "one coordinate of a separable problem (e.g. an orthonormal design)"),
        steps=(
            Step((w_r - a_s) ** 2 / 2 + lam * sp.Abs(w_r), "L1-penalised objective", lhs=r"f(w)",
                 latex=r"\frac{1}{2}(w - a)^2 + \lambda|w|"),
            Step(l1_min, r"cases $a > \lambda$, $a < -\lambda$, $|a| \le \lambda$, each with $w \ge 0$ and "
                 r"$w \le 0$: $f(w) - f(w^*) \ge (w - w^*)^2/2$, so $w^*$ is the unique minimiser",
                 check=argmin_by_cases(w_r, L1_CASES), lhs=r"w^*"),
            Step(sp.Integer(0), r"inside the threshold, $|a| \le \lambda$", by="apply",
                 given=(_inside_threshold,), lhs=r"w^*\big|_{|a| \le \lambda}"),
            Step((w_r - a_s) ** 2 / 2 + lam * w_r**2 / 2, "L2 penalty instead (smooth)", by="given",
                 lhs=r"g(w)", latex=r"\frac{1}{2}(w - a)^2 + \frac{\lambda}{2}w^2"),
            Step(l2_min, r"$g'(w^*) = 0$ and $g'' = 1 + \lambda > 0$; nonzero for every $a \ne 0$",
                 check=smooth_argmin(w_r, nonzero_unless=a_s), lhs=r"w^*"),
        ),
        claims=(
            Claim(r"w^*", r"\operatorname{sign}(a)\max(|a|-\lambda, 0)",
                  (r"w^* = \arg\min_w \frac{1}{2}(w-a)^2 + \lambda|w|", r"\lambda > 0")),
            Claim(r"w^*", r"\frac{a}{1+\lambda}",
                  (r"w^* = \arg\min_w \frac{1}{2}(w-a)^2 + \frac{\lambda}{2}w^2", r"\lambda > 0")),
        ),
    )


@derivation
def l1_sparsity() -> Derivation:
    return _entry(_l1_sparsity, {
        "solve's single root a - lambda (zero minimiser missed)": {"l1_min": a_s - lam},
        "threshold 2 lambda (factor 2)": {"l1_min": sp.sign(a_s) * sp.Max(sp.Abs(a_s) - 2 * lam, 0)},
        "L2 minimiser a/(1 - lambda) (sign flipped)": {"l2_min": a_s / (1 - lam)},
    })


# --------------------------------------------------------------------------- 3c batch norm

B = sp.Symbol("B", integer=True, positive=True)
sd = sp.Symbol("sigma", positive=True)
i_b, j_b = sp.symbols("i j", integer=True)


def _batchnorm_batch_size(var_mean=sd**2 / B, sd_mean=sd / sp.sqrt(B)) -> Derivation:
    return Derivation(
        id="batchnorm-batch-size",
        title="The batch mean has standard deviation sigma/sqrt(B): small batches give noisy statistics",
        source="answer sheet problem 3c",
        problem="3",
        part="c",
        hypotheses=("x_1..x_B iid with variance sigma^2 (any distribution)",
                    "mu_B = (1/B) sum_i x_i, the mean batch norm subtracts"),
        steps=(
            Step(sp.Sum(sp.Sum(sd**2 * sp.KroneckerDelta(i_b, j_b), (j_b, 1, B)), (i_b, 1, B)) / B**2,
                 r"Var is bilinear; independence: $\operatorname{Cov}(x_i, x_j) = \sigma^2 \delta_{ij}$",
                 lhs=r"\operatorname{Var}(\mu_B)",
                 latex=r"\frac{1}{B^2}\sum_{i=1}^{B}\sum_{j=1}^{B} \sigma^2 \delta_{ij}"),
            Step(sp.Sum(sd**2, (i_b, 1, B)) / B**2, r"sum over $j$: only $j = i$ remains"),
            Step(var_mean, r"$B$ equal terms"),
            Step(sd_mean, r"standard deviation $= \sqrt{\operatorname{Var}}$", by="apply", given=(sp.sqrt,),
                 lhs=r"\operatorname{std}(\mu_B)"),
        ),
        claims=(
            Claim(r"\operatorname{std}(\mu_B)", r"\frac{\sigma}{\sqrt{B}}", (r"x_i \text{ i.i.d.}",)),
        ),
        context=Context(facts=(sp.Le(i_b, B), sp.Ge(i_b, 1))),  # i runs over 1..B
    )


@derivation
def batchnorm_batch_size() -> Derivation:
    return _entry(_batchnorm_batch_size, {
        "variance sigma^2/B^2 (sum over the batch dropped)": {"var_mean": sd**2 / B**2},
        "std sigma/B (square root forgotten)": {"sd_mean": sd / B},
    })


# --------------------------------------------------------------------------- 4a zero init

y_lab = sp.Symbol("y", real=True)
alpha = sp.Symbol("alpha", positive=True)
Z1 = sp.Matrix(sp.symbols("z1_1:5", real=True))  # z^1 = W^1 x + b^1 (any input size n)
W2 = sp.Matrix(3, 4, sp.symbols("w2_1:13", real=True))
B2 = sp.Matrix(sp.symbols("b2_1:4", real=True))
W3 = sp.Matrix(1, 3, sp.symbols("w3_1:4", real=True))
B3 = sp.Symbol("b3", real=True)
PARAMS = (*W3, B3, *W2, *B2, *Z1)  # the gradient w.r.t. z^1 is the gradient w.r.t. b^1
ZERO_INIT = {p: sp.Integer(0) for p in PARAMS}


class sig(sp.Function):
    """The logistic function as one SymPy node, so the network's expressions stay small;
    its derivative rule sigma' = sigma(1 - sigma) is the `sigmoid-gradient` entry and
    a witness of this one."""

    @classmethod
    def eval(cls, t):
        if t.is_zero:
            return sp.Rational(1, 2)
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, t, **kwargs):
        return 1 / (1 + sp.exp(-t))

    def _latex(self, printer):
        return r"\sigma\left(%s\right)" % printer._print(self.args[0])


def _sig_rule() -> tuple:
    t = sp.Symbol("t", real=True)
    return sp.diff(sig(t).rewrite(sp.exp), t), sp.diff(sig(t), t).rewrite(sp.exp)


def bce(t):
    """Binary cross-entropy of the sigmoid output as a function of its pre-activation."""
    return -(y_lab * sp.log(sig(t)) + (1 - y_lab) * sp.log(1 - sig(t)))


def output_preactivation() -> sp.Expr:
    a2 = (W2 * Z1.applyfunc(sig) + B2).applyfunc(sig)
    return (W3 * a2)[0, 0] + B3


def forward() -> sp.Expr:
    return sig(output_preactivation())


def loss() -> sp.Expr:
    return bce(output_preactivation())


def symmetric_state() -> dict:
    """Every unit of a layer has the same incoming and outgoing weights and bias."""
    zeta, c2, beta2, c3, beta3 = sp.symbols("zeta c2 beta2 c3 beta3", real=True)
    return {**{p: zeta for p in Z1}, **{p: c2 for p in W2}, **{p: beta2 for p in B2},
            **{p: c3 for p in W3}, B3: beta3}


def unit_differences(grad: list) -> sp.Matrix:
    """Gradient differences between units of the same layer (0 iff they move alike)."""
    groups = (grad[0:3], grad[4:16], grad[16:19], grad[19:23])  # W3, W2, b2, z1
    return sp.Matrix([g - group[0] for group in groups for g in group[1:]])


def _sgd_from_zero(g):
    return -alpha * g


def _zero_init(dz3_sign=1, b3_step=1, w2_grad=0) -> Derivation:
    z3 = sp.Symbol("z3", real=True)
    half_err = sp.Rational(1, 2) - y_lab
    grad0 = [half_err / 2] * 3 + [half_err] + [w2_grad] * 12 + [0] * 7
    step = [-alpha * g for g in grad0]
    step[3] *= b3_step
    partials = [sp.Derivative(loss(), p) for p in PARAMS]
    return Derivation(
        id="zero-init",
        title="4-3-1 sigmoid network, all weights and biases zero: output 1/2; one SGD step "
              "moves only the output layer, all its weights equally; the symmetry is never broken",
        source="answer sheet problem 4a",
        problem="4",
        part="a",
        hypotheses=(
            "x in R^n (any n); z^1 = W^1 x + b^1 in R^4, a^1 = sigma(z^1); "
            "a^2 = sigma(W^2 a^1 + b^2) in R^3; a^3 = sigma(W^3 a^2 + b^3)",
            "L = -(y log a^3 + (1 - y) log(1 - a^3)), label y",
            "dL/dW^1 = (dL/dz^1) x^T and dL/db^1 = dL/dz^1 (z^1 is linear in W^1, b^1)",
            "SGD with rate alpha: theta <- theta - alpha grad L; start W = 0, b = 0",
        ),
        steps=(
            Step(sp.Derivative(bce(z3), z3), "sigmoid output with binary cross-entropy",
                 lhs=r"\frac{\partial L}{\partial z^3}",
                 latex=r"\frac{\partial}{\partial z^3}\left(-y\log\sigma(z^3) - (1-y)\log(1-\sigma(z^3))\right)"),
            Step(dz3_sign * (sig(z3) - y_lab), "differentiate and simplify",
                 latex=r"a^3 - y" if dz3_sign > 0 else r"y - a^3"),
            Step(forward(), "forward pass", by="given", lhs=r"a^3",
                 latex=r"\sigma(W^3\sigma(W^2\sigma(z^1) + b^2) + b^3)"),
            Step(sp.Rational(1, 2), r"all weights and biases 0: $z^1 = 0$ for every $x$, "
                 r"$a^1 = a^2 = 1/2$, $a^3 = \sigma(0)$", by="apply", given=(at_point(ZERO_INIT),)),
            Step(sp.Matrix(partials), r"gradient w.r.t. $W^3, b^3, W^2, b^2, b^1$ ($= z^1$)", by="given",
                 lhs=r"\nabla_{W^3, b^3, W^2, b^2, b^1} L",
                 latex=r"\Bigl(\frac{\partial L}{\partial W^3}, \frac{\partial L}{\partial b^3}, "
                       r"\frac{\partial L}{\partial W^2}, \frac{\partial L}{\partial b^2}, "
                       r"\frac{\partial L}{\partial b^1}\Bigr)"),
            Step(sp.Matrix(grad0), r"at the zero init: $\partial L/\partial z^3 = 1/2 - y$, $a^2 = 1/2$, and $W^3 = 0$ "
                 "stops everything below", by="apply", given=(at_point(ZERO_INIT),),
                 latex=r"\Bigl(\tfrac{1}{2}(\tfrac{1}{2} - y)[1, 1, 1],\ \tfrac{1}{2} - y,\ 0,\ 0,\ 0\Bigr)"),
            Step(sp.Matrix(step), r"one SGD step from 0: $\theta_1 = -\alpha \nabla L$", by="apply",
                 given=(_sgd_from_zero,), lhs=r"(W^3, b^3, W^2, b^2, b^1)_1",
                 latex=r"\Bigl(\tfrac{\alpha(y - 1/2)}{2}[1, 1, 1],\ \alpha(y - \tfrac{1}{2}),\ 0,\ 0,\ 0\Bigr),"
                       r"\ W^1_1 = -\alpha \tfrac{\partial L}{\partial b^1} x^T = 0"),
            Step(unit_differences(partials), r"a symmetric state: units of a layer share incoming and "
                 r"outgoing weights ($W^2 = c_2 \mathbf{1}\mathbf{1}^T$, $W^3 = c_3 \mathbf{1}^T$, equal $z^1_j$, "
                 r"equal biases); $\theta_1$ is one", by="given",
                 lhs=r"\Delta_j",
                 latex=r"\Bigl(\frac{\partial L}{\partial W^3_{j}} - \frac{\partial L}{\partial W^3_{1}},\ "
                       r"\frac{\partial L}{\partial W^2_{jk}} - \frac{\partial L}{\partial W^2_{11}},\ "
                       r"\frac{\partial L}{\partial b^2_{j}} - \frac{\partial L}{\partial b^2_{1}},\ "
                       r"\frac{\partial L}{\partial b^1_{j}} - \frac{\partial L}{\partial b^1_{1}}\Bigr)"),
            Step(sp.zeros(18, 1), "zero at every symmetric state, so a gradient step keeps the "
                 "symmetry: by induction it is never broken", by="apply",
                 given=(at_point(symmetric_state()),), latex=r"0"),
        ),
        witnesses=(witness("sigma' = sigma(1 - sigma) for the network's sigma node", _sig_rule()),),
        claims=(
            Claim(r"\frac{\partial L}{\partial z^3}", r"a^3 - y",
                  (r"a^3 = \sigma(z^3)", r"L = -(y\log a^3 + (1-y)\log(1-a^3))")),
            Claim(r"\frac{\partial a^3}{\partial z^3}", r"a^3(1 - a^3)", (r"a^3 = \sigma(z^3)",)),
            Claim(r"\frac{\partial L}{\partial a^3}", r"\frac{1-y}{1-a^3} - \frac{y}{a^3}",
                  (r"L = -(y\log a^3 + (1-y)\log(1-a^3))",)),
            Claim(r"a^3", r"\frac{1}{2}", (r"W^1 = W^2 = W^3 = 0", r"b^1 = b^2 = b^3 = 0")),
            Claim(r"\frac{\partial L}{\partial W^3}", r"(a^3 - y)(a^2)^T", (r"a^3 = \sigma(W^3 a^2 + b^3)",)),
            Claim(r"\frac{\partial L}{\partial b^3}", r"a^3 - y", (r"a^3 = \sigma(W^3 a^2 + b^3)",)),
        ),
    )


@derivation
def zero_init() -> Derivation:
    return _entry(_zero_init, {
        "dL/dz^3 = y - a^3 (sign flipped)": {"dz3_sign": -1},
        "b^3 step halved (factor 2)": {"b3_step": sp.Rational(1, 2)},
        "hidden layer moves: dL/dW^2 = (a^3 - y) sigma'(z^2) a^1, W^3 = 0 forgotten":
            {"w2_grad": (sp.Rational(1, 2) - y_lab) / 8},
    })
