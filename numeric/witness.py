"""The randomized numeric witness: evaluate an expression tree with numpy at a random
point, with random concrete sizes for its symbolic dimensions.

It shares only the IR (`symbolic.expr`) with the symbolic side, never a SymPy result:
derivatives are central finite differences of the definitions, sums are loops, matrix
products are numpy products with their shapes checked.  What a tree means (shapes,
definitions, one-hot constraints, index ranges) comes from a `World` the caller fills.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from symbolic.expr import (
    Add, Deriv, Delta, Dots, Expect, Expr, Func, Matrix, Mul, Norm, Num, Pow, Product, Sum, Sym,
    Transpose, shape_lookup, subscripted, walk,
)
from symbolic.shapes import Var, generic_shapes, is_matrix_name

FD_STEP = 1e-6  # central differences, as torch.autograd.gradcheck (eps=1e-6)
DIM_RANGE = (2, 5)  # random concrete size of every symbolic dimension, inclusive
VALUE_RANGE = (0.2, 1.4)  # atoms are positive so log/sqrt stay defined and signs stay visible
# functions whose value turns on a sign: where they appear, every other point draws atoms of
# either sign (`\text{ReLU}(z) = z` holds for every positive z)
SIGN_SENSITIVE = frozenset({"relu", "abs", "sign", "positive", "nonnegative", "max", "min"})


class Unsupported(Exception):
    """The witness cannot evaluate this; `reason` is a report reason code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class ShapeMismatch(Exception):
    """Two operands cannot be combined: evidence that the expression is ill-formed."""

    def __init__(self, message: str, shapes: tuple):
        super().__init__(message)
        self.shapes = shapes


@dataclass(frozen=True)
class World:
    """What the caller knows about the symbols (all plain data)."""

    shapes: dict = field(default_factory=dict)  # (name, sup) -> (Dim expr, Dim expr)
    definitions: dict = field(default_factory=dict)  # name -> (params, body)
    one_hot: frozenset = frozenset()
    families: frozenset = frozenset()  # names indexed per sample: y^{(i)}
    index_ranges: dict = field(default_factory=dict)  # index name -> upper bound Expr
    dims: frozenset = frozenset()  # names that are sizes (n, d, H, t ...)
    fixed: dict = field(default_factory=dict)  # Sym with concrete indices -> body (`m_0 = 0`)
    templates: dict = field(default_factory=dict)  # name -> ((pattern Sym, body), ...): `s_i = e^{z_i}/…`
    distributions: dict = field(default_factory=dict)  # name -> ("normal", mean Expr, variance Expr)
    pinned: dict = field(default_factory=dict)  # name -> value every atom of it has (`\xrightarrow{w, b=0}`)


@dataclass
class Point:
    """One random point: sizes, atom values (drawn on first use), perturbations."""

    rng: np.random.Generator
    dims: dict
    atoms: dict = field(default_factory=dict)
    nudges: dict = field(default_factory=dict)  # atom key -> added delta (finite differences)
    hot: dict = field(default_factory=dict)  # one-hot name -> hot position
    uninterpreted: set = field(default_factory=set)  # undefined functions given a random meaning
    inferred: dict = field(default_factory=dict)  # undeclared (name, sup) -> concrete shape seen in a sum
    touched: set = field(default_factory=set)  # atoms read since the last reset (dependency tracking)
    doubt: bool = False  # a shape was guessed (scalar transposed, identity of unknown size)
    cut_keys: dict = field(default_factory=dict)  # held object -> (rows, cols); (0, 0) for a scalar
    depth: int = 0  # nesting of recursive definitions being unrolled
    dims_used: set = field(default_factory=set)  # sizes this evaluation actually read
    quadrature: bool = False  # an expectation was evaluated by Gaussian sigma points
    pinned: dict = field(default_factory=dict)  # name -> value assumed for all its atoms
    pinned_used: set = field(default_factory=set)  # pinned names this evaluation read
    linear: bool = False  # undefined functions mean random linear maps (see `uninterpreted`)
    signed: bool = False  # atoms are drawn of either sign (see SIGN_SENSITIVE)
    memo: dict = field(default_factory=dict)  # defined object -> its value and what reading it read
    moved: int = 0  # > 0 while an expectation moves atoms: no value is remembered then

    def atom(self, key) -> float:
        self.touched.add(key)
        if key[0] in self.pinned:  # still a variable: finite differences nudge it
            self.pinned_used.add(key[0])
            return self.pinned[key[0]] + self.nudges.get(key, 0.0)
        if key not in self.atoms:
            sign = -1.0 if self.signed and self.rng.integers(0, 2) else 1.0
            self.atoms[key] = sign * float(self.rng.uniform(*VALUE_RANGE))
        return self.atoms[key] + self.nudges.get(key, 0.0)


# ---------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class Frame:
    indices: tuple = ()  # ((name, int), ...) bound summation / free indices
    sample: int | None = None  # sample index in force inside a per-sample definition
    cut: tuple = ()  # objects (Sym) held as variables (∂/∂ŷ holds ŷ at its value)
    ranges: tuple = ()  # ((name, upper bound Expr), ...) of the indices bound here

    def index(self, name):
        for n, v in reversed(self.indices):
            if n == name:
                return v
        return None

    def upper(self, name):
        for n, u in reversed(self.ranges):
            if n == name:
                return u
        return None

    def bind(self, name, value, upper=None) -> "Frame":
        return Frame(self.indices + ((name, value),), self.sample, self.cut, self.ranges + ((name, upper),))


@dataclass(frozen=True)
class Eye:
    """c·I of a size not yet known: `X^T X + \\lambda I`, `(a - y) I`."""

    scale: float

    def sized(self, n: int):
        return self.scale * np.eye(n)


def scoped(frame: Frame) -> Frame:
    """The frame a definition's body is evaluated in: the caller's bound indices do not
    reach it (a sum's `k` must not shadow the size k in `y \\in \\mathbb{R}^k`)."""
    return Frame((), frame.sample, frame.cut, ())


def is_scalar(v) -> bool:
    if isinstance(v, Eye):
        return False
    return np.ndim(v) == 0 or np.shape(v) == (1, 1)


def scalar(v) -> float:
    return float(np.reshape(v, ())) if np.ndim(v) else float(v)


class Evaluator:
    def __init__(self, world: World, point: Point):
        self.world, self.point = world, point

    # -- helpers --------------------------------------------------------------
    def size(self, dim: Expr, frame: Frame) -> int:
        v = self.ev(dim, frame)
        if not is_scalar(v) or abs(scalar(v) - round(scalar(v))) > 1e-9 or scalar(v) < 0:
            raise Unsupported("ambiguous", f"size {dim} is not a natural number")
        if scalar(v) > 10_000:
            raise Unsupported("too-large", f"size {dim} = {scalar(v):g} is too large to evaluate")
        return int(round(scalar(v)))

    def index_value(self, e: Expr, frame: Frame):
        v = self.ev(e, frame)
        if not is_scalar(v) or abs(scalar(v) - round(scalar(v))) > 1e-9:
            raise Unsupported("ambiguous", f"index {e} is not an integer here")
        return int(round(scalar(v)))

    def shape_of(self, sym: Sym):
        """The declared (or inferred) shape of the object `sym` names, if any."""
        return shape_lookup(self.world.shapes, sym)

    def whole(self, e: Sym) -> tuple[Sym, tuple]:
        """Split `e` into the object it names and the entry it picks: `x_j` with x ∈ ℝ^d is
        entry j of x; `W_1` declared ∈ ℝ^{h×d} is the object W_1 itself."""
        if not e.sub or (len(e.sup) == 1 and Sym(e.name, e.sub, ()) in self.world.fixed):
            return e, ()
        if e not in self.world.fixed and self.template_for(e) is not None:
            return e, ()  # `s_j` from `s_i = …`
        named = (e in self.world.fixed or (e.name, e.sub, e.sup) in self.world.shapes
                 or e in self.point.cut_keys)
        if named:
            return e, ()
        base = Sym(e.name, (), e.sup)
        if (base in self.world.fixed or e.name in self.world.definitions or base in self.point.cut_keys
                or self.shape_of(base) not in (None, (Num(1), Num(1)))
                or self.point.inferred.get((e.name, (), e.sup))):
            return base, e.sub
        return e, ()

    # -- dispatch -------------------------------------------------------------
    def ev(self, e: Expr, frame: Frame):
        handler = getattr(self, "ev_" + type(e).__name__, None)
        if handler is None:
            raise Unsupported("unsupported-notation", f"cannot evaluate {type(e).__name__}")
        return handler(e, frame)

    def ev_Num(self, e: Num, frame):
        return float(e.value)

    def ev_Dots(self, e, frame):
        raise Unsupported("ellipsis", "an ellipsis whose pattern could not be inferred")

    def ev_Expect(self, e: Expect, frame):
        """E[body] over the document's Gaussian variables, by sigma points: for D random
        scalars, the 2D points μ ± √D·σ·e_k with weights 1/(2D) give the exact expectation
        of any polynomial of degree ≤ 3 (all odd moments and cross moments vanish, the
        second moments are σ²); anything else is not evaluated."""
        names = self.random_names(e)
        if not names:
            return self.linear_expectation(e, frame)
        if polynomial_degree(e.body, names, self.world) > 3:
            raise Unsupported("expectation", "not a polynomial of degree ≤ 3 in "
                              + ", ".join(sorted(names)) + ": no exact rule")
        outer, self.point.touched = self.point.touched, set()
        self.ev(e.body, frame)  # discover which random entries the body reads
        keys = sorted((k for k in self.point.touched if k[0] in names), key=str)
        self.point.touched = outer | self.point.touched
        if not keys:
            return self.ev(e.body, frame)
        saved = {k: self.point.atoms.get(k) for k in keys}
        self.point.moved += 1
        try:
            for key in keys:  # random entries sit at their mean; the points move one at a time
                self.point.atoms[key] = self.law_value(key[0], 1, frame)
            spread = {k: np.sqrt(len(keys) * self.law_value(k[0], 2, frame)) for k in keys}
            total = None
            for key in keys:
                for sign in (1.0, -1.0):
                    v = np.asarray(self.nudged(e.body, key, sign * spread[key], frame), dtype=float)
                    total = v if total is None else total + v
        finally:  # outside the expectation the variables keep their own random values
            self.point.moved -= 1
            for key, value in saved.items():
                if value is not None:
                    self.point.atoms[key] = value
        self.point.quadrature = True
        return total / (2 * len(keys))

    def linear_expectation(self, e: Expect, frame):
        """No law is declared (`\\mathbb{E}[g]`, `\\mathbb{E}[\\hat{m}_t]`): expectation is
        still linear, so for a body affine in its variables E[body] is the body at their
        means -- and an unknown mean is exactly what a random atom stands for."""
        names = {n.name for n in walk(e.body) if isinstance(n, Sym)} - self.point.dims.keys()
        if polynomial_degree(e.body, names, self.world) > 1:
            raise Unsupported("expectation", "no distribution is declared and the expression is not linear")
        self.point.quadrature = True
        return self.ev(e.body, frame)

    def random_names(self, e: Expect) -> set[str]:
        if e.over is not None:
            wanted = {n.name for n in walk(e.over) if isinstance(n, Sym)}
        else:
            wanted = {n.name for n in walk(e.body) if isinstance(n, Sym)}
        return {n for n in wanted if n in self.world.distributions}

    def law_value(self, name: str, which: int, frame) -> float:
        """which=1: the mean; which=2: the per-entry variance (σ²I counts as σ²)."""
        value = self.ev(self.world.distributions[name][which], scoped(frame))
        if isinstance(value, Eye):
            return value.scale
        if not is_scalar(value):
            raise Unsupported("expectation", f"a non-scalar {'mean' if which == 1 else 'variance'} for {name}")
        return scalar(value)

    def ev_Sym(self, e: Sym, frame: Frame):
        if not e.sub and not e.sup:
            bound = frame.index(e.name)
            if bound is not None:
                return float(bound)
            if e.name in self.point.dims:
                self.point.dims_used.add(e.name)
                return float(self.point.dims[e.name])
        if not e.sub and not e.sup and e.name in CONSTANTS and e.name not in self.world.definitions \
                and self.shape_of(e) is None:
            return CONSTANTS[e.name]
        if e == Sym("I") and self.shape_of(e) is None and "I" not in self.world.definitions:
            return Eye(1.0)  # an identity matrix whose size its neighbours decide
        obj, entry = self.whole(e)
        value = self.object_value(obj, frame)
        if entry:
            value = self.component(value, tuple(self.index_value(x, frame) for x in entry), e)
        return value

    def object_value(self, obj: Sym, frame: Frame):
        if obj in self.point.cut_keys and obj in frame.cut:  # a variable of a derivative
            return self.assemble_atoms(obj, *self.point.cut_keys[obj], frame)
        template = self.template_for(obj) if obj not in self.world.fixed else None
        if template is not None and not any(c in frame.cut for c in (obj, Sym(obj.name))):
            return self.instantiate(obj, template, frame)
        vector = self.vector_template(obj)
        if vector is not None:
            return self.template_vector(obj, vector, frame)  # `\\boldsymbol{s}` from `s_i = …`
        per_sample = Sym(obj.name, obj.sub, ())
        if obj not in self.world.fixed and len(obj.sup) == 1 and per_sample in self.world.fixed:
            # δ_1^{(i)}: the document's δ_1, evaluated on sample i
            inner = Frame(frame.indices, self.index_value(obj.sup[0], frame), frame.cut, frame.ranges)
            return self.object_value(per_sample, inner)
        if obj in self.world.fixed:
            return self.remembered(obj, frame, lambda: self.fixed_value(obj, frame))
        definition = self.world.definitions.get(obj.name)
        if definition is not None and not obj.sub and Sym(obj.name) not in frame.cut:
            return self.remembered(obj, frame, lambda: self.defined(obj, definition[1], frame))
        return self.atom_value(obj, frame)

    def fixed_value(self, obj: Sym, frame: Frame):
        try:
            return self.ev(self.world.fixed[obj], scoped(frame))
        except ShapeMismatch as err:
            raise Unsupported("inconsistent-context", f"the definition of {obj} does not fit the shapes in force: {err}") from None

    def template_for(self, obj: Sym):
        """The document's entrywise definition (`s_i = …`, `\\hat{y}^{(i)} = …`, `m_t = …`)
        whose pattern `obj` fits: same number of indices, equal where the pattern is a number.
        The latest such definition wins (`m_n = …` in an answer shadows `m_t = …` in the question)."""
        for pattern, body in reversed(self.world.templates.get(obj.name, ())):
            slots = pattern.sub + pattern.sup
            if (len(pattern.sub), len(pattern.sup)) == (len(obj.sub), len(obj.sup)) and all(
                    isinstance(p, Sym) or p == v for p, v in zip(slots, obj.sub + obj.sup)):
                return pattern, body
        return None

    def vector_template(self, obj: Sym):
        if obj.sub or obj in self.world.fixed:
            return None
        for pattern, body in self.world.templates.get(obj.name, ()):
            if len(pattern.sub) == 1 and isinstance(pattern.sub[0], Sym) and pattern.sup == obj.sup:
                return pattern, body
        return None

    def instantiate(self, obj: Sym, template, frame: Frame):
        """`s_j` from the document's `s_i = …`; recursions (`m_t = β m_{t-1} + …`) unroll down
        to a stated base case, within a depth limit."""
        pattern, body = template
        concrete = Sym(obj.name, *(tuple(Num(self.index_value(x, frame)) for x in xs) for xs in (obj.sub, obj.sup)))
        if concrete in self.world.fixed:  # `m_{t-1}` at t = 1 is the stated base case `m_0 = 0`
            return self.remembered(concrete, frame, lambda: self.fixed_value(concrete, frame))
        pairs = [(p, v) for p, v in zip(pattern.sub + pattern.sup, obj.sub + obj.sup) if isinstance(p, Sym)]
        params = [p for p, _ in pairs]
        values = [self.index_value(v, frame) for _, v in pairs]
        if min(values) < -1 or max(values) > 200:
            raise Unsupported("ambiguous", f"{obj} is outside the range its definition covers")
        self.point.depth += 1
        try:
            if self.point.depth > 60:
                raise Unsupported("too-large", f"the definition of {obj.name} recurses too deeply")
            inner = scoped(frame)  # the definition's own letters, not the caller's indices
            for p, v in zip(params, values):
                inner = inner.bind(p.name, v)
            return self.ev(body, inner)
        finally:
            self.point.depth -= 1

    def template_vector(self, obj: Sym, template, frame: Frame):
        """The vector of all entries of a family defined entrywise: its length is the
        length of a declared vector the definition indexes the same way (z in s_i = e^{z_i}/…)."""
        pattern, body = template
        param = pattern.sub[0]
        lengths = [shape_lookup(self.world.shapes, Sym(n.name)) for n in walk(body)
                   if isinstance(n, Sym) and n.sub == (param,)]
        lengths = [sh[0] for sh in lengths if sh is not None and sh[1] == Num(1)]
        if not lengths:
            raise Unsupported("ambiguous", f"the length of {obj.name} is not stated")
        n = self.size(lengths[0], frame)
        return block([[self.instantiate(Sym(obj.name, (Num(k),), obj.sup), template, frame)] for k in range(1, n + 1)])

    def assemble_atoms(self, obj: Sym, rows: int, cols: int, frame: Frame):
        base, sup = self.ints(obj.sub, frame), self.ints(obj.sup, frame)
        if rows == cols == 0:
            return self.leaf(obj.name, base, sup)
        return self.leaves(obj.name, base, sup, rows, cols)

    def leaves(self, name, base, sup, rows: int, cols: int):
        """An array of atoms: entry (r, c) of the object `name` with indices `base`."""
        out = np.empty((rows, cols))
        for r in range(rows):
            for c in range(cols):
                out[r, c] = self.leaf(name, element(base, r, c, cols), sup)
        return out

    def ints(self, exprs, frame) -> tuple:
        return tuple(self.index_value(x, frame) for x in exprs)

    def remembered(self, e: Sym, frame: Frame, compute):
        """The value of a defined object, computed once per point: `a_1^1 … a_4^1` each
        read the whole of `a^1 = \\sigma(Z^1)`.  What the first reading read (atoms,
        sizes, assumptions, guesses) is replayed on every later one, so dependency
        tracking sees the same.  Only objects with numeric indices (their value does not
        depend on the caller's indices), and nothing while an atom is moved (finite
        differences, expectations)."""
        if self.point.moved or any(self.point.nudges.values()) or \
                not all(isinstance(x, Num) for x in e.sub + e.sup):
            return compute()
        key = (e, frame.sample, frame.cut, frozenset(self.point.cut_keys), len(self.point.inferred), self.point.doubt)
        hit = self.point.memo.get(key)
        if hit is None:
            p = self.point
            saved = (p.touched, p.pinned_used, p.dims_used, p.uninterpreted, p.quadrature)
            p.touched, p.pinned_used, p.dims_used, p.uninterpreted, p.quadrature = set(), set(), set(), set(), False
            try:
                value = compute()
                hit = (value, p.touched, p.pinned_used, p.dims_used, p.uninterpreted, p.quadrature, p.doubt)
            finally:
                read = (p.touched, p.pinned_used, p.dims_used, p.uninterpreted)
                p.touched, p.pinned_used, p.dims_used, p.uninterpreted = (a | b for a, b in zip(saved[:4], read))
                p.quadrature = saved[4] or p.quadrature
            if key[4] == len(p.inferred):  # no shape was guessed on the way: the value stands
                p.memo[key] = hit
            return np.copy(value) if isinstance(value, np.ndarray) else value
        value, touched, pinned, dims, uninterpreted, quadrature, doubt = hit
        self.point.touched |= touched
        self.point.pinned_used |= pinned
        self.point.dims_used |= dims
        self.point.uninterpreted |= uninterpreted
        self.point.quadrature |= quadrature
        self.point.doubt |= doubt
        return np.copy(value) if isinstance(value, np.ndarray) else value

    def defined(self, e: Sym, body: Expr, frame: Frame):
        try:
            return self._defined(e, body, frame)
        except ShapeMismatch as err:  # the definition, not this relation, is ill-formed here
            raise Unsupported("inconsistent-context", f"the definition of {e.name} does not fit the shapes in force: {err}") from None

    def _defined(self, e: Sym, body: Expr, frame: Frame):
        sup = self.ints(e.sup, frame)
        shape = self.shape_of(e)
        if body == Num(0) and shape is not None and shape != (Num(1), Num(1)):
            return np.zeros(tuple(self.size(d, frame) for d in shape))  # `W = 0` for a declared matrix
        if not sup:
            value = self.ev(body, scoped(frame))
        else:
            value = self.ev(body, Frame((), sup[0], frame.cut, ()))
            if not is_scalar(value):  # ŷ = Xw, then ŷ^{(i)} is its i-th entry
                value = self.component(value, sup, e)
        return value

    def component(self, value, idx, e):
        arr = np.atleast_2d(value)
        if arr.shape[1] == 1 and len(idx) == 1:
            idx = (idx[0], 1)
        elif arr.shape[0] == 1 and len(idx) == 1:
            idx = (1, idx[0])
        if len(idx) != 2 or not all(1 <= i <= n for i, n in zip(idx, arr.shape)):
            raise Unsupported("ambiguous", f"index {idx} out of range for {e} of shape {arr.shape}")
        return float(arr[idx[0] - 1, idx[1] - 1])

    def atom_value(self, e: Sym, frame: Frame):
        """An object the document never defines: a scalar atom, or an array of atoms when
        it has a (declared or inferred) shape.  Atoms are keyed (name, indices, sample)."""
        sub, sup = self.ints(e.sub, frame), self.ints(e.sup, frame)
        if not sup and frame.sample is not None and e.name in self.world.families:
            sup = (frame.sample,)
        shape = self.shape_of(e)
        if not e.sub and self.stacked(e, shape, frame):  # y ∈ ℝ^n stacks the samples: y^{(i)} is its i-th entry
            return self.leaf(e.name, sup, ())
        inferred = self.point.inferred.get((e.name, e.sub, e.sup))
        if shape is None and inferred is not None:
            rows, cols = inferred
        elif shape is not None and shape != (Num(1), Num(1)):
            rows, cols = (self.size(d, frame) for d in shape)
        else:
            return self.leaf(e.name, sub, sup)
        return self.leaves(e.name, sub, sup, rows, cols)

    def stacked(self, e: Sym, shape, frame: Frame) -> bool:
        """y ∈ ℝ^n with y^i, i running to n: the samples are stacked in y."""
        if shape is None or e.sub or len(e.sup) != 1 or not isinstance(e.sup[0], Sym):
            return False
        if shape[1] != Num(1):
            return False
        upper = frame.upper(e.sup[0].name) or self.world.index_ranges.get(e.sup[0].name)
        return upper == shape[0]

    def leaf(self, name, sub, sup):
        if name == "ones":  # \\mathbf{1}: a vector of ones, sized by its neighbours
            return 1.0
        if name in self.world.one_hot and sub:
            hot = self.point.hot.setdefault(name, 1 + int(self.point.rng.integers(0, 2)))
            self.point.touched.add((name, sub, sup))
            return 1.0 if sub == (hot,) else 0.0
        return self.point.atom((name, sub, sup))

    def ev_Add(self, e: Add, frame):
        values = [self.ev(t, frame) for t in e.terms]
        arrays = [np.shape(v) for v in values if not is_scalar(v)]
        if arrays:  # `\hat{y} - y` with y undeclared: y has the shape of what it is added to
            for t, v in zip(e.terms, values):
                key = self.undeclared_key(t)
                if key and is_scalar(v) and key not in self.point.inferred:
                    self.point.inferred[key] = arrays[0] if not isinstance(t, Transpose) else arrays[0][::-1]
                    return self.ev_Add(e, frame)
        if arrays and any(isinstance(t, Num) for t in e.terms):
            values = self.broadcast_numbers(e.terms, values, arrays[0])
        total = values[0]
        for v in values[1:]:
            total = add(total, v, e)
        return total

    def broadcast_numbers(self, terms, values, shape):
        """`1 - \\sigma(z)` with z a vector: the number is a vector of that number, as ML
        notation writes it.  Beside a matrix it could mean c·I or a matrix of c: undecided."""
        if 1 not in shape:
            raise Unsupported("ambiguous", "a number added to a matrix: a multiple of I, or a matrix of that number?")
        return [np.full(shape, scalar(v)) if isinstance(t, Num) and is_scalar(v) else v
                for t, v in zip(terms, values)]

    def undeclared_key(self, t: Expr) -> tuple | None:
        while isinstance(t, (Mul, Transpose)):
            if isinstance(t, Transpose):
                t = t.arg
            else:
                rest = [f for f in t.factors if not isinstance(f, Num)]
                if len(rest) != 1:
                    return None
                t = rest[0]
        if (isinstance(t, Sym) and self.shape_of(t) is None and t not in self.world.fixed
                and t.name not in self.world.templates
                and t.name not in self.world.definitions and t.name not in self.point.dims
                and all(isinstance(s, Num) for s in t.sub + t.sup)):
            return (t.name, t.sub, t.sup)
        return None

    def undeclared_capital(self, e: Expr) -> bool:
        """`e` holds a capital with no shape, definition or inferred size (a matrix, maybe)."""
        return any(isinstance(n, Sym) and matrix_name(n, self.world) and self.shape_of(n) is None
                   and (n.name, n.sub, n.sup) not in self.point.inferred for n in walk(e))

    def unshaped(self, e: Expr) -> bool:
        """Whether `e` names an object of unknown shape (read as a scalar)."""
        return any(isinstance(n, Sym) and self.undeclared_key(n) is not None
                   and (n.name, n.sub, n.sup) not in self.point.inferred for n in walk(e))

    def ev_Mul(self, e: Mul, frame):
        if sum(1 for f in e.factors if self.undeclared_capital(f)) >= 2:
            self.point.doubt = True  # `AB` of undeclared capitals: the order matters only for matrices
        out = None
        for k, f in enumerate(e.factors):
            doubt = self.point.doubt
            v = self.ev(f, frame)
            if isinstance(f, Transpose) and is_scalar(v) and k + 1 < len(e.factors):
                key = self.undeclared_key(f)
                nxt = self.ev(e.factors[k + 1], frame)
                if key and key not in self.point.inferred and np.ndim(nxt) == 2 and np.shape(nxt)[1] == 1 \
                        and np.shape(nxt)[0] > 1:
                    self.point.inferred[key] = np.shape(nxt)  # `y^T \\log \\hat{y}`: y is a vector like ŷ
                    self.point.doubt = doubt  # the guess is resolved
                    v = self.ev(f, frame)
            key = self.undeclared_key(f) if is_scalar(v) and np.ndim(out) == 2 and np.shape(out)[1] > 1 else None
            if key and key not in self.point.inferred and isinstance(f, Sym) and not is_matrix_name(f):
                self.point.inferred[key] = (np.shape(out)[1], 1)  # `W^2 a^1`: a^1 is a vector W can take
                v = self.ev(f, frame)
            try:
                out = v if out is None else mul(out, v, e)
            except ShapeMismatch as err:
                if any(isinstance(g, Deriv) for g in e.factors):  # chain rule ∂L/∂u · ∂u/∂W
                    raise Unsupported("layout", f"chain-rule product with no stated layout ({err})") from None
                raise
        return out

    def ev_Pow(self, e: Pow, frame):
        base, exp = self.ev(e.base, frame), self.ev(e.exp, frame)
        if not is_scalar(exp):
            raise Unsupported("unsupported-notation", f"matrix exponent in {e}")
        exp = scalar(exp)
        if is_scalar(base) and exp == -1 and self.undeclared_capital(e.base):
            self.point.doubt = True  # `(AB)^{-1}` of undeclared capitals: the writer means matrices
        if is_scalar(base):
            if abs(exp) > 1e4:
                raise Unsupported("too-large", f"exponent {exp:g} too large")
            with np.errstate(all="raise"):
                try:
                    return scalar(base) ** exp
                except (FloatingPointError, OverflowError, ZeroDivisionError) as err:
                    raise Unsupported("domain", f"{e}: {err}") from None
        if 1 in base.shape and base.size > 1 and exp == int(exp) and 0 < exp <= 64:
            return base ** int(exp)  # `1 - a^2` for a vector a: a power has no other meaning there
        if base.shape[0] != base.shape[1]:
            raise ShapeMismatch(f"power of a non-square matrix in {e}", (base.shape,))
        if exp == -1:
            if np.linalg.cond(base) > 1e10:  # e.g. XᵀX with n < d at this random size
                raise Unsupported("domain", "the matrix is singular at this point")
            return np.linalg.inv(base)
        if exp == int(exp) and 0 <= exp <= 64:
            return np.linalg.matrix_power(base, int(exp))
        raise Unsupported("unsupported-notation", f"matrix power {exp:g} in {e}")

    def ev_Transpose(self, e: Transpose, frame):
        v = self.ev(e.arg, frame)
        if is_scalar(v) and not isinstance(e.arg, Num):
            self.point.doubt = True  # the writer means a vector here; its shape is unknown to us
        return v if np.ndim(v) == 0 else np.asarray(v).T

    def ev_Matrix(self, e: Matrix, frame):
        return block([[self.ev(x, frame) for x in row] for row in e.rows])

    def ev_Delta(self, e: Delta, frame):
        return 1.0 if self.index_value(e.i, frame) == self.index_value(e.j, frame) else 0.0

    def ev_Norm(self, e: Norm, frame):
        v = np.ravel(self.ev(e.arg, frame))
        p = 2 if e.p is None else scalar(self.ev(e.p, frame))
        return float(np.linalg.norm(v, ord=p))

    def ev_Sum(self, e: Sum, frame):
        return self.loop(e, frame, add_fold=True)

    def ev_Product(self, e: Product, frame):
        return self.loop(e, frame, add_fold=False)

    def loop(self, e, frame, add_fold: bool):
        lo = 1 if e.lower is None else self.index_value(e.lower, frame)
        upper = e.upper if e.upper is not None else self.world.index_ranges.get(e.index)
        if upper is None:
            raise Unsupported("ambiguous", f"the range of index {e.index} is not stated anywhere")
        hi = self.index_value(upper, frame)
        if hi - lo > 10_000:
            raise Unsupported("too-large", f"sum over {hi - lo + 1} terms")
        acc = None
        for k in range(lo, hi + 1):
            v = self.ev(e.body, frame.bind(e.index, k, upper))
            acc = v if acc is None else (add(acc, v, e) if add_fold else mul(acc, v, e))
        return 0.0 if acc is None and add_fold else (1.0 if acc is None else acc)

    def ev_Func(self, e: Func, frame):
        if e.name.endswith("'") and e.name.rstrip("'") in FUNCTIONS and len(e.args) == 1:
            return self.known_derivative(e, frame)
        if e.name in INDEXED_LITERALS:  # `[a_1, \\dots, a_d]`, a bmatrix with `\\vdots`
            return self.indexed_literal(e, frame)
        if "_" in e.name and e.name not in self.world.definitions:  # `J_{\\lambda}(w)` names J_λ
            named = subscripted(e.name)
            if named in self.world.fixed or self.template_for(named) is not None:
                return self.ev(named, frame)
        definition = self.world.definitions.get(e.name)
        if e.name in FUNCTIONS:
            args = [self.ev(a, frame) for a in e.args]
            if e.name in MATRIX_FUNCTIONS and any(np.ndim(a) == 0 for a in args) and any(
                    self.unshaped(a) for a in e.args):
                self.point.doubt = True  # tr(AB) of names with no shape: matrices read as scalars
            try:
                with np.errstate(all="raise"):
                    return FUNCTIONS[e.name](*args)
            except (FloatingPointError, ValueError, ZeroDivisionError, np.linalg.LinAlgError) as err:
                raise Unsupported("domain", f"{e.name}: {err}") from None
            except TypeError:
                raise Unsupported("unsupported-notation", f"{e.name} with {len(args)} arguments") from None
        if definition is not None:
            params, body = definition
            if not params or tuple(params) == tuple(e.args) or Sym(e.name) in frame.cut:
                return self.ev(Sym(e.name), frame)
            if len(params) != len(e.args):
                raise Unsupported("ambiguous", f"{e.name} takes {len(params)} arguments")
            return self.ev(substitute(body, dict(zip(params, e.args))), frame)
        return self.uninterpreted(e, frame)

    def known_derivative(self, e: Func, frame):
        """σ'(z): the derivative of a known elementwise function, by central differences."""
        f = FUNCTIONS[e.name.rstrip("'")]
        order = len(e.name) - len(e.name.rstrip("'"))
        x = np.asarray(self.ev(e.args[0], frame), dtype=float)
        h = 1e-4 if order > 1 else FD_STEP
        with np.errstate(all="raise"):
            try:
                if order == 1:
                    return (np.asarray(f(x + h)) - np.asarray(f(x - h))) / (2 * h)
                if order == 2:
                    return (np.asarray(f(x + h)) - 2 * np.asarray(f(x)) + np.asarray(f(x - h))) / h**2
            except (FloatingPointError, ValueError) as err:
                raise Unsupported("domain", f"{e.name}: {err}") from None
        raise Unsupported("unsupported-notation", f"derivative of order {order}")

    def indexed_literal(self, e: Func, frame):
        if e.name == "array":
            body, r, rlo, rhi, c, clo, chi = e.args
            rows = self.index_span(rlo, rhi, frame)
            cols = self.index_span(clo, chi, frame)
            return block([[self.ev(body, frame.bind(r.name, i, rhi).bind(c.name, j, chi)) for j in cols] for i in rows])
        body, k, lo, hi = e.args
        values = [self.ev(body, frame.bind(k.name, i, hi)) for i in self.index_span(lo, hi, frame)]
        return block([[v] for v in values]) if e.name == "colvec" else block([values])

    def index_span(self, lo, hi, frame) -> range:
        a, b = self.index_value(lo, frame), self.index_value(hi, frame)
        if b - a > 10_000:
            raise Unsupported("too-large", f"{b - a + 1} entries")
        return range(a, b + 1)

    def uninterpreted(self, e: Func, frame):
        """A function the document never defines gets a random smooth interpretation
        (a quadratic with coefficients drawn per name), so identities that hold for every
        function are verified.  `verdict` never refutes on such an interpretation."""
        self.point.uninterpreted.add(e.name)
        a, b, c = (self.point.atom(("__fn__", e.name, k)) for k in range(3))
        s = sum(float(np.sum(self.ev(x, frame))) for x in e.args)
        return b * s if self.point.linear else a + b * s + 0.1 * c * s * s

    # -- derivatives: central finite differences of the definitions ------------------
    def ev_Deriv(self, e: Deriv, frame):
        variables, held = self.variables(e.wrt, frame)
        if held is not None:
            frame = Frame(frame.indices, frame.sample, frame.cut + (held,) + ((Sym(held.name),) if not held.sub else ()),
                          frame.ranges)
        outer, self.point.touched = self.point.touched, set()
        base = self.ev(e.body, frame)
        inner, self.point.touched = self.point.touched, outer
        self.point.touched |= inner
        if list(variables) == [()] and not inner & set(variables.values()) and not e.wrt.sub:
            variables = components_used(e.wrt, inner) or variables
        if not inner & set(variables.values()):
            raise Unsupported("no-dependency", f"{e.body} does not depend on {e.wrt} as written here")
        if e.order == 2 and len(variables) > 1:
            return self.hessian(e.body, variables, base, frame)
        grads = {}
        for pos, key in variables.items():
            grads[pos] = self.partial(e.body, key, frame, e.order)
        return assemble(grads, base, variables)

    def hessian(self, body, variables: dict, base, frame):
        """`\\nabla_w^2 L` for a vector w: the d × d matrix of second partials (mixed ones by
        the four-point central difference), never the diagonal alone."""
        if not is_scalar(base) or any(c != 0 for _, c in variables):
            raise Unsupported("unsupported-notation", "second derivative of a non-scalar or by a matrix")
        keys = [variables[pos] for pos in sorted(variables)]
        steps = [1e-4 * max(1.0, abs(self.point.atom(k))) for k in keys]
        out = np.zeros((len(keys), len(keys)))
        for a, (ka, ha) in enumerate(zip(keys, steps)):
            out[a, a] = scalar(self.partial(body, ka, frame, 2))
            for b in range(a):
                kb, hb = keys[b], steps[b]
                corners = [scalar(self.nudged_pair(body, (ka, sa * ha), (kb, sb * hb), frame))
                           for sa, sb in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
                out[a, b] = out[b, a] = (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * ha * hb)
        return out

    def nudged_pair(self, body, first, second, frame):
        (ka, ha), (kb, hb) = first, second
        old = self.point.nudges.get(ka, 0.0)
        self.point.nudges[ka] = old + ha
        try:
            return self.nudged(body, kb, hb, frame)
        finally:
            self.point.nudges[ka] = old

    def variables(self, wrt: Sym, frame) -> tuple[dict, Sym | None]:
        """position in the gradient -> atom key that is perturbed; and the object to hold
        as a variable when it has a definition (∂L/∂ŷ holds ŷ fixed at its value)."""
        obj, entry = self.whole(wrt)
        defined = obj in self.world.fixed or (obj.name in self.world.definitions and not obj.sub)
        if defined:
            value = np.asarray(self.object_value(obj, frame), dtype=float)
            rows, cols = (0, 0) if value.size == 1 and np.ndim(value) < 2 else np.atleast_2d(value).shape
            self.point.cut_keys[obj] = (rows, cols)
            self.hold(obj, value, rows, cols, frame)
        else:
            value = np.asarray(self.atom_value(obj, frame), dtype=float)
            rows, cols = (0, 0) if np.ndim(value) == 0 else value.shape
        base, sup = self.ints(obj.sub, frame), self.ints(obj.sup, frame)
        if not defined and not sup and frame.sample is not None and obj.name in self.world.families:
            sup = (frame.sample,)
        if entry:
            pos = self.ints(entry, frame)
            r, c = (pos[0] - 1, pos[1] - 1) if len(pos) == 2 else (pos[0] - 1, 0)
            return {(): (obj.name, element(base, r, c, max(cols, 1)) if rows else base + pos, sup)}, obj if defined else None
        if rows == cols == 0:
            return {(): (obj.name, base, sup)}, obj if defined else None
        keys = {(r, c): (obj.name, element(base, r, c, cols), sup) for r in range(rows) for c in range(cols)}
        return keys, obj if defined else None

    def hold(self, obj: Sym, value, rows, cols, frame):
        base, sup = self.ints(obj.sub, frame), self.ints(obj.sup, frame)
        if rows == cols == 0:
            self.point.atoms[(obj.name, base, sup)] = float(np.reshape(value, ()))
            return
        arr = np.atleast_2d(value)
        for r in range(rows):
            for c in range(cols):
                self.point.atoms[(obj.name, element(base, r, c, cols), sup)] = float(arr[r, c])

    def partial(self, body, key, frame, order: int):
        x = self.point.atom(key)
        h = FD_STEP * max(1.0, abs(x))
        if order == 1:
            plus, minus = self.nudged(body, key, h, frame), self.nudged(body, key, -h, frame)
            return sub_(plus, minus) / (2 * h)
        if order == 2:
            h = 1e-4 * max(1.0, abs(x))
            mid = self.ev(body, frame)
            plus, minus = self.nudged(body, key, h, frame), self.nudged(body, key, -h, frame)
            return (np.asarray(plus) - 2 * np.asarray(mid) + np.asarray(minus)) / h**2
        raise Unsupported("unsupported-notation", f"derivative of order {order}")

    def nudged(self, body, key, h, frame):
        old = self.point.nudges.get(key, 0.0)
        self.point.nudges[key] = old + h
        try:
            return self.ev(body, frame)
        finally:
            self.point.nudges[key] = old


def element(base: tuple, r: int, c: int, cols: int) -> tuple:
    """Atom index of entry (r, c) (0-based) of an object whose own indices are `base`:
    a column vector's entries are numbered by row alone, so x_j and x agree."""
    return base + ((r + 1,) if cols == 1 else (r + 1, c + 1))


def components_used(wrt: Sym, touched: set) -> dict:
    """`∂L/∂w` where L is written with w_1 … w_d only: w is the vector of those entries."""
    sup = ()
    keys = sorted(k for k in touched if k[0] == wrt.name and len(k[1]) == 1 and k[2] == sup
                  and isinstance(k[1][0], int))
    if not keys or [k[1][0] for k in keys] != list(range(1, len(keys) + 1)):
        return {}
    return {(k[1][0] - 1, 0): k for k in keys}


def block(rows: list[list]):
    """A matrix literal whose entries may themselves be vectors or matrices
    (`[\\mathbf{x}^{(1)}, \\dots, \\mathbf{x}^{(n)}]` is d×n)."""
    if any(isinstance(v, Eye) for row in rows for v in row):
        raise Unsupported("unknown-shape", "an identity of unknown size inside a matrix literal")
    cells = [[np.atleast_2d(np.asarray(v, dtype=float)) for v in row] for row in rows]
    if len({len(r) for r in cells}) != 1:
        raise ShapeMismatch("ragged matrix literal", tuple((len(r),) for r in cells))
    try:
        return np.block(cells)
    except ValueError as err:
        raise ShapeMismatch(f"matrix literal with blocks that do not fit: {err}",
                            tuple(c.shape for row in cells for c in row)) from None


def polynomial_degree(e: Expr, names: set[str], world: World, seen=frozenset()) -> float:
    """Degree of `e` in the random names (through definitions); inf when they sit inside
    a function, a derivative, a power that is not a small natural number, or a division."""
    if isinstance(e, Sym):
        if e.name in seen:
            return 1 if e.name in names else 0
        body = world.fixed.get(e)
        if body is None and e.name in world.definitions:
            body = world.definitions[e.name][1]
        if body is None:
            body = next((b for p, b in world.templates.get(e.name, ())
                         if (len(p.sub), len(p.sup)) == (len(e.sub), len(e.sup))), None)
        if body is not None:
            return max(polynomial_degree(body, names, world, seen | {e.name}), 1 if e.name in names else 0)
        return 1 if e.name in names else 0
    if isinstance(e, Num):
        return 0
    if isinstance(e, Add):
        return max(polynomial_degree(t, names, world, seen) for t in e.terms)
    if isinstance(e, Mul):
        return sum(polynomial_degree(f, names, world, seen) for f in e.factors)
    if isinstance(e, Transpose):
        return polynomial_degree(e.arg, names, world, seen)
    if isinstance(e, Pow) and isinstance(e.base, Norm) and e.base.p is None and e.exp == Num(2):
        return 2 * polynomial_degree(e.base.arg, names, world, seen)  # ‖x‖² = xᵀx
    if isinstance(e, Pow):
        base = polynomial_degree(e.base, names, world, seen)
        if base == 0:
            return 0 if polynomial_degree(e.exp, names, world, seen) == 0 else float("inf")
        if isinstance(e.exp, Num) and e.exp.value.denominator == 1 and 0 <= e.exp.value <= 3:
            return base * int(e.exp.value)
        return float("inf")
    if isinstance(e, Norm):
        inner = polynomial_degree(e.arg, names, world, seen)
        return 0 if inner == 0 else float("inf")  # ‖ε‖ alone is not polynomial; ‖ε‖² is handled as Pow(Norm)
    if isinstance(e, (Sum, Matrix)):
        return max((polynomial_degree(c, names, world, seen) for c in e.children()), default=0)
    inner = max((polynomial_degree(c, names, world, seen) for c in e.children()), default=0)
    return 0 if inner == 0 else float("inf")


def sub_(a, b):
    return np.asarray(a, dtype=float) - np.asarray(b, dtype=float)


def assemble(grads: dict, base, variables: dict):
    if list(grads) == [()]:
        return grads[()]
    rows = 1 + max(p[0] for p in grads)
    cols = 1 + max(p[1] for p in grads)
    if is_scalar(base):  # gradient: the shape of the variable
        out = np.zeros((rows, cols))
        for (r, c), g in grads.items():
            out[r, c] = scalar(g)
        return out
    if cols == 1 and np.shape(base)[1] == 1:  # Jacobian of a vector by a vector (numerator layout)
        return np.hstack([np.asarray(grads[(r, 0)]).reshape(-1, 1) for r in range(rows)])
    raise Unsupported("unsupported-notation", "derivative of a matrix by a matrix")


def _shape(v):
    return () if np.ndim(v) == 0 else np.shape(v)


def add(a, b, where):
    if isinstance(a, Eye) or isinstance(b, Eye):
        return add_eye(a, b)
    if is_scalar(a) and is_scalar(b):
        return scalar(a) + scalar(b)
    if np.ndim(a) == 0 or np.ndim(b) == 0 or np.shape(a) != np.shape(b):
        raise ShapeMismatch(f"cannot add shapes {_shape(a)} and {_shape(b)}", (_shape(a), _shape(b)))
    return a + b


def add_eye(a, b):
    if isinstance(a, Eye) and isinstance(b, Eye):
        return Eye(a.scale + b.scale)
    eye, other = (a, b) if isinstance(a, Eye) else (b, a)
    if np.ndim(other) == 2 and other.shape[0] == other.shape[1]:
        return other + eye.sized(other.shape[0])
    raise Unsupported("unknown-shape", "an identity matrix added to something that is not a square matrix")


def mul(a, b, where):
    if isinstance(a, Eye) or isinstance(b, Eye):  # c·I times anything: a scaling
        eye, other = (a, b) if isinstance(a, Eye) else (b, a)
        if isinstance(other, Eye):
            return Eye(a.scale * b.scale)
        return Eye(eye.scale * scalar(other)) if np.ndim(other) == 0 else eye.scale * other
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * b
    if np.shape(a)[1] == np.shape(b)[0]:
        return a @ b
    if is_scalar(a):  # (1×1) results of products act as scalars
        return scalar(a) * b
    if is_scalar(b):
        return a * scalar(b)
    raise ShapeMismatch(f"cannot multiply shapes {np.shape(a)} and {np.shape(b)}", (np.shape(a), np.shape(b)))


def _softmax(u):
    u = np.asarray(u, dtype=float)
    z = np.exp(u - u.max())
    return z / z.sum()


def _elementwise(f):
    return lambda x: f(scalar(x)) if is_scalar(x) else f(np.asarray(x, dtype=float))


def _trace(a):
    if is_scalar(a):
        return scalar(a)
    if a.shape[0] != a.shape[1]:
        raise ShapeMismatch(f"trace of a non-square {a.shape} matrix", (a.shape,))
    return float(np.trace(a))


def _log(x):
    if np.any(np.asarray(x) <= 0):
        raise ValueError("log of a non-positive number")
    return _elementwise(np.log)(x)


INDEXED_LITERALS = ("rowvec", "colvec", "array")
MATRIX_FUNCTIONS = ("tr", "det", "diag")
CONSTANTS = {"e": float(np.e), "pi": float(np.pi)}


def _diag(v):
    v = np.asarray(v, dtype=float)
    return np.diag(v.ravel()) if 1 in v.shape else np.diag(np.diag(v)).astype(float)


def _hadamard(a, b):
    if is_scalar(a) or is_scalar(b):
        return (scalar(a) if is_scalar(a) else a) * (scalar(b) if is_scalar(b) else b)
    if np.shape(a) != np.shape(b):
        raise ShapeMismatch(f"elementwise product of shapes {np.shape(a)} and {np.shape(b)}", (np.shape(a), np.shape(b)))
    return np.asarray(a) * np.asarray(b)


def _entry(value, *idx):
    arr = np.atleast_2d(np.asarray(value, dtype=float))
    ints = [int(round(scalar(i))) for i in idx]
    if len(ints) == 1:
        ints = [ints[0], 1] if arr.shape[1] == 1 else [1, ints[0]]
    r, c = ints
    if not (1 <= r <= arr.shape[0] and 1 <= c <= arr.shape[1]):
        raise ValueError(f"entry ({r}, {c}) of a {arr.shape} value")
    return float(arr[r - 1, c - 1])


# Known functions (name as `symbolic.latex` spells it -> numpy meaning).
def _factorial(x) -> float:
    """n! = Γ(n + 1); past 170! a float64 overflows, which is no evidence either way."""
    v = scalar(x)
    if v > 170:
        raise Unsupported("too-large", f"({v:g})! does not fit in a float64")
    return math.gamma(v + 1.0)


FUNCTIONS = {
    "log": _log,
    "exp": _elementwise(np.exp),
    "sqrt": _elementwise(np.sqrt),
    "abs": _elementwise(np.abs),
    "sigma": _elementwise(lambda z: 1.0 / (1.0 + np.exp(-z))),
    "tanh": _elementwise(np.tanh),
    "relu": _elementwise(lambda z: np.maximum(z, 0.0)),
    "sign": _elementwise(np.sign),
    "softmax": _softmax,
    "tr": _trace,
    "diag": _diag,
    "hadamard": _hadamard,
    "hadamard_div": lambda a, b: _hadamard(a, 1.0 / np.asarray(b, dtype=float)),
    "entry": _entry,
    "det": lambda a: float(np.linalg.det(a)) if not is_scalar(a) else scalar(a),
    "max": lambda *xs: max(scalar(x) for x in xs),
    "min": lambda *xs: min(scalar(x) for x in xs),
    "factorial": _factorial,
    "positive": _elementwise(lambda z: (np.asarray(z) > 0).astype(float)),  # \mathbb{1}[z > 0]
    "nonnegative": _elementwise(lambda z: (np.asarray(z) >= 0).astype(float)),
}


def substitute(e: Expr, mapping: dict) -> Expr:
    """Replace whole subtrees (function parameters by arguments)."""
    if e in mapping:
        return mapping[e]
    if isinstance(e, (Num, Dots)):
        return e
    from dataclasses import fields, replace

    changes = {}
    for f in fields(e):
        v = getattr(e, f.name)
        if isinstance(v, Expr):
            changes[f.name] = substitute(v, mapping)
        elif isinstance(v, tuple) and v and isinstance(v[0], tuple):
            changes[f.name] = tuple(tuple(substitute(x, mapping) for x in row) for row in v)
        elif isinstance(v, tuple):
            changes[f.name] = tuple(substitute(x, mapping) if isinstance(x, Expr) else x for x in v)
    return replace(e, **changes)


# ---------------------------------------------------------------------------- comparison
RTOL = 1e-6  # float64 agreement between the two sides at one point
ATOL = 1e-9
REFUTE_RTOL = 1e-3  # a disagreement must be this large to count as a counterexample
MAX_SCALE = 1e6  # beyond this magnitude, float64 agreement within RTOL is no evidence of equality
TRIALS = 6


@dataclass(frozen=True)
class Comparison:
    outcome: str  # "equal" | "different" | "shape" | "undecided"
    method: str
    reason: str = ""
    message: str = ""
    evidence: dict | None = None
    uninterpreted: frozenset = frozenset()  # undefined functions that were given a random meaning
    as_matrices: bool = False  # undeclared names were read as matrices (a scalar proof says nothing)


def free_indices(e: Expr, world: World) -> set[str]:
    """Index names used in subscripts/superscripts and not bound by a Sum/Product."""
    out: set[str] = set()

    def visit(node, bound):
        if isinstance(node, (Sum, Product)):
            visit(node.body, bound | {node.index})
            for x in (node.lower, node.upper):
                if x is not None:
                    visit(x, bound)
            return
        if isinstance(node, Func) and node.name in INDEXED_LITERALS:
            inner = {a.name for a in node.args[1::3] if isinstance(a, Sym)}
            for c in node.args:
                visit(c, bound | inner)
            return
        if isinstance(node, Sym):
            for s in node.sub + node.sup:
                for leaf in _syms(s):
                    # an index is a one-letter Latin name (λ in J_λ is part of a name)
                    if leaf.name not in bound and leaf.name not in world.dims and is_index_name(leaf.name):
                        out.add(leaf.name)
            return
        if isinstance(node, Delta):
            for s in (node.i, node.j):
                for leaf in _syms(s):
                    if leaf.name not in bound:
                        out.add(leaf.name)
            return
        for c in node.children():
            visit(c, bound)

    visit(e, frozenset())
    return out


def summed_by_repetition(e: Expr, free: set, world: World) -> bool:
    """An index free in `e` and written in two factors of one product (`W_{ij} x_j`): the
    summation convention may be meant, so the indices are not compared as written."""
    def visit(node, bound) -> bool:
        if isinstance(node, (Sum, Product)):
            return visit(node.body, bound | {node.index})
        if isinstance(node, Func) and node.name in INDEXED_LITERALS:
            inner = {a.name for a in node.args[1::3] if isinstance(a, Sym)}
            return visit(node.args[0], bound | inner)
        if isinstance(node, Mul):
            seen: set = set()
            for f in node.factors:
                mine = (free_indices(f, world) & free) - bound
                if mine & seen:
                    return True
                seen |= mine
        return any(visit(c, bound) for c in node.children())

    return visit(e, frozenset())


def is_index_name(name: str) -> bool:
    return len(name) == 1 and name.isascii() and name.isalpha()


def _syms(e):
    return [n for n in walk(e) if isinstance(n, Sym)]


def random_point(world: World, seed: int, trial: int, extra_dims=(), signed: bool = False) -> Point:
    rng = np.random.default_rng([seed, trial])
    names = sorted(set(world.dims) | set(extra_dims))
    dims = {n: int(rng.integers(DIM_RANGE[0], DIM_RANGE[1] + 1)) for n in names}
    return Point(rng=rng, dims=dims, pinned=dict(world.pinned), signed=signed and trial % 2 == 1)


def sign_sensitive(sides, world: World) -> bool:
    """A function of SIGN_SENSITIVE in the sides or in a definition they may read."""
    bodies = list(sides) + [b for _, b in world.definitions.values()] + list(world.fixed.values()) \
        + [b for pairs in world.templates.values() for _, b in pairs]
    return any(isinstance(n, Func) and n.name in SIGN_SENSITIVE for b in bodies for n in walk(b))


def compare(lhs: Expr, rhs: Expr, world: World, seed: int = 0, trials: int = TRIALS,
            layout_free: bool = False, generic: dict | None = None) -> Comparison:
    """Evaluate both sides at `trials` random points (fresh sizes and values each).
    `generic`: shapes solved for undeclared matrix names (`symbolic.shapes`), drawn
    afresh at each point; then a shape conflict is only a failed reading, never evidence."""
    free_l, free_r = free_indices(lhs, world), free_indices(rhs, world)
    # `\\partial L/\\partial u_i = … \\partial \\hat{y}_i/\\partial u_j`: the sides' free indices
    # differ; as written the relation claims equality for every i and every j, so those
    # indices are drawn distinct (a renaming typo is then caught, with both values shown)
    renamed = free_l - free_r and free_r - free_l and not (summed_by_repetition(lhs, free_l, world)
                                                            or summed_by_repetition(rhs, free_r, world))
    if free_l and free_r and free_l != free_r and not renamed:  # `y_i = W_{ij} x_j`: Einstein's sum?
        return Comparison("undecided", "indices", "index-mismatch",
                          f"free indices differ: {', '.join(sorted(free_l))} vs {', '.join(sorted(free_r))}")
    apart = sorted(free_l ^ free_r) if renamed else []
    free = sorted(free_l | free_r)
    signed = sign_sensitive((lhs, rhs), world)
    method = f"randomized float64, {trials} points with random sizes (rtol={RTOL:g})" + (
        ", half of them with values of either sign" if signed else "")
    seen_equal, used, doubt, quadrature, pinned = 0, set(), False, False, set()
    for trial in range(3 * trials):
        if seen_equal >= trials:
            break
        point = random_point(world, seed, trial, signed=signed)
        frame = Frame(indices=index_values(free, apart, point.rng))
        try:
            if generic:
                point.inferred.update(generic_sizes(generic, Evaluator(world, point), frame))
            a, b = evaluate_sides(Evaluator(world, point), lhs, rhs, frame)
        except ShapeMismatch as err:
            if generic:
                return Comparison("undecided", "shapes", "unknown-shape", f"read as matrices: {err}")
            return shape_mismatch(str(err), point, err.shapes)
        except Unsupported as err:
            if err.reason == "domain":
                continue
            return Comparison("undecided", method, err.reason, str(err))
        except (OverflowError, ZeroDivisionError, np.linalg.LinAlgError, FloatingPointError):
            continue
        verdict = agree(a, b, layout_free)
        if verdict == "shape" and (generic or point.doubt or unknown_transposed(lhs, rhs, world, point)
                                   or lone_unknown(lhs, rhs, Evaluator(world, point))):
            return Comparison("undecided", "shapes", "unknown-shape",
                              "a transposed symbol has no declared shape here, so the sides' shapes are unknown")
        if verdict == "shape":
            return shape_mismatch(f"left side has shape {_shape(a)}, right side {_shape(b)}", point,
                                  (_shape(a), _shape(b)))
        if verdict == "different":
            also_linear = bool(point.uninterpreted) and differs_if_linear(lhs, rhs, world, seed, trial, frame)
            seen = evidence(point, frame, a, b)
            if apart:
                seen["free_indices"] = f"{', '.join(sorted(free_l))} on the left, {', '.join(sorted(free_r))} on the right"
            if point.pinned_used:
                seen["assumed"] = {n: f"{point.pinned[n]:g}" for n in sorted(point.pinned_used)}
            if generic:  # the sizes the undeclared matrices had here
                seen["read_as_matrices"] = {str(Sym(*k)): f"{r}×{c}" for k, (r, c) in point.inferred.items()
                                            if k in generic}
            if also_linear:  # no property of the function (linearity, say) can rescue it
                return Comparison("different", method + "; undefined " + ", ".join(sorted(point.uninterpreted))
                                  + " given a random smooth and a random linear meaning: the sides differ under both",
                                  evidence=seen, as_matrices=bool(generic))
            return Comparison("different", method, evidence=seen, uninterpreted=frozenset(point.uninterpreted),
                              as_matrices=bool(generic))
        if verdict == "unstable":
            return Comparison("undecided", method, "numerically-unstable",
                              "the sides differ by more than rounding but less than a clear counterexample")
        seen_equal += 1
        pinned |= point.pinned_used
        used |= point.uninterpreted
        doubt |= point.doubt
        quadrature |= point.quadrature
    if seen_equal < 3:
        return Comparison("undecided", method, "domain", "too few points where both sides are defined")
    if doubt and generic is None:
        return as_matrices(lhs, rhs, world, seed, trials, layout_free)
    if doubt:
        return Comparison("undecided", method, "unknown-shape",
                          "the sides agree only when names with no declared shape are read as scalars; declare their shapes")
    if generic:
        method += "; " + ", ".join(sorted({k[0] if not (k[1] or k[2]) else str(Sym(*k)) for k in generic})) \
            + " (no declared shape) read as matrices of random compatible sizes"
    if used:
        method += "; undefined " + ", ".join(sorted(used)) + " given random smooth meanings"
    if quadrature:
        method += "; expectations by Gaussian sigma points (exact for polynomials of degree ≤ 3)"
    if apart:
        method += f"; the sides' free indices differ ({', '.join(apart)}), drawn distinct"
    if pinned:
        method += "; under the stated assumption " + ", ".join(
            f"{n} = {world.pinned[n]:g}" for n in sorted(pinned))
    return Comparison("equal", method.replace(f"{trials} points", f"{seen_equal} points"),
                      uninterpreted=frozenset(used), as_matrices=bool(generic))


def compare_shape(expr: Expr, shape: tuple, world: World, seed: int = 0, trials: int = TRIALS) -> Comparison:
    """Whether `expr` has the stated shape (two Dim expressions) at random sizes."""
    method = f"shape at {trials} random sizes"
    for trial in range(trials):
        point = random_point(world, seed, trial)
        ev, frame = Evaluator(world, point), Frame()
        try:
            value = ev.ev(expr, frame)
            want = tuple(ev.size(d, frame) for d in shape)
        except ShapeMismatch as err:
            if point.doubt:
                return Comparison("undecided", "shapes", "unknown-shape", f"{err} (a shape there is a guess)")
            return shape_mismatch(f"the expression is ill-formed: {err}", point, err.shapes)
        except Unsupported as err:
            if err.reason == "domain":
                continue
            return Comparison("undecided", method, err.reason, str(err))
        if point.doubt or isinstance(value, Eye) or unknown_transposed(expr, expr, world, point):
            return Comparison("undecided", "shapes", "unknown-shape", "a name in it has no declared shape")
        got = (1, 1) if is_scalar(value) else tuple(np.shape(np.atleast_2d(value)))
        if got != want:
            return shape_mismatch(f"it has shape {_shape(value)}, not the stated {want}", point, (got, want))
    return Comparison("equal", method)


def as_matrices(lhs: Expr, rhs: Expr, world: World, seed: int, trials: int, layout_free: bool) -> Comparison:
    """The sides agree when undeclared names are scalars, but the relation transposes or
    traces them: the writer means matrices.  Read them as matrices whose sizes the
    relation itself constrains (`symbolic.shapes`): agreement verifies the identity for
    matrices; a counterexample there refutes it, with the sizes shown."""
    scalar_only = Comparison("undecided", "shapes", "unknown-shape",
                             "the sides agree only when names with no declared shape are read as scalars; "
                             "declare their shapes")
    generic = generic_shapes((lhs, rhs), lambda s: shape_lookup(world.shapes, s), lambda s: matrix_name(s, world))
    if not generic:
        return scalar_only
    again = compare(lhs, rhs, world, seed, trials, layout_free, generic)
    return again if again.outcome in ("equal", "different") else scalar_only


def matrix_name(sym: Sym, world: World) -> bool:
    return (is_matrix_name(sym) and sym.name not in world.definitions and sym not in world.fixed
            and sym.name not in world.dims and sym.name not in world.templates)


def generic_sizes(generic: dict, ev: Evaluator, frame: Frame) -> dict:
    """Concrete (rows, cols) for each solved name at this point: a free size is drawn
    once per point and shared by every name that must agree on it."""
    drawn: dict = {}

    def size(d):
        if isinstance(d, Var):
            if d not in drawn:
                drawn[d] = int(ev.point.rng.integers(DIM_RANGE[0], DIM_RANGE[1] + 1))
            return drawn[d]
        return ev.size(d, frame)

    return {key: (size(r), size(c)) for key, (r, c) in generic.items()}


def confirm_alone(ev: Evaluator, side: Expr, frame: Frame, err: ShapeMismatch):
    """Re-evaluate the ill-formed side with no shapes inferred from elsewhere: if it is
    still ill-formed on its own, that is evidence; otherwise the shapes are ambiguous."""
    alone = Evaluator(ev.world, Point(rng=ev.point.rng, dims=ev.point.dims, atoms=dict(ev.point.atoms),
                                      pinned=ev.point.pinned,
                                      hot=dict(ev.point.hot)))
    try:
        alone.ev(side, frame)
    except ShapeMismatch as again:
        if alone.point.doubt:
            raise Unsupported("unknown-shape", f"{again} (a shape there is a guess)") from None
        raise again from None
    except Unsupported:
        pass
    else:  # well-formed alone: is the name whose shape was guessed forced to differ?
        for key, (rows, _) in alone.point.inferred.items():
            other = ev.point.inferred.get(key)
            if other is not None and other[0] != rows:
                raise ShapeMismatch(f"{Sym(*key)} has no declared shape, and one side needs {other[0]} rows, "
                                    f"the other {rows}", (other, (rows, alone.point.inferred[key][1])))
    raise Unsupported("unknown-shape", f"{err}, but only with a shape guessed from the other side")


def unknown_transposed(lhs, rhs, world: World, point: Point) -> bool:
    for side in (lhs, rhs):
        for node in walk(side):
            if isinstance(node, Transpose) and isinstance(node.arg, Sym):
                sym = node.arg
                known = (shape_lookup(world.shapes, sym) or (sym.name, sym.sub, sym.sup) in point.inferred
                         or sym.name in world.definitions or sym in world.fixed
                         or Sym(sym.name, sym.sub, ()) in world.fixed)
                if not known:
                    return True
    return False


def index_values(free: list, apart: list, rng) -> tuple:
    """Each free index 1 or 2 at random (so δ_ij meets both cases); the indices only one
    side has are drawn distinct from each other."""
    distinct = dict(zip(apart, (1 + int(k) for k in rng.permutation(len(apart)))))
    return tuple((i, distinct[i] if i in distinct else 1 + int(rng.integers(0, 2))) for i in free)


def differs_if_linear(lhs: Expr, rhs: Expr, world: World, seed: int, trial: int, frame: Frame) -> bool:
    """The same point with every undefined function a random linear map (`f(x) = b x`):
    `\\nabla(a + b) = \\nabla a + \\nabla b` holds there, a doubled `\\nabla J` does not."""
    point = random_point(world, seed, trial, signed=sign_sensitive((lhs, rhs), world))
    point.linear = True
    try:
        a, b = evaluate_sides(Evaluator(world, point), lhs, rhs, frame)
    except (Unsupported, ShapeMismatch, OverflowError, ZeroDivisionError, np.linalg.LinAlgError, FloatingPointError):
        return False
    return agree(a, b, False) == "different"


def lone_unknown(lhs: Expr, rhs: Expr, ev: Evaluator) -> bool:
    """A side that is one name of no declared shape (`Z = [0, 0]^T` where Z is a claim), or
    that holds a capital of no declared shape (`X (\\hat{y} - y)`): its scalar reading is
    a default, so a shape difference is no evidence."""
    return any((ev.undeclared_key(side) is not None and ev.undeclared_key(side) not in ev.point.inferred)
               or ev.undeclared_capital(side) for side in (lhs, rhs))


def evaluate_sides(ev: Evaluator, lhs: Expr, rhs: Expr, frame: Frame):
    """Both sides at one point.  A side that is ill-formed (shapes) is evidence even when
    the other side cannot be evaluated; shapes inferred on one side apply to both."""
    for _ in range(3):
        known = dict(ev.point.inferred)
        results = []
        for side in (lhs, rhs):
            try:
                results.append(ev.ev(side, frame))
            except (Unsupported, ShapeMismatch) as err:
                results.append(err)
        for side, r in zip((lhs, rhs), results):
            if isinstance(r, ShapeMismatch):
                confirm_alone(ev, side, frame, r)
        for r in results:
            if isinstance(r, Unsupported):
                raise r
        if any(isinstance(r, Eye) for r in results):
            other = [r for r in results if not isinstance(r, Eye)]
            if other and np.ndim(other[0]) == 2 and other[0].shape[0] != other[0].shape[1] and not ev.point.doubt:
                raise ShapeMismatch(f"c·I is square at every size; the other side is {_shape(other[0])}",
                                    (("k", "k"), _shape(other[0])))
            raise Unsupported("unknown-shape", "a side is an identity matrix of unknown size")
        if ev.point.inferred == known:
            return results[0], results[1]
    return results[0], results[1]


def agree(a, b, layout_free: bool) -> str:
    if np.ndim(a) == 0 and not isinstance(b, Eye) and np.ndim(b) == 2 and float(a) == 0.0:
        a = np.zeros_like(b, dtype=float)  # `… = 0` with a vector or matrix on the other side
    if np.ndim(b) == 0 and not isinstance(a, Eye) and np.ndim(a) == 2 and float(b) == 0.0:
        b = np.zeros_like(a, dtype=float)
    if isinstance(a, Eye) or isinstance(b, Eye):
        if isinstance(a, Eye) and isinstance(b, Eye):
            return "equal" if abs(a.scale - b.scale) <= RTOL * max(1, abs(a.scale)) else "different"
        eye, other = (a, b) if isinstance(a, Eye) else (b, a)
        if np.ndim(other) != 2 or other.shape[0] != other.shape[1]:
            return "unstable"
        a, b = (eye.sized(other.shape[0]), other) if isinstance(a, Eye) else (other, eye.sized(other.shape[0]))
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == 1 and b.size == 1:
        a, b = a.reshape(()), b.reshape(())
    elif a.shape != b.shape:
        if layout_free and a.shape == b.T.shape:
            b = b.T
        elif a.size == b.size and 1 in a.shape and 1 in b.shape and layout_free:
            b = b.reshape(a.shape)
        else:
            return "shape"
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return "unstable"
    scale = max(1.0, float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    diff = float(np.max(np.abs(a - b)))
    if diff <= RTOL * scale + ATOL:
        # with values this large a relative tolerance would hide a difference of 1
        return "equal" if scale <= MAX_SCALE else "unstable"
    return "different" if diff > REFUTE_RTOL * scale else "unstable"


def atom_label(key) -> str:
    name, sub, sup = key
    if name == "__fn__":  # coefficient of an undefined function's random meaning
        return f"{sub}[c{sup}]"
    return name + ("_" + ",".join(map(str, sub)) if sub else "") + ("^(" + ",".join(map(str, sup)) + ")" if sup else "")


def shape_mismatch(message: str, point: Point, shapes) -> Comparison:
    """A shape refutation, with the sizes this point gave the dimensions it read."""
    return Comparison("shape", "shapes", "shape", message,
                      {"sizes": {k: v for k, v in point.dims.items() if k in point.dims_used},
                       "shapes": [list(x) for x in shapes]})


def evidence(point: Point, frame: Frame, a, b) -> dict:
    def show(v):
        v = np.asarray(v, dtype=float)
        return round(float(v.reshape(())), 6) if v.size == 1 else np.round(v, 6).tolist()

    atoms = {}
    for key, value in list(point.atoms.items())[:12]:
        atoms[atom_label(key)] = round(value, 6)
    return {
        "sizes": {k: v for k, v in point.dims.items() if k in point.dims_used},
        "indices": dict(frame.indices),
        "values": atoms,
        "lhs": show(a),
        "rhs": show(b),
        "max_abs_difference": float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float).reshape(np.shape(a)) if np.size(a) == np.size(b) else np.nan))),
        "tolerance": f"rtol={RTOL:g}",
    }


__all__ = ["World", "Comparison", "compare", "compare_shape", "Unsupported", "ShapeMismatch", "Evaluator", "Point",
           "random_point", "free_indices", "FUNCTIONS"]
