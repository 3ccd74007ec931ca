"""Mutation score: how many mechanical errors planted in verified relations the checker
refutes.  A measure of the checker itself (bench/mutation.py prints it; a test keeps a
floor), in the spirit of autograd's gradient checker being fed a derivative off by 0.1%.

Operators, one table (name -> function returning the mutated tree or None when it does
not apply): flip the sign of one term, drop a transpose, add a transpose, scale by 2,
shift an exponent, swap two indices.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from fractions import Fraction
from typing import Callable

from symbolic.expr import Add, Delta, Expr, Matrix, Mul, Num, Pow, Sym, Transpose, shape_lookup


def _rewrite_first(e: Expr, match: Callable[[Expr], Expr | None]) -> Expr | None:
    """Apply `match` to the first node (pre-order) where it returns a new tree."""
    new = match(e)
    if new is not None:
        return new
    for f in fields(e):
        value = getattr(e, f.name)
        if isinstance(value, Expr):
            sub = _rewrite_first(value, match)
            if sub is not None:
                return replace(e, **{f.name: sub})
        elif isinstance(value, tuple) and value and all(isinstance(x, Expr) for x in value):
            for k, x in enumerate(value):
                sub = _rewrite_first(x, match)
                if sub is not None:
                    return replace(e, **{f.name: value[:k] + (sub,) + value[k + 1:]})
    return None


def flip_sign(e):
    def match(node):
        if isinstance(node, Add) and len(node.terms) > 1:
            last = node.terms[-1]
            return Add(node.terms[:-1] + (Mul((Num(Fraction(-1)), last)),))
        return None
    return _rewrite_first(e, match)


def drop_transpose(e):
    return _rewrite_first(e, lambda n: n.arg if isinstance(n, Transpose) else None)


def add_transpose(e, shapes=None):
    """Transpose a matrix or vector factor (a transposed scalar would be no error at all)."""
    def match(node):
        if isinstance(node, Mul):
            for k, f in enumerate(node.factors):
                shape = shape_lookup(shapes or {}, f) if isinstance(f, Sym) else None
                if isinstance(f, Sym) and not f.sub and shape is not None and shape != (Num(1), Num(1)):
                    return Mul(node.factors[:k] + (Transpose(f),) + node.factors[k + 1:])
        return None
    return _rewrite_first(e, match)


def is_zero(e) -> bool:
    """`0`, `\\mathbf{0}`-like literals and matrices of zeros: scaling or negating them is no error."""
    if isinstance(e, Matrix):
        return all(is_zero(x) for row in e.rows for x in row)
    if isinstance(e, Transpose):
        return is_zero(e.arg)
    return e == Num(Fraction(0))


def scale_by_two(e):
    return None if is_zero(e) else Mul((Num(Fraction(2)), e))


def shift_exponent(e):
    def match(node):
        if isinstance(node, Pow) and isinstance(node.exp, Num) and node.exp.value not in (-1,):
            return Pow(node.base, Num(node.exp.value + 1))
        return None
    return _rewrite_first(e, match)


def swap_indices(e):
    def match(node):
        if isinstance(node, Sym) and len(node.sub) == 2 and node.sub[0] != node.sub[1]:
            return replace(node, sub=node.sub[::-1])
        if isinstance(node, Delta):
            return None
        if isinstance(node, Mul):  # x_i y_j -> x_j y_i
            subs = [f for f in node.factors if isinstance(f, Sym) and len(f.sub) == 1 and isinstance(f.sub[0], Sym)]
            letters = {f.sub[0] for f in subs}
            if len(letters) == 2:
                a, b = sorted(letters, key=str)
                swap = {a: b, b: a}
                return Mul(tuple(replace(f, sub=(swap[f.sub[0]],)) if f in subs else f for f in node.factors))
        return None
    return _rewrite_first(e, match)


OPERATORS: dict[str, Callable[[Expr], Expr | None]] = {
    "flip-sign": flip_sign,
    "drop-transpose": drop_transpose,
    "add-transpose": add_transpose,
    "scale-by-2": scale_by_two,
    "shift-exponent": shift_exponent,
    "swap-indices": swap_indices,
}


@dataclass(frozen=True)
class Mutant:
    line: int
    operator: str
    status: str  # the checker's verdict on the mutated relation
    reason: str = ""


def mutants_of(lhs: Expr, rhs: Expr, shapes: dict | None = None):
    """(operator, mutated rhs) for every operator that changes the right side."""
    for name, op in OPERATORS.items():
        new = op(rhs, shapes) if op is add_transpose else op(rhs)
        if new is not None and new != rhs:
            yield name, new


def score(results: list[Mutant]) -> dict:
    total = len(results)
    refuted = sum(1 for m in results if m.status == "refuted")
    verified = sum(1 for m in results if m.status == "verified")
    return {"mutants": total, "refuted": refuted, "verified": verified,
            "undecided": total - refuted - verified, "score": refuted / total if total else 0.0}


def mutation_run(doc, options) -> list[Mutant]:
    """Check `doc`, then plant every operator's error in each verified equation and judge
    the mutant in the same context (same definitions, shapes and seed)."""
    from symbolic.checker import RESTATEMENT, Runner, judge_all, judge_claim, matrix_entries, parse_all
    from symbolic.relation import relations

    rels = relations(doc)
    runner = Runner(options)
    try:
        parsed, _ = parse_all(rels, options, runner)
        items, worlds, scopes = judge_all(doc, rels, parsed, options, runner)
        out = []
        for item, world, scope in zip(items, worlds, scopes):
            rel = item.relation
            if item.verdict.status != "verified" or rel.op != "=" or item.verdict.reason == RESTATEMENT:
                continue  # a restated definition, changed, is a new definition: no error to catch
            lhs, rhs = parsed[rel.lhs].expr, parsed[rel.rhs].expr
            for name, mutated in mutants_of(lhs, rhs, world.shapes):
                left, right, note = matrix_entries(lhs, mutated, scope)
                verdict = judge_claim(left, right, note, scope, runner, world, options)  # as the checker judges it
                out.append(Mutant(rel.line, name, verdict.status, verdict.reason))
        return out
    finally:
        runner.close()
