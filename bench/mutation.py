"""Mutation score of the checker on the test corpus (printed, not asserted).

    .venv/bin/python bench/mutation.py [FILE ...]

Every verified equation of each sheet gets each planted error of `symbolic.mutation`
(sign, transpose dropped or added, factor 2, exponent, swapped indices); the score is
the fraction of mutants refuted.  Verified mutants are listed: each is either an
equivalent mutant (e.g. a transpose of a scalar) or a hole in the checker.
"""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from symbolic.checker import CheckOptions
from symbolic.document import read_document
from symbolic.mutation import mutation_run, score

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or [ROOT / "symbolic" / "data" / "answer_sheet_fa.txt",
                                        *sorted((ROOT / "tests" / "fixtures").glob("*.md")),
                                        *sorted((ROOT / "tests" / "fixtures").glob("*.tex"))]
    everything = []
    for path in files:
        if path.name == "README.md":
            continue
        results = mutation_run(read_document(path), CheckOptions())
        everything += results
        s = score(results)
        print(f"{path.name:<28} {s['mutants']:>4} mutants: {s['refuted']:>4} refuted, {s['verified']:>3} verified, "
              f"{s['undecided']:>3} undecided -> score {s['score']:.1%}")
        for m in results:
            if m.status == "verified":
                print(f"    verified mutant: line {m.line} {m.operator}")
    s = score(everything)
    print(f"\nall: {s['mutants']} mutants, score {s['score']:.1%} refuted "
          f"({s['verified']} verified, {s['undecided']} undecided)")
    by_op = Counter((m.operator, m.status) for m in everything)
    undecided = Counter((m.operator, m.reason) for m in everything if m.status == "unverified")
    for (op, reason), n in undecided.most_common(12):
        print(f"  undecided: {op:<16} {reason:<24} {n}")
    for op in sorted({m.operator for m in everything}):
        total = sum(v for (o, _), v in by_op.items() if o == op)
        print(f"  {op:<16} {by_op[(op, 'refuted')]:>4}/{total:<4} refuted")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
