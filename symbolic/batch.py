"""Many documents: find them, check each in a pool of worker processes, one `Row` each.

    paths = expand(["class/", "late/bob.md"])          # sorted .md/.txt/.tex files
    for done in run_batch(paths, CheckOptions(), jobs=2):  # in path order, any `jobs`
        done.row, done.report                              # report is None on error
    write_csv([d.row for d in ...], sys.stdout)

`check_path(path, options) -> Row` is pure (the options carry the seed) and never
raises: a document that cannot be read or checked is a row with `error` set.  It is the
unit to hand to any pool -- here a `ProcessPoolExecutor` over forked workers; see
docs/scaling.md for Dask or Ray.

Before forking the workers, this process checks a small sheet (`WARM_UP`), so that they
inherit warm caches; what a worker's caches learn from a document is handed on to the
other workers with the next documents (see "shared caches" below).  Each worker checks
one document at a time; `check_document` forks its own sandbox worker from it (a pool
worker is not a daemon and runs single-threaded, so that nested fork is safe).  A pool
worker that dies (segfault, OOM kill) breaks the pool: the documents that were in
flight are then re-run one by one, each in a fresh process, so that only the one that
kills its process gets an error row, and the rest go on in a new pool.
"""
from __future__ import annotations

import csv
import json
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import IO, Any

SUFFIXES = (".md", ".txt", ".tex")
BUILTIN = "answer_sheet_fa.txt"  # the built-in document (package data)
BUILTIN_PATH = f"built-in:{BUILTIN}"  # how rows and reports name it


class Unreadable(Exception):
    """A document that cannot be read; the message is one line, prefixed by the path."""


# ---------------------------------------------------------------------------- rows
@dataclass(frozen=True)
class Row:
    """The summary of one checked document.  `seconds` is wall time, so it is left out
    of equality: two runs (any number of jobs) give equal rows."""

    path: str
    relations: int = 0
    verified: int = 0
    refuted: int = 0
    unverified: int = 0
    claims_established: int = 0
    claims_contradicted: int = 0
    claims_missing: int = 0
    seconds: float = field(default=0.0, compare=False)
    error: str = ""

    @property
    def failed(self) -> bool:
        """Needs attention: something refuted or contradicted, or not checked at all."""
        return bool(self.refuted or self.claims_contradicted or self.error)


COLUMNS = tuple(f.name for f in fields(Row))


def row_of(path: str, report, seconds: float) -> Row:
    c = report.counts()
    claims = [claim.status for claim in report.claims]
    return Row(path, c["relations"], c["verified"], c["refuted"], c["unverified"],
               claims.count("established"), claims.count("contradicted"), claims.count("missing"),
               round(seconds, 3))


@dataclass(frozen=True)
class Checked:
    """What a worker sends back: the row, and the report (None when `row.error`)."""

    row: Row
    report: Any = None


# ---------------------------------------------------------------------------- finding documents
def expand(args: Sequence[str]) -> list[str]:
    """Files as given, plus every .md/.txt/.tex file under the folders given (hidden
    folders skipped); sorted, without duplicates.  A path that does not exist is kept,
    so that its row says so."""
    found = set()
    for arg in args:
        if os.path.isdir(arg):
            found.update(_documents_under(arg))
        else:
            found.add(arg)
    return sorted(found)


def _documents_under(folder: str) -> Iterator[str]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.lower().endswith(SUFFIXES) and not name.startswith("."):
                yield os.path.join(root, name)


def load_document(path: str, max_bytes: int | None = None):
    """The parsed document at `path` (BUILTIN_PATH: the built-in sheet).  Raises
    Unreadable with a one-line message."""
    from symbolic.document import DocumentError, decode, parse_document, read_document

    try:
        if path == BUILTIN_PATH:
            text = resources.files("symbolic").joinpath("data", BUILTIN).read_text(encoding="utf-8")
            return parse_document(text, BUILTIN_PATH, "md")
        if max_bytes is None:
            return read_document(path)
        with open(path, "rb") as f:  # a capped read: a FIFO or a device (/dev/zero) has no size
            data = f.read(max_bytes + 1)
            size = os.fstat(f.fileno()).st_size
        if len(data) > max_bytes:
            raise Unreadable(f"{path}: document too large (" + (f"{size} bytes > {max_bytes})" if size > max_bytes
                                                               else f"more than {max_bytes} bytes)"))
        return parse_document(decode(data), str(path))
    except DocumentError as e:
        raise Unreadable(f"{path}: {e}") from None
    except OSError as e:
        raise Unreadable(f"{path}: {e.strerror or e}") from None


# ---------------------------------------------------------------------------- one document
def check_path(path: str, options) -> Row:
    """Check the document at `path`; never raises (errors become `Row.error`)."""
    return check_one(path, options).row


def check_one(path: str, options) -> Checked:
    from symbolic.checker import check_document

    start = time.perf_counter()
    try:
        doc = load_document(path, options.max_document_bytes)
    except Unreadable as e:
        return Checked(Row(path, seconds=_since(start), error=str(e)))
    try:
        report = check_document(doc, options)
    except Exception as e:  # a checker bug must cost one row, not the batch
        return Checked(Row(path, seconds=_since(start), error=f"{path}: internal error: {_one_line(e)}"))
    return Checked(row_of(path, report, time.perf_counter() - start), report)


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 3)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


# ---------------------------------------------------------------------------- many documents
def default_jobs() -> int:
    return os.cpu_count() or 1


def run_batch(paths: Sequence[str], options, jobs: int | None = None,
              on_done: Callable[[Checked], None] | None = None) -> Iterator[Checked]:
    """Check every path in `jobs` worker processes (default: one per core; several
    documents always go to workers, even with jobs=1, so that one cannot take the run
    down); yield the results in the order of `paths`, each as soon as it and all before
    it are done.  `on_done` is called in completion order (for a progress bar)."""
    ready: dict[int, Checked] = {}
    next_index = 0
    for index, checked in _completions(list(paths), options, jobs or default_jobs()):
        if on_done is not None:
            on_done(checked)
        ready[index] = checked
        while next_index in ready:
            yield ready.pop(next_index)
            next_index += 1


def _completions(paths: list[str], options, jobs: int) -> Iterator[tuple[int, Checked]]:
    if len(paths) <= 1:  # nothing to share: no worker process needed
        for index, path in enumerate(paths):
            yield index, check_one(path, options)
        return
    warm_up()  # forked workers inherit warm imports and caches
    queue = deque(enumerate(paths))
    while queue:
        suspects = yield from _pooled(queue, options, min(jobs, len(queue)))
        for index, path in suspects:
            yield index, _isolated(path, options)


# A small trusted sheet in the usual notation, checked once in this process before the
# workers are forked.  They inherit its imports and warm caches (SymPy's, and the DFA
# that ANTLR builds while parsing LaTeX) instead of filling them again for every
# document: that is most of the time of a small document.  Caches change no result.
WARM_UP = r"""Warm-up sheet

# Problem 1

(a) $X \in \mathbb{R}^{n \times d}$, $y \in \mathbb{R}^{n}$, $w \in \mathbb{R}^{d}$, $b \in \mathbb{R}$.

$$\mathcal{L}(w) = \frac{1}{2n} (y - Xw)^T (y - Xw)$$

$$\nabla_w \mathcal{L}(w) = \frac{1}{n} X^T (X w - y) = \frac{1}{n} \sum_{i=1}^n (\hat{y}^{(i)} - y^{(i)}) x^{(i)}$$

(b) $$\frac{\partial}{\partial z} \log(1 + e^{z}) = \sigma(z), \quad \sigma'(z) = \sigma(z)(1 - \sigma(z))$$

$$\text{tr}(A B) = \text{tr}(B A) \quad \mathbb{E}[x] = \mu \quad w := w - \alpha \nabla_w L \quad O(n d^2 + d^3)$$
"""


WARM_UP_SECONDS = 30.0


def warm_up() -> None:
    """Check WARM_UP here (best effort, within WARM_UP_SECONDS): a cold worker is only slower."""
    from symbolic.sandbox import Limits, run_inline

    run_inline(_check_warm_up, limits=Limits(timeout_s=WARM_UP_SECONDS))


def _check_warm_up() -> None:
    from symbolic.checker import CheckOptions, check_document
    from symbolic.document import parse_document

    check_document(parse_document(WARM_UP, "warm-up", "md"), CheckOptions(trials=3, sandbox=False))


def _pool(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"))


def _pooled(queue: deque, options, jobs: int):
    """Run the queue in one pool, keeping at most jobs + 1 documents in flight.  Yields
    (index, Checked) and returns [] -- or, when a worker died, stops and returns the
    documents that were in flight, all suspects (those not started stay queued)."""
    pool, running, shared = _pool(jobs), {}, _Shared(jobs)
    try:
        while queue or running:
            while queue and len(running) <= jobs:
                index, path = queue.popleft()
                learned, upto = shared.to_send()
                try:
                    future = pool.submit(_check_sharing, path, options, shared.on, learned)
                except BrokenProcessPool:
                    queue.appendleft((index, path))
                    return sorted((i, p) for i, p, _ in running.values())
                running[future] = (index, path, upto)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = []
            for future in sorted(done, key=lambda f: running[f][0]):
                index, path, upto = running.pop(future)
                try:
                    checked, pid, added = future.result()
                except BrokenProcessPool:
                    broken.append((index, path))
                    continue
                except Exception as e:  # e.g. a report that cannot be pickled
                    checked = Checked(Row(path, error=f"{path}: internal error: {_one_line(e)}"))
                else:
                    shared.received(pid, upto, added)
                yield index, checked
            if broken:
                return sorted(broken + [(index, path) for index, path, _ in running.values()])
        return []
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------------- shared caches
# The checker's caches (symbolic/checker.py) hold pure functions of their keys: parses by
# (LaTeX, Notation), the results of the seeded jobs (verdicts, claim and shape checks) by
# a digest of their arguments.  Each pool worker fills its own; so that the formulas a
# class shares are parsed and judged once per run rather than once per worker, a worker
# sends back the entries it added while checking a document, and this process hands them
# on, with the next documents it submits, to the workers that may lack them (and keeps
# them, so that a pool started after a worker died inherits them).  Which worker computed
# an entry changes no result; failures that depend on load are never cached.  On the
# class bench (--jobs 2) this saves the second worker's cold start on each source sheet:
# about a quarter of the CPU time.  Caches the checker does not have are skipped.
SHARED_CACHES = ("PARSES", "REMEMBERED")
MAX_HANDED_ON = 5_000  # entries sent with one document, at most (the most recent)


def _caches() -> dict:
    from symbolic import checker

    return {name: cache for name in SHARED_CACHES if (cache := getattr(checker, name, None)) is not None}


def _learn(caches: dict, entries) -> None:
    for name, key, value in entries:
        cache = caches.get(name)
        if cache is not None and key not in cache.entries:
            cache.put(key, value)


def _check_sharing(path: str, options, share: bool, learned: tuple) -> tuple:
    """`check_one` in a pool worker, after taking in the cache entries `learned` by the
    others: (Checked, this worker's pid, [(cache, key, value) it added, if `share`])."""
    if not share:
        return check_one(path, options), os.getpid(), []
    caches = _caches()
    _learn(caches, learned)
    before = {name: set(cache.entries) for name, cache in caches.items()}
    checked = check_one(path, options)
    added = [(name, key, value) for name, cache in caches.items()
             for key, value in cache.entries.items() if key not in before[name]]
    return checked, os.getpid(), added


class _Shared:
    """This process's side, for a pool of `workers`: the entries the workers sent back
    that some worker may not have yet, and how far each worker is known to have them
    (positions count every entry received; `base` is the position of `log[0]`).  One
    worker has nothing to share."""

    def __init__(self, workers: int):
        self.on = workers > 1
        self.workers = workers
        self.log: list = []
        self.base = 0
        self.seen: dict[int, int] = {}  # worker pid -> position up to which it has every entry

    def to_send(self) -> tuple[tuple, int]:
        """(entries to send with the next document, the position up to which the worker
        that checks it will have them all)."""
        if not self.on:
            return (), 0
        return tuple(self.log[self._start() - self.base:]), self.base + len(self.log)

    def received(self, pid: int, upto: int, added: list) -> None:
        """A worker that was sent the entries up to `upto` checked its document, adding `added`."""
        if not self.on:
            return
        self.seen[pid] = max(self.seen.get(pid, 0), upto)
        self.log.extend(added)
        _learn(_caches(), added)
        start = self._start()  # what every worker has (or will never be sent) is dropped
        del self.log[:start - self.base]
        self.base = start

    def _start(self) -> int:
        """Until every worker has been heard from, send everything; then what the one
        furthest behind lacks.  At most the last MAX_HANDED_ON entries: a worker that
        misses some only computes them again."""
        start = min(self.seen.values()) if len(self.seen) >= self.workers else self.base
        return max(start, self.base, self.base + len(self.log) - MAX_HANDED_ON)


def _isolated(path: str, options) -> Checked:
    """Check one document alone in a fresh worker; a second death is its own doing."""
    with _pool(1) as pool:
        try:
            return pool.submit(check_one, path, options).result()
        except BrokenProcessPool:
            return Checked(Row(path, error=f"{path}: the worker process checking it died"))
        except Exception as e:
            return Checked(Row(path, error=f"{path}: internal error: {_one_line(e)}"))


# ---------------------------------------------------------------------------- summary writers
def write_csv(rows: Iterable[Row], out: IO[str]) -> None:
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(_record(row))


def write_jsonl(rows: Iterable[Row], out: IO[str]) -> None:
    for row in rows:
        out.write(json.dumps(_record(row), ensure_ascii=False) + "\n")


def _record(row: Row) -> dict:
    return {**asdict(row), "seconds": round(row.seconds, 3)}


SUMMARY_WRITERS = {"csv": write_csv, "jsonl": write_jsonl}


# ---------------------------------------------------------------------------- per-document files
def report_names(paths: Sequence[str]) -> dict[str, str]:
    """A file name for each document's report, after the document: `alice.report.md`;
    where two documents would share one, their folders and suffix are kept
    (`week1__alice.tex.report.md`)."""
    rel = _relative(paths)
    short = {p: _flat(Path(rel[p]).with_suffix("").name) for p in paths}
    counts = {name: list(short.values()).count(name) for name in set(short.values())}
    return {p: (short[p] if counts[short[p]] == 1 else _flat(rel[p])) + ".report.md" for p in paths}


def _relative(paths: Sequence[str]) -> dict[str, str]:
    real = [p for p in paths if p != BUILTIN_PATH]
    try:
        root = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in real]) if real else ""
    except ValueError:  # different drives
        root = ""
    return {p: (p.split(":", 1)[1] if p == BUILTIN_PATH else os.path.relpath(os.path.abspath(p), root or "/"))
            for p in paths}


def _flat(relpath: str) -> str:
    return relpath.replace(os.sep, "__").replace("/", "__").lstrip(".") or "document"


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
