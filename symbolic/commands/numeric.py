"""`derivcheck numeric [ID ...]`: run the numeric cross-checks, one row per check."""
from __future__ import annotations

from symbolic.cli import UsageError

COLUMNS = ("entry", "check", "method", "sample / step", "tolerance", "observed", "result")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "numeric", help="run the numeric cross-checks (finite differences, Monte Carlo, simulation)",
        description="Cross-check catalog entries numerically, independently of SymPy. "
                    "Exit status 1 if any check fails.")
    p.add_argument("ids", nargs="*", metavar="ID", help="catalog ids (default: all)")
    p.add_argument("--mutants", action="store_true",
                   help="also run each planted-error twin; exit 1 if one is not rejected")
    p.add_argument("--experiments", action="store_true",
                   help="also run the sheet's experiments (timings, simulations) and print their figures")
    p.add_argument("--quick", action="store_true", help="with --experiments: reduced sizes (seconds, not minutes)")
    p.set_defaults(run=run)


def run(args) -> int:
    import numeric.crosschecks  # noqa: F401  (registers the checks; numpy loads here)
    from numeric.crosscheck import CROSSCHECKS, select

    try:
        checks = select(tuple(args.ids))
    except KeyError as e:
        raise UsageError(f"no numeric cross-check for {e.args[0]} (known: {', '.join(CROSSCHECKS)})")
    rows, ok = [], True
    for check in checks:
        result = check.run()
        ok &= result.passed
        rows.append(_row(result, "PASS" if result.passed else "FAIL"))
        if args.mutants:
            for name, formula in check.mutants.items():
                mutant = check.run(formula)
                ok &= not mutant.passed
                verdict = "rejected" if not mutant.passed else "ACCEPTED"
                rows.append(_row(mutant, verdict, f"  mutant: {name}"))
    _print_table(rows)
    if args.experiments:
        _experiments(args.quick)
    return 0 if ok else 1


def _experiments(quick: bool) -> None:
    """The figures behind the sheet-wide entries (issue 4), each with its sizes and seed."""
    from numeric.experiments import EXPERIMENTS, run, summary

    for name in EXPERIMENTS:
        print(f"\n## {name}")
        print(summary(name, run(name, quick=quick)))


def _row(result, verdict: str, check: str | None = None) -> tuple[str, ...]:
    return (result.entry, check or result.check, result.method, result.sample,
            result.tolerance, result.observed, verdict)


def _print_table(rows) -> None:
    widths = [max(len(r[i]) for r in (COLUMNS, *rows)) for i in range(len(COLUMNS) - 1)]
    for r in (COLUMNS, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[-1])
