"""Throughput on a synthetic class (issue 6): N sheets with planted errors, checked with
`derivcheck check DIR --jobs 1` and `--jobs 2`.

    .venv/bin/python bench/bench_class.py [--sheets 200] [--jobs 1 2] [--seed 0] [--keep DIR]

Sheets are mutants of the built-in answer sheet and of tests/fixtures/*.md|*.tex.  A
planted error is a relation the checker `verified` on the original sheet whose right
side is rewritten in the text -- negated, `-\\left(rhs\\right)`, or doubled,
`2\\left(rhs\\right)` -- so it no longer holds (never chosen: zero right sides, `0` or
`\\mathbf{0}`, and big-O statements, which either rewrite leaves true).  Each sheet gets 0 to 3 of them, at distinct lines; every one is checked
by re-segmenting the mutant: the relation at that line, with the same left side, must
now have the mutated right side.  A planted error is *found* when that relation's
verdict is `refuted`.

Printed: sheets per minute for each --jobs (wall time of the whole command, interpreter
start included), the speed-up, whether the summary rows agree across --jobs, planted
errors found / planted, the misses, and new refutations of relations that were not
mutated and not refuted on the original: those whose left side is a mutated right side
(the next link of a chain `a = b = c`, expected) and the others (unexpected).
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
DERIVCHECK = [sys.executable, "-m", "symbolic.cli"]
MUTATIONS = {  # kind -> rewrite of the right side (LaTeX)
    "sign": lambda rhs: rf"-\left({rhs}\right)",
    "factor": lambda rhs: rf"2\left({rhs}\right)",
}
MAX_PLANTED = 3
# Big-O statements are not mutated: -O(f) and 2 O(f) are still O(f).
BIG_O = re.compile(r"(?<![A-Za-z\\])O\s*\(|\\mathcal\{O\}")


@dataclass(frozen=True)
class Source:
    name: str  # file name of the original (suffix decides the format)
    text: str


@dataclass(frozen=True)
class Site:
    """Where a verified relation's right side is written in a source."""

    line: int
    lhs: str
    rhs: str
    start: int
    end: int


@dataclass(frozen=True)
class Planted:
    line: int
    lhs: str
    rhs: str  # as the segmenter reads it from the mutant
    kind: str


# ---------------------------------------------------------------------------- sources and sites
def sources() -> list[Source]:
    out = [Source("answer_sheet_fa.txt",
                  resources.files("symbolic").joinpath("data", "answer_sheet_fa.txt").read_text("utf-8"))]
    for path in sorted(FIXTURES.glob("*")):
        if path.suffix in (".md", ".tex") and path.name != "README.md":
            out.append(Source(path.name, path.read_text("utf-8")))
    return out


def parse(source: Source, text: str | None = None):
    from symbolic.document import parse_document

    fmt = "tex" if source.name.endswith(".tex") else "md"
    return parse_document(source.text if text is None else text, source.name, fmt)


def verified_sites(source: Source) -> tuple[list[Site], set]:
    """The sites of the relations verified on the original, and the (line, lhs) of
    those refuted there."""
    from symbolic.checker import RESTATEMENT, CheckOptions, check_document

    report = check_document(parse(source), CheckOptions())
    refuted = {(i.relation.line, i.relation.lhs) for i in report.items if i.verdict.status == "refuted"}
    sites = []
    for item in report.items:
        r = item.relation
        # a restated definition, changed, is a new definition (reported as one), not an error
        if (item.verdict.status == "verified" and r.kind == "relation" and r.op == "="
                and item.verdict.reason != RESTATEMENT and not is_zero(r.rhs) and not BIG_O.search(r.lhs + r.rhs)):
            span = locate(source.text, r.line, r.rhs)
            if span is not None:
                sites.append(Site(r.line, r.lhs, r.rhs, *span))
    return sites, refuted


def is_zero(side: str) -> bool:
    """`0`, `\\mathbf{0}`, a matrix of zeros, … : a side that negating or doubling leaves as is."""
    from symbolic import latex, mutation

    expr = latex.parse(side).expr
    return expr is not None and mutation.is_zero(expr)


def locate(text: str, line: int, rhs: str) -> tuple[int, int] | None:
    """The span of `rhs` right after the first `=` from the start of `line` whose
    following text matches it (whitespace and alignment `&` may differ)."""
    offset = 0
    for _ in range(line - 1):
        offset = text.find("\n", offset) + 1
    body = r"[\s&]*".join(map(re.escape, rhs.split()))
    m = re.compile(r"=[\s&]*(" + body + r")").search(text, offset)
    if m is None or text.count("\n", offset, m.start()) > 0:
        return None
    return m.span(1)


# ---------------------------------------------------------------------------- mutants
def mutate(source: Source, sites: list[Site], rng: random.Random) -> tuple[str, list[Planted]]:
    from symbolic.relation import relations

    wanted = rng.randint(0, min(MAX_PLANTED, len(sites)))
    picks, lines = [], set()
    for site in rng.sample(sites, len(sites)):
        if len(picks) == wanted:
            break
        if site.line not in lines and not any(site.start < p.end and p.start < site.end for p, _ in picks):
            picks.append((site, rng.choice(sorted(MUTATIONS))))
            lines.add(site.line)
    text = source.text
    for site, kind in sorted(picks, key=lambda p: -p[0].start):
        text = text[:site.start] + MUTATIONS[kind](text[site.start:site.end]) + text[site.end:]
    mutant = {(r.line, r.lhs): r.rhs for r in relations(parse(source, text))}
    planted = []
    for site, kind in picks:
        expected = " ".join(MUTATIONS[kind](site.rhs).split())
        if " ".join(mutant.get((site.line, site.lhs), "").split()) != expected:
            return source.text, []  # the segmenter reads the mutant differently: plant nothing
        planted.append(Planted(site.line, site.lhs, expected, kind))
    return text, planted


@dataclass(frozen=True)
class Sheet:
    planted: list[Planted]
    refuted_before: set  # (line, lhs) refuted on the original sheet


def make_class(folder: Path, n: int, seed: int) -> dict[str, Sheet]:
    rng = random.Random(seed)
    pool = [(s, *verified_sites(s)) for s in sources()]
    pool = [(s, sites, refuted) for s, sites, refuted in pool if sites]
    plan = {}
    for k in range(n):
        source, sites, refuted = pool[k % len(pool)]
        text, planted = mutate(source, sites, rng)
        stem, suffix = source.name.rsplit(".", 1)
        path = folder / f"sheet{k:03d}_{stem}.{suffix}"
        path.write_text(text, encoding="utf-8")
        plan[str(path)] = Sheet(planted, refuted)
    return plan


# ---------------------------------------------------------------------------- runs
def run(folder: Path, jobs: int, summary: Path) -> tuple[float, list[dict], int]:
    cmd = [*DERIVCHECK, "check", str(folder), "--jobs", str(jobs), "--format", "json",
           "--summary-out", str(summary)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"derivcheck failed ({done.returncode}): {done.stderr.strip()}")
    return seconds, json_reports(done.stdout), done.returncode


def json_reports(stream: str) -> list[dict]:
    decoder, out, i = json.JSONDecoder(), [], 0
    while i < len(stream):
        if stream[i].isspace():
            i += 1
            continue
        obj, i = decoder.raw_decode(stream, i)
        out.append(obj)
    return out


def score(plan: dict[str, Sheet], reports: list[dict]):
    """(found, misses, new refutations next to a mutation, other new refutations)."""
    by_doc = {r["document"]: r for r in reports}
    found, misses, chained, other = 0, [], 0, []
    for path, sheet in plan.items():
        rels = by_doc[path]["relations"]
        sites = {(p.line, p.lhs) for p in sheet.planted}
        mutated = {p.rhs for p in sheet.planted}
        for p in sheet.planted:
            verdicts = [r for r in rels if r["line"] == p.line and r["lhs"] == p.lhs and r["op"] == "="]
            # `L = … \\ L = …` on one line: the planted one is the relation with the mutated side
            verdicts.sort(key=lambda r: " ".join(r["rhs"].split()) != p.rhs)
            if verdicts and verdicts[0]["verdict"] == "refuted":
                found += 1
            else:
                v = verdicts[0] if verdicts else {"verdict": "missing", "reason": ""}
                misses.append(f"{Path(path).name}:{p.line} [{p.kind}] {p.lhs} = {p.rhs} -> "
                              f"{v['verdict']} ({v['reason']})")
        for r in rels:
            key = (r["line"], r["lhs"])
            if r["verdict"] != "refuted" or key in sites or key in sheet.refuted_before:
                continue
            if " ".join(r["lhs"].split()) in mutated:
                chained += 1
            else:
                other.append(f"{Path(path).name}:{r['line']} {r['lhs']} {r['op']} {r['rhs']} ({r['reason']})")
    return found, misses, chained, other


def rows(summary: Path) -> list[dict]:
    with summary.open() as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


# ---------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sheets", type=int, default=200)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="write the class here and keep it")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp) / "class"
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        plan = make_class(folder, args.sheets, args.seed)
        planted = sum(len(sheet.planted) for sheet in plan.values())
        print(f"class: {args.sheets} sheets from {len(sources())} sources, {planted} planted errors "
              f"(made in {time.perf_counter() - t0:.1f} s)")
        results = {}
        for jobs in args.jobs:
            seconds, reports, status = run(folder, jobs, Path(tmp) / f"rows{jobs}.csv")
            results[jobs] = (seconds, reports, rows(Path(tmp) / f"rows{jobs}.csv"))
            print(f"--jobs {jobs}: {seconds:6.1f} s  {60 * args.sheets / seconds:6.1f} sheets/min  "
                  f"(exit {status})")
        report(args, plan, planted, results)
    return 0


def report(args, plan, planted, results) -> None:
    first = args.jobs[0]
    for jobs in args.jobs[1:]:
        speedup = results[first][0] / results[jobs][0]
        differ = [(a, b) for a, b in zip(results[first][2], results[jobs][2]) if a != b]
        print(f"speed-up --jobs {jobs} vs --jobs {first}: {speedup:.2f}x; "
              f"summary rows that differ: {len(differ)} of {len(results[first][2])}")
        for a, b in differ:
            print(f"  --jobs {first}: {a}\n  --jobs {jobs}: {b}")
    found, misses, chained, other = score(plan, results[first][1])
    print(f"planted errors found (refuted): {found}/{planted}")
    for miss in misses:
        print("  missed:", miss)
    print(f"new refutations of relations not mutated: {chained} whose left side is a mutated right "
          f"side (chains), {len(other)} others")
    for line in other:
        print("  other:", line)


if __name__ == "__main__":
    sys.exit(main())
