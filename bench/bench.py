"""Benchmark figures for derivcheck (printed, not asserted: timing is not a test).

    .venv/bin/python bench/bench.py [--repeat N]

Two kinds of figure:
- cold: wall time of a `derivcheck` command in a fresh interpreter (imports included),
  one row of COLD per command; a command whose module is not registered yet is
  skipped with a note.  Adding a bench (e.g. the document checker's `check` on the
  built-in answer sheet) is adding one Cold row.
- warm: in-process time of each unit (median of N runs after one warm-up); one
  function per kind of unit in SECTIONS (numeric cross-checks here; proofs may join).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Cold:
    label: str
    argv: tuple[str, ...]  # arguments after `derivcheck`
    module: str  # the symbolic.commands module that must be registered


COLD = (
    Cold("derivcheck prove (all entries)", ("prove",), "prove"),
    Cold("derivcheck numeric (all checks)", ("numeric",), "numeric"),
    Cold("derivcheck check (built-in answer sheet)", ("check",), "check"),
)


@dataclass(frozen=True)
class Figure:
    label: str
    times: tuple[float, ...]  # seconds; empty when skipped
    note: str = ""

    def row(self) -> str:
        if not self.times:
            return f"{self.label:<56} {'-':>10} {'-':>10}    {self.note}"
        return (f"{self.label:<56} {_ms(min(self.times))} {_ms(statistics.median(self.times))}"
                f"    {len(self.times)} runs{'; ' + self.note if self.note else ''}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:>7.1f} ms"


def cold_commands(repeat: int) -> Iterator[Figure]:
    from symbolic.commands import COMMAND_MODULES

    for bench in COLD:
        if bench.module not in COMMAND_MODULES:
            yield Figure(bench.label, (), f"skipped: `{bench.module}` is not registered yet")
            continue
        runs = [_cold_run(bench.argv) for _ in range(repeat)]
        codes = sorted({code for _, code in runs})
        yield Figure(bench.label, tuple(t for t, _ in runs), f"exit status {', '.join(map(str, codes))}")


def _cold_run(argv: tuple[str, ...]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "symbolic.cli", *argv], cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, done.returncode


def numeric_checks(repeat: int) -> Iterator[Figure]:
    import numeric.crosschecks  # noqa: F401  (registers the checks)
    from numeric.crosscheck import select

    for check in select():
        yield Figure(f"numeric {check.entry} / {check.name}", _warm(check.run, repeat))


def _warm(run: Callable[[], object], repeat: int) -> tuple[float, ...]:
    run()  # warm-up: imports, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return tuple(times)


def per_relation(repeat: int) -> Iterator[Figure]:
    """Per relation of each sheet (built-in and fixtures): parse and judge times (in the
    sandbox worker, so they include its round trip), and the whole check warm."""
    from importlib import resources

    from symbolic.checker import CheckOptions, check_document
    from symbolic.document import parse_document, read_document

    sheets = [("built-in sheet", lambda: parse_document(
        resources.files("symbolic").joinpath("data", "answer_sheet_fa.txt").read_text(encoding="utf-8"),
        "built-in", "md"))]
    sheets += [(p.name, lambda p=p: read_document(p)) for p in sorted((ROOT / "tests" / "fixtures").glob("*.*"))
               if p.suffix in (".md", ".tex") and p.with_suffix(".key.json").exists()]
    for label, load in sheets:
        forget()  # each sheet's first check does all its work (the caches serve a class)
        report = check_document(load(), CheckOptions())
        walls = []
        for _ in range(max(1, repeat // 2)):
            forget()  # warm = imports and parser tables, not remembered results
            walls.append(check_document(load(), CheckOptions()).seconds)
        cached = check_document(load(), CheckOptions()).seconds
        c, (decided, claims) = report.counts(), report.claims_decided()
        yield Figure(f"check {label}, whole document (warm)", tuple(walls),
                     f"{c['relations']} relations: {c['verified']} verified, {c['refuted']} refuted, "
                     f"{c['unverified']} unverified; claims decided {decided}/{claims} "
                     f"({100 * decided / max(claims, 1):.1f}%)")
        yield Figure(f"  again, results remembered ({label})", (cached,), "as for a class that repeats it")
        yield Figure(f"  parse one side ({label})", tuple(report.timings["parse_seconds"]),
                     f"p90 {_ms(_p90(report.timings['parse_seconds'])).strip()}")
        yield Figure(f"  judge one relation ({label})", tuple(report.timings["judge_seconds"]),
                     f"p90 {_ms(_p90(report.timings['judge_seconds'])).strip()}")


def forget() -> None:
    from symbolic import checker

    checker.PARSES.entries.clear()
    checker.REMEMBERED.entries.clear()


def _p90(values) -> float:
    values = sorted(values)
    return values[int(0.9 * (len(values) - 1))] if values else 0.0


SECTIONS: tuple[tuple[str, Callable[[int], Iterator[Figure]]], ...] = (
    ("cold wall time, fresh interpreter", cold_commands),
    ("warm, in process", numeric_checks),
    ("document checker, per relation (min, median over relations)", per_relation),
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5, help="runs per figure (default 5)")
    args = p.parse_args(argv)
    print(f"python {sys.version.split()[0]} on {sys.platform}; times: min, median")
    for title, section in SECTIONS:
        print(f"\n## {title}")
        for figure in section(args.repeat):
            print(figure.row(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
