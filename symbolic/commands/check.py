"""`derivcheck check [DOC ...]`: judge every relation of answer sheets."""
from __future__ import annotations

import sys
from importlib import resources

BUILTIN = "answer_sheet_fa.txt"  # the built-in document (package data)


def register(sub) -> None:
    p = sub.add_parser("check", help="check every relation of answer sheets (default: the built-in sheet)")
    p.add_argument("documents", nargs="*", metavar="DOC", help=".md, .txt or .tex files (default: built-in sheet)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--where", action="append", default=[], metavar="LATEX",
                   help=r"extra declaration, e.g. 'X \in \mathbb{R}^{n \times d}' (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random points (default 0)")
    p.add_argument("--trials", type=int, default=6, help="random points per relation (default 6)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per parse and per relation (default 5)")
    p.add_argument("--memory-mb", type=int, default=2048, help="memory ceiling of the worker (default 2048)")
    p.add_argument("--no-sandbox", action="store_true", help="run in-process (debugging; no limits)")
    p.set_defaults(run=run)


def options_from(args):
    from symbolic.checker import CheckOptions
    from symbolic.cli import UsageError

    if args.trials < 3 or args.timeout <= 0 or args.memory_mb < 256:
        raise UsageError("--trials must be >= 3, --timeout > 0 and --memory-mb >= 256")
    return CheckOptions(trials=args.trials, seed=args.seed, timeout_s=args.timeout,
                        memory_mb=args.memory_mb, sandbox=not args.no_sandbox, where=tuple(args.where))


def load(path: str | None):
    from symbolic.cli import UsageError
    from symbolic.document import DocumentError, parse_document, read_document

    try:
        if path is None:
            text = resources.files("symbolic").joinpath("data", BUILTIN).read_text(encoding="utf-8")
            return parse_document(text, f"built-in:{BUILTIN}", "md")
        return read_document(path)
    except DocumentError as e:
        raise UsageError(f"{path}: {e}") from None
    except OSError as e:
        raise UsageError(f"{path}: {e.strerror or e}") from None


def run(args) -> int:
    from symbolic.checker import check_document
    from symbolic.report import FORMATS, to_text

    options = options_from(args)
    status = 0
    for path in args.documents or [None]:
        report = check_document(load(path), options)
        if args.format == "text":
            sys.stdout.write(to_text(report, color=sys.stdout.isatty()))
        else:
            sys.stdout.write(FORMATS[args.format](report))
        status = max(status, 1 if report.failed else 0)
    return status
