"""Registry of numeric cross-checks, keyed by catalog id.

A cross-check is an independent numpy computation (finite differences, Monte Carlo,
simulation, lstsq) compared against a formula written out in numpy -- never against
the SymPy result it checks.  Each check takes the formula under test as an argument,
so planted-error twins (`mutants`) run through exactly the same code and must fail.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class CheckResult:
    entry: str  # catalog id
    check: str  # short name of this check
    method: str  # e.g. "central finite differences", "Monte Carlo", "simulation", "lstsq"
    sample: str  # sample size or step, e.g. "h=1e-6" or "N=200000, seed=0"
    tolerance: str  # e.g. "rtol=1e-6" or "4 standard errors"
    observed: str  # the error actually seen, e.g. "max abs err 3.1e-10, max rel err 2.2e-9"
    passed: bool
    figures: dict[str, Any] = field(default_factory=dict)  # raw numbers for reports/plots


@dataclass(frozen=True)
class CrossCheck:
    entry: str
    name: str
    run: Callable[..., CheckResult]  # run(formula=None) -> CheckResult; None = the stated formula
    mutants: dict[str, Callable] = field(default_factory=dict)  # name -> wrong formula


CROSSCHECKS: dict[str, list[CrossCheck]] = {}


def crosscheck(entry: str, name: str, mutants: dict[str, Callable] | None = None):
    """Decorator: register `run(formula=None) -> CheckResult` for catalog id `entry`."""

    def register(run: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        CROSSCHECKS.setdefault(entry, []).append(CrossCheck(entry, name, run, dict(mutants or {})))
        return run

    return register


def select(entries: tuple[str, ...] | list[str] = ()) -> list[CrossCheck]:
    """The registered checks of `entries` (all when empty), in registration order.
    An id with no registered check raises KeyError naming it."""
    unknown = [e for e in entries if e not in CROSSCHECKS]
    if unknown:
        raise KeyError(", ".join(unknown))
    wanted = entries or tuple(CROSSCHECKS)
    return [check for entry in dict.fromkeys(wanted) for check in CROSSCHECKS[entry]]
