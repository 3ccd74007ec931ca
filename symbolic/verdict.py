"""Verdicts: verified / refuted / unverified, never a guess.

`judge` tries a SymPy proof first (scalar expressions: the difference simplifies to 0;
big-O statements: the same dominant monomials), then always asks the numeric witness
(`numeric.witness.compare`) at random points with random sizes.  The two must agree:
a proof the witness contradicts, or a witness the proof contradicts, is `unverified`
with reason `inconsistent`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import sympy

from numeric import exact
from numeric.witness import Comparison, World, compare, compare_shape, sign_sensitive
from symbolic.expr import Deriv, Expr, Func, Num, Sum, Sym, Transpose, shape_lookup, walk

VERIFIED, REFUTED, UNVERIFIED = "verified", "refuted", "unverified"


@dataclass(frozen=True)
class Verdict:
    status: str
    method: str | None = None
    reason: str = ""  # reason code when unverified; short evidence label otherwise
    message: str = ""
    counterexample: dict | None = None
    expected: str | None = None  # the correct form (LaTeX), where a catalog claim applies

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.status, "method": self.method,
            "reason": f"{self.reason}: {self.message}" if self.reason and self.message else self.reason or self.message,
            "counterexample": self.counterexample, "expected": self.expected,
        }


CONSTANT_DIFFERENCE = "nonzero difference"  # the sides differ by a constant: no value of any name closes it


def unverified(reason: str, message: str) -> Verdict:
    return Verdict(UNVERIFIED, None, reason, message)


# ------------------------------------------------------------------ IR -> SymPy (scalars)
class NotScalar(Exception):
    """The tree has matrices, derivatives of unknown dependencies or unknown functions:
    no SymPy proof is attempted (the numeric witness still decides)."""


_SYMPY_FUNCTIONS = {
    "log": sympy.log, "exp": sympy.exp, "sqrt": sympy.sqrt, "abs": sympy.Abs,
    "sigma": lambda z: 1 / (1 + sympy.exp(-z)), "tanh": sympy.tanh, "sign": sympy.sign,
    "max": sympy.Max, "min": sympy.Min,
}


class ToSympy:
    def __init__(self, world: World):
        self.world = world
        self.cache: dict[str, sympy.Symbol] = {}

    def symbol(self, name: str) -> sympy.Symbol:
        # positive: the witness draws positive values too, so both sides agree on domains
        if name not in self.cache:
            self.cache[name] = sympy.Symbol(name, positive=True)
        return self.cache[name]

    def index(self, name: str) -> sympy.Symbol:
        return sympy.Symbol(name, integer=True)

    def __call__(self, e: Expr, bound: frozenset = frozenset()):
        handler = getattr(self, "to_" + type(e).__name__, None)
        if handler is None:
            raise NotScalar(type(e).__name__)
        return handler(e, bound)

    def to_Num(self, e, bound):
        return sympy.Rational(e.value.numerator, e.value.denominator)

    def to_Sym(self, e: Sym, bound):
        if e.name in bound and not e.sub and not e.sup:
            return self.index(e.name)
        if e.name in self.world.one_hot:
            raise NotScalar("one-hot constraint")
        shape = shape_lookup(self.world.shapes, e)
        if shape is not None and shape != (Num(1), Num(1)):
            raise NotScalar("matrix")
        if e in self.world.fixed:
            return self(self.world.fixed[e], bound)
        definition = self.world.definitions.get(e.name)
        if definition is not None:
            if e.sup or e.sub:
                raise NotScalar("indexed definition")
            return self(definition[1], bound)
        if not e.sub and not e.sup:
            return self.symbol(e.name)
        idx = [self(s, bound) for s in e.sup + e.sub]
        return sympy.Indexed(sympy.IndexedBase(e.name + "^" * len(e.sup)), *idx)

    def to_Add(self, e, bound):
        return sympy.Add(*[self(t, bound) for t in e.terms])

    def to_Mul(self, e, bound):
        return sympy.Mul(*[self(f, bound) for f in e.factors])

    def to_Pow(self, e, bound):
        return sympy.Pow(self(e.base, bound), self(e.exp, bound))

    def to_Transpose(self, e, bound):
        return self(e.arg, bound)  # only reached for scalars: matrices raised NotScalar

    def to_Func(self, e: Func, bound):
        if e.name in _SYMPY_FUNCTIONS:
            return _SYMPY_FUNCTIONS[e.name](*[self(a, bound) for a in e.args])
        definition = self.world.definitions.get(e.name)
        if definition is not None and (not definition[0] or tuple(definition[0]) == e.args):
            return self(definition[1], bound)
        raise NotScalar(e.name)

    def to_Sum(self, e: Sum, bound):
        if e.lower is None or e.upper is None:
            raise NotScalar("bound-less sum")
        i = self.index(e.index)
        return sympy.Sum(self(e.body, bound | {e.index}), (i, self(e.lower, bound), self(e.upper, bound)))

    def to_Delta(self, e, bound):
        return sympy.KroneckerDelta(self(e.i, bound), self(e.j, bound))

    def to_Deriv(self, e: Deriv, bound):
        if e.wrt.name in self.world.definitions:
            raise NotScalar("derivative by a defined quantity")
        body, wrt = self(e.body, bound), self(e.wrt, bound)
        if not body.has(wrt):  # never "prove" ∂L/∂w = 0 for an L the document left undefined
            raise NotScalar("no dependency")
        return sympy.diff(body, wrt, e.order)


def symbolic_difference(lhs: Expr, rhs: Expr, world: World):
    """SymPy's simplified lhs - rhs, or None when the sides are not scalar expressions
    SymPy can take (matrices, unknown functions, sums over symbolic bounds)."""
    conv = ToSympy(world)
    try:
        diff = conv(lhs) - conv(rhs)
        if diff.has(sympy.Sum):
            diff = diff.doit()
        if diff.has(sympy.Sum, sympy.Indexed):
            return None  # sums over symbolic bounds: SymPy's simplification is unreliable
        return sympy.simplify(diff)
    except (NotScalar, TypeError, ValueError, AttributeError, NotImplementedError):
        return None


# ------------------------------------------------------------------ asymptotics: O(a) = O(b)
def dominant_terms(e: Expr, world: World) -> frozenset | None:
    """The monomials of a polynomial in the sizes that no other monomial dominates
    (every size growing): O(nd^2 + d^3 + nd + d^2) -> {nd^2, d^3}."""
    try:
        poly = sympy.Poly(sympy.expand(ToSympy(world)(e)))
    except (NotScalar, sympy.PolynomialError, sympy.GeneratorsNeeded, TypeError):
        return None
    if any(c < 0 for c in poly.coeffs()) or any(isinstance(n, Transpose) for n in walk(e)):
        return None  # O(nd^2 - d^3) or a transposed size: not a growth statement we can read
    gens = [str(g) for g in poly.gens]
    monos = [dict(zip(gens, m)) for m in poly.monoms()]
    keys = sorted(set(gens))
    vecs = {tuple(m.get(k, 0) for k in keys) for m in monos}
    top = {v for v in vecs if not any(w != v and all(a >= b for a, b in zip(w, v)) for w in vecs)}
    return frozenset((tuple(keys), v) for v in top)


def is_big_o(e: Expr) -> bool:
    return isinstance(e, Func) and e.name == "O" and len(e.args) == 1


def judge_asymptotic(lhs: Func, rhs: Func, world: World) -> Verdict:
    a, b = dominant_terms(lhs.args[0], world), dominant_terms(rhs.args[0], world)
    if a is None or b is None:
        return unverified("asymptotic", "big-O of a non-polynomial expression")
    method = "symbolic: dominant monomials of polynomials in the sizes (all sizes growing)"
    if a == b:
        return Verdict(VERIFIED, method, "same dominant terms")
    show = lambda s: " + ".join("·".join(f"{k}^{p}" for k, p in zip(keys, v) if p) or "1" for keys, v in sorted(s))
    return Verdict(REFUTED, method, "different growth",
                   f"dominant terms differ: {show(a)} vs {show(b)}",
                   {"lhs_dominant": show(a), "rhs_dominant": show(b)})


# ------------------------------------------------------------------ the judgement
def has_partial(e: Expr) -> bool:
    """`\\frac{\\partial L}{\\partial w}` may be written in either layout (a row or a column);
    `\\nabla_w L` has the shape of w by definition."""
    return any(isinstance(n, Deriv) and n.kind != "nabla" for n in walk(e))


def judge(lhs: Expr, rhs: Expr, world: World, seed: int = 0, trials: int = 6) -> Verdict:
    if is_big_o(lhs) and is_big_o(rhs):
        return judge_asymptotic(lhs, rhs, world)
    # SymPy's symbols are positive (as the witness's default values are): `ReLU(z) = z`
    # would be proven, so where a sign matters the witness alone decides
    diff = None if sign_sensitive((lhs, rhs), world) else symbolic_difference(lhs, rhs, world)
    if diff is not None and diff != 0 and diff.is_number and diff.is_finite:
        # `10^{20} - 1 = 10^{20}`: a nonzero constant difference is exact evidence, and one
        # that float64 with a relative tolerance cannot see
        return Verdict(REFUTED, "symbolic (SymPy simplify)", CONSTANT_DIFFERENCE,
                       f"the sides differ by the constant {sympy.sstr(diff)[:80]}",
                       {"difference": sympy.sstr(diff)[:200]})
    proof = None if diff is None else diff == 0
    if exact.evaluable(lhs, rhs, exact.undefined_scalar(world)):  # rational: no rounding at all
        found = exact.compare_exact(lhs, rhs, seed=seed, trials=trials)
        if found is not None and found.outcome == "equal":
            method = ("symbolic (SymPy simplify) + " if proof else "") + found.method
            return Verdict(VERIFIED, method, "proven" if proof else "exact evaluation")
        if found is not None and proof is not True:
            return Verdict(REFUTED, found.method, "counterexample", "the two sides differ exactly at a random point",
                           found.evidence)
    layout_free = has_partial(lhs) or has_partial(rhs)
    witness = compare(lhs, rhs, world, seed=seed, trials=trials, layout_free=layout_free)
    if witness.outcome == "different" and opaque_applications(lhs, rhs, witness.uninterpreted):
        witness = replace(witness, uninterpreted=frozenset())
    return combine(proof, witness)


def opaque_applications(lhs: Expr, rhs: Expr, functions: frozenset) -> bool:
    """`\\beta m_0 + (1-\\beta) \\nabla J_1 = -(1-\\beta) \\nabla J_1`: the undefined function
    is applied to the same arguments on both sides and never differentiated, so each
    application is one unknown value, the same on both sides -- a counterexample then
    holds whatever the function means.  (`\\nabla(a+b) = \\nabla a + \\nabla b` applies it to
    different arguments: its meaning matters, and the refutation is not made.)"""
    if not functions or any(isinstance(n, Deriv) for side in (lhs, rhs) for n in walk(side)):
        return False
    uses = [{n for n in walk(side) if isinstance(n, Func) and n.name in functions} for side in (lhs, rhs)]
    return bool(uses[0]) and uses[0] == uses[1]


def judge_shape(expr: Expr, shape: tuple, world: World, seed: int = 0, trials: int = 6) -> Verdict:
    """`h(\\hat{y} - y)^T \\xrightarrow{\\dim} (H \\times d)`: a claim about a shape."""
    w = compare_shape(expr, shape, world, seed=seed, trials=trials)
    if w.outcome == "equal":
        return Verdict(VERIFIED, w.method, "shape")
    return combine(None, w)


def combine(proof: bool | None, w: Comparison) -> Verdict:
    if w.as_matrices:  # SymPy read the undeclared names as commuting scalars: its answer is moot
        proof = None
    if w.outcome == "shape":
        return Verdict(REFUTED, "shapes", "shape mismatch", w.message, w.evidence)
    if w.outcome == "undecided":
        if proof:  # a SymPy proof alone, where the witness cannot evaluate (e.g. domain)
            return unverified("witness-undecided", f"SymPy proves it but the numeric witness could not confirm: {w.message}")
        return unverified(w.reason or "undecided", w.message)
    if w.outcome == "equal":
        method = "symbolic (SymPy simplify) + " + w.method if proof else w.method
        return Verdict(VERIFIED, method, "proven" if proof else "randomized evaluation")
    # the witness found a counterexample
    if w.uninterpreted:
        return unverified("undefined-function", "differs only under a random meaning of "
                          + ", ".join(sorted(w.uninterpreted)) + ", which the document never defines")
    if proof:
        return unverified("inconsistent", "SymPy proves equality but the numeric witness disagrees")
    return Verdict(REFUTED, w.method, "counterexample", "the two sides differ at a random point", w.evidence)
