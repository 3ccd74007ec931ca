"""A derivation is data: ordered steps, each with the rule that justifies reaching it.

Entries live in `symbolic.catalog.*` modules and register themselves with
`@derivation`; nothing else has to change to add one.  `verify` proves every step
with SymPy (implemented below by the catalog's owner).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Step:
    """One row of a derivation.  `expr` is a SymPy object (scalar or matrix
    expression).  `rule` is printed beside it and names why the previous row turns
    into this one; `check(prev, this) -> bool` proves it (None: algebraic equality)."""

    expr: Any
    rule: str
    check: Callable[[Any, Any], bool] | None = None
    latex: str | None = None  # how to print `expr` when SymPy's printer is poor


@dataclass(frozen=True)
class Claim:
    """A result of the derivation as a document would state it, in LaTeX, with the
    declarations needed to read it.  Used to match relations of a checked document."""

    lhs: str
    rhs: str
    where: tuple[str, ...] = ()


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


CATALOG: dict[str, Callable[[], Derivation]] = {}


def derivation(builder: Callable[[], Derivation]) -> Callable[[], Derivation]:
    """Register a builder (called lazily: SymPy work happens only when asked).
    The entry's id is the builder's name with `_` replaced by `-`."""
    CATALOG[builder.__name__.replace("_", "-")] = builder
    return builder
