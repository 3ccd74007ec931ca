"""The document checker: document -> relations -> meaning -> verdicts (-> claims).

`check_document` is a pure function of the document text and the options (seeded
randomness, no global state), so it can be shipped to a pool of workers as is.  The
untrusted steps -- parsing a side and judging a relation -- run in `symbolic.sandbox`
under a time and memory limit; anything that escapes becomes a reason code.
"""
from __future__ import annotations

import functools
import hashlib
import pickle
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from numeric.witness import World
from symbolic import chain_rule, entries, latex, meaning, shapes, stacking
from symbolic.document import Document
from symbolic.expr import Deriv, Expect, Expr, Func, Num, Sum, Sym, walk
from symbolic.meaning import Definition, Scope
from symbolic.relation import Relation, relations
from symbolic.verdict import CONSTANT_DIFFERENCE, REFUTED, UNVERIFIED, VERIFIED, Verdict, judge, judge_shape, unverified


@dataclass(frozen=True)
class CheckOptions:
    """trials: random points per relation; seed: makes every report reproducible;
    timeout_s / memory_mb: the sandbox budget per parse and per relation;
    document_timeout_s: wall budget of the whole document; once spent, every parse and
        relation not yet judged is `unverified: timeout` (still reported);
    max_document_bytes: larger files are refused when read (exit 2);
    where: extra declarations (LaTeX, e.g. `X \\in \\mathbb{R}^{n \\times d}`);
    document: the relations come from a document, where `name = …` at a name's first use
        defines it and a name on one side only may be shorthand (no counterexample);
        `compare` turns it off: both sides are given, every name is a free variable, and
        the question is only whether they are equal."""

    trials: int = 6
    seed: int = 0
    timeout_s: float = 5.0
    memory_mb: int = 2048
    sandbox: bool = True
    where: tuple[str, ...] = ()
    max_document_bytes: int = 2_000_000
    document_timeout_s: float = 300.0
    document: bool = True


NOTHING_TO_DECIDE = frozenset({"definition", "declaration", "expression", "update", "prose"})


@dataclass(frozen=True)
class Judged:
    relation: Relation
    verdict: Verdict


@dataclass(frozen=True)
class ClaimResult:
    id: str
    problem: str | None
    status: str  # established | contradicted | missing
    lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class Report:
    document: str
    items: tuple[Judged, ...]
    claims: tuple[ClaimResult, ...] = ()
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = {"relations": len(self.items), VERIFIED: 0, REFUTED: 0, UNVERIFIED: 0}
        for item in self.items:
            out[item.verdict.status] += 1
        return out

    def claims_decided(self) -> tuple[int, int]:
        """(decided, claims): the relations that state something to decide -- not the
        definitions, declarations, bare expressions, update rules and prose -- and how
        many of them are verified or refuted."""
        claims = [i for i in self.items if not (i.verdict.status == UNVERIFIED and i.verdict.reason in NOTHING_TO_DECIDE)]
        return sum(1 for i in claims if i.verdict.status != UNVERIFIED), len(claims)

    @property
    def failed(self) -> bool:
        return any(i.verdict.status == REFUTED for i in self.items) or any(
            c.status == "contradicted" for c in self.claims)


# ---------------------------------------------------------------------------- jobs
# Module-level so the sandbox can send them to its worker by reference.
def parse_job(text: str, notation: latex.Notation) -> latex.Parsed:
    return latex.parse(text, notation)


def judge_job(lhs: Expr, rhs: Expr, world: World, seed: int, trials: int) -> Verdict:
    return judge(lhs, rhs, world, seed=seed, trials=trials)


def shape_job(expr: Expr, shape: tuple, world: World, seed: int, trials: int) -> Verdict:
    return judge_shape(expr, shape, world, seed=seed, trials=trials)


def prewarm() -> None:
    """Pay once per process for what every document needs: the parser engine's tables
    and the catalog's claims (both cached; a fork inherits them)."""
    from symbolic.claims import parsed_claims

    latex.parse("x")
    parsed_claims()


class Runner:
    """Runs jobs in the sandbox (or inline); turns a failed job into a reason."""

    def __init__(self, options: CheckOptions):
        self.options = options
        self.deadline = time.monotonic() + options.document_timeout_s
        self.seconds: dict[str, list[float]] = {}
        self.box = None
        if options.sandbox:
            from symbolic.sandbox import Limits, Sandbox

            prewarm()  # the forked worker inherits warm parser tables and the parsed catalog

            self.box = Sandbox(Limits(timeout_s=options.timeout_s, memory_mb=options.memory_mb))

    def run(self, fn, *args):
        start = time.perf_counter()
        try:
            return self._run(fn, *args)
        finally:  # per-job wall time, for the bench's per-relation medians
            self.seconds.setdefault(fn.__name__, []).append(time.perf_counter() - start)

    def spent(self) -> tuple[str, str] | None:
        """(reason, message) once the document's time budget is spent, else None."""
        if time.monotonic() > self.deadline:
            return "timeout", f"document time budget ({self.options.document_timeout_s:g} s) spent"
        return None

    def _run(self, fn, *args):
        if self.spent():  # the document's budget is spent: report, do not run
            return False, self.spent()
        if self.box is None:
            try:
                return True, fn(*args)
            except RecursionError:
                return False, ("too-large", "expression nested too deeply")
            except MemoryError:
                return False, ("too-large", "out of memory")
        outcome = self.box.run(fn, *args)
        if outcome.ok:
            return True, outcome.value
        return False, (outcome.reason or "crash", outcome.message)

    def close(self):
        if self.box is not None:
            self.box.close()


# ---------------------------------------------------------------------------- the pass
PARSED_KINDS = ("relation", "definition", "expression")


def check_document(doc: Document, options: CheckOptions = CheckOptions()) -> Report:
    start = time.perf_counter()
    rels = relations(doc)
    runner = Runner(options)
    try:
        parsed, parse_seconds = parse_all(rels, options, runner)
        items, worlds, _ = judge_all(doc, rels, parsed, options, runner)
        from symbolic.claims import match_claims

        # claims evaluate the document's own expressions: in the sandbox too
        claims, items = match_claims(items, worlds, parsed, runner.run)
    finally:
        runner.close()
    return Report(doc.name, tuple(items), tuple(claims), time.perf_counter() - start,
                  {"parse_seconds": runner.seconds.get("parse_job", []),
                   "judge_seconds": runner.seconds.get("judge_job", [])})


def parse_all(rels, options, runner):
    texts = [t for r in rels if r.kind in PARSED_KINDS or r.op == "\\sim" for t in (r.lhs, r.rhs) if t.strip()]
    texts += [r.lhs for r in rels if r.op == "dim" and not split_names(meaning.dim_target(r.lhs) or r.lhs)
              and "@" not in r.lhs]
    texts += list(options.where)
    layers = {n for b in layer_bases(rels) for n in (b, parse_name(b).name if isinstance(parse_name(b), Sym) else b)}
    notation = latex.scan_notation(texts, layers)
    defined_functions = {m.group(1) for r in rels if r.op in ("=", ":=") and (m := _FUNCTION_LHS.match(r.lhs))}
    if defined_functions:  # `R(\\mathbf{w}) = …` makes R a function wherever it is followed by `(`
        notation = replace(notation, functions=notation.functions | frozenset(defined_functions))
    parsed, seconds = {}, []
    for text in texts:
        if text in parsed:
            continue
        cached = PARSES.get((text, notation))
        if cached is not None:
            parsed[text] = cached
            continue
        t0 = time.perf_counter()
        ok, value = runner.run(parse_job, text, notation)
        seconds.append(time.perf_counter() - t0)
        parsed[text] = value if ok else latex.Parsed(None, value[0], value[1])
        if ok or value[0] not in LOAD_DEPENDENT:
            PARSES.put((text, notation), parsed[text])
    return parsed, seconds


class Memo:
    """Results of pure jobs by key, least recently used out first.  Parsing is a pure
    function of (LaTeX, Notation), and a seeded job of its pickled arguments, so a class
    of sheets that share formulas (statements, standard steps, catalog claims) computes
    each only once per process; reports are unchanged."""

    def __init__(self, size: int):
        self.size, self.entries = size, OrderedDict()

    def get(self, key):
        value = self.entries.get(key)
        if value is not None:
            self.entries.move_to_end(key)
        return value

    def put(self, key, value) -> None:
        self.entries[key] = value
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)


LOAD_DEPENDENT = ("timeout", "worker-died", "crash")  # failures never remembered
PARSES = Memo(20_000)
REMEMBERED = Memo(20_000)  # judgements, claim checks, shape checks (`remembered`)


def remembered(run, fn, *args) -> tuple:
    """`run(fn, *args) -> (ok, value)`, remembered by a digest of the job and its arguments:
    for a seeded job (judge_job, claims.claim_job, shape_job) a pure function of them, and
    a class of sheets asks the same of most relations, claims and shape statements."""
    key = hashlib.blake2b(pickle.dumps((fn.__module__, fn.__qualname__, args)), digest_size=16).digest()
    cached = REMEMBERED.get(key)
    if cached is not None:
        return cached
    ok, value = run(fn, *args)
    if ok or value[0] not in LOAD_DEPENDENT:
        REMEMBERED.put(key, (ok, value))
    return ok, value


def judged(runner, lhs: Expr, rhs: Expr, world: World, options: CheckOptions) -> Verdict:
    """`judge_job` in the sandbox, remembered (sides, context, seed, trials)."""
    ok, value = remembered(runner.run, judge_job, lhs, rhs, world, options.seed, options.trials)
    return value if ok else unverified(*value)


def base_scope(doc: Document, parsed: dict, options: CheckOptions) -> Scope:
    exprs = [p.expr for p in parsed.values() if p.expr is not None]
    scope = Scope().with_families(meaning.sample_families(exprs))
    scope = replace(scope, samples=stacking.sample_count(exprs, scope.families, index_ranges(parsed)))
    for decl in options.where:
        scope = declare_text(scope, decl)
    return scope


def sum_bound_names(parsed: dict) -> frozenset:
    """Names used as the upper bound of some sum (`\\sum_{k=1}^{t}`): they are sizes."""
    return frozenset(s.name for p in parsed.values() if p.expr is not None for node in walk(p.expr)
                     if isinstance(node, Sum) and node.upper is not None
                     for s in walk(node.upper) if isinstance(s, Sym))


def index_ranges(parsed: dict) -> dict:
    """Where a sum states its bounds (`\\sum_{i=1}^n`), a bound-less `\\sum_i` elsewhere
    in the document ranges over the same set."""
    out = {}
    for p in parsed.values():
        if p.expr is None:
            continue
        for node in walk(p.expr):
            if isinstance(node, Sum) and node.upper is not None:
                out.setdefault(node.index, node.upper)
    return out


def judge_all(doc, rels, parsed, options, runner) -> tuple[list[Judged], list[World], list[Scope]]:
    """Judge in document order.  Context: everything defined and declared so far in the
    problem (a new part may redefine a name; a problem without declarations of its own
    continues the previous one); declarations hold for their whole part (a `\\dim`
    written after the formulas that use it still applies)."""
    base = base_scope(doc, parsed, options)
    world = Worlds(index_ranges(parsed), sum_bound_names(parsed))
    hoisted = hoist_declarations(rels)
    restating = restating_problems(hoisted)
    one_hot = one_hot_by_problem(doc)
    items, worlds, scopes = [], [], []
    scope, where, conditional, point = base, (object(), object()), set(), {}
    solutions, solved = stated_solutions(rels, parsed), {}  # ("shape" | "first", segment) -> Verdict
    arrows = {}  # segment -> index of its first relation under a stated assumption
    for rel in rels:
        if meaning.parse_assumption(rel.note) is not None:
            arrows.setdefault(rel.segment, rel.index)
    for rel in rels:
        if runner.spent():  # in-process work counts too: the rest is reported, not judged
            items.append(Judged(rel, unverified(*runner.spent())))
            worlds.append(world(scope))
            scopes.append(scope)
            continue
        if rel.problem != where[0]:
            # A problem that declares its own symbols starts afresh ("each problem restates
            # its notation"); one that declares nothing builds on the problems before it.
            if rel.problem in restating:
                scope = replace(base, one_hot=frozenset())
            scope = declare_all(scope, hoisted.get((rel.problem, None), ()))
            scope = scope.with_one_hot(one_hot.get(rel.problem, ()))
        if (rel.problem, rel.part) != where:
            where = (rel.problem, rel.part)
            scope = declare_all(replace(scope.without_inferred(), pinned={}, pinned_in=None), hoisted.get(where, ()))
            point = {}  # the last stated assumption of this part
            scope = meaning.infer_shapes(scope)
        scope = assume(scope, rel, parsed)
        point = scope.pinned or point
        here = pinned_for(scope, rel, parsed, arrows, point)
        solution = solutions.get(rel.segment)
        if solution is not None and rel.index <= solution.index:
            # the solution is a claim, not a definition: binding w to it would evaluate every
            # later formula of w at the optimum, where a wrong gradient can vanish too
            verdict = at_solution(here, rel, solution, solved, parsed, options, runner, world)
        else:
            after, verdict = step(here, rel, parsed, options, runner, world)
            scope = replace(after, pinned=scope.pinned, pinned_in=scope.pinned_in)
            verdict = conditions(rel, verdict, parsed, conditional)
        judged_in = scope if (here.pinned, here.pinned_in) == (scope.pinned, scope.pinned_in) else \
            replace(scope, pinned=here.pinned, pinned_in=here.pinned_in)  # the point `rel` was judged at
        items.append(Judged(rel, verdict))
        worlds.append(world(judged_in))
        scopes.append(judged_in)
    return items, worlds, scopes


def restating_problems(hoisted: dict) -> set:
    """The problems that declare again a name an earlier problem declared: they restate
    their notation and start afresh; the others build on what came before.  One pass in
    document order (a sheet may have thousands of problems)."""
    declared: dict = {}  # problem -> names, in document order
    for (problem, _), decls in hoisted.items():
        declared.setdefault(problem, set()).update(sym.name for sym, _ in decls)
    out, earlier = set(), set()
    for problem, mine in declared.items():
        if mine & earlier:
            out.add(problem)
        earlier |= mine
    return out


def one_hot_by_problem(doc) -> dict:
    """Names the prose of each problem calls one-hot."""
    lines = doc.text.split("\n")
    starts = sorted({(s.line, s.problem) for s in getattr(doc, "sections", ()) if s.part is None}
                    | {(1, None)}, key=lambda start: (start[0], start[1] is not None, start[1] or ""))
    out: dict = {}
    for k, (line, problem) in enumerate(starts):
        end = starts[k + 1][0] - 1 if k + 1 < len(starts) else len(lines)
        names = meaning.one_hot_names("\n".join(lines[line - 1:end]))
        if names:
            out.setdefault(problem, set()).update(names)
    return out


ORDERINGS = {">": "<", "<": ">", "\\ge": "\\le", "\\geq": "\\leq", "\\le": "\\ge", "\\leq": "\\geq"}
_BARE_NUMBER = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")


def hoist_declarations(rels) -> dict:
    """(problem, part) -> [(name, shape)]: `\\in`/`\\dim` declarations, and `T > 0`,
    `\\lambda \\ge 0` for a name declared nowhere else -- an ordering makes it a real
    number (`x \\ge 0` beside `x \\in \\mathbb{R}^d` is elementwise and changes nothing)."""
    out: dict = {}
    ordered = []
    for rel in rels:
        if rel.kind == "declaration" and rel.op in ("\\in", "dim"):
            shape = meaning.parse_space(rel.rhs, rel.op)
            if shape is not None:
                target = meaning.dim_target(rel.lhs) or rel.lhs
                out.setdefault((rel.problem, rel.part), []).extend((s, shape) for s in split_names(target))
        elif rel.op in ORDERINGS:
            name = rel.lhs if _BARE_NUMBER.match(rel.rhs) else rel.rhs if _BARE_NUMBER.match(rel.lhs) else None
            ordered += [((rel.problem, rel.part), s) for s in split_names(name or "") if not (s.sub or s.sup)]
    declared = {s.name for pairs in out.values() for s, _ in pairs}
    for where, sym in ordered:
        if sym.name not in declared:
            out.setdefault(where, []).append((sym, meaning.SCALAR))
    return out


def declare_all(scope: Scope, decls) -> Scope:
    for sym, shape in decls:
        scope = scope.declare(sym, shape)
    return scope


def conditions(rel: Relation, verdict: Verdict, parsed, conditional: set) -> Verdict:
    """`\\nabla_w L = 0` is a condition to solve, not an identity; what follows it in the
    same formula (`\\Rightarrow X^T X w = X^T y`), or follows an arrow with a condition
    (`\\xrightarrow{w, b=0}`), holds only under that condition: never refuted as an identity."""
    if stationarity(rel, parsed) is not None and verdict.status != VERIFIED:
        conditional.add(rel.segment)
        return unverified("condition", "a stationarity condition (an equation to solve), not an identity")
    if rel.note and "=" in rel.note and meaning.parse_assumption(rel.note) is None:
        conditional.add(rel.segment)
    if rel.segment in conditional and verdict.status == REFUTED:
        return unverified("conditional", "holds only under the condition stated before it in this formula")
    return verdict


def stationarity(rel: Relation, parsed) -> Sym | None:
    """The variable of `\\nabla_w L = 0` (a derivative set to zero), else None."""
    lhs, rhs = parsed.get(rel.lhs), parsed.get(rel.rhs)
    if lhs and rhs and isinstance(lhs.expr, Deriv) and rhs.expr == Num(0):
        return lhs.expr.wrt
    return None


def stated_solutions(rels, parsed) -> dict:
    """segment -> the relation `w = E` that solves a stationarity condition stated
    before it in the same formula: `\\nabla_w L = 0 \\Rightarrow X^T X w = X^T y
    \\Rightarrow w = (X^T X)^{-1} X^T y`."""
    out, condition = {}, {}
    for rel in rels:
        lhs, rhs = parsed.get(rel.lhs), parsed.get(rel.rhs)
        if rel.op != "=" or not (lhs and rhs and lhs.expr is not None and rhs.expr is not None):
            continue
        variable = stationarity(rel, parsed)
        if variable is not None:
            condition.setdefault(rel.segment, variable)
        elif (condition.get(rel.segment) == lhs.expr and rel.segment not in out
              and lhs.expr not in walk(rhs.expr)):
            out[rel.segment] = rel
    return out


def at_solution(scope: Scope, rel: Relation, solution: Relation, solved: dict, parsed, options, runner,
                world) -> Verdict:
    """Each equation of the formula, judged with the variable set to the stated solution:
    the gradient there must be zero, the normal equations must hold.  The solution itself
    must have the variable's shape, and stands or falls with the condition it solves (the
    formula's first equation)."""
    var, value = parsed[solution.lhs].expr, parsed[solution.rhs].expr
    shown = f"{solution.lhs.strip()} = {solution.rhs.strip()}"
    key = ("shape", rel.segment)
    if key not in solved:
        shape = scope.shape(var)
        ok, fit = (True, None) if shape is None else remembered(
            runner.run, shape_job, value, shape, world(scope), options.seed, options.trials)
        solved[key] = fit if ok else unverified(*fit)
    fit = solved[key]
    if rel.index == solution.index:
        if fit is not None and fit.status == REFUTED:
            return replace(fit, message=f"the solution does not have the shape of {solution.lhs.strip()}: {fit.message}")
        first = solved.get(("first", rel.segment))
        if first is None or first.status == UNVERIFIED:
            return unverified("solution", f"the condition this solves could not be judged at {shown}")
        if first.status == VERIFIED:
            return replace(first, method=f"solves the condition before it: {first.method}")
        return replace(first, message=f"does not solve the condition before it: {first.message}")
    lhs, rhs = parsed.get(rel.lhs), parsed.get(rel.rhs)
    if (fit is not None and fit.status != VERIFIED) or rel.op != "=" or not (lhs and rhs and lhs.expr and rhs.expr):
        _, verdict = step(scope, rel, parsed, options, runner, world)
        verdict = conditions(rel, verdict, parsed, {rel.segment})
        if fit is not None and fit.status == REFUTED and verdict.status != VERIFIED and verdict.reason != "condition":
            return unverified("conditional", f"an equation to solve; the stated solution {shown} does not have "
                                             f"the shape of {solution.lhs.strip()}")
        return verdict
    trial = scope.define(Definition(var, (), value, solution.line), (rel.problem, rel.part))
    left, right, _ = case_blind_variables(lhs.expr, rhs.expr, trial)
    verdict = guard_one_sided(judged(runner, left, right, world(trial), options), lhs.expr, rhs.expr, trial)
    first = solved.setdefault(("first", rel.segment), verdict)  # the formula's first equation
    if verdict.status == VERIFIED:
        return replace(verdict, method=f"{verdict.method}, at the stated solution {shown}")
    if first.status == REFUTED:  # the solution is what is wrong: refuted there, once
        return unverified("conditional", f"an equation to solve; the stated solution {shown} does not satisfy "
                                         "the first one")
    if verdict.status == REFUTED:  # a wrong step between a condition and the solution that satisfies it
        return replace(verdict, message=f"{verdict.message} (at the stated solution {shown}, "
                                        "which satisfies the first condition)")
    return verdict


def assume(scope: Scope, rel: Relation, parsed: dict) -> Scope:
    """`\\xrightarrow{w, b=0}` before a relation: it, the rest of its formula and the
    formulas after it in the part are worked at that point (every entry of w, of its
    declared twin W, and of b is 0) -- the forward pass of a zero-initialised network.  The
    first later formula that differentiates ends it: a gradient evaluated at a point where
    weights vanish would let wrong formulas pass.  (`pinned_for` has the exceptions.)"""
    assumption = meaning.parse_assumption(rel.note)
    if assumption is None:
        if scope.pinned and rel.segment != scope.pinned_in and differentiates(rel, parsed):
            return replace(scope, pinned={}, pinned_in=None)
        return scope
    names, value = assumption
    twins = {k[0] for k in scope.shapes if k[0].lower() in names}
    return replace(scope, pinned={**scope.pinned, **{n: value for n in set(names) | twins}}, pinned_in=rel.segment)


def differentiates(rel: Relation, parsed: dict) -> bool:
    return any(isinstance(n, Deriv) for t in (rel.lhs, rel.rhs) if parsed.get(t) and parsed[t].expr
               for n in walk(parsed[t].expr))


def pinned_for(scope: Scope, rel: Relation, parsed: dict, arrows: dict, point: dict) -> Scope:
    """The scope `rel` is judged in.  Formulas written before a later arrow that restates
    the assumption are general (the writer gives the general form, then specialises).
    After the assumption has ended, a formula that sets something equal to plain numbers
    (`(a^3 - y) a^2 = 0.5 \\times [0.5, 0.5, 0.5]^T`) is a value worked at the stated
    point, the only point the part names, so `point` (its last assumption) holds again."""
    if scope.pinned:
        if rel.segment != scope.pinned_in and rel.index < arrows.get(rel.segment, -1):
            return replace(scope, pinned={}, pinned_in=None)
        return scope
    sides = [parsed.get(t) for t in (rel.lhs, rel.rhs)]
    if point and all(p and p.expr for p in sides) and not differentiates(rel, parsed) \
            and any(is_constant(p.expr) for p in sides):
        return replace(scope, pinned=point)
    return scope


def is_constant(e: Expr) -> bool:
    """Numbers only: `0.5`, `[0.5, 0.5]^T`, `(0.5) \\times [0.5, 0.5, 0.5]^T`."""
    return all(not isinstance(n, Sym) for n in walk(e))


class Worlds:
    """The witness's view of each scope.  Scopes are immutable, so consecutive relations
    that do not change the scope share one World (a long run of claims costs no copies)."""

    def __init__(self, ranges: dict, dims: frozenset):
        self.ranges, self.dims = ranges, dims
        self.last: tuple | None = None  # (scope, world); holding the scope keeps `is` meaningful

    def __call__(self, scope: Scope) -> World:
        if self.last is None or self.last[0] is not scope:
            self.last = (scope, world_of(scope, self.ranges, self.dims))
        return self.last[1]


def world_of(scope: Scope, ranges: dict, dims: frozenset) -> World:
    return World(
        shapes=dict(scope.shapes),
        definitions={k: (d.params, d.body) for k, d in scope.definitions.items() if not isinstance(k, Sym)},
        fixed={k: d.body for k, d in scope.definitions.items() if isinstance(k, Sym) and not meaning.is_template(k)},
        templates=templates_of(scope),
        one_hot=scope.one_hot,
        families=scope.families,
        index_ranges=ranges,
        distributions=dict(scope.distributions),
        dims=dims | frozenset(scope.dims()),
        pinned=dict(scope.pinned),
    )


# ---------------------------------------------------------------------------- one relation
NOT_CHECKED = {  # relation operators we read but do not judge (yet): reason, message
    ":=": ("update", "an update rule (assignment), not a claim"),
    "\\approx": ("approximation", "approximate equality is not checked"),
}


def step(scope: Scope, rel: Relation, parsed, options, runner, world: Worlds):
    if rel.kind == "prose":
        return scope, unverified("prose", "text, no formula")
    if rel.op == "dim" and not split_names(meaning.dim_target(rel.lhs) or rel.lhs):
        return scope, shape_claim(scope, rel, parsed, options, runner, world)
    if rel.kind == "declaration":
        return declaration(scope, rel, parsed)
    if rel.kind == "expression" or not rel.rhs.strip():
        return scope, unverified("expression", "a formula with no relation to check")
    if rel.op in NOT_CHECKED:
        return scope, unverified(*NOT_CHECKED[rel.op])
    if rel.op != "=":
        return scope, unverified("unsupported-relation", f"relation {rel.op} is not checked")
    lhs, rhs = parsed.get(rel.lhs), parsed.get(rel.rhs)
    where = (rel.problem, rel.part)
    for side in (lhs, rhs):
        if side is None or side.expr is None:
            reason = side.reason if side is not None else "unparsed"
            message = side.message if side else "not parsed"
            target = meaning.definition_target(lhs.expr) if side is rhs and lhs and lhs.expr else None
            if target is not None and defines(scope, target[0], where):  # `S = \{(x^{(i)}, y^{(i)})\}`
                return scope, unverified("definition", f"defines {target[0]} (its right side is not read: {message})")
            return scope, unverified(reason or "unparsed", message)
    target = meaning.definition_target(lhs.expr)
    lhs_e, rhs_e, entry_note = matrix_entries(lhs.expr, rhs.expr, scope)
    if options.document and target is not None and defines(scope, target[0], where):
        sym, params = target
        if instance_of_template(scope, sym):  # `m_2 = …` under `m_t = \beta m_{t-1} + …`: a claim
            verdict = judge_claim(lhs_e, rhs_e, entry_note, scope, runner, world(scope), options)
            if verdict.status != UNVERIFIED:
                return scope, verdict
        verdict = restated(scope, sym, params, rhs_e, runner, world, options)
        if sym.sub or sym.sup:  # m_0 = 0, s_i = …: an object with indices, keyed by itself
            scope = define_fixed(scope, sym, rhs_e, rel.line)
        else:
            scope = scope.define(Definition(sym, params, rhs_e, rel.line), where)
        return meaning.infer_shapes(scope), verdict
    return scope, judge_claim(lhs_e, rhs_e, entry_note, scope, runner, world(scope), options)


def judge_claim(lhs: Expr, rhs: Expr, note: str, scope: Scope, runner, world: World, options) -> Verdict:
    """A claim between two parsed sides, as the report states it: the readings
    (`prepared`), the witness, the guards, and the stacking convention."""
    left, right, reading, chains = prepared(lhs, rhs, scope)
    reading = "; ".join(r for r in (note, reading) if r)
    if chains and left == right:  # the relation is the chain rule itself: nothing to evaluate
        return Verdict(VERIFIED, f"the chain rule through {', '.join(chains)}: each link depends on the "
                                 "last only through the next, by the definitions", "chain rule")
    verdict = judged(runner, left, right, world, options)
    if reading:
        verdict = replace(verdict, message=(verdict.message + " " if verdict.message else "") + f"(read {reading})")
    if chains and verdict.status == VERIFIED:
        verdict = replace(verdict, method=f"{verdict.method}; chain rule through {', '.join(chains)} "
                                          "(each link depends on the last only through the next, by the definitions)")
    if options.document:
        verdict = guard_hypothesis(guard_one_sided(verdict, lhs, rhs, scope), lhs, rhs, scope)
        verdict = guard_unknown_means(verdict, lhs, rhs, scope)
    if verdict.status == UNVERIFIED and verdict.reason == "unknown-shape":
        verdict = stacked(verdict, lhs, rhs, scope, runner, world, options)
    return verdict


def stacked(verdict: Verdict, lhs: Expr, rhs: Expr, scope: Scope, runner, world: World, options) -> Verdict:
    """`(\\hat{y} - y)^T X` with X undeclared beside per-sample ŷ, y: judged with the
    samples stacked as X's rows and as its columns (`symbolic.stacking`); verified when
    the rows reading holds, ambiguous when only the columns one does, refuted only when
    both fail."""
    tries = []
    for orientation, left, right, note in stacking.readings(lhs, rhs, scope, scope.samples):
        left, right, _, _ = prepared(left, right, scope)
        tried = guard_one_sided(judged(runner, left, right, world, options), left, right, scope)
        if tried.status == VERIFIED and orientation == stacking.ROWS:
            return replace(tried, message=f"(stacking convention: {note})")
        if tried.status == VERIFIED:  # a dropped transpose would pass so: not verified on this alone
            return unverified("ambiguous", f"holds only with {note} (the transposed convention); "
                                           "declare X's shape to decide")
        tries.append((tried, note))
    if tries and all(t.status == REFUTED for t, _ in tries):
        first, note = tries[0]
        return replace(first, message=f"{first.message} (with the samples stacked either way; {note})")
    return verdict


RESTATEMENT = "restatement"  # reason of a verified restated definition: a changed one is a new definition


def restated(scope: Scope, sym: Sym, params: tuple, body: Expr, runner, world, options) -> Verdict:
    """`\\mathcal{L} = \\frac{1}{2n} \\sum_i (…)^2` in an answer, where the question defined
    L: a restatement that agrees with the definition in force is verified against it
    (a miscopied loss is caught there); one that differs is a new definition, and the
    report says which line it departs from."""
    old = scope.definitions.get(sym.name) if not (sym.sub or sym.sup) else None
    if old is None or (old.params and params and old.params != params):
        return unverified("definition", f"defines {sym}")
    if old.body == body:
        return unverified("definition", f"defines {sym} (the same expression as line {old.line})")
    verdict = judged(runner, body, old.body, world(scope), options)
    if verdict.status == VERIFIED:
        return replace(verdict, reason=RESTATEMENT, message=f"restates the definition of {sym} at line {old.line}")
    if verdict.status == REFUTED:
        return unverified("definition", f"defines {sym} anew (it differs from line {old.line})")
    return unverified("definition", f"defines {sym}")


def prepared(lhs: Expr, rhs: Expr, scope: Scope):
    """The sides as the witness judges them: derivative variables read case-blind where
    the document means the twin (w' for W'), chain-rule products as the derivative they
    compose.  Returns (lhs, rhs, reading note, chain notes)."""
    left, right, reading = case_blind_variables(lhs, rhs, scope)
    try:
        (left, chain_l), (right, chain_r) = chain_rule.collapse(left, scope), chain_rule.collapse(right, scope)
    except RecursionError:  # in this process, not the sandbox: a deep tree is left as written
        return left, right, reading, []
    return left, right, reading, chain_l + chain_r


def defines(scope: Scope, sym: Sym, where) -> bool:
    from numeric.witness import FUNCTIONS

    if sym.name.rstrip("'") in FUNCTIONS:  # `\sigma(z) = …`, `\sigma'(z) = …`: claims about known functions
        return False
    if sym.sub or sym.sup:
        return sym not in scope.definitions
    return meaning.is_new_definition(scope, sym, where)


def instance_of_template(scope: Scope, sym: Sym) -> bool:
    """`m_2` where the document defined `m_t` for every t: its value is already fixed, so
    `m_2 = …` states what it is rather than defining it (when that can be decided)."""
    if not sym.sub and not sym.sup or meaning.is_template(sym):
        return False
    for pattern, _ in templates_of(scope).get(sym.name, ()):
        slots, values = pattern.sub + pattern.sup, sym.sub + sym.sup
        if (len(pattern.sub), len(pattern.sup)) == (len(sym.sub), len(sym.sup)) and all(
                isinstance(p, Sym) or p == v for p, v in zip(slots, values)):
            return True
    return False


def templates_of(scope: Scope) -> dict:
    out: dict = {}
    for k, d in scope.definitions.items():
        if isinstance(k, Sym) and meaning.is_template(k):
            out.setdefault(k.name, ())
            out[k.name] += ((k, d.body),)
    return out


def define_fixed(scope: Scope, sym: Sym, body: Expr, line: int) -> Scope:
    return replace(scope, definitions={**scope.definitions, sym: Definition(sym, (), body, line)})


DISTRIBUTIONS = {"N": "normal", "mathcal_N": "normal"}  # name of the law in the parsed IR -> family


def declaration(scope: Scope, rel: Relation, parsed: dict):
    if rel.op == "\\sim":
        return distribution(scope, rel, parsed)
    if rel.op in ("\\in", "dim"):
        target = meaning.dim_target(rel.lhs) or rel.lhs
        shape = meaning.parse_space(rel.rhs, rel.op)
        names = [n for n in split_names(target)]
        if shape is not None and names:
            for name in names:
                scope = scope.declare(name, shape)
            return scope, unverified("declaration", "declares " + ", ".join(map(str, names)))
    return scope, unverified("declaration", "a statement about sets, shapes or distributions")


def shape_claim(scope: Scope, rel: Relation, parsed, options, runner, world: Worlds) -> Verdict:
    """`A \\xrightarrow{\\dim} (d \\times h)`, `(1 \\times d) @ (d \\times 1) = \\text{Scalar}`:
    the shape of the left side, as stated on the right."""
    stated = meaning.SCALAR if shapes.is_scalar_word(rel.rhs) else meaning.parse_space(rel.rhs)
    if stated is None:
        return unverified("unsupported-notation", f"the shape {rel.rhs.strip()} is not understood")
    try:
        got = shapes.shape_arithmetic(rel.lhs, meaning.dim_of)
    except shapes.ShapeError as err:
        return Verdict(REFUTED, "shapes", "shape mismatch", str(err),
                       {"shapes": [[str(d) for d in s] for s in err.shapes]})
    if got is not None:
        if got == stated:
            return Verdict(VERIFIED, "exact shape arithmetic (sizes compared as written)", "shape")
        return Verdict(REFUTED, "shapes", "shape mismatch", "the product of the shapes is not the stated shape",
                       {"shapes": [[str(d) for d in got], [str(d) for d in stated]]})
    side = parsed.get(rel.lhs)
    if side is None or side.expr is None:
        return unverified(side.reason if side else "unparsed", side.message if side else "not parsed")
    stated, notes = sizes_of_vectors(stated, scope)
    expr, _, reading = case_blind_variables(side.expr, side.expr, scope)
    ok, value = remembered(runner.run, shape_job, expr, stated, world(scope), options.seed, options.trials)
    verdict = value if ok else unverified(*value)
    notes += [f"read {reading}"] if reading else []
    if not notes:
        return verdict
    if verdict.status == VERIFIED:
        return replace(verdict, method=f"{verdict.method} ({'; '.join(notes)})")
    return replace(verdict, message=" ".join([verdict.message] + [f"({n})" for n in notes]).strip())


def sizes_of_vectors(shape: tuple, scope: Scope) -> tuple[tuple, list[str]]:
    """`(h \\times d)` with h ∈ ℝ^H a vector and no size named h: h stands for its length."""
    out, notes = [], []
    for d in shape:
        declared = scope.shape(d) if isinstance(d, Sym) and d.name not in scope.dims() else None
        if declared is not None and declared[1] == Num(1) and declared[0] != Num(1):
            out.append(declared[0])
            notes.append(f"size {d} read as the length of {d}, {declared[0]}")
        else:
            out.append(d)
    return tuple(out), notes


def distribution(scope: Scope, rel: Relation, parsed: dict):
    """`\\epsilon \\sim \\mathcal{N}(0, \\sigma^2 I)`: a Gaussian with mean and (per-entry)
    variance, for expectations; other laws are read as statements only."""
    law = parsed.get(rel.rhs)
    names = split_names(rel.lhs)
    expr = law.expr if law is not None else None
    if isinstance(expr, Func) and DISTRIBUTIONS.get(expr.name) == "normal" and len(expr.args) == 2 and names:
        for sym in names:
            scope = replace(scope, distributions={**scope.distributions, sym.name: ("normal",) + expr.args})
        return scope, unverified("declaration", "declares " + ", ".join(map(str, names)) + " Gaussian")
    return scope, unverified("declaration", "a distribution statement")


_FUNCTION_LHS = re.compile(r"^\s*([A-Za-z])\s*\(.*\)\s*$")
_LAYER = re.compile(r"^(?P<base>.+?)\^\{?(?P<k>\d+)\}?$")


def split_names(target: str) -> list[Sym]:
    """`x, y` -> [x, y]; `W^1` -> W with layer index 1 (a declared superscript is an index)."""
    out = []
    for piece in target.split(","):
        piece = piece.strip()
        layer = _LAYER.match(piece)
        name = parse_name(layer.group("base") if layer else piece)
        if isinstance(name, Sym):
            out.append(replace(name, sup=(Num(int(layer.group("k"))),)) if layer else name)
    return out


MAX_NAME_CHARS = 80  # `\hat{y}^{(i)}`, `W^{[1]}`: a declared name is short


@functools.lru_cache(maxsize=4096)
def parse_name(text: str) -> Expr | None:
    """A would-be name, parsed in this process (no sandbox): so only short texts, once
    each -- a 2000-character declaration target would otherwise cost seconds, unbounded
    by the time budgets."""
    text = text.strip()
    return latex.parse(text).expr if len(text) <= MAX_NAME_CHARS else None


def layer_bases(rels) -> set[str]:
    """Bases declared with a numeric superscript (`\\dim(W^1)`): their superscripts are indices."""
    out = set()
    for rel in rels:
        if rel.kind == "declaration":
            for piece in (meaning.dim_target(rel.lhs) or rel.lhs).split(","):
                m = _LAYER.match(piece.strip())
                if m:
                    out.add(m.group("base").strip())
    return out


def declare_text(scope: Scope, decl: str) -> Scope:
    for op in ("\\in", "\\sim"):
        if op in decl:
            lhs, rhs = decl.split(op, 1)
            shape = meaning.parse_space(rhs, op)
            if shape is not None:
                for name in split_names(lhs):
                    scope = scope.declare(name, shape)
            return scope
    return scope


def case_blind_variables(lhs: Expr, rhs: Expr, scope: Scope):
    """`\\frac{\\partial L}{\\partial w'}` where the document defined u = W'^T h: a variable
    nothing depends on, whose case-twin something does, is read as that twin (and the
    report says so)."""
    from numeric.witness import substitute

    known = {k for k in scope.definitions if isinstance(k, str)} | {k[0] for k in scope.shapes}
    renames = {}
    for side in (lhs, rhs):
        for node in walk(side):
            if isinstance(node, Deriv) and node.wrt.name not in known:
                twins = sorted(n for n in known if n.lower() == node.wrt.name.lower() and n != node.wrt.name)
                if len(twins) == 1 and node.wrt.name not in meaning.closure(node.body, scope):
                    renames[node.wrt.name] = twins[0]
    if not renames:
        return lhs, rhs, ""
    mapping = {n: replace(n, name=renames[n.name]) for side in (lhs, rhs) for n in walk(side)
               if isinstance(n, Sym) and n.name in renames}
    reading = ", ".join(f"{a} as {b}" for a, b in sorted(renames.items()))
    return substitute(lhs, mapping), substitute(rhs, mapping), reading


def matrix_entries(lhs: Expr, rhs: Expr, scope: Scope):
    """`w_{21}^1` with W^1 declared (4 × n) and w unknown: an entry of W^1, in the one
    index order its shape allows (`symbolic.entries`)."""
    from numeric.witness import substitute

    known = {k if isinstance(k, str) else k.name for k in scope.definitions} | {k[0] for k in scope.shapes}
    mapping, notes = entries.readings((lhs, rhs), known, scope.shapes)
    if not mapping:
        return lhs, rhs, ""
    return substitute(lhs, mapping), substitute(rhs, mapping), "; ".join(notes)


def guard_one_sided(verdict: Verdict, lhs: Expr, rhs: Expr, scope: Scope) -> Verdict:
    """`\\sigma(z^3)(1-\\sigma(z^3)) = a(1-a)`: a name that the document never defines nor
    declares, on one side only, is shorthand the checker cannot resolve -- a random value
    for it is no counterexample (and sides that differ only a little because of it are
    not "numerically unstable": the name is the reason).  Indices (of the sides or of the
    definitions they use), functions and constants are not such names."""
    from numeric.witness import FUNCTIONS, INDEXED_LITERALS

    differ = verdict.status == REFUTED or verdict.reason == "numerically-unstable"
    if not differ or verdict.method == "shapes" or verdict.reason == CONSTANT_DIFFERENCE:
        return verdict  # shapes, or a difference that no value of any name can close
    left, right = meaning.closure(lhs, scope), meaning.closure(rhs, scope)
    known = {k for k in scope.definitions if isinstance(k, str)} | {k[0] for k in scope.shapes} | set(scope.pinned)
    bodies = [lhs, rhs] + [d.body for d in scope.definitions.values()]
    loose = (left ^ right) - known - _index_names(bodies) - scope.families - scope.dims() \
        - set(scope.one_hot) - set(scope.distributions)  # a random variable is bound by its expectation
    variables = {n.wrt.name for side in (lhs, rhs) for n in walk(side) if isinstance(n, Deriv)}
    loose = {n for n in loose if n.rstrip("'") not in FUNCTIONS and n not in INDEXED_LITERALS
             and n not in ("I", "e", "pi", "ones", "grad") and n not in variables}
    if loose:
        return unverified("undefined-symbol",
                          f"{', '.join(sorted(loose))} appear(s) on one side only and are never defined")
    return verdict


def guard_unknown_means(verdict: Verdict, lhs: Expr, rhs: Expr, scope: Scope) -> Verdict:
    """`\\mathbb{E}[m_t] = (1-\\beta_1) \\sum_k \\beta_1^{t-k} \\mathbb{E}[g]` after "every g_k
    has the same mean E[g]": with no law declared, the means of g_1, g_2, … and of a bare
    g are separate unknowns to the witness, and the prose that ties them is not read --
    a difference there is no counterexample."""
    if verdict.status != REFUTED or verdict.method == "shapes" or verdict.reason == CONSTANT_DIFFERENCE:
        return verdict
    if not any(isinstance(n, Expect) for side in (lhs, rhs) for n in walk(side)):
        return verdict
    seen: set = set()
    for side in (lhs, rhs):
        meaning.closure(side, scope, seen)
    bodies = [lhs, rhs] + [scope.definitions[k].body for k in seen if k in scope.definitions]
    forms = {(n.name, bool(n.sub or n.sup)) for b in bodies for n in walk(b) if isinstance(n, Sym)}
    known = _defined_names(scope) | {k[0] for k in scope.shapes} | set(scope.distributions)
    both = sorted(name for name, indexed in forms if not indexed and (name, True) in forms and name not in known)
    if both:
        return unverified("expectation", f"the means of {', '.join(both)} and of its indexed entries are "
                                         "separate unknowns here; the document relates them only in words")
    return verdict


def _index_names(exprs) -> set[str]:
    """Letters used as subscripts, superscripts or summation indices anywhere in `exprs`."""
    out = set()
    for e in exprs:
        for n in walk(e):
            if isinstance(n, Sym):
                out |= {s.name for x in n.sub + n.sup for s in walk(x) if isinstance(s, Sym)}
            elif isinstance(n, Sum):
                out.add(n.index)
    return out


def guard_hypothesis(verdict: Verdict, lhs: Expr, rhs: Expr, scope: Scope) -> Verdict:
    """`\\sum_k y_k = 1`, `\\mathbb{E}[\\epsilon] = 0`: a constant on one side and, on the
    other, only names the document never defines is a premise being stated, not a step."""
    if verdict.status != REFUTED or verdict.method == "shapes" or verdict.reason == CONSTANT_DIFFERENCE:
        return verdict
    from numeric.witness import FUNCTIONS

    for side, other in ((lhs, rhs), (rhs, lhs)):
        names = meaning.closure(side, scope)
        known_function = any(n.rstrip("'") in FUNCTIONS for n in names)
        if isinstance(other, Num) and not known_function and not (names & _defined_names(scope)):
            return unverified("hypothesis", "a premise about names the document does not define")
    return verdict


def _defined_names(scope: Scope) -> set[str]:
    return {k if isinstance(k, str) else k.name for k in scope.definitions}
