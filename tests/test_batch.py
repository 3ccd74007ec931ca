"""Many documents (symbolic.batch, `derivcheck check DIR --jobs N`) and the pytest
plugin (`pytest --derivcheck`).  Issue 6."""
from __future__ import annotations

import csv
import io
import json
import os

import pytest

from symbolic import batch
from symbolic.batch import COLUMNS, Row, expand, report_names, run_batch
from symbolic.checker import CheckOptions
from symbolic.cli import main

pytest_plugins = ["pytester"]

OPTIONS = CheckOptions(trials=3, timeout_s=10.0)

# A tiny answer key: one correct relation, one planted error (the cross term of a
# binomial square dropped), one relation the checker does not judge (`\le`).
KEY = r"""Answer key, homework 1

# Problem 1

(a) Expand the square.

$$(a + b)^2 = a^2 + 2ab + b^2$$

(b) A planted error.

$$(a - b)^2 = a^2 + b^2$$

(c) A bound.

$$a^2 \le a^2 + b^2$$
"""
CLEAN = r"""Answer sheet

# Problem 1

$$(x + 1)(x - 1) = x^2 - 1$$
"""


@pytest.fixture
def class_dir(tmp_path):
    """A class folder: two sheets, one in a subfolder, one unreadable, and files the
    expansion must skip."""
    (tmp_path / "sub").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "empty").mkdir()
    (tmp_path / "alice.md").write_text(KEY, encoding="utf-8")
    (tmp_path / "sub" / "bob.txt").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "broken.tex").write_bytes(b"\x00\x01 not text")
    (tmp_path / "notes.py").write_text("x = 1\n")
    (tmp_path / ".git" / "HEAD.md").write_text(CLEAN)
    return tmp_path


def test_warm_up_sheet_is_checked_without_error():
    batch._check_warm_up()  # warm_up() swallows failures: a broken warm-up only costs speed


def rows_of(paths, jobs):
    return [checked.row for checked in run_batch(paths, OPTIONS, jobs=jobs)]


# ---------------------------------------------------------------------------- finding documents
def test_expand_finds_documents_sorted_and_skips_hidden_folders(class_dir):
    names = [os.path.relpath(p, class_dir) for p in expand([str(class_dir)])]
    assert names == ["alice.md", "broken.tex", os.path.join("sub", "bob.txt")]


def test_expand_keeps_explicit_files_once_and_missing_ones(class_dir):
    alice = str(class_dir / "alice.md")
    assert expand([alice, str(class_dir), "no/such.md"])[-1] == "no/such.md"
    assert expand([alice, alice]) == [alice]


# report names: after the document; folders and suffix kept only where names collide
@pytest.mark.parametrize("paths, names", [
    (["c/alice.md", "c/bob.tex"], ["alice.report.md", "bob.report.md"]),
    (["c/alice.md", "c/alice.tex"], ["alice.md.report.md", "alice.tex.report.md"]),
    (["c/w1/alice.md", "c/w2/alice.md"], ["w1__alice.md.report.md", "w2__alice.md.report.md"]),
])
def test_report_names(paths, names):
    assert [report_names(paths)[p] for p in paths] == names


# ---------------------------------------------------------------------------- rows
def test_rows_are_identical_for_one_and_two_jobs(class_dir):
    paths = expand([str(class_dir)])
    one, two = rows_of(paths, 1), rows_of(paths, 2)
    assert one == two
    assert [r.path for r in one] == paths
    alice = one[0]
    assert (alice.relations, alice.verified, alice.refuted, alice.unverified) == (3, 1, 1, 1)


def test_unreadable_document_is_a_row_and_the_others_are_checked(class_dir):
    rows = {os.path.basename(r.path): r for r in rows_of(expand([str(class_dir)]), 2)}
    assert "binary file" in rows["broken.tex"].error and rows["broken.tex"].failed
    bob = rows["bob.txt"]
    assert (bob.relations, bob.verified, bob.refuted, bob.unverified) == (1, 1, 0, 0)
    assert not bob.error and not bob.failed


def dies_on_boom(path, options):  # stands in for check_one in the pool (pickled by name)
    if "boom" in path:
        os._exit(3)
    return batch.Checked(Row(path, relations=1))


def test_a_dying_worker_costs_only_its_own_row(tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "check_one", dies_on_boom)
    paths = [str(tmp_path / f"{name}.md") for name in ("a", "b", "boom", "c", "d")]
    rows = rows_of(paths, 2)
    assert [r.path for r in rows] == paths
    assert [bool(r.error) for r in rows] == [False, False, True, False, False]
    assert "died" in rows[2].error


# ---------------------------------------------------------------------------- summary writers
def test_csv_and_jsonl_have_the_documented_columns():
    rows = [Row("a.md", 3, 1, 1, 1, 0, 0, 0, 0.25), Row("b.md", error="b.md: cannot read")]
    out = io.StringIO()
    batch.write_csv(rows, out)
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert COLUMNS == ("path", "relations", "verified", "refuted", "unverified", "claims_established",
                       "claims_contradicted", "claims_missing", "seconds", "error")
    assert tuple(table[0]) == COLUMNS and table[0]["refuted"] == "1" and table[1]["error"]
    out = io.StringIO()
    batch.write_jsonl(rows, out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [tuple(r) for r in records] == [COLUMNS, COLUMNS] and records[0]["seconds"] == 0.25


# ---------------------------------------------------------------------------- the command
def test_check_dir_summary_csv_on_stdout_and_one_report_per_document(class_dir, tmp_path, capsys):
    out = tmp_path / "feedback"
    status = main(["check", str(class_dir), "--jobs", "2", "--trials", "3", "--summary", "csv",
                   "--out", str(out)])
    captured = capsys.readouterr()
    table = list(csv.DictReader(io.StringIO(captured.out)))
    assert status == 1  # alice.md has a refuted relation
    assert [os.path.basename(r["path"]) for r in table] == ["alice.md", "broken.tex", "bob.txt"]
    assert sorted(os.listdir(out)) == ["alice.report.md", "bob.report.md", "broken.report.md"]
    assert "refuted" in (out / "alice.report.md").read_text(encoding="utf-8")
    assert captured.err.count("\n") == 1 and "broken.tex" in captured.err  # no progress bar: not a TTY


def test_check_files_with_summary_out_keeps_reports_on_stdout(class_dir, tmp_path, capsys):
    summary = tmp_path / "rows.jsonl"
    files = [str(class_dir / "sub" / "bob.txt"), str(class_dir / "sub" / "bob.txt"), str(class_dir / "alice.md")]
    status = main(["check", *files, "--trials", "3", "--format", "json", "--summary-out", str(summary)])
    out = capsys.readouterr().out
    assert status == 1 and out.count('"schema": "derivcheck.report/1"') == 2
    assert [json.loads(x)["verified"] for x in summary.read_text().splitlines()] == [1, 1]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_stderr_only(class_dir, monkeypatch, capsys):
    err = Terminal()
    monkeypatch.setattr("sys.stderr", err)
    main(["check", str(class_dir / "alice.md"), str(class_dir / "sub"), "--trials", "3", "--summary", "jsonl"])
    assert "2/2" in err.getvalue() and "2/2" not in capsys.readouterr().out


def test_clean_batch_exits_0(class_dir, capsys):
    assert main(["check", str(class_dir / "sub"), str(class_dir / "sub" / "bob.txt"), "--trials", "3"]) == 0


@pytest.mark.parametrize("argv, message", [
    (["check", "{d}/broken.tex"], "binary file"),  # a single explicit file: usage error
    (["check", "{d}/missing.md"], "missing.md"),
    (["check", "{d}/sub", "--jobs", "0"], "--jobs"),
    (["check", "{d}/sub", "--summary-out", "{d}/rows.txt"], "--summary-out"),
    (["check", "{d}/sub", "--summary", "csv", "--summary-out", "{d}/nowhere/rows.csv"], "no such folder"),
    (["check", "{d}/empty"], "no .md, .txt or .tex documents"),
])
def test_usage_errors_exit_2_with_one_line(class_dir, capsys, argv, message):
    status = main([a.format(d=class_dir) for a in argv])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and message in err


# ---------------------------------------------------------------------------- pytest plugin
QUIET = ("-p", "no:hypothesispytest", "-p", "no:cacheprovider")  # inner runs: only what is tested


def test_plugin_collects_relations_fails_refuted_skips_unverified(pytester):
    pytester.makefile(".md", key=KEY)
    result = pytester.runpytest(*QUIET, "--derivcheck", "--derivcheck-trials", "3", "key.md", "-rfs")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*refuted: (a - b)^2 = a^2 + b^2",
        "*line 11 (problem 1, part b): *",
        "*left = *right = *",
        "FAILED key.md::line 11: (a - b)^2 = a^2 + b^2*",
        "SKIPPED [[]1[]] key.md: line 15: unverified: unsupported-relation*",
    ])


def test_plugin_is_inert_without_its_option(pytester):
    pytester.makefile(".md", key=KEY)
    result = pytester.runpytest(*QUIET)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_plugin_reports_an_unreadable_document_as_one_collection_error(pytester):
    pytester.path.joinpath("bad.tex").write_bytes(b"\x00\x01")
    result = pytester.runpytest(*QUIET, "--derivcheck", "bad.tex")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*bad.tex: binary file*"])
