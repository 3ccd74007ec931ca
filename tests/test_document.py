"""Document -> segments: delimiters, problems and parts, decoding (symbolic.document)."""
import time
from importlib import resources

import pytest

from symbolic.document import DocumentError, decode, parse_document, read_document


def one(text: str, fmt: str = "md"):
    """The (problem, part) of the last segment of `text`."""
    seg = parse_document(text, "t", fmt).segments[-1]
    return seg.problem, seg.part


def spans(text: str, fmt: str = "md"):
    return [(s.latex, s.display, s.env, s.line, s.end_line, s.broken)
            for s in parse_document(text, "t", fmt).segments]


# ----------------------------------------------------------------------------- problems and parts
@pytest.mark.parametrize("text, expected", [
    # Persian markers, Persian and Arabic-Indic digits
    ("مسئله ۱. Linear Regression (۱۵ نمره)\n\n$x$", ("1", None)),
    ("مسئله ۱۲\nالف) پرسش\n$x$", ("12", "a")),
    ("سوال ٧\n\n$x$", ("7", None)),
    ("تمرین ۳\n(ب) متن\n$x$", ("3", "b")),
    ("مسئله ۱\nج) متن\n$x$", ("1", "c")),
    ("مسئله ۱\nد) متن\n$x$", ("1", "d")),
    ("مسئله ۱\n(ه) متن\n$x$", ("1", "e")),
    ("مسئله ۱\nو) متن\n$x$", ("1", "f")),
    # English markers
    ("Problem 3\n(b) text\n$x$", ("3", "b")),
    ("Exercise 4\nPart (d) more\n$x$", ("4", "d")),
    ("Question 5: softmax\nPart c: more\n$x$", ("5", "c")),
    ("**Problem 6.** text\n\n**(a)** text $x$", ("6", "a")),
    ("Problem 2(b) compute $x$", ("2", "b")),
    ("Q3. Explain\na) first\nb. second $x$", ("3", "b")),
    ("Solution 2\n(A) upper case $x$", ("2", "a")),
    # Markdown headings: a number or a keyword starts a problem, a marker a part
    ("## 2. Softmax\n### (c) Jacobian\n$x$", ("2", "c")),
    ("## Linear models (Problem 4)\n$x$", ("4", None)),
    ("# Homework 3\n$x$", (None, None)),
    ("### Part (b)\n$x$", (None, "b")),
    # the marker in force counts: restated parts, reset by a new problem
    ("مسئله ۱\nالف) پرسش\nب) پرسش\nالف) پاسخ $x$", ("1", "a")),
    ("Problem 1\n(a) q\nProblem 2\n$x$", ("2", None)),
    ("Problem 1\n(a) q $y$\n(b) r $x$", ("1", "b")),
    # a Persian marker after the end of a sentence, mid-line
    ("مسئله ۳\nب) اثبات کنید. ج) توضیح دهید $x$", ("3", "c")),
    ("مسئله ۳\nب) $x$ اثبات کنید. ج) توضیح دهید", ("3", "b")),
    # not markers: inside math, inside code, in the middle of English prose
    ("Problem 1\n$$\n(b) + 1\n$$\n$x$", ("1", None)),
    ("Problem 1\n```\n(b) code\n```\n$x$", ("1", None)),
    ("Problem 1\nsee (b) below $x$", ("1", None)),
    ("Problem 1\nThe problem 2 is easy $x$", ("1", None)),
])
def test_markdown_markers(text, expected):
    assert one(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("\\section{Backprop}\n\\subsection{Forward}\n$x$", ("1", "a")),
    ("\\section{Intro}\n\\section{Problem 7: softmax}\n$x$", ("7", None)),
    ("\\section{A}\n\\section*{B}\n\\subsection{S}\n\\subsection{(d) T}\n$x$", ("2", "d")),
    ("\\section{A}\n\\subsection{S}\n\\subsection{T}\n$x$", ("1", "b")),
    ("\\section{3. Ridge}\n\\begin{enumerate}\n\\item[(c)] $x$", ("3", "c")),
    ("\\section{The \\texttt{tr} trick}\n$x$", ("1", None)),
    ("\\noindent\\textbf{Problem 4.} text\n$x$", ("4", None)),
    ("\\section{A}\n% \\section{B}\n$x$", ("1", None)),
])
def test_tex_markers(text, expected):
    assert one("\\begin{document}\n" + text + "\n\\end{document}", "tex") == expected


def test_sections_are_listed_with_lines():
    doc = parse_document("intro\nProblem 1\n(a) x\n(b) y\nProblem 2\n", "t", "md")
    assert [(s.line, s.problem, s.part) for s in doc.sections] == [
        (2, "1", None), (3, "1", "a"), (4, "1", "b"), (5, "2", None)]


# ----------------------------------------------------------------------------- delimiters
@pytest.mark.parametrize("text, expected", [
    # (latex, display, env, line, end_line, broken)
    ("a $x$ b", [("x", False, "$", 1, 1, False)]),
    ("$$y = 1$$", [("y = 1", True, "$$", 1, 1, False)]),
    ("\\[ y \\] and \\( z \\)", [(" y ", True, "\\[", 1, 1, False), (" z ", False, "\\(", 1, 1, False)]),
    ("p\n$$\na = b\n$$\nq", [("\na = b\n", True, "$$", 2, 4, False)]),
    ("$a\nb$", [("a\nb", False, "$", 1, 2, False)]),
    ("costs \\$5 and \\$6", []),
    ("$a \\$ b$", [("a \\$ b", False, "$", 1, 1, False)]),
    ("line break \\\\[2pt] then $c$", [("c", False, "$", 1, 1, False)]),
    ("`$code$` and $y$", [("y", False, "$", 1, 1, False)]),
    ("```\n$$a$$\n```\n$b$", [("b", False, "$", 4, 4, False)]),
    ("<!-- $$a$$\n$c$ -->\n$b$", [("b", False, "$", 3, 3, False)]),
    ("\\begin{align*}\na &= b\n\\end{align*}", [("\na &= b\n", True, "align*", 1, 3, False)]),
    ("$$x$$$y$", [("x", True, "$$", 1, 1, False), ("y", False, "$", 1, 1, False)]),
    # unbalanced: accounted for as a broken segment, never a crash
    ("text $x = 1 and more\n\n$y$", [("x = 1 and more", False, "$", 1, 1, True), ("y", False, "$", 3, 3, False)]),
    ("text $x = 1 and more", [("x = 1 and more", False, "$", 1, 1, True)]),
    ("$a\n\nb$ c", [("a", False, "$", 1, 1, True), (" c", False, "$", 3, 3, True)]),
    ("$$\na = b\n\nprose", [("\na = b", True, "$$", 1, 2, True)]),
    ("\\[ a = b", [(" a = b", True, "\\[", 1, 1, True)]),
    ("$", [("", False, "$", 1, 1, True)]),
])
def test_markdown_segments(text, expected):
    assert spans(text) == expected


TEX = "\\documentclass{article}\n$p$ \\[ q \\]\n\\begin{document}\n{body}\n\\end{document}\n$r$"


@pytest.mark.parametrize("body, expected", [
    ("$a$", [("a", False, "$")]),
    ("% $a$ comment\n$b$ 5\\% $c$ % $d$", [("b", False, "$"), ("c", False, "$")]),
    ("\\begin{equation}e\\end{equation}", [("e", True, "equation")]),
    ("\\begin{equation*}e\\end{equation*}", [("e", True, "equation*")]),
    ("\\begin{align}e\\end{align}", [("e", True, "align")]),
    ("\\begin{align*}e\\end{align*}", [("e", True, "align*")]),
    ("\\begin{gather}e\\end{gather}", [("e", True, "gather")]),
    ("\\begin{multline}e\\end{multline}", [("e", True, "multline")]),
    ("\\begin{eqnarray}e\\end{eqnarray}", [("e", True, "eqnarray")]),
    ("\\begin{displaymath}e\\end{displaymath}", [("e", True, "displaymath")]),
    ("\\begin{math}e\\end{math}", [("e", False, "math")]),
    ("\\begin{alignat*}{2} x &= 1 \\end{alignat*}", [(" x &= 1 ", True, "alignat*")]),
    ("\\begin{verbatim}\n$v$\n\\end{verbatim}\n$w$", [("w", False, "$")]),
    ("\\input{other} \\include{more} $i$", [("i", False, "$")]),
    ("\\verb|$v$| \\iffalse $u$ \\fi $w$", [("w", False, "$")]),
    ("$x = 1 % comment $y$\n+ 2$", [("x = 1 \n+ 2", False, "$")]),
])
def test_tex_segments(body, expected):
    doc = parse_document(TEX.replace("{body}", body), "t.tex")
    assert doc.fmt == "tex"
    # comments are blanked out with spaces: compare the words of each segment
    got = [(s.latex.split(), s.display, s.env) for s in doc.segments]
    assert got == [(lat.split(), d, e) for lat, d, e in expected]


def test_tex_preamble_and_postamble_ignored_but_lines_kept():
    doc = parse_document(TEX.replace("{body}", "\n$a$"), "t.tex")
    assert [(s.latex, s.line) for s in doc.segments] == [("a", 5)]


def test_tex_without_document_environment_is_all_body():
    doc = parse_document("\\section{A}\n$a$ % $b$", "t.tex")
    assert [s.latex for s in doc.segments] == ["a"]


# ----------------------------------------------------------------------------- decoding and formats
@pytest.mark.parametrize("data, lines", [
    (b"Problem 1\r\n$a$\r\n$$b$$\r\n", [2, 3]),
    (b"Problem 1\r$a$\r$$b$$", [2, 3]),
    (b"\xef\xbb\xbfProblem 1\n$a$\n$$b$$", [2, 3]),
])
def test_newlines_and_bom(tmp_path, data, lines):
    path = tmp_path / "sheet.md"
    path.write_bytes(data)
    doc = read_document(path)
    assert [s.line for s in doc.segments] == lines
    assert doc.segments[0].problem == "1"
    assert "\r" not in doc.text and not doc.text.startswith("\ufeff")


def test_parse_document_accepts_bom_and_crlf_text():
    doc = parse_document("\ufeff$a$\r\n$b$", "t")
    assert [(s.latex, s.line) for s in doc.segments] == [("a", 1), ("b", 2)]


@pytest.mark.parametrize("data, words", [
    (b"$a$ \xff\xfe bad", "not valid UTF-8"),
    (b"$a$\n\xc3", "not valid UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
    ("$a$".encode("utf-16"), "UTF-16"),
])
def test_undecodable_input_raises_one_line_error(tmp_path, data, words):
    path = tmp_path / "bad.md"
    path.write_bytes(data)
    with pytest.raises(DocumentError) as err:
        read_document(path)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_decode_reports_line_of_bad_byte():
    with pytest.raises(DocumentError, match="line 2"):
        decode(b"ok\n\xff")


def test_unreadable_paths_raise_document_error(tmp_path):
    with pytest.raises(DocumentError):
        read_document(tmp_path / "missing.md")
    with pytest.raises(DocumentError):
        read_document(tmp_path)


def test_nul_in_text_raises():
    with pytest.raises(DocumentError):
        parse_document("a\x00b", "t")


@pytest.mark.parametrize("name, fmt, expected", [
    ("a.md", None, "markdown"), ("a.txt", None, "markdown"), ("a.markdown", None, "markdown"),
    ("a.tex", None, "tex"), ("a.latex", None, "tex"), ("a", None, "markdown"),
    ("a.md", "tex", "tex"), ("a.tex", "md", "markdown"), ("a", "txt", "markdown"), ("a", "latex", "tex"),
])
def test_format_from_extension_or_argument(name, fmt, expected):
    assert parse_document("$a$", name, fmt).fmt == expected


def test_format_sniffed_for_unknown_extension():
    assert parse_document("\\documentclass{article}\\begin{document}$a$\\end{document}", "stdin").fmt == "tex"


def test_unknown_format_is_an_error():
    with pytest.raises(DocumentError, match="format"):
        parse_document("$a$", "t", "docx")


# ----------------------------------------------------------------------------- stray math in prose
def test_stray_math_in_markdown_prose_is_listed():
    doc = parse_document("we compute X^T and \\hat{m}_t, then m_t and $y$ (not x_train_set)\n", "t")
    assert [s.text for s in doc.stray] == ["X^T", "\\hat{m}_t", "m_t"]


def test_no_stray_math_in_tex():
    assert parse_document("\\begin{document}\\section{A} X^T \\end{document}", "t.tex").stray == ()


# ----------------------------------------------------------------------------- the built-in sheet
def builtin():
    text = resources.files("symbolic").joinpath("data", "answer_sheet_fa.txt").read_text(encoding="utf-8")
    return parse_document(text, "built-in", "md")


def test_builtin_sheet_structure():
    doc = builtin()
    segs = doc.segments
    assert len(segs) > 0 and [s.index for s in segs] == list(range(len(segs)))
    assert any(s.display for s in segs) and any(not s.display for s in segs)
    assert not any(s.broken for s in segs)
    assert all(a.line <= b.line for a, b in zip(segs, segs[1:]))
    assert all(s.line <= s.end_line for s in segs)
    problems = [s.problem for s in segs]
    assert all(p is not None and p.isascii() and p.isdigit() for p in problems)  # Persian digits read
    assert len(set(problems)) >= 2
    assert {s.part for s in segs} <= set("abcdefgh") | {None}
    assert sum(1 for s in doc.sections if s.part is None) >= 2


def test_builtin_sheet_segments_fast():
    text = builtin().text
    best = min(_timed(lambda: parse_document(text, "built-in", "md")) for _ in range(5))
    assert best < 0.05, f"segmenting took {best * 1000:.1f} ms"


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t
