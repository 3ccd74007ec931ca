"""Parse every side of every relation of an answer sheet with `symbolic.latex.parse`;
report the parse rate, the failures by reason and the time per side.

    .venv/bin/python bench/latex_sheet.py [SHEET] [--show]

The splitter here is a stand-in for the checker's own (relations are not this
module's job): `$…$`/`$$…$$` segments; `aligned` rows on `\\\\`, `&` dropped; statements
on `\\quad`, `\\Rightarrow`, `\\rightarrow`, `\\leftarrow`, `\\xrightarrow{…}` and on
a top-level comma between two relations; chains on top-level `=`, `:=`, `\\in`,
`\\sim`, `<`, `>`, `\\le`, `\\ge`, `\\approx`.  A leading `*)` is dropped.
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

SHEET = Path(__file__).resolve().parents[1] / "../shared/seed/000_e698e6f6c136dae3.txt"
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
    q = statistics.quantiles(times, n=10)
    return (f"median {statistics.median(times):.1f}, p90 {q[8]:.1f}, max {max(times):.1f}; "
            f"total {sum(times) / 1000:.2f} s")


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv and not argv[0].startswith("-") else SHEET
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
    t0 = time.perf_counter()
    latex_engine.engine()
    load = time.perf_counter() - t0
    passes = []
    for _ in range(2):  # a cold process (ANTLR builds its prediction cache), then warm
        times, results = [], []
        for side, nt in jobs:
            t0 = time.perf_counter()
            results.append((side, parse(side, nt)))
            times.append((time.perf_counter() - t0) * 1000)
        passes.append(times)
    reasons = Counter(r.reason or "ok" for _, r in results)
    n = len(jobs)
    print(f"sheet: {path.name}; {len(segs)} segments, {n} sides")
    print(f"index superscripts: {sorted(notation.index_superscripts)}")
    print(f"parsed: {reasons['ok']}/{n} ({reasons['ok'] / n:.0%})")
    for reason, count in reasons.most_common():
        if reason != "ok":
            print(f"  {reason}: {count}")
            for side, r in results:
                if r.reason == reason:
                    print(f"      {side[:70]!r}: {r.message[:70]}")
    print(f"engine load (import SymPy, latex2sympy2, ANTLR): {load:.2f} s")
    print(f"per side, cold (ms): {_timing(passes[0])}")
    print(f"per side, warm (ms): {_timing(passes[1])}")
    if "--show" in argv:
        for side, r in results:
            shown = str(r.expr) if r.expr is not None else f"[{r.reason}] {r.message}"
            print(f"{side[:90]!r}\n    -> {shown[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
