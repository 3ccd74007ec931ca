"""Meaning: what the symbols of a document are.

A `Scope` collects, in document order, the declarations (shapes from `\\in \\mathbb{R}^…`
and `\\dim(X) = (n \\times d)`), the definitions (`L = …`, `\\hat{y} = Xw`,
`\\sigma(z) = …`), the dimension names and the constraints read from prose
(`y` is one-hot).  The checker asks it how to read each relation; the numeric witness
asks it for shapes and definitions while evaluating.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from symbolic.expr import (Add, Expr, Func, Mul, Num, Sym, Transpose, shape_key, shape_lookup, subscripted,
                           symbols, walk)

# A dimension is a small IR expression: Num(4), Sym("n"), Mul((Num 2, Sym n)) ...
Dim = Expr
Shape = tuple[Dim, Dim]
ONE = Num(1)
SCALAR: Shape = (ONE, ONE)

# Sets, spaces and shape statements: LaTeX of the right-hand side -> how to read it.
_REAL_SPACE = re.compile(r"^\\mathbb\s*\{?\s*R\s*\}?\s*(?:\^\s*(\{(?P<braced>[^{}]*)\}|(?P<single>\w)))?\s*$")
_DIM_TUPLE = re.compile(r"^\(?\s*(?P<r>[\w\\{} ]+?)\s*(?:\\times|\*|,|x)\s*(?P<c>[\w\\{} ]+?)\s*\)?$")
_DIM_OF = re.compile(r"^\\dim\s*\\?\(?\s*(?:\\left\()?\s*(?P<name>.+?)\s*(?:\\right\))?\)\s*$")
_ONE_HOT = re.compile(r"one[- ]hot", re.IGNORECASE)
# a lone Latin letter, bare or wrapped in a font command: y, $y$, \mathbf{y}, \boldsymbol{y}
_LATIN_TOKEN = re.compile(r"(?:\\(?:mathbf|boldsymbol|bm|vec|mathrm)\s*\{\s*([A-Za-z])\s*\})|(?<![A-Za-z\\])([A-Za-z])(?![A-Za-z])")


def dim_of(text: str) -> Dim | None:
    """`n`, `4`, `\\ell` -> a size; None for anything else."""
    text = text.strip().strip("{}").strip()
    if text.isdigit():
        return Num(int(text))
    if re.fullmatch(r"[A-Za-z]", text):
        return Sym(text)
    m = re.fullmatch(r"\\([A-Za-z]+)", text)
    return Sym(m.group(1)) if m else None


def parse_space(latex: str, op: str = "dim") -> Shape | None:
    """`\\mathbb{R}^{n \\times d}` -> (n, d); `\\mathbb{R}^d` -> (d, 1); `\\mathbb{R}` -> scalar;
    `(n \\times d)` -> (n, d); after `\\dim(X) =` also `(n, d)`.  None when it is no shape
    we know -- `\\beta \\in (0, 1)` is an interval, not a 0 × 1 shape."""
    latex = latex.strip().rstrip(".,;")
    if op == "\\in" and not _REAL_SPACE.match(latex) and "\\times" not in latex:
        return None
    m = _REAL_SPACE.match(latex)
    if m:
        inner = m.group("braced") or m.group("single")
        if inner is None:
            return SCALAR
        latex = inner
    t = _DIM_TUPLE.match(latex)
    if t:
        r, c = dim_of(t.group("r")), dim_of(t.group("c"))
        return (r, c) if r is not None and c is not None else None
    if m:
        d = dim_of(latex)
        return (d, ONE) if d is not None else None
    return None


_ASSUMPTION = re.compile(r"^\s*([A-Za-z](?:\s*,\s*[A-Za-z])*)\s*=\s*(-?\d+(?:\.\d+)?)\s*$")


def parse_assumption(label: str | None) -> tuple[tuple[str, ...], float] | None:
    """`\\xrightarrow{w, b=0}`: from here on every w and b (each entry, any index) is 0.
    Only single-letter names set to a number: anything else is a condition we do not use."""
    m = _ASSUMPTION.match(label or "")
    if not m:
        return None
    return tuple(n.strip() for n in m.group(1).split(",")), float(m.group(2))


def dim_target(latex: str) -> str | None:
    """`\\dim(W^1)` -> `W^1`."""
    m = _DIM_OF.match(latex.strip())
    return m.group("name") if m else None


@dataclass(frozen=True)
class Definition:
    target: Sym
    params: tuple[Expr, ...]  # () for `L = …`; (z,) for `\sigma(z) = …`
    body: Expr
    line: int


@dataclass(frozen=True)
class Scope:
    """Everything known at one point of the document (immutable: each relation sees
    the scope built by the relations before it)."""

    shapes: dict = field(default_factory=dict)  # shape_key -> Shape
    definitions: dict = field(default_factory=dict)  # name -> Definition
    defined_in: dict = field(default_factory=dict)  # name -> (problem, part) of its definition
    one_hot: frozenset = frozenset()  # names constrained to one-hot vectors
    families: frozenset = frozenset()  # names used with a sample index (y^{(i)})
    inferred: frozenset = frozenset()  # shape keys that were inferred, not declared
    distributions: dict = field(default_factory=dict)  # name -> ("normal", mean, variance)
    pinned: dict = field(default_factory=dict)  # name -> value assumed for all its entries (see checker.assume)
    pinned_in: int | None = None  # the segment whose arrow stated the assumption
    samples: Expr | None = None  # how many samples the sample index runs over (`\\sum_{i=1}^n`: n)

    def without_inferred(self) -> "Scope":
        shapes = {k: v for k, v in self.shapes.items() if k not in self.inferred}
        return replace(self, shapes=shapes, inferred=frozenset())

    # -- queries -------------------------------------------------------------
    def shape(self, sym: Sym) -> Shape | None:
        return shape_lookup(self.shapes, sym)

    def definition(self, name: str) -> Definition | None:
        return self.definitions.get(name)

    def dims(self) -> set[str]:
        out = set()
        for shape in self.shapes.values():
            for d in shape:
                out |= {s.name for s in symbols(d)}
        return out

    # -- growth --------------------------------------------------------------
    def declare(self, target: Sym, shape: Shape) -> "Scope":
        return replace(self, shapes={**self.shapes, shape_key(target): shape})

    def define(self, d: Definition, where: tuple) -> "Scope":
        return replace(
            self,
            definitions={**self.definitions, d.target.name: d},
            defined_in={**self.defined_in, d.target.name: where},
        )

    def with_families(self, names) -> "Scope":
        return replace(self, families=self.families | frozenset(names))

    def with_one_hot(self, names) -> "Scope":
        return replace(self, one_hot=self.one_hot | frozenset(names))


def definition_target(lhs: Expr) -> tuple[Sym, tuple[Expr, ...]] | None:
    """`L`, `\\hat{y}`, `h`, `m_0`, `a^1` -> (sym, ()); `\\sigma(z)`, `L(w, b)` -> (Sym(name), args)."""
    if isinstance(lhs, Sym):
        return lhs, ()
    if isinstance(lhs, Func) and all(isinstance(a, Sym) for a in lhs.args):
        return subscripted(lhs.name), lhs.args
    return None


def is_new_definition(scope: Scope, target: Sym, where: tuple) -> bool:
    """A bare name set with `=` is a definition the first time it appears in a part;
    later in the same part, `L = …` is a claim to check against that definition."""
    return scope.defined_in.get(target.name) != where


def sample_families(exprs) -> set[str]:
    """Names written with a superscript sample index somewhere (y^{(i)}, x^{(i)})."""
    out = set()
    for e in exprs:
        for node in walk(e):
            if isinstance(node, Sym) and node.sup and not all(isinstance(s, Num) for s in node.sup):
                out.add(node.name)
    return out


_MATH = re.compile(r"\$([^$]+)\$")
_ARTICLES = {"a", "A", "I"}


def _first_letter(math: str) -> str | None:
    for font, bare in _LATIN_TOKEN.findall(math):
        return font or bare
    return None


def one_hot_names(prose: str) -> set[str]:
    """Names the prose calls one-hot: the formula nearest to each "one-hot" ("$\\mathbf{y}
    \\in \\mathbb{R}^K$, a one-hot label", "a one-hot label $y$"), else the nearest lone
    Latin letter ("و y برچسب one-hot شده است")."""
    out = set()
    for m in _ONE_HOT.finditer(prose):
        # (distance, after-first on ties, formula): "has a one-hot label $y$" names y, not x
        near = [(m.start() - f.end(), 1, f.group(1)) for f in _MATH.finditer(prose) if 0 <= m.start() - f.end() <= 40]
        near += [(f.start() - m.end(), 0, f.group(1)) for f in _MATH.finditer(prose) if 0 <= f.start() - m.end() <= 40]
        letter = _first_letter(min(near)[2]) if near else None
        if letter is None:
            before = [a or b for a, b in _LATIN_TOKEN.findall(prose[max(0, m.start() - 40): m.start()])]
            after = [a or b for a, b in _LATIN_TOKEN.findall(prose[m.end(): m.end() + 40])]
            candidates = [x for x in before[::-1] + after if x not in _ARTICLES]
            letter = candidates[0] if candidates else None
        if letter:
            out.add(letter)
    return out


def transposed(shape: Shape) -> Shape:
    return (shape[1], shape[0])


# ---------------------------------------------------------------------------- shape inference
ELEMENTWISE = {"softmax", "sigma", "exp", "log", "relu", "tanh", "sqrt", "abs"}


def _factor_shape(scope: Scope, e: Expr):
    """(shape or None, the bare symbol if its shape is unknown, transposed?)."""
    inner, flipped = (e.arg, True) if isinstance(e, Transpose) else (e, False)
    if not isinstance(inner, Sym):
        return None, None, flipped
    shape = scope.shape(inner)
    if shape is None:
        return None, inner, flipped
    return (transposed(shape) if flipped else shape), None, flipped


def _infer_one(scope: Scope, target: Sym, body: Expr) -> list[tuple[Sym, Shape]]:
    want = scope.shape(target)
    if isinstance(body, Func) and body.name in ELEMENTWISE and len(body.args) == 1:
        arg = body.args[0]
        if isinstance(arg, Sym):
            have = scope.shape(arg)
            if want is not None and have is None:
                return [(arg, want)]
            if want is None and have is not None:
                return [(target, have)]
        return []
    if isinstance(body, Add):  # x̃ = x + ε: the undeclared terms have the shape of the declared ones
        shapes = [sh for sh, _, _ in (_factor_shape(scope, t) for t in body.terms) if sh is not None]
        loose = [sym for sh, sym, flipped in (_factor_shape(scope, t) for t in body.terms)
                 if sh is None and sym is not None and not flipped]
        return [(sym, shapes[0]) for sym in loose] if shapes and shapes[0] != SCALAR else []
    factors = [f for f in (body.factors if isinstance(body, Mul) else (body,)) if not isinstance(f, Num)]
    info = [_factor_shape(scope, f) for f in factors]
    unknown = [k for k, (shape, sym, _) in enumerate(info) if shape is None]
    if not unknown and want is None and info:
        return [(target, (info[0][0][0], info[-1][0][1]))]
    if len(unknown) != 1 or want is None or info[unknown[0]][1] is None:
        return []
    k = unknown[0]
    rows = info[k - 1][0][1] if k > 0 else want[0]
    cols = info[k + 1][0][0] if k + 1 < len(info) else want[1]
    shape = (rows, cols)
    return [(info[k][1], transposed(shape) if info[k][2] else shape)]


def infer_shapes(scope: Scope) -> Scope:
    """Shapes the document implies but never states: `h = W^T x` with h ∈ ℝ^H and x ∈ ℝ^d
    makes W d×H; `\\hat{y} = softmax(u)` gives u the shape of ŷ.  Only products of
    symbols and elementwise functions are solved.  Inferred shapes are remembered as such,
    so a new part can drop them when its declarations change."""
    for _ in range(4):
        before = dict(scope.shapes)
        for d in list(scope.definitions.values()):
            if not d.params:
                for sym, shape in _infer_one(scope, d.target, d.body):
                    if scope.shape(sym) is None:
                        scope = replace(scope.declare(sym, shape),
                                        inferred=scope.inferred | {shape_key(sym)})
        if scope.shapes == before:
            break
    return scope


def is_template(sym: Sym) -> bool:
    """`s_i = …`, `m_t = …`, `\\hat{y}^{(i)} = …`, `\\delta_1^{(i)} = …`: a definition for
    every value of one-letter Latin indices (`J_{\\lambda}` is a name, not a family)."""
    slots = sym.sub + sym.sup
    letters = [x for x in slots if isinstance(x, Sym)]
    return bool(letters) and all(
        isinstance(x, Num) or (isinstance(x, Sym) and not x.sub and not x.sup and len(x.name) == 1
                               and x.name.isascii() and x.name.isalpha())
        for x in slots)


def closure(e: Expr, scope: Scope, seen=None) -> set[str]:
    """Names a side depends on, through the definitions in scope (a defined object stands
    for its definition; a function's parameters are not names of the document)."""
    seen = set() if seen is None else seen
    out = set()
    for node in walk(e):
        keys = definitions_of(node, scope) if isinstance(node, Sym) else []
        if keys:
            for key in keys:
                if key not in seen:
                    seen.add(key)
                    out |= closure(scope.definitions[key].body, scope, seen)
            continue
        if isinstance(node, (Sym, Func)) and node.name not in seen:
            d = scope.definitions.get(node.name)
            if d is None:
                out.add(node.name)
                continue
            seen.add(node.name)
            params = {p.name for p in d.params if isinstance(p, Sym)}
            out |= closure(d.body, scope, seen) - params
    return out


def definitions_of(sym: Sym, scope: Scope) -> list:
    """The object definitions `sym` reads: itself (m_0), the vector it is an entry of
    (Z_1^1 of Z^1), the per-sample object (δ_1^{(i)} of δ_1), or an entrywise pattern
    (s_j of s_i = …)."""
    if (sym.sub or sym.sup) and sym in scope.definitions:
        return [sym]  # `m_0 = 0` shadows the recursion `m_t = …` for m_0
    candidates = [sym, Sym(sym.name, (), sym.sup), Sym(sym.name, sym.sub, ())]
    found = [c for c in dict.fromkeys(candidates) if c in scope.definitions]
    for key in scope.definitions:
        if not (isinstance(key, Sym) and key.name == sym.name and is_template(key)):
            continue
        fits = (len(key.sub), len(key.sup)) == (len(sym.sub), len(sym.sup))
        whole_vector = not sym.sub and len(key.sub) == 1 and key.sup == sym.sup  # `\boldsymbol{s}` of s_i
        if fits or whole_vector:
            found.append(key)
    return found


__all__ = [
    "Definition", "Scope", "Shape", "SCALAR", "parse_space", "dim_of", "parse_assumption", "dim_target", "shape_key",
    "definition_target", "is_new_definition", "sample_families", "one_hot_names",
    "transposed", "is_template", "closure", "definitions_of",
]
