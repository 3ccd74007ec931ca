"""The `derivcheck` command.  `main(argv) -> int` so tests can call it."""
from __future__ import annotations

import argparse
import sys

from symbolic import __version__


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="derivcheck", description=__doc__)
    p.add_argument("--version", action="version", version=f"derivcheck {__version__}")
    p.add_subparsers(dest="command")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
