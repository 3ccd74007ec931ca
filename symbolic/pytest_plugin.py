"""pytest plugin: answer keys as tests.

    pytest --derivcheck keys/                 # every .md/.txt/.tex file under keys/
    pytest --derivcheck keys/hw1.md -k "line 12"

Each document is a test module; each relation it claims (`lhs = rhs`, `\\le`, …, but
not a definition, declaration, bare expression or prose) is a test item named by file,
line and relation.  `refuted` fails, with the counterexample and the correct form in the
message; `unverified` is skipped with its reason; `verified` passes.  A catalog result
the document contradicts is one more failing item, `claim ID`.  An unreadable document
is a collection error.

The plugin is registered through the `pytest11` entry point, so it loads with every
pytest run; without `--derivcheck` it only adds its options (nothing heavy is imported).
The document is checked once, when it is collected.
"""
from __future__ import annotations

import pytest

SUFFIXES = (".md", ".txt", ".tex")
NOT_CLAIMS = ("definition",)  # verdict reasons of relations that claim nothing
NAME_WIDTH = 70


def pytest_addoption(parser) -> None:
    group = parser.getgroup("derivcheck", "checking derivations in answer sheets")
    group.addoption("--derivcheck", action="store_true", default=False,
                    help="collect .md/.txt/.tex documents given (or under the folders given) "
                         "and check each relation as a test")
    group.addoption("--derivcheck-seed", type=int, default=0, metavar="N",
                    help="seed of the random points (default 0)")
    group.addoption("--derivcheck-trials", type=int, default=6, metavar="N",
                    help="random points per relation (default 6)")
    group.addoption("--derivcheck-timeout", type=float, default=5.0, metavar="S",
                    help="seconds per parse and per relation (default 5)")
    group.addoption("--derivcheck-where", action="append", default=[], metavar="LATEX",
                    help=r"extra declaration, e.g. 'X \in \mathbb{R}^{n \times d}' (repeatable)")


def pytest_collect_file(file_path, parent):
    if not parent.config.getoption("derivcheck") or file_path.suffix.lower() not in SUFFIXES:
        return None
    return DocumentFile.from_parent(parent, path=file_path)


def options_of(config):
    from symbolic.checker import CheckOptions

    return CheckOptions(trials=config.getoption("derivcheck_trials"),
                        seed=config.getoption("derivcheck_seed"),
                        timeout_s=config.getoption("derivcheck_timeout"),
                        where=tuple(config.getoption("derivcheck_where")))


class DocumentFile(pytest.File):
    def collect(self):
        from symbolic.batch import load_document
        from symbolic.checker import check_document

        options = options_of(self.config)
        report = check_document(load_document(str(self.path), options.max_document_bytes), options)
        taken = set()
        for judged in report.items:
            if judged.relation.kind == "relation" and judged.verdict.reason not in NOT_CLAIMS:
                item = RelationItem.from_parent(self, name=unique(item_name(judged), taken), judged=judged)
                if judged.verdict.status == "unverified":
                    item.add_marker(pytest.mark.skip(reason=skip_reason(judged)))
                yield item
        for claim in report.claims:  # a catalog result the document contradicts
            if claim.status == "contradicted":
                yield ClaimItem.from_parent(self, name=unique(f"claim {claim.id}", taken), claim=claim)

    def repr_failure(self, excinfo):
        from symbolic.batch import Unreadable

        if excinfo.errisinstance(Unreadable):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class RelationRefuted(Exception):
    """Raised by a refuted relation's item; its message is the evidence."""


class RelationItem(pytest.Item):
    def __init__(self, *, judged, **kwargs):
        super().__init__(**kwargs)
        self.judged = judged

    def runtest(self) -> None:
        verdict = self.judged.verdict
        if verdict.status == "refuted":
            raise RelationRefuted(failure_text(self.judged))
        if verdict.status == "unverified":
            pytest.skip(skip_reason(self.judged))

    def repr_failure(self, excinfo):
        if excinfo.errisinstance(RelationRefuted):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.judged.relation.line - 1, self.name


class ClaimItem(pytest.Item):
    def __init__(self, *, claim, **kwargs):
        super().__init__(**kwargs)
        self.claim = claim

    def runtest(self) -> None:
        lines = ", ".join(map(str, self.claim.lines)) or "?"
        raise RelationRefuted(f"contradicted: catalog result {self.claim.id} (problem "
                              f"{self.claim.problem or '-'}), at lines {lines}")

    def repr_failure(self, excinfo):
        return str(excinfo.value) if excinfo.errisinstance(RelationRefuted) else super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, (self.claim.lines[0] - 1) if self.claim.lines else 0, self.name


# ---------------------------------------------------------------------------- names and messages
def item_name(judged) -> str:
    from symbolic.report import relation_text

    text = " ".join(relation_text(judged).split())
    if len(text) > NAME_WIDTH:
        text = text[:NAME_WIDTH - 1] + "…"
    return f"line {judged.relation.line}: {text}"


def skip_reason(judged) -> str:
    v = judged.verdict
    return f"line {judged.relation.line}: unverified: {v.reason}" + (f": {v.message}" if v.message else "")


def unique(name: str, taken: set) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name} ({n})"
    taken.add(candidate)
    return candidate


def failure_text(judged) -> str:
    from symbolic.report import _evidence_lines, relation_text

    r, v = judged.relation, judged.verdict
    where = ", ".join(x for x in (f"problem {r.problem}" if r.problem else "",
                                  f"part {r.part}" if r.part else "") if x)
    lines = [f"refuted: {relation_text(judged)}",
             f"  line {r.line}" + (f" ({where})" if where else "") + f": {v.message or v.reason}"]
    lines += [f"  {line}" for line in _evidence_lines(judged)]
    return "\n".join(lines)
