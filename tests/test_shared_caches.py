"""Caches that make a class fast (issue 6): the seeded jobs remembered per process
(symbolic.checker.remembered), and what the pool workers learn handed on to the others
(symbolic.batch, "shared caches").  Caches change no result."""
from __future__ import annotations

from importlib import resources

import pytest

from symbolic import batch, checker, claims
from symbolic.batch import run_batch
from symbolic.checker import CheckOptions, Memo, check_document, remembered
from symbolic.document import parse_document

SHEET = resources.files("symbolic").joinpath("data", "answer_sheet_fa.txt").read_text("utf-8")


@pytest.fixture
def fresh_caches(monkeypatch):
    for name in batch.SHARED_CACHES:
        monkeypatch.setattr(checker, name, Memo(20_000))


def test_claim_and_shape_checks_are_remembered_and_change_nothing(fresh_caches, monkeypatch):
    calls = []

    def counted(fn):
        def job(*args):
            calls.append(fn.__name__)
            return fn(*args)
        return job

    monkeypatch.setattr(claims, "claim_job", counted(claims.claim_job))
    monkeypatch.setattr(checker, "shape_job", counted(checker.shape_job))
    options = CheckOptions(sandbox=False)
    first = check_document(parse_document(SHEET, "sheet", "md"), options)
    assert "claim_job" in calls
    calls.clear()
    again = check_document(parse_document(SHEET, "sheet", "md"), options)
    assert calls == []
    assert again.items == first.items and again.claims == first.claims


@pytest.mark.parametrize("reason, kept", [("timeout", False), ("worker-died", False), ("crash", False),
                                          ("too-large", True)])
def test_remembered_keeps_results_and_failures_that_do_not_depend_on_load(fresh_caches, reason, kept):
    runs = []

    def run(fn, *args):
        runs.append(args)
        return False, (reason, "message")

    assert remembered(run, claims.claim_job, 1, 2) == (False, (reason, "message"))
    remembered(run, claims.claim_job, 1, 2)
    assert len(runs) == (1 if kept else 2)
    ok = lambda fn, *args: (runs.append(args), (True, sum(args)))[1]  # noqa: E731
    assert remembered(ok, claims.claim_job, 3, 4) == remembered(ok, claims.claim_job, 3, 4) == (True, 7)
    assert remembered(ok, checker.shape_job, 3, 4) == (True, 7)  # another job: another key
    assert runs.count((3, 4)) == 2


def test_a_worker_takes_in_what_others_learned_and_sends_back_only_what_it_added(fresh_caches, tmp_path):
    path = tmp_path / "a.md"
    path.write_text("# Problem 1\n\n$$(x + 1)^2 = x^2 + 2x + 1$$\n", encoding="utf-8")
    learned = (("PARSES", ("learned elsewhere", None), "value"),)
    checked, pid, added = batch._check_sharing(str(path), CheckOptions(sandbox=False), True, learned)
    assert checked.row.verified == 1 and pid > 0
    assert checker.PARSES.get(("learned elsewhere", None)) == "value"
    names = {name for name, _, _ in added}
    assert {"PARSES", "REMEMBERED"} <= names and ("learned elsewhere", None) not in {k for _, k, _ in added}
    _, _, again = batch._check_sharing(str(path), CheckOptions(sandbox=False), True, ())
    assert again == []  # all cache hits: nothing new


def test_entries_go_to_the_workers_that_may_lack_them_and_are_dropped_once_all_have_them(fresh_caches):
    shared = batch._Shared(2)
    assert shared.to_send() == ((), 0)
    shared.received(11, 0, [("PARSES", "a", 1), ("PARSES", "b", 2)])
    sent, upto = shared.to_send()
    assert sent == (("PARSES", "a", 1), ("PARSES", "b", 2)) and upto == 2  # worker 12 not heard from yet
    assert checker.PARSES.get("a") == 1  # kept here too, for a pool started after a death
    shared.received(12, 2, [("REMEMBERED", "c", 3)])
    assert shared.to_send() == ((("PARSES", "a", 1), ("PARSES", "b", 2), ("REMEMBERED", "c", 3)), 3)
    shared.received(11, 3, [])
    assert shared.to_send() == ((("REMEMBERED", "c", 3),), 3)  # both have a and b: dropped
    assert shared.log == [("REMEMBERED", "c", 3)] and shared.base == 2
    one = batch._Shared(1)
    one.received(11, 0, [("PARSES", "d", 4)])
    assert one.to_send() == ((), 0)


def test_two_workers_give_the_rows_of_one_and_hand_their_entries_back(fresh_caches, tmp_path):
    for k in range(4):
        (tmp_path / f"s{k}.md").write_text(f"# Problem 1\n\n$$(x + {k})^2 = x^2 + {2 * k}x + {k * k + k % 2}$$\n",
                                           encoding="utf-8")
    paths = batch.expand([str(tmp_path)])
    options = CheckOptions(trials=3, timeout_s=10.0)
    two = [c.row for c in run_batch(paths, options, jobs=2)]
    assert [(r.verified, r.refuted) for r in two] == [(1, 0), (0, 1), (1, 0), (0, 1)]
    assert any(text == "(x + 3)^2" for text, _ in checker.PARSES.entries)  # sent back by a worker
    one = [c.row for c in run_batch(paths, options, jobs=1)]
    assert one == two
