"""A derivation is data: ordered steps, each with the rule that justifies reaching it.

Entries live in `symbolic.catalog.*` modules and register themselves with
`@derivation`; nothing else has to change to add one.  `verify` proves every step
with SymPy and answers, per step, verified / refuted (with both sides and a
counterexample at random concrete sizes and values) / undecided (with a reason).

How a step is proven: the rule named by `Step.by` (a key of `RULES`) turns
(previous row, this row) into equality obligations, e.g. "SymPy's derivative of the
previous row equals this row"; each obligation is then proven by `equal`.  Matrix
calculus is never asserted: the gradient rule differentiates term by term with
SymPy (`Trace(term).diff(W)`), and also differentiates the explicit scalar at a
small fixed size, because SymPy has returned wrong matrix derivatives silently.
"""
from __future__ import annotations

import random
import time
from fractions import Fraction
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Callable, Mapping

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.simplify.simplify import sum_simplify

# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Step:
    """One row of a derivation.  `expr` is a SymPy object (scalar or matrix
    expression).  `rule` is printed beside it and names why the previous row turns
    into this one.  The proof is `check(prev, this) -> bool` when given, else the
    rule `RULES[by]` applied with arguments `given` (default: algebraic equality).
    `lhs` labels the row (LaTeX string or SymPy object; None continues "= ...").
    `ref` is the index of the row this one follows from (default: the previous)."""

    expr: Any
    rule: str
    check: Callable[[Any, Any], bool] | None = None
    latex: str | None = None  # how to print `expr` when SymPy's printer is poor
    lhs: Any = None
    by: str = "equal"
    given: tuple[Any, ...] = ()
    ref: int | None = None


@dataclass(frozen=True)
class Claim:
    """A result of the derivation as a document would state it, in LaTeX, with the
    declarations needed to read it.  Used to match relations of a checked document."""

    lhs: str
    rhs: str
    where: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    """The hypotheses in a form the prover uses (their prose is `Derivation.hypotheses`).

    defs: (name, meaning) pairs unfolded before every proof: Symbol/MatrixSymbol ->
      expression, IndexedBase -> Lambda of the indices (`.subs` cannot reach a bound
      index, so indexed names are replaced structurally).
    facts: relations known to hold, e.g. `Le(j, d)`, `Ne(beta, 1)`; they settle the
      `Piecewise` conditions SymPy leaves after summation.
    identities: (lhs, rhs) rewrites such as (Sum(y[i], (i, 1, d)), 1).
    invertible: square matrices assumed invertible; an inverse of anything else
      makes the step undecided (SymPy cancels A*A^-1 with no such hypothesis)."""

    defs: tuple[tuple[Any, Any], ...] = ()
    facts: tuple[Any, ...] = ()
    identities: tuple[tuple[Any, Any], ...] = ()
    invertible: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Obligation:
    """`left == right` must be proven; `what` says which part of a rule it is.
    `search=False`: no random counterexample search when it fails (the relation was
    not an equality, e.g. a custom check of an inequality)."""

    left: Any
    right: Any
    what: str = ""
    search: bool = True


@dataclass(frozen=True)
class Witness:
    """A second, independent proof (e.g. explicit matrices or sympy.stats at a fixed
    size), or a lemma a rule relies on.  `obligations` runs lazily inside `verify`."""

    name: str
    obligations: Callable[[], list[Obligation]]


@dataclass(frozen=True)
class Derivation:
    id: str
    title: str
    source: str  # e.g. "answer sheet problem 1b" or "textbook identity: Matrix Cookbook (81)"
    problem: str | None  # problem number in the built-in sheet's numbering, or None
    part: str | None
    hypotheses: tuple[str, ...]
    steps: tuple[Step, ...]
    claims: tuple[Claim, ...] = ()
    # planted-error twins: name -> builder of a Derivation that must FAIL to verify
    mutants: dict[str, Callable[[], "Derivation"]] = field(default_factory=dict, compare=False)
    context: Context = Context()
    witnesses: tuple[Witness, ...] = ()


CATALOG: dict[str, Callable[[], Derivation]] = {}


def derivation(builder: Callable[[], Derivation]) -> Callable[[], Derivation]:
    """Register a builder (called lazily: SymPy work happens only when asked).
    The entry's id is the builder's name with `_` replaced by `-`."""
    CATALOG[builder.__name__.replace("_", "-")] = builder
    return builder


# Planted errors: small functions Derivation -> Derivation, attached with `with_mutants`.


def with_mutants(d: Derivation, planted: Mapping[str, Callable[[Derivation], Derivation]]) -> Derivation:
    """Attach planted-error twins, each made from `d` by one function."""
    return replace(d, mutants={name: partial(_plant, f, d) for name, f in planted.items()})


def _plant(f: Callable[[Derivation], Derivation], d: Derivation) -> Derivation:
    return replace(f(d), mutants={})


def swap_step(index: int, **changes: Any) -> Callable[[Derivation], Derivation]:
    """Mutation: replace fields of step `index` (e.g. `expr=` with a planted error)."""

    def mutate(d: Derivation) -> Derivation:
        steps = list(d.steps)
        steps[index] = replace(steps[index], **changes)
        return replace(d, steps=tuple(steps))

    return mutate


def drop_hypothesis(**changes: Any) -> Callable[[Derivation], Derivation]:
    """Mutation: weaken the context (e.g. `invertible=()`)."""
    return lambda d: replace(d, context=replace(d.context, **changes))


# ------------------------------------------------------------------------ results


@dataclass(frozen=True)
class Counterexample:
    point: dict[str, Any]  # sizes and values chosen, by name
    left: Any  # both sides evaluated there
    right: Any
    gap: float  # largest absolute difference


@dataclass(frozen=True)
class StepResult:
    index: int  # position in `steps`; witnesses are numbered after the steps
    name: str  # "step 3 (\nabla_w L)" or "witness: ..."
    rule: str
    status: str  # "verified" | "refuted" | "undecided"
    seconds: float
    reason: str = ""
    left: Any = None  # the failed obligation's two sides
    right: Any = None
    counterexample: Counterexample | None = None

    @property
    def ok(self) -> bool:
        return self.status == "verified"


class StepFailed(Exception):
    """A step did not verify.  The message names the derivation and the step and
    shows both sides and the counterexample (or why it is undecided)."""

    def __init__(self, entry: str, result: StepResult):
        self.entry, self.result = entry, result
        super().__init__(_describe_failure(entry, result))


@dataclass(frozen=True)
class ProofReport:
    id: str
    results: tuple[StepResult, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failures(self) -> tuple[StepResult, ...]:
        return tuple(r for r in self.results if not r.ok)

    def raise_for_failure(self) -> None:
        if self.failures:
            raise StepFailed(self.id, self.failures[0])


def _describe_failure(entry: str, r: StepResult) -> str:
    lines = [f"{entry}, {r.name} [{r.rule}]: {r.status}: {r.reason}"]
    if r.left is not None:
        lines += [f"  left:  {r.left}", f"  right: {r.right}"]
    if r.counterexample is not None:
        c = r.counterexample
        point = ", ".join(f"{k}={v}" for k, v in c.point.items())
        lines += [f"  counterexample at {point}", f"    left = {c.left}", f"    right = {c.right}",
                  f"    |difference| = {c.gap:.3g}"]
    return "\n".join(lines)


# ------------------------------------------------------------------------- verify


class Refuted(Exception):
    """The step is wrong for a reason that needs no counterexample (e.g. shapes)."""


class Undecided(Exception):
    """The prover cannot decide: no rule, no moment, an undeclared hypothesis..."""


def verify(d: Derivation) -> ProofReport:
    """Prove every step and witness of `d`; never raises for a failed step (use
    `ProofReport.raise_for_failure`)."""
    start = time.perf_counter()
    results = [_verify_step(d, k) for k in range(len(d.steps))]
    results += [_verify_witness(d, len(d.steps) + n, w) for n, w in enumerate(d.witnesses)]
    return ProofReport(d.id, tuple(results), time.perf_counter() - start)


def step_name(d: Derivation, k: int) -> str:
    lhs = d.steps[k].lhs
    return f"step {k + 1}" + (f" ({lhs})" if lhs is not None else "")


def _verify_step(d: Derivation, k: int) -> StepResult:
    step = d.steps[k]

    def obligations() -> list[Obligation]:
        check_shapes(step.expr)  # SymPy accepts invalid products with symbolic shapes
        check_inverses(step.expr, d.context)
        return _obligations(d, k)

    return _prove(k, step_name(d, k), step.by, obligations, d.context)


def _verify_witness(d: Derivation, k: int, w: Witness) -> StepResult:
    return _prove(k, f"witness: {w.name}", "witness", w.obligations, d.context)


def _prove(k: int, name: str, rule: str, obligations: Callable[[], list[Obligation]], ctx: Context) -> StepResult:
    start = time.perf_counter()

    def result(status: str, reason: str = "", *evidence) -> StepResult:
        return StepResult(k, name, rule, status, time.perf_counter() - start, reason, *evidence)

    try:
        failed = _first_unproven(obligations(), ctx)
    except Refuted as e:
        return result("refuted", str(e))
    except Undecided as e:
        return result("undecided", str(e))
    except Exception as e:  # a SymPy failure inside a rule: reported, never a verified step
        return result("undecided", f"the prover raised {type(e).__name__}: {e}")
    if failed is None:
        return result("verified")
    if not failed.search:  # e.g. a custom check said no: it is the authority
        return result("refuted", failed.what, failed.left, failed.right)
    cex = find_counterexample(failed.left, failed.right, ctx)
    reason = (f"{failed.what}: " if failed.what else "") + (
        "the two sides differ" if cex else "SymPy could not prove equality and no counterexample was found")
    return result("refuted" if cex else "undecided", reason, failed.left, failed.right, cex)


def _obligations(d: Derivation, k: int) -> list[Obligation]:
    step = d.steps[k]
    if k == 0 or step.by == "given":  # a premise: only its shapes are checked
        return []
    if step.ref is not None and not 0 <= step.ref < k:
        raise Undecided(f"ref={step.ref} must name an earlier step")
    prev = d.steps[k - 1 if step.ref is None else step.ref].expr
    if step.check is not None:  # the step's own check is the authority: False is a refutation
        if not step.check(prev, step.expr):
            raise Refuted("the step's own check returned False")
        return []
    if step.by not in RULES:
        raise Undecided(f"unknown rule {step.by!r}; known: {', '.join(sorted(RULES))}")
    ctx = d.context
    given = tuple(unfold(g, ctx) if isinstance(g, sp.Basic) else g for g in step.given)
    return RULES[step.by](unfold(prev, ctx), unfold(step.expr, ctx), ctx, *given)


def _first_unproven(obligations: list[Obligation], ctx: Context) -> Obligation | None:
    for ob in obligations:
        if not equal(ob.left, ob.right, ctx):
            return ob
    return None


# ------------------------------------------------------------------ normalisation


def as_sympy(e: Any) -> sp.Basic:
    """Catalog values as SymPy objects; numbers only are converted, never strings (no
    text is ever parsed here)."""
    if isinstance(e, sp.Basic):
        return e
    if isinstance(e, sp.MatrixBase):
        return sp.ImmutableMatrix(e)
    if isinstance(e, (tuple, list)):
        return sp.Tuple(*map(as_sympy, e))
    if isinstance(e, bool) or not isinstance(e, (int, float, Fraction)):
        raise TypeError(f"not a SymPy object or a number: {type(e).__name__}")
    return sp.Rational(e.numerator, e.denominator) if isinstance(e, Fraction) else sp.Number(e)


def unfold(e: Any, ctx: Context) -> Any:
    """Replace defined names by their meaning until nothing changes (defs may nest)."""
    e = as_sympy(e)
    for _ in range(8):
        new = e
        for name, meaning in ctx.defs:
            new = _unfold_one(new, name, meaning)
        if new == e:
            return e
        e = new
    return e


def _unfold_one(e, name, meaning):
    if isinstance(name, sp.IndexedBase):
        return e.replace(lambda x: isinstance(x, sp.Indexed) and x.base == name,
                         lambda x: meaning(*x.indices))
    return e.xreplace({name: meaning})


def prepare(e: Any, ctx: Context) -> Any:
    """Unfold, evaluate sums/derivatives, settle Piecewise by the facts, pull
    constants out of sums and apply identities: the form equality is tested on."""
    e = drop_piecewise(evaluate(unfold(e, ctx)), ctx)
    if isinstance(e, sp.MatrixBase):
        return e.applyfunc(lambda x: prepare(x, ctx))
    if not isinstance(e, sp.MatrixExpr):
        e = apply_identities(split_sums(e), ctx)
    return e


def evaluate(e: Any) -> Any:
    """`doit`, except for sums SymPy cannot close (an indexed summand over a symbolic
    range): trying costs 0.1-1 s each (telescoping, hypersimp) and returns them as they
    were.  Such a sum is set aside whole (its summand evaluated on its own), so no
    sum is ever evaluated with a hidden dependence on its index."""
    e = as_sympy(e)
    if e.has(sp.Derivative):  # a set-aside sum would differentiate to 0
        return e.doit()
    frozen: dict[sp.Dummy, sp.Sum] = {}
    return _freeze(e, frozen).doit().xreplace(frozen)


def _freeze(e, frozen):
    if isinstance(e, sp.Sum):
        if _closable(e):
            return e
        key = sp.Dummy("sum")
        frozen[key] = sp.Sum(evaluate(e.function), *e.limits)
        return key
    if not e.args or isinstance(e, (sp.Indexed, sp.MatrixSymbol, MatrixElement)):
        return e
    return e.func(*[_freeze(a, frozen) for a in e.args])


def _closable(s: sp.Sum) -> bool:
    """Worth `doit`: numeric limits, a Kronecker delta on the index, or a summand
    with no indexed quantity depending on the index (geometric sums)."""
    index = s.limits[0][0]
    if all(as_sympy(x).is_number for _, *lims in s.limits for x in lims):
        return True
    if any(index in kd.free_symbols for kd in s.function.atoms(sp.KroneckerDelta)):
        return True
    return not any(index in x.free_symbols for x in s.function.atoms(sp.Indexed, MatrixElement, sp.Sum))


def drop_piecewise(e: Any, ctx: Context) -> Any:
    return e.replace(lambda x: isinstance(x, sp.Piecewise), lambda x: _branch(x, ctx))


def _branch(pw: sp.Piecewise, ctx: Context):
    for value, cond in pw.args:
        known = decide(cond, ctx)
        if known is True:
            return value
        if known is None:
            return pw  # cannot tell which branch: leave it, the proof will not go through
    return pw


def decide(cond: Any, ctx: Context) -> bool | None:
    """True/False if the facts settle `cond`, else None."""
    if cond in (True, sp.true):
        return True
    if cond in (False, sp.false):
        return False
    if isinstance(cond, (sp.And, sp.Or)):
        parts = [decide(c, ctx) for c in cond.args]
        want = isinstance(cond, sp.And)
        if all(p is want for p in parts):
            return want
        return (not want) if any(p is (not want) for p in parts) else None
    if isinstance(cond, sp.Rel):
        return _decide_relation(cond, ctx)
    return None


def _decide_relation(rel, ctx) -> bool | None:
    for fact in ctx.facts:
        if rel.canonical == fact.canonical:
            return True
        if rel.negated.canonical == fact.canonical:
            return False
        if isinstance(rel, sp.Eq) and isinstance(fact, sp.Ne) and _same_roots(rel, fact):
            return False  # e.g. Eq(1/beta, 1) under beta != 1
    return None


def _same_roots(eq: sp.Eq, ne: sp.Ne) -> bool:
    """Eq(f(var), c) holds only at var = value: a linear numerator with numeric
    coefficients (the geometric sums' Eq(1/beta, 1)).  Deliberately narrow: `solve`
    would import sympy.physics (0.3 s) and anything else stays undecided."""
    var, value = ne.lhs, ne.rhs
    numerator = sp.fraction(sp.together(eq.lhs - eq.rhs))[0]
    try:
        poly = sp.Poly(numerator, var)
    except sp.PolynomialError:
        return False
    coeffs = poly.all_coeffs()
    return poly.degree() == 1 and all(c.is_number for c in coeffs) and -coeffs[1] / coeffs[0] == value


def split_sums(e: Any) -> Any:
    """Linearity of finite sums: Sum(a*f + g) -> a*Sum(f) + Sum(g) for a free of the index."""
    return e.replace(lambda x: isinstance(x, sp.Sum) and len(x.limits) == 1, _split_sum)


def _split_sum(s: sp.Sum):
    index = s.limits[0][0]
    out = []
    for term in sp.Add.make_args(sp.expand(s.function)):
        const, rest = term.as_independent(index, as_Add=False)
        out.append(const * (sp.Sum(rest, s.limits) if rest != 1 else _count(s.limits[0])))
    return sp.Add(*out)


def _count(limit) -> Any:
    _, lo, hi = limit
    return hi - lo + 1


def apply_identities(e: Any, ctx: Context) -> Any:
    for lhs, rhs in ctx.identities:
        e = e.replace(lambda x, lhs=lhs: _alpha_equal(x, lhs), lambda x, rhs=rhs: rhs)
    return e


def _alpha_equal(x, pattern) -> bool:
    """Equal up to renaming the bound index of a Sum (Sum(y[i]) is Sum(y[k]))."""
    if not (isinstance(x, sp.Sum) and isinstance(pattern, sp.Sum)):
        return x == pattern
    (i, a, b), (j, c, e) = x.limits[0], pattern.limits[0]
    return (a, b) == (c, e) and x.function.xreplace({i: j}) == pattern.function


# ----------------------------------------------------------------------- equality


def equal(left: Any, right: Any, ctx: Context = Context()) -> bool:
    """Proof that left == right (scalars, explicit matrices or matrix expressions)."""
    left, right = prepare(left, ctx), prepare(right, ctx)
    for kinds, test in EQUALITY:
        if isinstance(left, kinds) or isinstance(right, kinds):
            return test(left, right, ctx)
    return _zero(left - right)


def _explicit_equal(a, b, ctx) -> bool:
    a, b = sp.Matrix(a), sp.Matrix(b)
    if a.shape != b.shape:
        raise Refuted(f"shapes differ: {a.shape} vs {b.shape}")
    return all(_zero(x) for x in (a - b))


def _matrix_equal(a, b, ctx) -> bool:
    if not (isinstance(a, sp.MatrixExpr) and isinstance(b, sp.MatrixExpr)):
        raise Refuted(f"a matrix is compared with a scalar: {a} vs {b}")
    if not same_shape(a, b):
        raise Refuted(f"shapes differ: {_shape(a)} vs {_shape(b)}")
    return all(is_zero(c, ctx) for c in canonical_terms(a - b).values())


EQUALITY: tuple[tuple[type | tuple[type, ...], Callable[..., bool]], ...] = (
    (sp.MatrixBase, _explicit_equal),
    (sp.MatrixExpr, _matrix_equal),
)


def _combine_sums(e):
    """Merge sums with equal limits and simplify their summands."""
    e = sum_simplify(sp.expand(e))
    return sp.expand(e.replace(lambda x: isinstance(x, sp.Sum),
                               lambda x: sp.Sum(sp.simplify(x.function), *x.limits).doit()))


# Cheapest first; the first that reaches 0 proves it.  `simplify` is the last resort
# (slow on big expressions, and only reached by wrong steps or hard right ones).
ZERO_LADDER: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("expand", sp.expand),
    ("powsimp", lambda e: sp.expand(sp.powsimp(sp.expand(e)))),
    ("sums", _combine_sums),
    ("cancel", lambda e: sp.cancel(sp.together(sp.expand(e)))),
    ("simplify", sp.simplify),
)


def is_zero(e: Any, ctx: Context = Context()) -> bool:
    e = prepare(e, ctx)
    if isinstance(e, sp.MatrixBase):
        return all(_zero(x) for x in e)
    return _zero(e)


def _zero(e: Any) -> bool:
    for _name, normal in ZERO_LADDER:
        if normal(e) == 0:
            return True
    return False


def canonical_terms(m: sp.MatrixExpr) -> dict[tuple, Any]:
    """Expand `m` into {factor tuple: scalar coefficient}.  A 1x1 term equals its
    transpose, which SymPy does not know, so 1x1 terms are stored in whichever
    orientation sorts first."""
    m = sp.expand(m.doit()).doit()
    acc: dict[tuple, Any] = {}
    for term in sp.MatAdd.make_args(m) if isinstance(m, sp.MatAdd) else (m,):
        if isinstance(term, sp.ZeroMatrix) or term == 0:
            continue
        coeff, factors = _split_term(term)
        if term.shape == (1, 1):
            factors = min(factors, _split_term(sp.Transpose(term).doit())[1], key=_sort_key)
        acc[factors] = acc.get(factors, 0) + coeff
    return acc


def _split_term(term) -> tuple[Any, tuple]:
    """(scalar coefficient, matrix factors in order) of one product term."""
    coeff, rest = term.as_coeff_mmul()
    rest = rest.doit()
    args = rest.args if isinstance(rest, sp.MatMul) else (rest,)
    scalars = [a for a in args if not isinstance(a, sp.MatrixExpr)]
    return sp.Mul(coeff, *scalars), tuple(a for a in args if isinstance(a, sp.MatrixExpr))


def _sort_key(factors: tuple) -> tuple:
    return tuple(sp.default_sort_key(f) for f in factors)


# --------------------------------------------------------- shapes and hypotheses


def _dim_equal(p, q) -> bool:
    return sp.expand(p - q) == 0


def same_shape(a, b) -> bool:
    return all(_dim_equal(p, q) for p, q in zip(a.shape, b.shape))


def _shape(m) -> str:
    return "x".join(map(str, m.shape))


def _check_matmul(node) -> None:
    mats = [a for a in node.args if isinstance(a, sp.MatrixExpr)]
    for a, b in zip(mats, mats[1:]):
        if not _dim_equal(a.cols, b.rows):
            raise Refuted(f"shape error: {a} ({_shape(a)}) times {b} ({_shape(b)})")


def _check_matadd(node) -> None:
    first = node.args[0]
    for other in node.args[1:]:
        if not same_shape(first, other):
            raise Refuted(f"shape error: {first} ({_shape(first)}) plus {other} ({_shape(other)})")


def _check_square(node) -> None:
    base = node.args[0]
    if not _dim_equal(base.rows, base.cols):
        raise Refuted(f"shape error: {type(node).__name__} of non-square {base} ({_shape(base)})")


# SymPy accepts (1 x d)(1 x d) and W + W' with symbolic shapes: check them here.
SHAPE_CHECKS: dict[type, Callable[[Any], None]] = {
    sp.MatMul: _check_matmul,
    sp.MatAdd: _check_matadd,
    sp.MatPow: _check_square,
    sp.Inverse: _check_square,
    sp.Trace: _check_square,
}


def check_shapes(e: Any) -> None:
    for node in sp.preorder_traversal(e):
        check = SHAPE_CHECKS.get(type(node))
        if check is not None:
            check(node)


def check_inverses(e: Any, ctx: Context) -> None:
    declared = {as_sympy(m).doit() for m in ctx.invertible}
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.Inverse) and node.arg.doit() not in declared:
            raise Undecided(f"({node.arg})^-1 is used but {node.arg} is not declared invertible")


# -------------------------------------------------------------------------- rules


def _equal_rule(prev, this, ctx) -> list[Obligation]:
    return [Obligation(prev, this, "algebra")]


def _given(prev, this, ctx) -> list[Obligation]:
    return []


def _apply(prev, this, ctx, f) -> list[Obligation]:
    """this == f(prev), e.g. dividing E[m_t] by (1 - beta^t)."""
    return [Obligation(f(prev), this, f"apply {f}")]


def _partial(prev, this, ctx, var) -> list[Obligation]:
    """this == d prev / d var for a scalar or indexed variable (KroneckerDelta on
    indices comes from SymPy)."""
    return [Obligation(sp.diff(prev, var), this, f"SymPy's d/d{var} of the previous row")]


def _gradient(prev, this, ctx, wrt) -> list[Obligation]:
    """this == gradient of the scalar (1x1) `prev` w.r.t. the matrix `wrt`, by SymPy:
    term by term, each as d tr(term)/d wrt; plus the same at a fixed explicit size."""
    if not same_shape(this, wrt):
        raise Refuted(f"a gradient w.r.t. {wrt} ({_shape(wrt)}) must have its shape, not {_shape(this)}")
    return [Obligation(termwise_gradient(prev, wrt), this, f"SymPy's gradient w.r.t. {wrt}"),
            explicit_gradient(prev, this, wrt)]


def _chain(prev, this, ctx, u_of_w, wrt) -> list[Obligation]:
    """Chain rule: prev is g = dL/du (a column vector) and u = u_of_w depends on `wrt`,
    so dL = g^T du and dL/dwrt is the gradient of g^T u(wrt) with g held fixed."""
    return _gradient(sp.MatMul(prev.T, u_of_w), this, ctx, wrt)


def _root(prev, this, ctx, var) -> list[Obligation]:
    """this is the value of `var` that makes prev (a gradient) vanish."""
    zero = sp.ZeroMatrix(*prev.shape) if isinstance(prev, sp.MatrixExpr) else 0
    return [Obligation(prev.xreplace({var: this}), zero, f"previous row at {var} = this row")]


def _recurrence(prev, this, ctx, seq, t, initial) -> list[Obligation]:
    """this (closed form in t) solves seq[t] = prev (in terms of seq[t-1]) with
    seq[0] = initial: induction on t, base case and step."""
    step = prev.xreplace({seq[t - 1]: this.subs(t, t - 1)})
    return [Obligation(this.subs(t, 0), initial, f"base case {seq[0]} = {initial}"),
            Obligation(peel_last(this), step, f"{seq[t]} = recursion applied to the closed form at t-1")]


def _entrywise(prev, this, ctx, index, bases) -> list[Obligation]:
    """this (a column vector expression) has entry `index` equal to prev (indexed);
    `bases` pairs each MatrixSymbol with the IndexedBase naming its entries."""
    names = dict(bases)
    entry = this[index, 0].replace(lambda x: isinstance(x, MatrixElement) and x.parent in names,
                                   lambda x: names[x.parent][x.i])
    return [Obligation(entry, prev, f"entry {index} of {this}")]


def _expect(prev, this, ctx, moments) -> list[Obligation]:
    """this == E[prev] by linearity and the moment rules in `moments`."""
    return [Obligation(moments.expect(prev), this, f"E[...] by {moments}")]


# Rule name -> obligations(prev, this, ctx, *Step.given).  Adding a rule is one entry.
RULES: dict[str, Callable[..., list[Obligation]]] = {
    "given": _given,
    "equal": _equal_rule,
    "apply": _apply,
    "partial": _partial,
    "gradient": _gradient,
    "chain": _chain,
    "root": _root,
    "recurrence": _recurrence,
    "entrywise": _entrywise,
    "expect": _expect,
}


def termwise_gradient(f: sp.MatrixExpr, wrt: sp.MatrixSymbol) -> sp.MatrixExpr:
    """SymPy's gradient of a 1x1 matrix expression, one expanded term at a time
    (whole-expression .diff has returned 0 / dropped terms on this material)."""
    if f.shape != (1, 1):
        raise Undecided(f"gradient of a non-scalar ({_shape(f)}) expression")
    parts = [sp.Trace(term).diff(wrt) for term in _terms(f) if term.has(wrt)]
    if not all(isinstance(p, sp.MatrixExpr) for p in parts):
        raise Undecided(f"SymPy returned a non-matrix derivative w.r.t. {wrt}")
    return sp.MatAdd(*parts).doit() if parts else sp.ZeroMatrix(*wrt.shape)


def _terms(f):
    f = sp.expand(f.doit()).doit()
    return f.args if isinstance(f, sp.MatAdd) else (f,)


def explicit_gradient(f, grad, wrt) -> Obligation:
    """The same gradient with every matrix written out at a small size: differentiate
    the explicit scalar entry by entry (plain scalar calculus)."""
    sizes = _fixed_sizes([f, grad, wrt])
    scalar = explicit(f, sizes)[0, 0]
    w = wrt.subs(sizes)
    left = sp.Matrix(*w.shape, lambda a, b: sp.diff(scalar, w[a, b]))
    return Obligation(left, explicit(grad, sizes), f"explicit gradient at {sizes}")


def explicit(m: sp.MatrixExpr, sizes: dict) -> sp.Matrix:
    """`m` at concrete sizes with every matrix symbol written out entry by entry."""
    m = m.subs(sizes)
    return sp.Matrix(m.xreplace({s: sp.ImmutableMatrix(s.as_explicit()) for s in _matrix_symbols(m)}).doit())


def _fixed_sizes(exprs) -> dict:
    """Sizes 2, 3, 4, ...: distinct, so a swapped transpose cannot pass by luck."""
    dims = sorted({s for e in exprs for m in _matrix_symbols(e) for s in as_sympy(m.shape).free_symbols},
                  key=str)
    return {s: k + 2 for k, s in enumerate(dims)}


def _matrix_symbols(e) -> set:
    return e.atoms(sp.MatrixSymbol) | ({e} if isinstance(e, sp.MatrixSymbol) else set())


def peel_last(e: Any) -> Any:
    """Sum(f, (i, a, b)) -> Sum(f, (i, a, b-1)) + f(b): an identity for every b under
    SymPy's (Karr's) summation convention."""
    def peel(s):
        (i, a, b), = s.limits
        return sp.Sum(s.function, (i, a, b - 1)) + s.function.subs(i, b)

    return e.replace(lambda x: isinstance(x, sp.Sum) and len(x.limits) == 1, peel)


# ------------------------------------------------------------------------ moments


@dataclass(frozen=True)
class Moments:
    """Moment rules for scalar random variables var[i] (an IndexedBase):
    E[var[i]**p] = table[p]; E is linear and commutes with finite sums."""

    var: sp.IndexedBase
    table: tuple[tuple[int, Any], ...]

    def __str__(self):
        return ", ".join(f"E[{self.var}_i{'' if p == 1 else f'^{p}'}] = {v}" for p, v in self.table)

    def expect(self, e: Any) -> Any:
        e = sp.expand(e)
        if isinstance(e, sp.Add):
            return sp.Add(*map(self.expect, e.args))
        if isinstance(e, sp.Sum):
            return sp.Sum(self.expect(e.function), *e.limits)
        const, rest = e.as_independent(self.var, as_Add=False)
        return const * self._moment(rest)

    def _moment(self, rest):
        if rest == 1:
            return sp.Integer(1)
        if isinstance(rest, sp.Sum):
            return self.expect(rest)
        base, power = rest.as_base_exp()
        table = dict(self.table)
        if isinstance(base, sp.Indexed) and base.base == self.var and power in table:
            return table[power]
        raise Undecided(f"no moment rule for E[{rest}]")


@dataclass(frozen=True)
class MatrixMoments:
    """Moment rules for a random matrix `noise`: E[noise] = 0 (any term linear in it
    vanishes) and E[product] = value for each adjacent pair in `second`."""

    noise: sp.MatrixSymbol
    second: tuple[tuple[tuple[Any, Any], Any], ...]

    def __str__(self):
        pairs = ", ".join(f"E[{a}*{b}] = {v}" for (a, b), v in self.second)
        return f"E[{self.noise}] = 0, {pairs}"

    def expect(self, m: sp.MatrixExpr) -> sp.MatrixExpr:
        parts = [self._term(t) for t in _terms(m)]
        parts = [p for p in parts if p is not None]
        return sp.MatAdd(*parts).doit() if parts else sp.ZeroMatrix(*m.shape)

    def _term(self, term):
        coeff, factors = _split_term(term)
        hits = [k for k, f in enumerate(factors) if f in (self.noise, self.noise.T)]
        if not hits:
            return term
        if len(hits) == 1:
            return None  # E[noise] = 0 and the other factors are not random
        pair = dict(self.second).get(factors[hits[0]:hits[0] + 2])
        if len(hits) != 2 or hits[1] != hits[0] + 1 or pair is None:
            raise Undecided(f"no moment rule for E[{term}]")
        return sp.MatMul(coeff, *factors[:hits[0]], pair, *factors[hits[1] + 1:]).doit()


# ---------------------------------------------------------------- counterexamples


# NonInvertibleMatrixError is a ValueError; TypeError/AttributeError come from SymPy
# objects that have no numeric value at a point (an unevaluated Derivative, say).
EVALUATION_ERRORS = (ArithmeticError, ValueError, TypeError, AttributeError, NotImplementedError)


def find_counterexample(left: Any, right: Any, ctx: Context = Context(), trials: int = 12,
                        seed: int = 0) -> Counterexample | None:
    """Evaluate both sides at random concrete sizes and values that satisfy the
    hypotheses (facts, identities); return the first point where they differ by more
    than 1e-9 (relative), or None."""
    rng = random.Random(seed)
    for _ in range(trials):
        point: dict[str, Any] = {}
        try:
            values = _at_random_point([left, right], ctx, rng, point)
        except EVALUATION_ERRORS:  # e.g. a singular X^T X at this point: try another
            continue
        if values is None:  # the point breaks a hypothesis: not a counterexample
            continue
        lv, rv = values
        gap = max((abs(complex(a - b)) for a, b in zip(lv, rv)), default=0.0)
        scale = 1 + max((abs(complex(a)) for a in lv + rv), default=0.0)
        if len(lv) != len(rv) or gap > 1e-9 * scale:
            return Counterexample(point, _show(lv), _show(rv), gap)
    return None


def _at_random_point(sides, ctx, rng, point) -> list[list[complex]] | None:
    """Sizes and indices first, then matrices, then scalars; an identity such as
    sum_i y_i = 1 is met by solving it for one (linear) scalar."""
    sides = [as_sympy(unfold(s, ctx)) for s in sides]
    facts = [as_sympy(unfold(f, ctx)) for f in ctx.facts]
    identities = [as_sympy(unfold(lhs - rhs, ctx)) for lhs, rhs in ctx.identities]
    ints = _integers(sides + facts + identities, ctx, rng)
    exprs = [_doit(e.subs(ints)) for e in sides + facts + identities]
    mats = {m: _random_matrix(m, rng) for e in exprs for m in _matrix_symbols(e)}
    exprs = [_doit(e.subs(mats)) for e in exprs]
    scalars = _scalars(exprs, rng)
    for e in exprs[len(sides) + len(facts):]:
        _solve_linear_for_one(e, scalars)
    point.update({str(k): v for k, v in ints.items()})
    point.update({str(k): v.tolist() for k, v in mats.items()})
    point.update({str(k): v for k, v in scalars.items()})
    exprs = [e.xreplace(scalars) for e in exprs]
    hypotheses = exprs[len(sides):len(sides) + len(facts)] + [sp.Eq(e, 0) for e in exprs[len(sides) + len(facts):]]
    if not all(h == sp.true for h in hypotheses):
        return None
    return [_numbers(e) for e in exprs[:len(sides)]]


def _solve_linear_for_one(e, scalars: dict) -> None:
    """Make e == 0 by changing the last of its scalars, when e is linear in it."""
    free = sorted(e.free_symbols & scalars.keys(), key=str)
    if not free:
        return
    a = free[-1]
    rest = e.xreplace({k: v for k, v in scalars.items() if k != a})
    slope = sp.diff(rest, a)
    if slope.is_number and slope != 0:
        scalars[a] = -rest.subs(a, 0) / slope


def _doit(e):
    return e.doit() if hasattr(e, "doit") else e


def _integers(sides, ctx, rng) -> dict:
    """Sizes and indices: 2..4; an index bounded by a fact `i <= n` stays in range."""
    found = set()
    for s in sides:
        found |= {x for x in s.free_symbols if x.is_integer}
        found |= {x for m in _matrix_symbols(s) for x in as_sympy(m.shape).free_symbols}
    bounded = {f.lhs: f.rhs for f in ctx.facts if isinstance(f, sp.Le) and f.lhs in found}
    values = {x: rng.randint(2, 4) for x in sorted(found - set(bounded), key=str)}
    for x, hi in bounded.items():
        values[x] = rng.randint(1, max(1, int(as_sympy(hi).subs(values))))
    return values


def _random_matrix(m, rng):
    return sp.ImmutableMatrix(*m.shape, lambda a, b: sp.Rational(rng.randint(-20, 20), 10))


def _scalars(sides, rng) -> dict:
    """Every remaining real symbol, indexed value (g[2]) or matrix entry: 0.1..0.9."""
    atoms = set().union(*(as_sympy(s).free_symbols for s in sides))
    labels = {a.base.label for a in atoms if isinstance(a, sp.Indexed)}
    atoms = {a for a in atoms - labels if not a.is_integer}
    return {a: sp.Rational(rng.randint(1, 9), 10) for a in sorted(atoms, key=str)}


def _numbers(e) -> list:
    if isinstance(e, sp.MatrixExpr) and not isinstance(e, sp.MatrixBase):
        e = e.as_explicit()
    if isinstance(e, sp.MatrixBase):
        return [complex(sp.N(x)) for x in e]
    return [complex(sp.N(e))]


def _show(values: list) -> Any:
    real = [round(v.real, 6) if abs(v.imag) < 1e-12 else v for v in values]
    return real[0] if len(real) == 1 else real
