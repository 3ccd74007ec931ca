"""`derivcheck list` and `derivcheck prove`: the catalog of derivations, each verified
on the spot (status is computed, never stored)."""
from __future__ import annotations

import sys

FORMATS = ("text", "latex", "markdown")  # symbolic.render.FORMATS, without importing SymPy here


def register(subparsers) -> None:
    p = subparsers.add_parser("list", help="list the catalog: id, title, source, status (verified on the spot)")
    p.set_defaults(run=run_list)
    p = subparsers.add_parser("prove", help="verify derivations step by step and print them")
    p.add_argument("ids", nargs="*", metavar="ID", help="catalog ids (default: all)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.set_defaults(run=run_prove)


def _selected(ids: list[str]) -> dict:
    from symbolic.catalog import load
    from symbolic.cli import UsageError

    catalog = load()
    unknown = [i for i in ids if i not in catalog]
    if unknown:
        raise UsageError(f"unknown derivation id(s): {', '.join(unknown)}; known: {', '.join(sorted(catalog))}")
    return {i: catalog[i] for i in (ids or catalog)}


def _check(builder):
    """Build and verify one entry; a builder that raises is reported, not fatal."""
    from symbolic.derivation import verify

    try:
        d = builder()
    except Exception as e:  # an entry under construction must not hide the others
        return None, f"cannot build: {type(e).__name__}: {e}"
    return d, verify(d)


def run_list(args) -> int:
    rows = []
    for entry, builder in _selected([]).items():
        d, report = _check(builder)
        status = report if d is None else ("verified" if report.ok else "failed")
        rows.append((entry, d.title if d else "?", d.source if d else "?", status))
    width = max((len(r[0]) for r in rows), default=0)
    for entry, title, source, status in rows:
        print(f"{entry:<{width}}  {status:<8}  {title}  ({source})")
    return 0 if all(r[3] == "verified" for r in rows) else 1


def run_prove(args) -> int:
    from symbolic.render import render

    failed = False
    for entry, builder in _selected(args.ids).items():
        d, report = _check(builder)
        if d is None:
            failed = True
            print(f"derivcheck: {entry}: {report}", file=sys.stderr)
            continue
        print(render(d, args.format, report))
        failed |= not report.ok
        for r in report.failures:
            print(_failure(entry, r), file=sys.stderr)
    return 1 if failed else 0


def _failure(entry: str, result) -> str:
    from symbolic.derivation import StepFailed

    return f"derivcheck: {StepFailed(entry, result)}"
