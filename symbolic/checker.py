"""The document checker: document -> relations -> meaning -> verdicts (-> claims).

`check_document` is a pure function of the document text and the options (seeded
randomness, no global state), so it can be shipped to a pool of workers as is.  The
untrusted steps -- parsing a side and judging a relation -- run in `symbolic.sandbox`
under a time and memory limit; anything that escapes becomes a reason code.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from numeric.witness import World
from symbolic import latex, meaning
from symbolic.document import Document
from symbolic.expr import Expr, Func, Num, Sum, Sym, walk
from symbolic.meaning import Definition, Scope
from symbolic.relation import Relation, relations
from symbolic.verdict import REFUTED, UNVERIFIED, VERIFIED, Verdict, judge, unverified


@dataclass(frozen=True)
class CheckOptions:
    """trials: random points per relation; seed: makes every report reproducible;
    timeout_s / memory_mb: the sandbox budget per parse and per relation;
    where: extra declarations (LaTeX, e.g. `X \\in \\mathbb{R}^{n \\times d}`)."""

    trials: int = 6
    seed: int = 0
    timeout_s: float = 5.0
    memory_mb: int = 2048
    sandbox: bool = True
    where: tuple[str, ...] = ()
    max_document_bytes: int = 2_000_000


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


class Runner:
    """Runs jobs in the sandbox (or inline); turns a failed job into a reason."""

    def __init__(self, options: CheckOptions):
        self.options = options
        self.box = None
        if options.sandbox:
            from symbolic.sandbox import Limits, Sandbox

            self.box = Sandbox(Limits(timeout_s=options.timeout_s, memory_mb=options.memory_mb))

    def run(self, fn, *args):
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
        items = judge_all(doc, rels, parsed, options, runner)
    finally:
        runner.close()
    from symbolic.claims import match_claims

    claims, items = match_claims(items, parsed)
    return Report(doc.name, tuple(items), tuple(claims), time.perf_counter() - start,
                  {"parse_seconds": parse_seconds})


def parse_all(rels, options, runner):
    texts = [t for r in rels if r.kind in PARSED_KINDS for t in (r.lhs, r.rhs) if t.strip()]
    texts += list(options.where)
    notation = latex.scan_notation(texts)
    parsed, seconds = {}, []
    for text in texts:
        if text in parsed:
            continue
        t0 = time.perf_counter()
        ok, value = runner.run(parse_job, text, notation)
        seconds.append(time.perf_counter() - t0)
        parsed[text] = value if ok else latex.Parsed(None, value[0], value[1])
    return parsed, seconds


def base_scope(doc: Document, parsed: dict, options: CheckOptions) -> Scope:
    exprs = [p.expr for p in parsed.values() if p.expr is not None]
    scope = Scope().with_families(meaning.sample_families(exprs))
    scope = scope.with_one_hot(meaning.one_hot_names(getattr(doc, "text", "")))
    for decl in options.where:
        scope = declare_text(scope, decl)
    return scope


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


def judge_all(doc, rels, parsed, options, runner) -> list[Judged]:
    base = base_scope(doc, parsed, options)
    ranges = index_ranges(parsed)
    dims = frozenset(s.name for u in ranges.values() for s in walk(u) if isinstance(s, Sym))
    scope, problem, items = base, object(), []
    for rel in rels:
        if rel.problem != problem:  # each problem is its own context
            scope, problem = base, rel.problem
        scope, verdict = step(scope, rel, parsed, options, runner, ranges, dims)
        items.append(Judged(rel, verdict))
    return items


def world_of(scope: Scope, ranges: dict, dims: frozenset) -> World:
    return World(
        shapes=dict(scope.shapes),
        definitions={k: (d.params, d.body) for k, d in scope.definitions.items() if not isinstance(k, Sym)},
        fixed={k: d.body for k, d in scope.definitions.items() if isinstance(k, Sym)},
        one_hot=scope.one_hot,
        families=scope.families,
        index_ranges=ranges,
        dims=dims | frozenset(scope.dims()),
    )


# ---------------------------------------------------------------------------- one relation
NOT_CHECKED = {  # relation operators we read but do not judge (yet): reason, message
    ":=": ("update", "an update rule (assignment), not a claim"),
    "\\sim": ("declaration", "a distribution statement"),
    "\\approx": ("approximation", "approximate equality is not checked"),
}


def step(scope: Scope, rel: Relation, parsed, options, runner, ranges, dims):
    if rel.kind == "prose":
        return scope, unverified("prose", "text, no formula")
    if rel.kind == "declaration":
        return declaration(scope, rel)
    if rel.kind == "expression" or not rel.rhs.strip():
        return scope, unverified("expression", "a formula with no relation to check")
    if rel.op in NOT_CHECKED:
        return scope, unverified(*NOT_CHECKED[rel.op])
    if rel.op != "=":
        return scope, unverified("unsupported-relation", f"relation {rel.op} is not checked")
    lhs, rhs = parsed.get(rel.lhs), parsed.get(rel.rhs)
    for side in (lhs, rhs):
        if side is None or side.expr is None:
            reason = side.reason if side is not None else "unparsed"
            return scope, unverified(reason or "unparsed", side.message if side else "not parsed")
    where = (rel.problem, rel.part)
    target = meaning.definition_target(lhs.expr)
    if target is not None and defines(scope, target[0], where):
        sym, params = target
        key = sym if (sym.sub or sym.sup) else sym.name
        scope = scope.define(Definition(sym, params, rhs.expr, rel.line), where) if not (sym.sub or sym.sup) \
            else define_fixed(scope, sym, rhs.expr, rel.line, where)
        return scope, unverified("definition", f"defines {key}")
    ok, value = runner.run(judge_job, lhs.expr, rhs.expr, world_of(scope, ranges, dims), options.seed, options.trials)
    verdict = value if ok else unverified(*value)
    return scope, guard_dependencies(verdict, lhs.expr, rhs.expr, scope)


def defines(scope: Scope, sym: Sym, where) -> bool:
    from numeric.witness import FUNCTIONS

    if sym.name in FUNCTIONS:  # `\sigma(z) = …` is a claim about a known function
        return False
    if sym.sub or sym.sup:
        return sym not in scope.definitions
    return meaning.is_new_definition(scope, sym, where)


def define_fixed(scope: Scope, sym: Sym, body: Expr, line: int, where) -> Scope:
    from dataclasses import replace

    return replace(scope, definitions={**scope.definitions, sym: Definition(sym, (), body, line)})


def declaration(scope: Scope, rel: Relation):
    if rel.op in ("\\in", "dim"):
        target = meaning.dim_target(rel.lhs) or rel.lhs
        shape = meaning.parse_space(rel.rhs)
        names = [n for n in split_names(target)]
        if shape is not None and names:
            for name in names:
                scope = scope.declare(name, shape)
            return scope, unverified("declaration", "declares " + ", ".join(map(str, names)))
    return scope, unverified("declaration", "a statement about sets, shapes or distributions")


def split_names(target: str) -> list[Sym]:
    out = []
    for piece in target.split(","):
        p = latex.parse(piece.strip())
        if isinstance(p.expr, Sym):
            out.append(p.expr)
    return out


def declare_text(scope: Scope, decl: str) -> Scope:
    for op in ("\\in", "\\sim"):
        if op in decl:
            lhs, rhs = decl.split(op, 1)
            shape = meaning.parse_space(rhs)
            if shape is not None:
                for name in split_names(lhs):
                    scope = scope.declare(name, shape)
            return scope
    return scope


def guard_dependencies(verdict: Verdict, lhs: Expr, rhs: Expr, scope: Scope) -> Verdict:
    """A derivative of a symbol the document never declares nor defines treats it as a
    constant; if that is what makes the relation fail, say so instead of refuting
    (`\\partial/\\partial u_j \\log \\sum_l e^{z_l}` with z never tied to u)."""
    if verdict.status != REFUTED or verdict.method == "shapes":
        return verdict
    from symbolic.expr import Deriv

    known = set(scope.definitions) | {k[0] for k in scope.shapes} | scope.families
    loose = set()
    for side in (lhs, rhs):
        for node in walk(side):
            if isinstance(node, Deriv):
                names = {s.name for s in walk(node.body) if isinstance(s, Sym)}
                loose |= {n for n in names if n not in known and n != node.wrt.name}
    index_like = {s.name for side in (lhs, rhs) for n in walk(side) if isinstance(n, Sym) for s in n.sub + n.sup if isinstance(s, Sym)}
    index_like |= {n.index for side in (lhs, rhs) for n in walk(side) if isinstance(n, Sum)}
    loose -= index_like
    if loose:
        return unverified("undeclared-dependency",
                          f"differs if {', '.join(sorted(loose))} do not depend on the variable; "
                          "declare or define them to decide")
    return verdict
