"""The chain rule, read from the structure of a product of derivatives.

`\\frac{\\partial L}{\\partial W'} = \\frac{\\partial L}{\\partial \\hat{y}} \\times
\\frac{\\partial \\hat{y}}{\\partial u} \\times \\frac{\\partial u}{\\partial W'}` multiplies
Jacobians whose layout the writer never states, so evaluating the product entry by entry
is ambiguous.  The statement itself is not: it is the chain rule, and it holds when the
links connect (each denominator is the next numerator) and, by the document's
definitions, each numerator depends on the last variable only through the next link.
Then the product *is* the derivative of the first numerator by the last variable, and
is replaced by it, so the witness evaluates that one derivative (by finite differences
of the definitions), in whatever layout the other side is written.
"""
from __future__ import annotations

from symbolic.expr import Add, Deriv, Expr, Mul, Num, Sym, walk
from symbolic.meaning import Scope, closure, definitions_of


def links(factors) -> list[Deriv] | None:
    """The derivatives of a product that form a chain ∂A/∂B · ∂B/∂C · …, or None."""
    chain = [f for f in factors if not isinstance(f, Num)]
    if len(chain) < 2 or not all(isinstance(f, Deriv) and f.order == 1 and isinstance(f.body, Sym)
                                 for f in chain):
        return None
    if any(a.wrt != b.body for a, b in zip(chain, chain[1:])):
        return None
    return chain


def reached(e: Expr, scope: Scope, cut: frozenset = frozenset()) -> set[str]:
    """Every name `e` depends on through the definitions in scope, defined ones included
    (`closure` gives the undefined leaves; its `seen` set collects the defined names it
    expanded), not going through the names in `cut`."""
    seen = set(cut)
    leaves = closure(e, scope, seen)
    return leaves | {k.name if isinstance(k, Sym) else k for k in seen - set(cut)}


def depends(numerator: Sym, name: str, scope: Scope) -> bool:
    """`numerator` is defined and its definitions reach `name`."""
    if not definitions_of(numerator, scope) and numerator.name not in scope.definitions:
        return False  # what it depends on is unknown
    return name in reached(numerator, scope) - {numerator.name}


def only_through(numerator: Sym, via: Sym, target: Sym, scope: Scope) -> bool:
    """`numerator` depends on `via`, and reaches `target` only through it."""
    if not depends(numerator, via.name, scope):
        return False
    cut = frozenset({via.name, *definitions_of(via, scope)})
    return target.name not in reached(numerator, scope, cut)


def collapse(e: Expr, scope: Scope) -> tuple[Expr, list[str]]:
    """`e` with every valid chain-rule product replaced by the derivative it equals, and
    a note per replacement."""
    notes: list[str] = []

    def rebuild(node: Expr) -> Expr:
        if isinstance(node, Mul):
            chain = links(node.factors)
            if chain is not None and valid(chain, scope):
                whole = Deriv(chain[0].body, chain[-1].wrt, 1, "partial")
                scale = [f for f in node.factors if isinstance(f, Num)]
                notes.append(" → ".join(str(f.body) for f in chain) + f" → {chain[-1].wrt}")
                return Mul(tuple(scale) + (whole,)) if scale else whole
            return Mul(tuple(rebuild(f) for f in node.factors))
        if isinstance(node, Add):
            return Add(tuple(rebuild(t) for t in node.terms))
        return node

    if not any(isinstance(n, Mul) for n in walk(e)):
        return e, notes
    return rebuild(e), notes


def valid(chain: list[Deriv], scope: Scope) -> bool:
    """Every link depends on the next, the last on the variable, and none reaches the
    variable another way.  (A numerator that does not depend on the next link at all would
    pass the second test vacuously.)"""
    target = chain[-1].wrt
    return (depends(chain[-1].body, target.name, scope)
            and all(only_through(d.body, d.wrt, target, scope) for d in chain[:-1]))


__all__ = ["collapse", "links", "valid"]
