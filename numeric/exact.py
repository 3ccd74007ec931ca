"""Exact evaluation of rational expressions at random rational points.

`(x + 999)^2 = x^2 + 1998x + 998001` has values near 10^6, where float64 agreement within
a relative tolerance is no evidence (`10^{20} - 1 = 10^{20}` agrees to 20 digits).  When
both sides are rational functions of scalar unknowns -- numbers, names, +, ·, integer
powers -- they are evaluated exactly with `fractions.Fraction` at random points whose
coordinates are integers drawn from [-10^9, 10^9].  By the Schwartz–Zippel lemma a nonzero
polynomial of degree D vanishes at such a point with probability at most D / (2·10^9 + 1);
six independent points make a false identity passing negligible (≤ (D/2·10^9)^6).  A
rational function is compared through its cross-multiplied numerator, whose degree is
bounded the same way.

Anything else (matrices, sums, functions, derivatives, names with a definition, shape or
law, symbolic exponents) is not this module's: `evaluable` says no and the float witness
decides.  Exponents and degrees are bounded so that no input can make the numbers huge.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

from symbolic.expr import Add, Expr, Mul, Num, Pow, Sym, shape_lookup, symbols
from symbolic.shapes import is_matrix_name

SPREAD = 10 ** 9  # coordinates are integers in [-SPREAD, SPREAD]
MAX_EXPONENT = 64  # |integer exponent| allowed on any power
MAX_DEGREE = 256  # total degree bound of a side (so a point's numbers stay small)
MAX_NUMBER_BITS = 256  # numbers written in the document larger than this are left to others
TRIALS = 6


@dataclass(frozen=True)
class Exact:
    outcome: str  # "equal" | "different"
    method: str
    evidence: dict | None = None


def degree(e: Expr) -> int | None:
    """An upper bound on the total degree of `e` as a rational function (numerator and
    denominator), or None when `e` is not a rational expression this module evaluates."""
    if isinstance(e, Num):
        big = max(abs(e.value.numerator), e.value.denominator)
        return 0 if big.bit_length() <= MAX_NUMBER_BITS else None
    if isinstance(e, Sym):
        return 1
    if isinstance(e, (Add, Mul)):
        parts = [degree(t) for t in (e.terms if isinstance(e, Add) else e.factors)]
        return None if None in parts else sum(parts)  # sum: fractions add by cross-multiplying
    if isinstance(e, Pow) and isinstance(e.exp, Num) and e.exp.value.denominator == 1 \
            and abs(e.exp.value) <= MAX_EXPONENT:
        base = degree(e.base)
        return None if base is None else base * abs(int(e.exp.value))
    return None


def evaluable(lhs: Expr, rhs: Expr, scalar) -> bool:
    """Both sides rational in names that `scalar(sym)` accepts (undefined scalars)."""
    names = symbols(lhs) | symbols(rhs)
    total = [degree(side) for side in (lhs, rhs)]
    return None not in total and sum(total) <= MAX_DEGREE and bool(names) and all(scalar(n) for n in names)


def compare_exact(lhs: Expr, rhs: Expr, seed: int = 0, trials: int = TRIALS) -> Exact | None:
    """Equal at every point, or the first point where they differ; None when a point
    makes a denominator vanish at every try (then the float witness decides)."""
    rng = random.Random(f"exact:{seed}")
    bound = sum(degree(side) for side in (lhs, rhs))
    seen = 0
    for _ in range(3 * trials):
        if seen == trials:
            break
        point = {}
        try:
            a, b = value(lhs, point, rng), value(rhs, point, rng)
        except ZeroDivisionError:
            continue
        if a != b:
            return Exact("different", "exact rational arithmetic",
                         {"values": {str(k): str(v) for k, v in point.items()}, "lhs": str(a), "rhs": str(b),
                          "tolerance": "exact"})
        seen += 1
    if seen < trials:
        return None
    return Exact("equal", f"exact rational arithmetic at {trials} random integer points in ±10^9 "
                          f"(a false identity of degree ≤ {bound} passes with probability ≤ "
                          f"({bound}/2·10^9)^{trials})")


def value(e: Expr, point: dict, rng: random.Random) -> Fraction:
    if isinstance(e, Num):
        return e.value
    if isinstance(e, Sym):
        if e not in point:
            point[e] = Fraction(rng.randint(-SPREAD, SPREAD))
        return point[e]
    if isinstance(e, Add):
        return sum((value(t, point, rng) for t in e.terms), Fraction(0))
    if isinstance(e, Mul):
        out = Fraction(1)
        for f in e.factors:
            out *= value(f, point, rng)
        return out
    if isinstance(e, Pow):
        return value(e.base, point, rng) ** int(e.exp.value)
    raise TypeError(f"not a rational expression: {type(e).__name__}")


def undefined_scalar(world) -> callable:
    """The names the exact witness may treat as free scalars in `world`."""
    def ok(sym: Sym) -> bool:
        if any(not isinstance(x, Num) for x in sym.sub + sym.sup):
            return False  # x_i: the index's range matters to the float witness
        shape = shape_lookup(world.shapes, sym)
        return (sym.name not in world.definitions and sym not in world.fixed and sym.name not in world.templates
                and sym.name not in world.distributions and sym.name not in world.one_hot
                and sym.name not in world.pinned and sym.name not in ("I", "e", "pi", "ones", "infty")
                and not is_matrix_name(sym)  # an undeclared capital may be a matrix: XY ≠ YX
                and (shape is None or shape == (Num(1), Num(1))))
    return ok
