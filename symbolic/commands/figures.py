"""`derivcheck figures [--out DIR] [--quick]`: write the answer sheet's figures as PNG.

matplotlib is the optional `plots` extra; without it the command prints one line
naming the install command and exits with status 2.
"""
from __future__ import annotations

from symbolic.cli import UsageError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "figures", help="write PNG figures of the sheet's claims (needs the 'plots' extra)",
        description="Run the numeric experiments and write one PNG per figure: sigmoid and ReLU "
                    "with their derivatives, Adam's bias, the noise-l2 Monte Carlo, complexity "
                    "timings, activation variance per init scheme, and more.")
    p.add_argument("--out", default="figures", metavar="DIR", help="output directory (default: figures)")
    p.add_argument("--quick", action="store_true", help="reduced experiment sizes (seconds instead of a minute)")
    p.set_defaults(run=run)


def run(args) -> int:
    try:
        import matplotlib  # noqa: F401  (optional extra)
    except ImportError:
        from numeric.figures import MISSING
        raise UsageError(MISSING) from None
    from numeric.figures import write_all

    write_all(args.out, quick=args.quick)
    return 0
