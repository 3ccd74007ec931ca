"""Shapes for names the document never declares, solved from how the names are used.

`\\text{tr}(A+B) = \\text{tr}(A) + \\text{tr}(B)` or `\\nabla_A \\text{tr} AB = B^T` state
identities about matrices nobody declared.  Read as scalars, almost anything agrees, so
the witness would only say "unknown shape".  Read as matrices, the products, sums,
traces and inverses in the relation constrain their sizes: A's columns are B's rows, a
trace's argument is square, both sides have one shape.  This module solves those
constraints by unification (union-find over row/column variables); what is left free is
a size the witness may draw at random.  An identity that holds for every such draw holds
for matrices, not only for scalars.

Only capital-letter names are read as matrices (`A`, `B`, `\\Sigma`): lower-case letters
and Greek scalars (`\\alpha A`) keep their scalar reading, as in ML notation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from symbolic.expr import Add, Deriv, Expr, Func, Mul, Norm, Num, Pow, Sym, Transpose

SQUARE_TO_SCALAR = ("tr", "det")  # functions of a square matrix with a scalar value
ELEMENTWISE = ("exp", "log", "sigma", "sigmoid", "relu", "tanh", "sqrt")


class Unsolvable(Exception):
    """The uses contradict each other, or a construct is outside what is solved here."""


@dataclass(frozen=True)
class Var:
    """A row or column count not yet known."""

    name: str


SCALAR = None  # the shape of a scalar: combines with anything
# Capitals that conventionally name something else: identity, big-O, loss, cost,
# expectation, laws (normal, uniform), probability.
NOT_MATRICES = ("I", "O", "L", "J", "E", "N", "U", "P")


def is_matrix_name(sym: Sym) -> bool:
    base = sym.name.split("_")[-1] if sym.name.startswith(("hat_", "tilde_", "bar_")) else sym.name
    return base[:1].isupper() and base not in NOT_MATRICES


class Solver:
    def __init__(self, known: Callable[[Sym], tuple | None], matrix: Callable[[Sym], bool]):
        self.known, self.matrix = known, matrix
        self.parent: dict = {}
        self.unknown: dict = {}  # (name, sub, sup) -> (row Var, col Var)

    def find(self, x):
        while self.parent.get(x, x) != x:
            x = self.parent[x]
        return x

    def unify(self, a, b) -> None:
        a, b = self.find(a), self.find(b)
        if a == b:
            return
        if not isinstance(a, Var) and not isinstance(b, Var):
            raise Unsolvable(f"size {a} cannot equal size {b}")
        if isinstance(a, Var):
            self.parent[a] = b
        else:
            self.parent[b] = a

    def same(self, s, t) -> None:
        self.unify(s[0], t[0])
        self.unify(s[1], t[1])

    # -- the shape of each node ------------------------------------------------
    def shape(self, e: Expr):
        kind = type(e).__name__
        method = getattr(self, "of_" + kind, None)
        if method is None:
            raise Unsolvable(f"{kind} is not solved for shapes")
        return method(e)

    def of_Num(self, e):
        return SCALAR

    def of_Sym(self, e: Sym):
        known = self.known(e)
        if known is not None:
            return None if tuple(known) == (Num(1), Num(1)) else tuple(known)
        if not self.matrix(e):
            return SCALAR
        key = (e.name, e.sub, e.sup)
        if key not in self.unknown:
            self.unknown[key] = (Var(f"{e}.rows"), Var(f"{e}.cols"))
        return self.unknown[key]

    def of_Add(self, e: Add):
        shapes = [s for s in map(self.shape, e.terms) if s is not SCALAR]
        for s in shapes[1:]:
            self.same(shapes[0], s)
        if shapes and len(shapes) < len(e.terms):
            raise Unsolvable("a scalar added to a matrix")
        return shapes[0] if shapes else SCALAR

    def of_Mul(self, e: Mul):
        out = SCALAR
        for f in e.factors:
            s = self.shape(f)
            if s is SCALAR:
                continue
            if out is not SCALAR:
                self.unify(out[1], s[0])
                s = (out[0], s[1])
            out = s
        return out

    def of_Transpose(self, e: Transpose):
        s = self.shape(e.arg)
        return SCALAR if s is SCALAR else (s[1], s[0])

    def of_Pow(self, e: Pow):
        s = self.shape(e.base)
        if s is not SCALAR:
            if not isinstance(e.exp, Num):
                raise Unsolvable("a matrix power with a symbolic exponent")
            self.unify(s[0], s[1])
        elif self.shape(e.exp) is not SCALAR:
            raise Unsolvable("a matrix exponent")
        return s

    def of_Func(self, e: Func):
        shapes = [self.shape(a) for a in e.args]
        if e.name in SQUARE_TO_SCALAR and len(shapes) == 1:
            if shapes[0] is not SCALAR:
                self.unify(shapes[0][0], shapes[0][1])
            return SCALAR
        if e.name in ELEMENTWISE and len(shapes) == 1:
            return shapes[0]
        if all(s is SCALAR for s in shapes):
            return SCALAR
        raise Unsolvable(f"the shape of {e.name}(…) of a matrix is not known")

    def of_Norm(self, e: Norm):
        self.shape(e.arg)
        return SCALAR

    def of_Deriv(self, e: Deriv):
        if self.shape(e.body) is not SCALAR:
            raise Unsolvable("the derivative of a matrix")
        return self.shape(e.wrt)  # a gradient has the shape of its variable


def generic_shapes(sides, known: Callable[[Sym], tuple | None],
                   matrix: Callable[[Sym], bool] = is_matrix_name) -> dict | None:
    """(name, sub, sup) -> (rows, cols) for each undeclared matrix name of `sides`, each
    size a known Dim expression or a `Var` shared by every size it must equal; None when
    no such name occurs, or their uses cannot be solved."""
    solver = Solver(known, matrix)
    try:
        shapes = [solver.shape(side) for side in sides]
        matrices = [s for s in shapes if s is not SCALAR]
        if matrices and len(matrices) < len(shapes):
            return None  # a scalar equals a matrix: no reading as matrices helps
        for s in matrices[1:]:
            solver.same(matrices[0], s)
    except Unsolvable:
        return None
    if not solver.unknown:
        return None
    return {key: (solver.find(r), solver.find(c)) for key, (r, c) in solver.unknown.items()}




# ---------------------------------------------------------------------------- shape arithmetic
# `(1 \times d) @ (d \times n) @ (n \times 1) - (1 \times n) @ (n \times 1) = \text{Scalar}`:
# students check a product's shape by multiplying the shapes themselves.
_TUPLE = re.compile(r"^\(\s*([^()]+?)\s*(?:\\times|\*|×)\s*([^()]+?)\s*\)$")
_SCALAR_WORDS = re.compile(r"^(?:\\(?:text|mathrm|operatorname)\s*\{\s*)?(?:scalar|1)\s*\}?$", re.IGNORECASE)


class ShapeError(Exception):
    def __init__(self, message: str, shapes: list):
        super().__init__(message)
        self.shapes = shapes


def _top_level(text: str, seps: str) -> list[tuple[str, str]]:
    """Split at characters of `seps` outside parentheses: [(separator before, piece)]."""
    out, depth, start, sep = [], 0, 0, ""
    for k, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and ch in seps and k > start:
            out.append((sep, text[start:k]))
            start, sep = k + 1, ch
    out.append((sep, text[start:]))
    return [(s, p.strip()) for s, p in out]


def shape_arithmetic(latex: str, dim: Callable[[str], Expr | None]) -> tuple | None:
    """The shape a sum of products of shape tuples evaluates to; None when `latex` is
    not made only of shape tuples joined by `@`, `+` and `-`.  Raises ShapeError when
    inner sizes or summands disagree (sizes compared as written: d is not n)."""
    if "@" not in latex and not _TUPLE.match(latex.strip()):
        return None
    total = None
    for _, term in _top_level(latex.strip(), "+-"):
        product = None
        for _, factor in _top_level(term, "@"):
            m = _TUPLE.match(factor)
            if not m or dim(m.group(1)) is None or dim(m.group(2)) is None:
                return None
            shape = (dim(m.group(1)), dim(m.group(2)))
            if product is not None and product[1] != shape[0]:
                raise ShapeError(f"cannot multiply {_show(product)} by {_show(shape)}", [product, shape])
            product = shape if product is None else (product[0], shape[1])
        if total is not None and total != product:
            raise ShapeError(f"cannot add {_show(total)} and {_show(product)}", [total, product])
        total = product
    return total


def is_scalar_word(latex: str) -> bool:
    return bool(_SCALAR_WORDS.match(latex.strip()))


def _show(shape) -> str:
    return "(" + " × ".join(map(str, shape)) + ")"


__all__ = ["Var", "Unsolvable", "generic_shapes", "is_matrix_name", "ShapeError", "shape_arithmetic",
           "is_scalar_word"]
