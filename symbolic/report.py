"""Reports of a checked document: text (terminal), Markdown (feedback), JSON (schema
`derivcheck.report/1`, stable)."""
from __future__ import annotations

import json
from itertools import groupby

from symbolic.checker import Judged, Report
from symbolic.verdict import REFUTED, UNVERIFIED, VERIFIED

SCHEMA = "derivcheck.report/1"
MARKS = {VERIFIED: "✓", REFUTED: "✗", UNVERIFIED: "?"}
COLORS = {VERIFIED: "\033[32m", REFUTED: "\033[31m", UNVERIFIED: "\033[33m"}
RESET = "\033[0m"
PART_LABEL = lambda p: f"part {p}" if p else "(no part)"


def relation_text(item: Judged) -> str:
    r = item.relation
    return f"{r.lhs} {r.op} {r.rhs}".strip() if r.rhs else r.lhs


def summary_line(report: Report) -> str:
    c = report.counts()
    claims = {s: sum(1 for x in report.claims if x.status == s) for s in ("established", "contradicted", "missing")}
    line = (f"{c['relations']} relations: {c[VERIFIED]} verified, {c[REFUTED]} refuted, "
            f"{c[UNVERIFIED]} unverified")
    if report.claims:
        line += (f"; claims: {claims['established']} established, {claims['contradicted']} contradicted, "
                 f"{claims['missing']} missing")
    return line + f" ({report.seconds:.1f} s)"


def _evidence_lines(item: Judged) -> list[str]:
    v = item.verdict
    out = []
    if v.counterexample:
        ce = v.counterexample
        if "shapes" in ce:
            at = f" at sizes {_kv(ce['sizes'])}" if ce.get("sizes") else ""
            out.append(f"shapes: {' vs '.join('×'.join(map(str, s)) for s in ce['shapes'])}{at}")
        else:
            where = [f"sizes {_kv(ce['sizes'])}"] if ce.get("sizes") else []
            where += [f"indices {_kv(ce['indices'])}"] if ce.get("indices") else []
            if where:
                out.append("at " + ", ".join(where))
            if ce.get("free_indices"):
                out.append("free indices differ: " + ce["free_indices"])
            if ce.get("assumed"):
                out.append("assumed " + _kv(ce["assumed"]))
            if ce.get("read_as_matrices"):
                out.append("undeclared names read as matrices: " + _kv(ce["read_as_matrices"]))
            if ce.get("values"):
                out.append("values " + _kv(ce["values"]))
            if "difference" in ce:  # exact: left - right simplifies to this constant
                out.append(f"left - right = {ce['difference']} (symbolic)")
            else:
                out.append(f"left = {ce.get('lhs')}   right = {ce.get('rhs')}")
    if v.expected:
        out.append(f"expected: {v.expected}")
    return out


def _kv(d: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in d.items())


def _why(item: Judged) -> str:
    v = item.verdict
    if v.status == VERIFIED:  # the method, and the reading it rests on, if any
        if v.message and v.method:
            return f"{v.method}{' ' if v.message.startswith('(') else '; '}{v.message}"
        return v.method or v.message
    if v.status == REFUTED:
        return v.message or v.reason
    return f"{v.reason}: {v.message}" if v.message else v.reason


def _groups(report: Report):
    return groupby(report.items, key=lambda i: (i.relation.problem, i.relation.part))


def to_text(report: Report, color: bool = False) -> str:
    out = [f"derivcheck: {report.document}"]
    for (problem, part), items in _groups(report):
        out.append(f"\nProblem {problem or '-'}, {PART_LABEL(part)}")
        for item in items:
            status = item.verdict.status
            mark = MARKS[status]
            if color:
                mark = COLORS[status] + mark + RESET
            out.append(f"  {mark} line {item.relation.line}: {relation_text(item)}")
            out.append(f"      {status}: {_why(item)}")
            out.extend("      " + line for line in _evidence_lines(item))
    if report.claims:
        out.append("\nClaims (catalog results this document states):")
        for c in report.claims:
            if c.status != "missing":
                out.append(f"  {c.id}: {c.status} (lines {', '.join(map(str, c.lines))})")
        missing = [c.id for c in report.claims if c.status == "missing"]
        if missing:
            out.append(f"  not stated: {', '.join(missing)}")
    out.append("\n" + summary_line(report))
    return "\n".join(out) + "\n"


def to_markdown(report: Report) -> str:
    out = [f"# derivcheck report: `{report.document}`", "", summary_line(report), ""]
    for (problem, part), items in _groups(report):
        out.append(f"## Problem {problem or '-'}, {PART_LABEL(part)}\n")
        for item in items:
            r, v = item.relation, item.verdict
            out.append(f"- **{MARKS[v.status]} line {r.line}** — {v.status}: {_why(item)}")
            out.append("")
            out.append(f"  $$ {relation_text(item)} $$")
            for line in _evidence_lines(item):
                out.append(f"  - {line}" if not line.startswith("expected") else f"  - expected: $${v.expected}$$")
            out.append("")
    if report.claims:
        out.append("## Claims\n")
        out.append("| catalog entry | problem | status | lines |")
        out.append("|---|---|---|---|")
        for c in report.claims:
            out.append(f"| `{c.id}` | {c.problem or ''} | {c.status} | {', '.join(map(str, c.lines))} |")
    return "\n".join(out) + "\n"


def to_json_obj(report: Report) -> dict:
    c = report.counts()
    return {
        "schema": SCHEMA,
        "document": report.document,
        "summary": {k: c[k] for k in ("relations", VERIFIED, REFUTED, UNVERIFIED)},
        "relations": [
            {
                "line": i.relation.line, "segment": i.relation.segment,
                "problem": i.relation.problem, "part": i.relation.part,
                "lhs": i.relation.lhs, "rhs": i.relation.rhs, "op": i.relation.op,
                **i.verdict.to_json(),
            }
            for i in report.items
        ],
        "claims": [
            {"id": c.id, "problem": c.problem, "status": c.status, "lines": list(c.lines)}
            for c in report.claims
        ],
    }


def to_json(report: Report) -> str:
    return json.dumps(to_json_obj(report), ensure_ascii=False, indent=1, default=str) + "\n"


FORMATS = {"text": to_text, "markdown": to_markdown, "json": to_json}
