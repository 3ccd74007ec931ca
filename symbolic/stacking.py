"""The stacking convention: per-sample names as vectors, a capital as the data matrix.

A sheet that declares one sample (`x \\in \\mathbb{R}^d`, `y \\in \\mathbb{R}`, with
`\\hat{y} = \\sum_j w_j x_j + b` and a loss over `y^{(i)}`) then writes the batch form
`\\frac{1}{n} (\\hat{y} - y)^T X`, where X was never declared: X stacks the samples
`x^{(i)}` and `\\hat{y}`, y stack theirs.  Whether the samples are X's rows or its columns
is a convention both ways are in use, so both are tried: a relation is verified when it
holds with the samples as rows (the design matrix of most texts), left undecided when it
holds only with them as columns (a dropped transpose would pass that way), and refuted
only when it fails under both.

Read so: a bare capital with no shape or definition whose lower-case twin is a sample
family declared as a vector (`x^{(i)}`, x ∈ ℝ^d), and, beside it, the bare sample families declared as
scalars (or not at all).  The number of samples is the one upper bound the document
gives its sample index (`\\sum_{i=1}^n`).
"""
from __future__ import annotations

from symbolic.entries import bound_walk
from symbolic.expr import Expr, Func, Num, Sym, walk
from symbolic.meaning import Scope

ROWS, COLUMNS = "rows", "columns"
_R, _C = Sym("stack_r"), Sym("stack_c")  # index names no document writes


def sample_count(exprs, families: frozenset, ranges: dict) -> Expr | None:
    """The one upper bound of the letters that index samples (`y^{(i)}` under
    `\\sum_{i=1}^n`, or a bound-less `\\sum_i` where the document bounds i elsewhere)."""
    bounds = set()
    for e in exprs:
        for sym, local in bound_walk(e, {}):
            if sym.name in families:
                bounds |= {local.get(s.name, ranges.get(s.name)) for s in sym.sup
                           if isinstance(s, Sym) and not s.sub and not s.sup}
    bounds.discard(None)
    return bounds.pop() if len(bounds) == 1 else None


def matrices(sides, scope: Scope) -> dict[Sym, tuple[str, Expr]]:
    """Capital -> (its samples' family, their length) for the capitals read as data."""
    out = {}
    for n in (n for side in sides for n in walk(side)):
        if not (isinstance(n, Sym) and n.name[:1].isupper() and not n.sub and not n.sup):
            continue
        twin = n.name.lower()
        shape = scope.shape(Sym(twin))
        if (scope.shape(n) is None and n.name not in scope.definitions and twin in scope.families
                and shape is not None and shape[1] == Num(1) and shape[0] != Num(1)):
            out[n] = (twin, shape[0])
    return out


def vectors(sides, scope: Scope) -> set[Sym]:
    """Bare sample families that are one number per sample."""
    return {n for side in sides for n in walk(side)
            if isinstance(n, Sym) and not n.sub and not n.sup and n.name in scope.families
            and scope.shape(n) in (None, (Num(1), Num(1)))}


def readings(lhs: Expr, rhs: Expr, scope: Scope, samples: Expr | None):
    """(orientation, lhs, rhs, note) for each way of stacking, or nothing to stack."""
    from numeric.witness import substitute

    data = matrices((lhs, rhs), scope)
    if samples is None or not data:
        return []
    one = Num(1)
    stacked = {v: Func("colvec", (Sym(v.name, (), (_R,)), _R, one, samples)) for v in vectors((lhs, rhs), scope)}
    out = []
    for orientation in (ROWS, COLUMNS):
        mapping = dict(stacked)
        for m, (twin, length) in data.items():
            if orientation == ROWS:  # row i is x^{(i)T}
                mapping[m] = Func("array", (Sym(twin, (_C,), (_R,)), _R, one, samples, _C, one, length))
            else:  # column i is x^{(i)}
                mapping[m] = Func("array", (Sym(twin, (_R,), (_C,)), _R, one, length, _C, one, samples))
        names = ", ".join(sorted(str(m) for m in data))
        stacks = ", ".join(sorted(v.name for v in stacked))
        twin = next(iter(data.values()))[0]
        how = f"{twin}^(i)ᵀ as rows" if orientation == ROWS else f"{twin}^(i) as columns"
        note = f"{names} read as the samples {how}" + (f", {stacks} as the vector of the samples" if stacks else "")
        out.append((orientation, substitute(lhs, mapping), substitute(rhs, mapping), note))
    return out
