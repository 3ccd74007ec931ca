"""Entries of a declared matrix written in lower case: `w_{21}^1` for an entry of `W^1`.

Layer-by-layer answers write a product `W^1 x` out entry by entry (`w_{11}^1 x_1 +
w_{21}^1 x_2 + \\dots + w_{n1}^1 x_n`) and never say which index of `w_{kj}` is the row.
The declared shape decides it when only one order fits: with `\\dim(W^1) = (4 \\times n)`,
a first index that runs to n cannot be a row, so `w_{kj}^1` is entry (j, k).  When both
orders fit (a square matrix, or indices too small to tell) nothing is read, and the
lower-case name stays an unknown of its own.

An index fits a size when it is a number no larger than a numeric size, any number
against a symbolic size (the writer's `w_{21}` says n ≥ 2), the size itself (`w_{n1}`
against n), or a summation index whose upper bound fits.
"""
from __future__ import annotations

from symbolic.expr import Expr, Func, Num, Sum, Sym, shape_lookup, walk

ROW_MAJOR, TRANSPOSED = "row-major", "transposed"
SPANS = {"colvec": (1,), "rowvec": (1,), "array": (1, 4)}  # positions of (index, lower, upper) in the args


def bound_walk(e: Expr, bounds: dict):
    """(Sym, {index: upper bound of the sum or vector that binds it}) for every symbol."""
    if isinstance(e, Sym):
        yield e, bounds
        return
    if isinstance(e, Sum) and e.upper is not None:
        bounds = {**bounds, e.index: e.upper}
    elif isinstance(e, Func) and e.name in SPANS:  # `\\vdots` rows and `\\dots` columns
        bounds = {**bounds, **{e.args[k].name: e.args[k + 2] for k in SPANS[e.name]}}
    for child in e.children():
        yield from bound_walk(child, bounds)


def occurrences(e: Expr, name: str):
    """(Sym, {index: upper bound}) for every `name_{ab}…` in `e`, with the bounds of the
    sums around it."""
    return [(s, b) for s, b in bound_walk(e, {}) if s.name == name and len(s.sub) == 2]


def fits(index: Expr, size: Expr, bounds: dict) -> bool:
    if isinstance(index, Num):
        return not isinstance(size, Num) or 1 <= index.value <= size.value
    if index == size:
        return True
    if isinstance(index, Sym) and not index.sub and not index.sup and bounds.get(index.name) is not None:
        return fits(bounds[index.name], size, {})
    return False


def order(uses: list, shape: tuple) -> str | None:
    """The one index order in which every use fits `shape`, or None."""
    rows, cols = shape
    orders = {ROW_MAJOR: (rows, cols), TRANSPOSED: (cols, rows)}
    good = [o for o, (first, second) in orders.items()
            if all(fits(s.sub[0], first, b) and fits(s.sub[1], second, b) for s, b in uses)]
    return good[0] if len(good) == 1 else None


def matrix_of(name: str, sup: tuple, shapes: dict) -> Sym | None:
    """The declared matrix `name` (lower case) can be an entry of: its upper-case twin
    with the same superscript and a declared two-dimensional shape."""
    twin = Sym(name.upper(), (), sup)
    shape = shape_lookup(shapes, twin)
    if name.upper() == name or shape is None or Num(1) in shape:
        return None
    return twin


def readings(sides: tuple, known: set, shapes: dict) -> tuple[dict, list[str]]:
    """{lower-case Sym: entry Sym of the twin} for the sides, and a note per matrix."""
    mapping, notes = {}, []
    names = {n.name for side in sides for n in walk(side)
             if isinstance(n, Sym) and len(n.sub) == 2 and n.name not in known}
    for name in sorted(names):
        uses = [u for side in sides for u in occurrences(side, name)]
        for sup in sorted({s.sup for s, _ in uses}, key=str):
            twin = matrix_of(name, sup, shapes)
            group = [u for u in uses if u[0].sup == sup]
            found = order(group, shape_lookup(shapes, twin)) if twin is not None else None
            if found is None:
                continue
            for s, _ in group:
                sub = s.sub if found == ROW_MAJOR else s.sub[::-1]
                mapping[s] = Sym(twin.name, sub, sup)
            rows, cols = shape_lookup(shapes, twin)
            which = "(a, b)" if found == ROW_MAJOR else "(b, a)"
            notes.append(f"{name}_{{ab}} as entry {which} of {twin}, the only order that fits its {rows} × {cols}")
    return mapping, notes
