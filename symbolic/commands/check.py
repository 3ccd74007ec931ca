"""`derivcheck check [DOC_OR_DIR ...]`: judge every relation of answer sheets.

One document (or none: the built-in sheet) is checked in this process; an unreadable
one is a usage error (exit 2).  Several documents, or a folder, are checked in
`--jobs` worker processes (symbolic.batch); an unreadable one is reported in its row
and on stderr, and the others go on.  Exit status: 0 all clean; 1 something refuted or
contradicted, or a document of a batch that could not be checked; 2 bad usage.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

SUMMARY_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl"}


def register(sub) -> None:
    p = sub.add_parser("check", help="check every relation of answer sheets (default: the built-in sheet)")
    p.add_argument("documents", nargs="*", metavar="DOC_OR_DIR",
                   help=".md, .txt or .tex files, or folders to search for them (default: built-in sheet)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                   help="per-document report on stdout (default text)")
    p.add_argument("--where", action="append", default=[], metavar="LATEX",
                   help=r"extra declaration, e.g. 'X \in \mathbb{R}^{n \times d}' (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random points (default 0)")
    p.add_argument("--trials", type=int, default=6, help="random points per relation (default 6)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per parse and per relation (default 5)")
    p.add_argument("--memory-mb", type=int, default=2048, help="memory ceiling of the worker (default 2048)")
    p.add_argument("--document-timeout", type=float, default=300.0, metavar="S",
                   help="wall budget per document; relations not judged by then are "
                        "'unverified: timeout' (default 300)")
    p.add_argument("--max-bytes", type=int, default=2_000_000, metavar="N",
                   help="refuse larger documents (default 2000000)")
    p.add_argument("--no-sandbox", action="store_true", help="run in-process (debugging; no limits)")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="worker processes for several documents (default: number of cores)")
    p.add_argument("--summary", choices=("csv", "jsonl"), default=None,
                   help="one row per document; on stdout instead of the reports, unless --summary-out")
    p.add_argument("--summary-out", default=None, metavar="FILE",
                   help="write the summary to FILE (format from --summary, else from .csv/.jsonl)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="also write one Markdown report per document into DIR (NAME.report.md)")
    p.set_defaults(run=run)


def options_from(args):
    from symbolic.checker import CheckOptions
    from symbolic.cli import UsageError

    if args.trials < 3 or args.timeout <= 0 or args.memory_mb < 256:
        raise UsageError("--trials must be >= 3, --timeout > 0 and --memory-mb >= 256")
    if args.document_timeout <= 0 or args.max_bytes < 1:
        raise UsageError("--document-timeout must be > 0 and --max-bytes >= 1")
    return CheckOptions(trials=args.trials, seed=args.seed, timeout_s=args.timeout,
                        memory_mb=args.memory_mb, sandbox=not args.no_sandbox, where=tuple(args.where),
                        max_document_bytes=args.max_bytes, document_timeout_s=args.document_timeout)


def load(path: str | None, max_bytes: int | None = None):
    """The document at `path` (None: the built-in sheet); UsageError if unreadable."""
    from symbolic.batch import BUILTIN_PATH, Unreadable, load_document
    from symbolic.cli import UsageError

    try:
        return load_document(BUILTIN_PATH if path is None else path, max_bytes)
    except Unreadable as e:
        raise UsageError(str(e)) from None


# ---------------------------------------------------------------------------- the command
def run(args) -> int:
    from symbolic.batch import run_batch

    options = options_from(args)
    jobs = jobs_from(args)
    paths, single = documents(args.documents)
    summary = summary_format(args)
    out_dir = prepare_out(args.out)
    progress = Progress.maybe(len(paths))
    sink = Sink(args.format, reports_on_stdout=not (summary and not args.summary_out),
                out_dir=out_dir, paths=paths, progress=progress)
    try:
        results = [check_single(paths[0], options)] if single else \
            run_batch(paths, options, jobs, on_done=progress.update if progress else None)
        rows = [sink.take(checked) for checked in results]
    finally:
        if progress:
            progress.close()
    write_summary(rows, summary, args.summary_out)
    for row in rows:
        if row.error:
            print(f"derivcheck: warning: {row.error}", file=sys.stderr)
    return 1 if any(row.failed for row in rows) else 0


def jobs_from(args) -> int:
    from symbolic.batch import default_jobs
    from symbolic.cli import UsageError

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    return args.jobs or default_jobs()


def documents(args: list[str]) -> tuple[list[str], bool]:
    """(paths, single): one file given (or none) is checked in this process."""
    from symbolic.batch import BUILTIN_PATH, expand
    from symbolic.cli import UsageError

    if not args:
        return [BUILTIN_PATH], True
    if len(args) == 1 and not os.path.isdir(args[0]):
        return list(args), True
    paths = expand(args)
    if not paths:
        raise UsageError(f"no .md, .txt or .tex documents in {', '.join(args)}")
    return paths, False


def check_single(path: str, options):
    from symbolic.batch import Checked, row_of
    from symbolic.checker import check_document

    report = check_document(load(path, options.max_document_bytes), options)
    return Checked(row_of(path, report, report.seconds), report)


def summary_format(args) -> str | None:
    from symbolic.cli import UsageError

    if args.summary_out and not Path(args.summary_out).resolve().parent.is_dir():
        raise UsageError(f"--summary-out {args.summary_out}: no such folder")  # say so before the run
    if args.summary or not args.summary_out:
        return args.summary
    fmt = SUMMARY_SUFFIXES.get(Path(args.summary_out).suffix.lower())
    if fmt is None:
        raise UsageError("--summary-out needs --summary csv|jsonl, or a .csv or .jsonl file name")
    return fmt


def prepare_out(out: str | None) -> Path | None:
    from symbolic.cli import UsageError

    if out is None:
        return None
    try:
        Path(out).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {out}: {e.strerror or e}") from None
    return Path(out)


def write_summary(rows, fmt: str | None, out: str | None) -> None:
    import io

    from symbolic.batch import SUMMARY_WRITERS, write_atomic
    from symbolic.cli import UsageError

    if fmt is None:
        return
    if out is None:
        SUMMARY_WRITERS[fmt](rows, sys.stdout)
        return
    text = io.StringIO()
    SUMMARY_WRITERS[fmt](rows, text)
    try:
        write_atomic(Path(out), text.getvalue())
    except OSError as e:
        raise UsageError(f"--summary-out {out}: {e.strerror or e}") from None


# ---------------------------------------------------------------------------- where results go
class Sink:
    """Writes each document's report: to stdout (in the chosen format) and, with --out,
    as Markdown into a folder."""

    def __init__(self, fmt: str, reports_on_stdout: bool, out_dir: Path | None, paths, progress):
        from symbolic.batch import report_names

        self.fmt, self.on_stdout, self.out_dir, self.progress = fmt, reports_on_stdout, out_dir, progress
        self.names = report_names(paths) if out_dir else {}

    def take(self, checked):
        if checked.report is not None and self.on_stdout:
            self.stdout(self.render(checked.report))
        if self.out_dir is not None:
            self.save(checked)
        return checked.row

    def render(self, report) -> str:
        from symbolic.report import FORMATS, to_text

        if self.fmt == "text":
            return to_text(report, color=sys.stdout.isatty())
        return FORMATS[self.fmt](report)

    def stdout(self, text: str) -> None:
        if self.progress:
            self.progress.write_stdout(text)
        else:
            sys.stdout.write(text)

    def save(self, checked) -> None:
        from symbolic.batch import write_atomic
        from symbolic.cli import UsageError
        from symbolic.report import to_markdown

        row = checked.row
        text = to_markdown(checked.report) if checked.report is not None else \
            f"# derivcheck report: `{row.path}`\n\nThis document could not be checked: {row.error}\n"
        target = self.out_dir / self.names[row.path]
        try:
            write_atomic(target, text)
        except OSError as e:
            raise UsageError(f"--out {target}: {e.strerror or e}") from None


class Progress:
    """A tqdm bar on stderr, only for several documents and a terminal."""

    @classmethod
    def maybe(cls, total: int):
        return cls(total) if total > 1 and sys.stderr.isatty() else None

    def __init__(self, total: int):
        from tqdm import tqdm

        class Bar(tqdm):
            monitor_interval = 0  # no monitor thread: worker processes are forked later

        self.bar = Bar(total=total, unit="doc", desc="checking", file=sys.stderr, dynamic_ncols=True)
        self.flagged = 0

    def update(self, checked) -> None:
        self.flagged += checked.row.failed
        self.bar.set_postfix_str(f"{self.flagged} need attention", refresh=False)
        self.bar.update(1)

    def write_stdout(self, text: str) -> None:
        with self.bar.external_write_mode(file=sys.stdout):
            sys.stdout.write(text)
            sys.stdout.flush()

    def close(self) -> None:
        self.bar.close()
