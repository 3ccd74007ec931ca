"""Worst-case inputs (issue 5): wall time, peak memory and verdict reasons per file.

    .venv/bin/python bench/bench_hostile.py [--timeout 5] [--case NAME ...] [--markdown]

Each hostile file of `tests/hostile_inputs.py` is checked by `derivcheck check FILE
--format json --timeout T` in a fresh Python process, so that its peak memory is its
own: "main MB" is that process's peak RSS (reading, segmenting, reporting) and
"worker MB" the largest peak RSS among the sandbox workers it forked and reaped
(`getrusage(RUSAGE_CHILDREN)`; a forked worker's RSS includes the pages it shares with
the main process).  The reason column counts verdicts: `verified`, `refuted`, and
`unverified` by reason code.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import importlib.util
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def hostile_inputs():
    spec = importlib.util.spec_from_file_location("hostile_inputs", ROOT / "tests" / "hostile_inputs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["hostile_inputs"] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- one file, in a child process
def measure_one(path: str, timeout: float) -> dict:
    from symbolic.cli import main

    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", path, "--format", "json", "--timeout", f"{timeout:g}"])
    seconds = time.perf_counter() - started
    reasons = collections.Counter()
    if code in (0, 1):
        for r in json.loads(out.getvalue())["relations"]:
            reasons[r["verdict"] if r["verdict"] != "unverified" else r["reason"].split(":", 1)[0]] += 1
    return {"exit": code, "seconds": seconds, "error": err.getvalue().strip(),
            "main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))}


def run_child(path: Path, timeout: float) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--one", str(path), "--timeout", str(timeout)],
                          capture_output=True, text=True, cwd=path.parent)
    if proc.returncode != 0:
        return {"exit": None, "seconds": float("nan"), "error": proc.stderr.strip()[-300:],
                "main_mb": float("nan"), "worker_mb": float("nan"), "reasons": {}}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the table
def _reasons(row: dict) -> str:
    if row["exit"] == 2:
        return row["error"].replace("derivcheck: error: ", "").split(": ", 1)[-1][:60]
    return ", ".join(f"{k} {v}" for k, v in row["reasons"].items()) or "-"


def print_table(rows: list[tuple], markdown: bool) -> None:
    head = ("case", "size", "exit", "wall s", "main MB", "worker MB", "verdicts / reasons")
    lines = [(name, f"{size / 1000:.1f} kB", str(r["exit"]), f"{r['seconds']:.2f}",
              f"{r['main_mb']:.0f}", f"{r['worker_mb']:.0f}", _reasons(r)) for name, size, r in rows]
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for line in lines:
            print("| " + " | ".join(line) + " |")
        return
    widths = [max(len(x) for x in col) for col in zip(head, *lines)]
    for line in [head] + lines:
        print("  ".join(x.ljust(w) for x, w in zip(line, widths)).rstrip())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timeout", type=float, default=5.0, help="--timeout per parse and relation (default 5)")
    ap.add_argument("--case", action="append", default=[], help="only these cases (repeatable)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, args.timeout)))
        return 0
    inputs = hostile_inputs()
    cases = inputs.CASES
    names = args.case or list(cases)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            path = inputs.write_case(cases[name], Path(tmp))
            rows.append((name, path.stat().st_size, run_child(path, args.timeout)))
            print(f"  {name}: {rows[-1][2]['seconds']:.2f} s", file=sys.stderr, flush=True)
    print(f"derivcheck check FILE --format json --timeout {args.timeout:g}  "
          f"(one fresh process per file)\n")
    print_table(rows, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
