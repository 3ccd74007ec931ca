"""The expression tree derivcheck reasons about (its own IR, independent of the parser).

`symbolic.latex` turns one side of a relation into an `Expr`; `symbolic.meaning` gives
its symbols shapes and definitions; `symbolic.verdict` turns it into SymPy for a proof
and `numeric.witness` evaluates it with numpy at random points.  Every node is a frozen
dataclass, so trees are hashable, comparable and picklable (they cross process borders
in `symbolic.sandbox`).

Conventions
- Products keep their written order: `Mul((X, Y))` is X·Y, never Y·X.  Whether two
  factors commute is decided later, from their shapes.
- `Sym.name` is canonical: accents become prefixes (`\\hat{y}` -> ``hat_y``,
  `\\bar{x}` -> ``bar_x``, `\\tilde{x}` -> ``tilde_x``), primes a suffix (`W'` -> ``W'``),
  Greek letters their name (``beta``, ``epsilon``), `\\mathcal{L}` -> ``L``,
  `\\mathbf{x}` -> ``x``.
- `Sym.sub` holds subscripts (`x_j` -> sub=(j,), `w_{ij}` -> sub=(i, j)); `Sym.sup`
  holds superscripts that are indices, not powers (`y^{(i)}`, `W^1`, `\\hat{y}^i` under
  `\\sum_i`).  Whether a subscript is part of a name (`\\beta_1`) is for `meaning`.
- `Pow(A, Num(-1))` on a square matrix is its inverse; `Transpose` is explicit.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


class Expr:
    """Base of every node."""

    def children(self) -> tuple["Expr", ...]:
        return ()


@dataclass(frozen=True)
class Num(Expr):
    value: Fraction  # exact: `0.5` is Fraction(1, 2)

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class Sym(Expr):
    name: str
    sub: tuple[Expr, ...] = ()
    sup: tuple[Expr, ...] = ()

    def children(self):
        return self.sub + self.sup

    def __str__(self) -> str:
        s = self.name
        if self.sub:
            s += "_{" + ",".join(map(str, self.sub)) + "}"
        if self.sup:
            s += "^{(" + ",".join(map(str, self.sup)) + ")}"
        return s


@dataclass(frozen=True)
class Add(Expr):
    terms: tuple[Expr, ...]

    def children(self):
        return self.terms

    def __str__(self) -> str:
        return "(" + " + ".join(map(str, self.terms)) + ")"


@dataclass(frozen=True)
class Mul(Expr):
    factors: tuple[Expr, ...]  # in written order

    def children(self):
        return self.factors

    def __str__(self) -> str:
        return "(" + "·".join(map(str, self.factors)) + ")"


@dataclass(frozen=True)
class Pow(Expr):
    base: Expr
    exp: Expr

    def children(self):
        return (self.base, self.exp)

    def __str__(self) -> str:
        return f"{self.base}^({self.exp})"


@dataclass(frozen=True)
class Transpose(Expr):
    arg: Expr

    def children(self):
        return (self.arg,)

    def __str__(self) -> str:
        return f"{self.arg}ᵀ"


@dataclass(frozen=True)
class Func(Expr):
    """An applied function.  Known names (lower case): log (natural), exp, sqrt, abs,
    sigma (logistic), softmax, relu, tanh, tr, det, max, min, sign.  Any other name
    (``L``, ``f``, ``O``, ``N``, ``U``, ``J`` ...) is the document's own and gets its
    meaning from a definition or a convention in `meaning`."""

    name: str
    args: tuple[Expr, ...]

    def children(self):
        return self.args

    def __str__(self) -> str:
        return f"{self.name}(" + ", ".join(map(str, self.args)) + ")"


@dataclass(frozen=True)
class Sum(Expr):
    """Σ_{index=lower}^{upper} body; lower/upper None when the document omits them
    (`\\sum_i`, bare `\\sum`): the range comes from the index's role in `meaning`."""

    body: Expr
    index: str
    lower: Expr | None = None
    upper: Expr | None = None

    def children(self):
        return (self.body,) + tuple(e for e in (self.lower, self.upper) if e is not None)

    def __str__(self) -> str:
        return f"Σ[{self.index}={self.lower}..{self.upper}]{self.body}"


@dataclass(frozen=True)
class Product(Expr):
    body: Expr
    index: str
    lower: Expr | None = None
    upper: Expr | None = None

    def children(self):
        return (self.body,) + tuple(e for e in (self.lower, self.upper) if e is not None)


@dataclass(frozen=True)
class Deriv(Expr):
    """d body / d wrt.  kind: ``partial`` (`\\frac{\\partial f}{\\partial w}`) or
    ``nabla`` (`\\nabla_w f`).  Evaluated from definitions, never trusted."""

    body: Expr
    wrt: Sym
    order: int = 1
    kind: str = "partial"

    def children(self):
        return (self.body, self.wrt)

    def __str__(self) -> str:
        return f"∂({self.body})/∂{self.wrt}"


@dataclass(frozen=True)
class Delta(Expr):
    """Kronecker delta δ_{ij}, also `\\mathbb{1}_{i=j}`."""

    i: Expr
    j: Expr

    def children(self):
        return (self.i, self.j)


@dataclass(frozen=True)
class Norm(Expr):
    """‖arg‖_p; p None means 2."""

    arg: Expr
    p: Expr | None = None

    def children(self):
        return (self.arg,)


@dataclass(frozen=True)
class Expect(Expr):
    """E[body], optionally with the random variable named (`\\mathbb{E}_{\\epsilon}`)."""

    body: Expr
    over: Expr | None = None

    def children(self):
        return (self.body,)


@dataclass(frozen=True)
class Matrix(Expr):
    """A literal: `bmatrix` rows, or `[a, b, c]` (one row)."""

    rows: tuple[tuple[Expr, ...], ...]

    def children(self):
        return tuple(e for row in self.rows for e in row)


@dataclass(frozen=True)
class Dots(Expr):
    """An ellipsis that the normalization pass could not expand into a Sum."""


def subscripted(name: str) -> Sym:
    """A function name with a subscript, as the parser spells it (`J_{lambda}`, `f_{1}`),
    as the symbol it names: Sym("J", sub=(lambda,)), Sym("f", sub=(1,))."""
    base, _, sub = name.partition("_")
    sub = sub[1:-1] if sub.startswith("{") and sub.endswith("}") else sub
    if not sub:
        return Sym(name)
    return Sym(base, sub=(Num(Fraction(int(sub))) if sub.isdigit() else Sym(sub),))


def shape_key(sym: Sym) -> tuple:
    """Shapes belong to a name with its numeric subscripts and superscripts (W_1 and W_2,
    W^1 and W^2 are different objects); a symbolic index (x^{(i)}, x_j) is not part of it."""
    numeric = lambda t: t if t and all(isinstance(x, Num) for x in t) else ()
    return (sym.name, numeric(sym.sub), numeric(sym.sup))


def shape_lookup(shapes: dict, sym: Sym):
    """The most specific declared shape for `sym`: W_1, else W^1, else W."""
    name, sub, sup = shape_key(sym)
    for key in ((name, sub, sup), (name, (), sup), (name, (), ())):
        if key in shapes:
            return shapes[key]
    return None


def walk(expr: Expr):
    """Every node of the tree, parents first."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children()))


def symbols(expr: Expr) -> set[Sym]:
    return {n for n in walk(expr) if isinstance(n, Sym)}
