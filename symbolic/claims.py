"""Claims: which catalog results a document states, and whether it states them right.

A relation states a catalog claim when its left side -- or the left side that heads its
chain (`∂L/∂W = ∂L/∂u · ∂u/∂h · … = (ŷ−y)ᵀ xᵀ W'ᵀ`) -- is the claim's left side, read
loosely: names case-folded, every index a placeholder, ∇ and ∂ alike.  The relation's
own verdict decides: refuted -> the claim is `contradicted` and the report shows the
catalog's correct form; verified -> `established`; nothing -> `missing`.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from symbolic import latex
from numeric.witness import substitute
from symbolic.expr import Deriv, Expr, Func, Sym, walk
from symbolic.verdict import REFUTED, VERIFIED, judge


def loose_key(e: Expr | None) -> str | None:
    if e is None:
        return None
    if isinstance(e, Deriv):
        return f"d({loose_key(e.body)})/d({loose_key(e.wrt)})"
    if isinstance(e, Sym):
        return e.name.lower() + "_#" * len(e.sub) + "^#" * len(e.sup)
    if isinstance(e, Func) and e.args and all(isinstance(a, Sym) for a in e.args):
        return e.name.lower()  # L(w, b) is L
    return str(e).lower()


@lru_cache(maxsize=1)
def parsed_claims() -> tuple:
    """(entry id, problem, Claim, parsed lhs, parsed rhs), built once per process -- before
    the sandbox worker forks, so the worker inherits it (see `checker.Runner`)."""
    return tuple((entry_id, problem, claim, latex.parse(claim.lhs).expr, latex.parse(claim.rhs).expr)
                 for entry_id, problem, claim in catalog_claims())


def catalog_claims():
    """(entry id, problem, Claim) for every entry that states claims.  Catalog entries
    are built lazily; an entry that fails to build is skipped (its test fails instead)."""
    try:
        from symbolic.catalog import load
    except ImportError:
        return []
    out = []
    for entry_id, builder in sorted(load().items()):
        try:
            d = builder()
        except Exception:  # noqa: BLE001 -- a broken entry must not break checking documents
            continue
        out.extend((entry_id, d.problem, c) for c in d.claims)
    return out


def chain_heads(items) -> list[str]:
    """The left side that heads each relation's chain, in document order."""
    heads, prev = [], None
    for item in items:
        r = item.relation
        continues = prev is not None and prev.segment == r.segment and prev.rhs.strip() == r.lhs.strip()
        heads.append(heads[-1] if continues else r.lhs)
        prev = r
    return heads


def claim_job(head: Expr, rhs: Expr, world) -> bool:
    """Does the document's `head` evaluate to the catalog's `rhs`?  A sandbox job: the
    head and the world come from the document (`w = 10^{10^{10}} x` must not stall the
    checker's own process)."""
    return judge(head, rhs, world, trials=3).status == VERIFIED


def applies(claim, head: Expr, world, run=None, lhs: Expr | None = None, rhs: Expr | None = None) -> bool:
    """The claim is about this relation when, in the document's own context, the
    catalog's formula is what the relation's left side evaluates to (names matched
    case-blind to the document's, so `W'` in the catalog finds the sheet's `w'`)."""
    from dataclasses import replace as _replace

    rhs = latex.parse(claim.rhs).expr if rhs is None else rhs
    if rhs is None:
        return False
    doc_names = {n.name for n in walk(head) if isinstance(n, Sym)} | set(world.definitions) \
        | {k[0] for k in world.shapes}
    by_fold = {n.lower(): n for n in doc_names}
    mapping = {s: _replace(s, name=by_fold[s.name.lower()]) for s in walk(rhs)
               if isinstance(s, Sym) and s.name not in doc_names and s.name.lower() in by_fold}
    lhs = latex.parse(claim.lhs).expr if lhs is None else lhs
    if isinstance(lhs, Deriv) and isinstance(head, Deriv) and len(lhs.wrt.sub) == len(head.wrt.sub):
        # ∂L/∂w_k in the catalog, ∂L/∂w_1 in the document: k is 1 here
        mapping.update({k: v for k, v in zip(lhs.wrt.sub, head.wrt.sub) if isinstance(k, Sym) and k != v})
    rhs = substitute(rhs, mapping) if mapping else rhs
    known = {k[0] for k in world.shapes} | set(world.definitions)
    if isinstance(head, Deriv) and head.wrt.name not in known:
        # the sheet writes ∂L/∂w for the W it defined: read the variable case-blind too
        twin = next((n for n in sorted(known) if n.lower() == head.wrt.name.lower() and n != head.wrt.name), None)
        if twin:
            head = _replace(head, wrt=_replace(head.wrt, name=twin))
    if run is not None:  # `run(fn, *args) -> (ok, value)`: the checker's sandbox
        from symbolic.checker import remembered

        ok, value = remembered(run, claim_job, head, rhs, world)  # a class asks the same of each claim
        return ok and value
    try:
        return claim_job(head, rhs, world)
    except Exception:  # noqa: BLE001 -- a claim that cannot be evaluated here does not apply
        return False


def match_claims(items, worlds, parsed: dict, run=None):
    from symbolic.checker import ClaimResult, Judged

    heads = chain_heads(items)
    keys = [loose_key(_expr(parsed, h)) for h in heads]
    results, items = [], list(items)
    for entry_id, problem, claim, claim_lhs, claim_rhs in parsed_claims():
        want = loose_key(claim_lhs)
        hits = [k for k, key in enumerate(keys) if want is not None and key == want
                and items[k].relation.kind in ("relation", "definition")
                and applies(claim, _expr(parsed, heads[k]), worlds[k], run, claim_lhs, claim_rhs)]
        refuted = [k for k in hits if items[k].verdict.status == REFUTED]
        verified = [k for k in hits if items[k].verdict.status == VERIFIED]
        for k in refuted:
            items[k] = Judged(items[k].relation, replace(items[k].verdict, expected=f"{claim.lhs} = {claim.rhs}"))
        status = "contradicted" if refuted else "established" if verified else "missing"
        chosen = refuted or verified
        found_problem = items[chosen[0]].relation.problem if chosen else problem
        results.append(ClaimResult(f"{entry_id}", found_problem, status,
                                   tuple(sorted({items[k].relation.line for k in chosen}))))
    return merge(results), items


def merge(results):
    """One row per catalog entry: contradicted beats established beats missing."""
    from symbolic.checker import ClaimResult

    rank = {"contradicted": 2, "established": 1, "missing": 0}
    best: dict[str, ClaimResult] = {}
    for r in results:
        old = best.get(r.id)
        if old is None or rank[r.status] > rank[old.status]:
            best[r.id] = r
        elif rank[r.status] == rank[old.status]:
            best[r.id] = ClaimResult(r.id, old.problem, old.status, tuple(sorted(set(old.lines) | set(r.lines))))
    return [best[k] for k in sorted(best)]


def _expr(parsed: dict, text: str):
    p = parsed.get(text)
    return p.expr if p is not None else None


__all__ = ["match_claims", "loose_key", "catalog_claims"]
