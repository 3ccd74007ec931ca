"""The randomized numeric witness: evaluate an expression tree with numpy at a random
point, with random concrete sizes for its symbolic dimensions.

It shares only the IR (`symbolic.expr`) with the symbolic side, never a SymPy result:
derivatives are central finite differences of the definitions, sums are loops, matrix
products are numpy products with their shapes checked.  What a tree means (shapes,
definitions, one-hot constraints, index ranges) comes from a `World` the caller fills.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from symbolic.expr import (
    Add, Deriv, Delta, Dots, Expect, Expr, Func, Matrix, Mul, Norm, Num, Pow, Product, Sum, Sym,
    Transpose,
)

FD_STEP = 1e-6  # central differences, as torch.autograd.gradcheck (eps=1e-6)
DIM_RANGE = (2, 5)  # random concrete size of every symbolic dimension, inclusive
VALUE_RANGE = (0.2, 1.4)  # atoms are positive so log/sqrt stay defined and signs stay visible


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

    def atom(self, key) -> float:
        self.touched.add(key)
        if key not in self.atoms:
            self.atoms[key] = float(self.rng.uniform(*VALUE_RANGE))
        return self.atoms[key] + self.nudges.get(key, 0.0)


# ---------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class Frame:
    indices: tuple = ()  # ((name, int), ...) bound summation / free indices
    sample: int | None = None  # sample index in force inside a per-sample definition
    cut: tuple = ()  # names evaluated as variables (∂/∂ŷ holds ŷ as a variable)

    def index(self, name):
        for n, v in reversed(self.indices):
            if n == name:
                return v
        return None

    def bind(self, name, value) -> "Frame":
        return Frame(self.indices + ((name, value),), self.sample, self.cut)


def is_scalar(v) -> bool:
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
        if not is_scalar(v):
            raise Unsupported("ambiguous", f"index {e} is not a number")
        return int(round(scalar(v)))

    def shape_of(self, sym: Sym):
        key_sup = sym.sup if sym.sup and all(isinstance(s, Num) for s in sym.sup) else ()
        return self.world.shapes.get((sym.name, key_sup)) or self.world.shapes.get((sym.name, ()))

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

    def ev_Expect(self, e, frame):
        raise Unsupported("expectation", "expectations are checked by catalog claims, not evaluated")

    def ev_Sym(self, e: Sym, frame: Frame):
        if not e.sub and not e.sup:
            bound = frame.index(e.name)
            if bound is not None:
                return float(bound)
            if e.name in self.point.dims:
                return float(self.point.dims[e.name])
        if not e.sub and not e.sup and e.name in CONSTANTS and e.name not in self.world.definitions \
                and self.shape_of(e) is None:
            return CONSTANTS[e.name]
        if e == Sym("I") and self.shape_of(e) is None and "I" not in self.world.definitions:
            self.point.doubt = True  # an identity matrix of unknown size
            return 1.0
        if e in self.world.fixed:
            return self.ev(self.world.fixed[e], frame)
        definition = self.world.definitions.get(e.name)
        if definition is not None and e.name not in frame.cut:  # `L` means L(w, b) as defined
            return self.defined(e, definition[1], frame)
        return self.atom_value(e, frame)

    def defined(self, e: Sym, body: Expr, frame: Frame):
        try:
            return self._defined(e, body, frame)
        except ShapeMismatch as err:  # the definition, not this relation, is ill-formed here
            raise Unsupported("inconsistent-context", f"the definition of {e.name} does not fit the shapes in force: {err}") from None

    def _defined(self, e: Sym, body: Expr, frame: Frame):
        sup = tuple(self.index_value(s, frame) for s in e.sup)
        if not sup:
            value = self.ev(body, frame)
        else:
            value = self.ev(body, Frame(frame.indices, sup[0], frame.cut))
            if not is_scalar(value):  # ŷ = Xw, then ŷ^{(i)} is its i-th entry
                value = self.component(value, sup, e)
        if e.sub:
            value = self.component(value, tuple(self.index_value(s, frame) for s in e.sub), e)
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
        sub = tuple(self.index_value(s, frame) for s in e.sub)
        sup = tuple(self.index_value(s, frame) for s in e.sup)
        if not sup and frame.sample is not None and e.name in self.world.families:
            sup = (frame.sample,)
        shape = self.shape_of(e)
        if self.stacked(e, shape):  # y ∈ ℝ^n stacks the samples: y^{(i)} is its i-th entry
            return self.leaf(e.name, sup, ())
        inferred = self.point.inferred.get((e.name, e.sup))
        if shape is None and not sub and inferred is not None:
            rows, cols = inferred
        elif shape is not None and shape != (Num(1), Num(1)) and not sub:
            rows, cols = (self.size(d, frame) for d in shape)
        else:
            return self.leaf(e.name, sub, sup)
        if True:
            out = np.empty((rows, cols))
            for r in range(rows):
                for c in range(cols):
                    pos = (r + 1,) if cols == 1 else (r + 1, c + 1)
                    out[r, c] = self.leaf(e.name, pos, sup)
            return out

    def stacked(self, e: Sym, shape) -> bool:
        if shape is None or e.sub or len(e.sup) != 1 or not isinstance(e.sup[0], Sym):
            return False
        if shape[1] != Num(1) or (e.name, e.sup) in self.world.shapes:
            return False
        return self.world.index_ranges.get(e.sup[0].name) == shape[0]

    def leaf(self, name, sub, sup):
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
        total = values[0]
        for v in values[1:]:
            total = add(total, v, e)
        return total

    def undeclared_key(self, t: Expr) -> tuple | None:
        while isinstance(t, (Mul, Transpose)):
            if isinstance(t, Transpose):
                t = t.arg
            else:
                rest = [f for f in t.factors if not isinstance(f, Num)]
                if len(rest) != 1:
                    return None
                t = rest[0]
        if (isinstance(t, Sym) and not t.sub and self.shape_of(t) is None and t not in self.world.fixed
                and t.name not in self.world.definitions and t.name not in self.point.dims
                and all(isinstance(s, Num) for s in t.sup)):
            return (t.name, t.sup)
        return None

    def ev_Mul(self, e: Mul, frame):
        out = None
        for k, f in enumerate(e.factors):
            v = self.ev(f, frame)
            if isinstance(f, Transpose) and is_scalar(v) and k + 1 < len(e.factors):
                key = self.undeclared_key(f)
                nxt = self.ev(e.factors[k + 1], frame)
                if key and key not in self.point.inferred and np.ndim(nxt) == 2 and np.shape(nxt)[1] == 1 \
                        and np.shape(nxt)[0] > 1:
                    self.point.inferred[key] = np.shape(nxt)  # `y^T \\log \\hat{y}`: y is a vector like ŷ
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
        if is_scalar(base):
            if abs(exp) > 1e4:
                raise Unsupported("too-large", f"exponent {exp:g} too large")
            with np.errstate(all="raise"):
                try:
                    return scalar(base) ** exp
                except (FloatingPointError, OverflowError, ZeroDivisionError) as err:
                    raise Unsupported("domain", f"{e}: {err}") from None
        if base.shape[0] != base.shape[1]:
            raise ShapeMismatch(f"power of a non-square matrix in {e}", (base.shape,))
        if exp == -1:
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
        rows = [[scalar(self.ev(x, frame)) for x in row] for row in e.rows]
        if len({len(r) for r in rows}) != 1:
            raise ShapeMismatch("ragged matrix literal", tuple(len(r) for r in rows))
        return np.array(rows, dtype=float)

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
            v = self.ev(e.body, frame.bind(e.index, k))
            acc = v if acc is None else (add(acc, v, e) if add_fold else mul(acc, v, e))
        return 0.0 if acc is None and add_fold else (1.0 if acc is None else acc)

    def ev_Func(self, e: Func, frame):
        if e.name in INDEXED_LITERALS:  # `[a_1, \\dots, a_d]`, a bmatrix with `\\vdots`
            return self.indexed_literal(e, frame)
        definition = self.world.definitions.get(e.name)
        if e.name in FUNCTIONS:
            args = [self.ev(a, frame) for a in e.args]
            try:
                with np.errstate(all="raise"):
                    return FUNCTIONS[e.name](*args)
            except (FloatingPointError, ValueError, ZeroDivisionError, np.linalg.LinAlgError) as err:
                raise Unsupported("domain", f"{e.name}: {err}") from None
            except TypeError:
                raise Unsupported("unsupported-notation", f"{e.name} with {len(args)} arguments") from None
        if definition is not None:
            params, body = definition
            if not params or tuple(params) == tuple(e.args) or e.name in frame.cut:
                return self.ev(Sym(e.name), frame)
            if len(params) != len(e.args):
                raise Unsupported("ambiguous", f"{e.name} takes {len(params)} arguments")
            return self.ev(substitute(body, dict(zip(params, e.args))), frame)
        return self.uninterpreted(e, frame)

    def indexed_literal(self, e: Func, frame):
        if e.name == "array":
            body, r, rlo, rhi, c, clo, chi = e.args
            rows = self.index_span(rlo, rhi, frame)
            cols = self.index_span(clo, chi, frame)
            return np.array([[scalar(self.ev(body, frame.bind(r.name, i).bind(c.name, j))) for j in cols]
                             for i in rows], dtype=float)
        body, k, lo, hi = e.args
        values = [scalar(self.ev(body, frame.bind(k.name, i))) for i in self.index_span(lo, hi, frame)]
        column = np.array(values, dtype=float).reshape(-1, 1)
        return column if e.name == "colvec" else column.T

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
        return a + b * s + 0.1 * c * s * s

    # -- derivatives: central finite differences of the definitions ------------------
    def ev_Deriv(self, e: Deriv, frame):
        variables = self.variables(e.wrt, frame)
        frame = Frame(frame.indices, frame.sample, frame.cut + ((e.wrt.name,) if self.cuts(e.wrt) else ()))
        outer, self.point.touched = self.point.touched, set()
        base = self.ev(e.body, frame)
        inner, self.point.touched = self.point.touched, outer
        self.point.touched |= inner
        if not inner & set(variables.values()):
            raise Unsupported("no-dependency", f"{e.body} does not depend on {e.wrt} as written here")
        grads = {}
        for pos, key in variables.items():
            grads[pos] = self.partial(e.body, key, frame, e.order)
        return assemble(grads, base, variables)

    def cuts(self, wrt: Sym) -> bool:
        return wrt.name in self.world.definitions

    def variables(self, wrt: Sym, frame) -> dict:
        """position in the gradient -> atom key that is perturbed."""
        if wrt.name in self.world.definitions:  # ∂/∂ŷ: ŷ becomes a variable with its current value
            return self.cut_variables(wrt, frame)
        sub = tuple(self.index_value(s, frame) for s in wrt.sub)
        sup = tuple(self.index_value(s, frame) for s in wrt.sup)
        shape = self.shape_of(wrt)
        if shape is None or shape == (Num(1), Num(1)) or sub:
            return {(): (wrt.name, sub, sup)}
        rows, cols = (self.size(d, frame) for d in shape)
        return {
            (r, c): (wrt.name, (r + 1,) if cols == 1 else (r + 1, c + 1), sup)
            for r in range(rows) for c in range(cols)
        }

    def cut_variables(self, wrt: Sym, frame) -> dict:
        whole = Sym(wrt.name, (), wrt.sup)
        value = self.defined(whole, self.world.definitions[wrt.name][1], frame)
        if is_scalar(value):
            key = (wrt.name, (), ())
            self.point.atoms[key] = scalar(value)
            return {(): key}
        value = np.atleast_2d(value)
        if wrt.sub:  # ∂/∂u_j: every entry of u becomes a variable, u_j is the one that moves
            self.cut_variables(whole, frame)
            sub = tuple(self.index_value(s, frame) for s in wrt.sub)
            return {(): (wrt.name, sub if value.shape[1] != 1 else sub[:1], ())}
        rows, cols = value.shape
        out = {}
        for r in range(rows):
            for c in range(cols):
                key = (wrt.name, (r + 1,) if cols == 1 else (r + 1, c + 1), ())
                self.point.atoms[key] = float(value[r, c])
                out[(r, c)] = key
        return out

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
    if is_scalar(a) and is_scalar(b):
        return scalar(a) + scalar(b)
    if np.ndim(a) == 0 or np.ndim(b) == 0 or np.shape(a) != np.shape(b):
        raise ShapeMismatch(f"cannot add shapes {_shape(a)} and {_shape(b)}", (_shape(a), _shape(b)))
    return a + b


def mul(a, b, where):
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
CONSTANTS = {"e": float(np.e), "pi": float(np.pi)}


def _diag(v):
    v = np.asarray(v, dtype=float)
    return np.diag(v.ravel()) if 1 in v.shape else np.diag(np.diag(v)).astype(float)


# Known functions (name as `symbolic.latex` spells it -> numpy meaning).
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
    "det": lambda a: float(np.linalg.det(a)) if not is_scalar(a) else scalar(a),
    "max": lambda *xs: max(scalar(x) for x in xs),
    "min": lambda *xs: min(scalar(x) for x in xs),
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
TRIALS = 6


@dataclass(frozen=True)
class Comparison:
    outcome: str  # "equal" | "different" | "shape" | "undecided"
    method: str
    reason: str = ""
    message: str = ""
    evidence: dict | None = None
    uninterpreted: frozenset = frozenset()  # undefined functions that were given a random meaning


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
        if isinstance(node, Sym):
            for s in node.sub + node.sup:
                for leaf in _syms(s):
                    if leaf.name not in bound and leaf.name not in world.dims:
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


def _syms(e):
    from symbolic.expr import walk

    return [n for n in walk(e) if isinstance(n, Sym)]


def random_point(world: World, seed: int, trial: int, extra_dims=()) -> Point:
    rng = np.random.default_rng([seed, trial])
    names = sorted(set(world.dims) | set(extra_dims))
    dims = {n: int(rng.integers(DIM_RANGE[0], DIM_RANGE[1] + 1)) for n in names}
    return Point(rng=rng, dims=dims)


def compare(lhs: Expr, rhs: Expr, world: World, seed: int = 0, trials: int = TRIALS,
            layout_free: bool = False) -> Comparison:
    """Evaluate both sides at `trials` random points (fresh sizes and values each)."""
    free_l, free_r = free_indices(lhs, world), free_indices(rhs, world)
    if free_l and free_r and free_l != free_r:
        return Comparison("undecided", "indices", "index-mismatch",
                          f"free indices differ: {', '.join(sorted(free_l))} vs {', '.join(sorted(free_r))}")
    free = sorted(free_l | free_r)
    method = f"randomized float64, {trials} points with random sizes (rtol={RTOL:g})"
    seen_equal, used = 0, set()
    for trial in range(trials):
        point = random_point(world, seed, trial)
        frame = Frame(indices=tuple((i, 1 + int(point.rng.integers(0, 2))) for i in free))
        try:
            a, b = evaluate_sides(Evaluator(world, point), lhs, rhs, frame)
        except ShapeMismatch as err:
            return Comparison("shape", "shapes", "shape", str(err),
                              {"sizes": point.dims, "shapes": [list(s) for s in err.shapes]})
        except Unsupported as err:
            if err.reason == "domain":
                continue
            return Comparison("undecided", method, err.reason, str(err))
        except (OverflowError, ZeroDivisionError, np.linalg.LinAlgError, FloatingPointError):
            continue
        verdict = agree(a, b, layout_free)
        if verdict == "shape" and (point.doubt or unknown_transposed(lhs, rhs, world, point)):
            return Comparison("undecided", "shapes", "unknown-shape",
                              "a transposed symbol has no declared shape here, so the sides' shapes are unknown")
        if verdict == "shape":
            return Comparison("shape", "shapes", "shape",
                              f"left side has shape {_shape(a)}, right side {_shape(b)}",
                              {"sizes": point.dims, "shapes": [list(_shape(a)), list(_shape(b))]})
        if verdict == "different":
            return Comparison("different", method, evidence=evidence(point, frame, a, b),
                              uninterpreted=frozenset(point.uninterpreted))
        if verdict == "unstable":
            return Comparison("undecided", method, "numerically-unstable",
                              "the sides differ by more than rounding but less than a clear counterexample")
        seen_equal += 1
        used |= point.uninterpreted
    if seen_equal < 3:
        return Comparison("undecided", method, "domain", "too few points where both sides are defined")
    if used:
        method += "; undefined " + ", ".join(sorted(used)) + " given random smooth meanings"
    return Comparison("equal", method.replace(f"{trials} points", f"{seen_equal} points"),
                      uninterpreted=frozenset(used))


def confirm_alone(ev: Evaluator, side: Expr, frame: Frame, err: ShapeMismatch):
    """Re-evaluate the ill-formed side with no shapes inferred from elsewhere: if it is
    still ill-formed on its own, that is evidence; otherwise the shapes are ambiguous."""
    alone = Evaluator(ev.world, Point(rng=ev.point.rng, dims=ev.point.dims, atoms=dict(ev.point.atoms),
                                      hot=dict(ev.point.hot)))
    try:
        alone.ev(side, frame)
    except ShapeMismatch as again:
        if alone.point.doubt:
            raise Unsupported("unknown-shape", f"{again} (a shape there is a guess)") from None
        raise again from None
    except Unsupported:
        pass
    raise Unsupported("unknown-shape", f"{err}, but only with a shape guessed from the other side")


def unknown_transposed(lhs, rhs, world: World, point: Point) -> bool:
    from symbolic.expr import walk

    for side in (lhs, rhs):
        for node in walk(side):
            if isinstance(node, Transpose) and isinstance(node.arg, Sym):
                sym = node.arg
                known = (world.shapes.get((sym.name, sym.sup)) or world.shapes.get((sym.name, ()))
                         or (sym.name, sym.sup) in point.inferred or sym.name in world.definitions)
                if not known:
                    return True
    return False


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
        if ev.point.inferred == known:
            return results[0], results[1]
    return results[0], results[1]


def agree(a, b, layout_free: bool) -> str:
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
        return "equal"
    return "different" if diff > REFUTE_RTOL * scale else "unstable"


def atom_label(key) -> str:
    name, sub, sup = key
    if name == "__fn__":  # coefficient of an undefined function's random meaning
        return f"{sub}[c{sup}]"
    return name + ("_" + ",".join(map(str, sub)) if sub else "") + ("^(" + ",".join(map(str, sup)) + ")" if sup else "")


def evidence(point: Point, frame: Frame, a, b) -> dict:
    def show(v):
        v = np.asarray(v, dtype=float)
        return round(float(v), 6) if v.size == 1 else np.round(v, 6).tolist()

    atoms = {}
    for key, value in list(point.atoms.items())[:12]:
        atoms[atom_label(key)] = round(value, 6)
    return {
        "sizes": dict(point.dims),
        "indices": dict(frame.indices),
        "values": atoms,
        "lhs": show(a),
        "rhs": show(b),
        "max_abs_difference": float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float).reshape(np.shape(a)) if np.size(a) == np.size(b) else np.nan))),
        "tolerance": f"rtol={RTOL:g}",
    }


__all__ = ["World", "Comparison", "compare", "Unsupported", "ShapeMismatch", "Evaluator", "Point",
           "random_point", "free_indices", "FUNCTIONS", "Fraction"]
