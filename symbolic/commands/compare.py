"""`derivcheck compare A B [--where DECL ...]`: the checker's engine on two expressions."""
from __future__ import annotations

import json
import sys

ANSWERS = {"verified": "equal", "refuted": "different", "unverified": "undecided"}


def register(sub) -> None:
    p = sub.add_parser("compare", help="are two LaTeX expressions equal? (equal / different / undecided)")
    p.add_argument("a", metavar="A", help="LaTeX expression")
    p.add_argument("b", metavar="B", help="LaTeX expression")
    p.add_argument("--where", action="append", default=[], metavar="LATEX",
                   help=r"declaration, e.g. 'X \in \mathbb{R}^{n \times d}' (repeatable)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=run)


def malformed(latex: str) -> str | None:
    """Why `latex` cannot be one side of an equation (unbalanced brackets), or None."""
    from symbolic import latex_tokens as lt

    try:
        lt.check_balanced(lt.tokenize(latex))
    except lt.Unbalanced as e:
        return str(e)
    return None


def run(args) -> int:
    from symbolic.checker import CheckOptions, check_document
    from symbolic.cli import UsageError
    from symbolic.document import parse_document

    for name, side in (("A", args.a), ("B", args.b)):  # `x^{` would swallow the `=` between them
        problem = malformed(side)
        if problem:
            raise UsageError(f"{name} is not a LaTeX expression: {problem}")
    # The two expressions become a one-relation document, so `compare` is exactly the
    # checker's judgement (declarations, sandbox, witness) and nothing else.
    lines = [f"$$ {d} $$" for d in args.where] + [f"$$ {args.a} = {args.b} $$"]
    report = check_document(parse_document("\n\n".join(lines), "compare", "md"),
                            CheckOptions(seed=args.seed, where=tuple(args.where), document=False))
    verdict = report.items[-1].verdict
    out = {"verdict": ANSWERS[verdict.status], "method": verdict.method,
           "reason": verdict.reason if verdict.status == "unverified" else (verdict.message or verdict.reason),
           "counterexample": verdict.counterexample}
    if args.format == "json":
        sys.stdout.write(json.dumps(out, ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(f"{out['verdict']}: {out['reason']}\n")
        if out["method"]:
            sys.stdout.write(f"method: {out['method']}\n")
        if out["counterexample"]:
            sys.stdout.write(f"counterexample: {json.dumps(out['counterexample'], default=str)}\n")
    return {"equal": 0, "different": 1, "undecided": 0}[out["verdict"]]
