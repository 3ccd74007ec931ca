"""derivcheck: check derivations in ML answer sheets; prove and print the catalog."""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from symbolic import __version__
from symbolic.commands import COMMAND_MODULES


class UsageError(Exception):
    """Bad usage or unreadable input: one line on stderr, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="derivcheck", description=__doc__)
    p.add_argument("--version", action="version", version=f"derivcheck {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"symbolic.commands.{name}").register(sub)
    return p


def _error(message: str, code: int = 2) -> int:
    print(f"derivcheck: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse already printed its one-line usage error
        return int(exit_.code or 0)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except UsageError as e:
        return _error(str(e))
    except KeyboardInterrupt:
        return _error("interrupted", 130)
    except BrokenPipeError:  # `derivcheck check | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
