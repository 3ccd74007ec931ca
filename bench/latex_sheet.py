"""Parse every side of every relation of answer sheets with `symbolic.latex.parse`;
report, per file, the parse rate, the failures by reason and the time per side, then a
summary table and the remaining unsupported notations by frequency.

    .venv/bin/python bench/latex_sheet.py [FILE ...] [--show] [--splitter=checker|bench]

FILE: `.md`, `.tex`, `.txt` answer sheets (default: the built-in sheet,
symbolic/data/answer_sheet_fa.txt).  Files are parsed in one process, in the order
given: the first one pays for the cold ANTLR caches (run one file per process for a
cold figure of each).

Splitters:
- ``checker`` (default): the checker's own, `symbolic.document` + `symbolic.relation`;
  the sides and the notation are those `symbolic.checker.parse_all` parses (relations,
  definitions and expressions; declarations such as `x \\in \\mathbb{R}^d` are read
  elsewhere and not counted), each distinct side once.
- ``bench``: the old stand-in, for `$…$`/`$$…$$` text only: `aligned` rows on `\\\\`,
  `&` dropped; statements on `\\quad`, `\\Rightarrow`, `\\rightarrow`, `\\leftarrow`,
  `\\xrightarrow{…}` and on a top-level comma between two relations; chains on
  top-level `=`, `:=`, `\\in`, `\\sim`, `<`, `>`, `\\le`, `\\ge`, `\\approx`.  A
  leading `*)` is dropped.  Declarations count here.
"""
from __future__ import annotations

import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from symbolic import latex_engine
from symbolic import latex_tokens as lt
from symbolic.latex import Notation, parse, scan_notation, summation_indices

SHEET = Path(__file__).resolve().parents[1] / "symbolic/data/answer_sheet_fa.txt"
_STATEMENT = re.compile(r"\\qquad|\\quad|\\Rightarrow|\\rightarrow|\\leftarrow|\\xrightarrow\s*\{[^{}]*\}")
_RELATION = ("=", "\\in", "\\sim", "<", ">", "\\le", "\\leq", "\\ge", "\\geq", "\\approx")


def segments(text: str) -> list[str]:
    return [m.group(1) or m.group(2) for m in re.finditer(r"\$\$(.+?)\$\$|\$(.+?)\$", text, re.S)]


def _protect_matrices(text: str) -> tuple[str, list[str]]:
    saved: list[str] = []

    def keep(m: re.Match) -> str:
        saved.append(m.group())
        return f"\x00{len(saved) - 1}\x00"

    return re.sub(r"\\begin\{([pbBv]?matrix)\}.*?\\end\{\1\}", keep, text, flags=re.S), saved


def statements(segment: str) -> list[str]:
    body, saved = _protect_matrices(re.sub(r"\\(?:begin|end)\{aligned\}", "", segment))
    out = []
    for row in re.split(r"\\\\", body):
        cells = row.split("&")
        # `A &= B & C &= D`: column pairs are separate statements
        rows = [cells[k] + (cells[k + 1] if k + 1 < len(cells) else "") for k in range(0, len(cells), 2)]
        for r in rows:
            r = re.sub(r"^\s*\*\)", "", r.strip())
            r = re.sub(r"\x00(\d+)\x00", lambda m: saved[int(m.group(1))], r)
            for st in _STATEMENT.split(r):
                out.extend(_split_commas(st))
    return [s for s in (x.strip() for x in out) if s]


def _split_commas(st: str) -> list[str]:
    toks = lt.tokenize(st)
    try:
        parts = lt.split_top(toks, {","})
    except lt.Unbalanced:
        return [st]
    if len(parts) > 1 and all(any(t in _RELATION for t in p) for p in parts):
        # re-split the source text at top-level commas
        depth, cur, out = 0, "", []
        for ch in st:
            depth += ch in "({[" and 1 or (ch in ")}]" and -1) or 0
            if ch == "," and depth == 0:
                out.append(cur)
                cur = ""
            else:
                cur += ch
        return out + [cur]
    return [st]


def sides(statement: str) -> list[str]:
    """Top-level split on relation symbols, as source text."""
    text = statement.replace(":=", "=")
    pieces, depth, cur, k = [], 0, "", 0
    rel = re.compile(r"=|\\in(?![a-zA-Z])|\\sim(?![a-zA-Z])|\\leq?(?![a-zA-Z])|\\geq?(?![a-zA-Z])|"
                     r"\\approx(?![a-zA-Z])|<|>")
    while k < len(text):
        ch = text[k]
        if ch == "\\" and text[k + 1:k + 2] in "{}":
            cur += text[k:k + 2]
            k += 2
            continue
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        m = rel.match(text, k) if depth == 0 else None
        if m:
            pieces.append(cur)
            cur = ""
            k = m.end()
            continue
        cur += ch
        k += 1
    pieces.append(cur)
    return [p.strip() for p in pieces]


def _timing(times: list[float]) -> str:
    if len(times) < 2:
        return f"total {sum(times) / 1000:.2f} s"
    q = statistics.quantiles(times, n=10)
    return (f"median {statistics.median(times):.1f}, p90 {q[8]:.1f}, max {max(times):.1f}; "
            f"total {sum(times) / 1000:.2f} s")


def bench_jobs(path: Path) -> list[tuple[str, Notation]]:
    """The stand-in splitter: (side, notation) for every side, repeats included."""
    segs = segments(path.read_text(encoding="utf-8"))
    notation = scan_notation(segs)
    jobs = []
    for seg in segs:
        for st in statements(seg):
            bound = summation_indices(st)
            for side in sides(st):
                if not side:  # `&= …` rows continue a chain: the splitter's business
                    continue
                jobs.append((side, Notation(notation.index_superscripts, notation.functions, bound)))
    return jobs


def checker_jobs(path: Path) -> list[tuple[str, Notation]]:
    """The sides and the notation of `symbolic.checker.parse_all` (kept in step with it)."""
    from dataclasses import replace

    from symbolic.checker import _FUNCTION_LHS, PARSED_KINDS, layer_bases, parse_name
    from symbolic.document import read_document
    from symbolic.expr import Sym
    from symbolic.relation import relations

    rels = relations(read_document(path))
    texts = [t for r in rels if r.kind in PARSED_KINDS for t in (r.lhs, r.rhs) if t.strip()]
    notation = scan_notation(texts)
    extra = {n for b in layer_bases(rels) for n in (b, parse_name(b).name if isinstance(parse_name(b), Sym) else b)}
    if extra:
        notation = replace(notation, index_superscripts=notation.index_superscripts | frozenset(extra))
    defined = {m.group(1) for r in rels if r.op in ("=", ":=") and (m := _FUNCTION_LHS.match(r.lhs))}
    if defined:
        notation = replace(notation, functions=notation.functions | frozenset(defined))
    return [(t, notation) for t in dict.fromkeys(texts)]


def run_file(path: Path, splitter: str, show: bool) -> dict:
    jobs = (checker_jobs if splitter == "checker" else bench_jobs)(path)
    passes = []
    for _ in range(2):  # first pass (cold caches for the first file), then warm
        times, results = [], []
        for side, nt in jobs:
            t0 = time.perf_counter()
            results.append((side, parse(side, nt)))
            times.append((time.perf_counter() - t0) * 1000)
        passes.append(times)
    reasons = Counter(r.reason or "ok" for _, r in results)
    n = len(jobs)
    print(f"== {path} ({splitter} splitter): {n} sides")
    print(f"parsed: {reasons['ok']}/{n} ({reasons['ok'] / max(n, 1):.0%})")
    for reason, count in reasons.most_common():
        if reason != "ok":
            print(f"  {reason}: {count}")
            for side, r in results:
                if r.reason == reason:
                    print(f"      {side[:70]!r}: {r.message[:70]}")
    if n:
        print(f"per side, first pass (ms): {_timing(passes[0])}")
        print(f"per side, warm (ms): {_timing(passes[1])}")
    if show:
        for side, r in results:
            shown = str(r.expr) if r.expr is not None else f"[{r.reason}] {r.message}"
            print(f"{side[:90]!r}\n    -> {shown[:200]}")
    print()
    return {"path": path, "n": n, "ok": reasons["ok"], "first": sum(passes[0]), "warm": passes[1],
            "failures": [(r.reason, r.message) for _, r in results if r.reason]}


def _kind(message: str) -> str:
    """Group messages that name the same notation (`\\mathbb{R}^d`, `\\mathbb{R}^n`)."""
    return re.sub(r"^text \\text\{.*\}", r"text \\text{…}", message)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv if not a.startswith("-")] or [SHEET]
    splitter = next((a.split("=", 1)[1] for a in argv if a.startswith("--splitter=")), "checker")
    if splitter not in ("checker", "bench"):
        print(f"unknown splitter {splitter!r} (checker, bench)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    latex_engine.engine()
    print(f"engine load (import SymPy, latex2sympy2, ANTLR): {time.perf_counter() - t0:.2f} s\n")
    rows = [run_file(p, splitter, "--show" in argv) for p in paths]
    print(f"{'file':40} {'sides':>5} {'parsed':>6} {'rate':>5} {'1st pass s':>10} {'warm median ms':>14}")
    for r in rows:
        med = statistics.median(r["warm"]) if r["warm"] else 0.0
        rate = f"{r['ok'] / r['n']:5.0%}" if r["n"] else "    -"
        print(f"{r['path'].name:40} {r['n']:5} {r['ok']:6} {rate} "
              f"{r['first'] / 1000:10.2f} {med:14.1f}")
    n, ok = sum(r["n"] for r in rows), sum(r["ok"] for r in rows)
    print(f"{'all':40} {n:5} {ok:6} {ok / max(n, 1):5.0%}")
    left = Counter(_kind(m) for r in rows for reason, m in r["failures"] if reason == "unsupported-notation")
    other = Counter(reason for r in rows for reason, _ in r["failures"] if reason != "unsupported-notation")
    print("\nremaining unsupported notation, by frequency:")
    for message, count in left.most_common():
        print(f"  {count:3}  {message}")
    for reason, count in other.most_common():
        print(f"  {count:3}  [{reason}]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
