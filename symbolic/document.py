"""Document: where the mathematics of an answer sheet is, and which problem and part
each piece of it belongs to.

`read_document(path)` / `parse_document(text, name, fmt)` turn a Markdown-ish (`.md`,
`.txt`) or LaTeX (`.tex`) sheet into `Segment`s, the math regions in document order.
Nothing here parses a formula; `symbolic.relation` splits segments into relations.

Delimiters
- Markdown-ish: `$…$` (inline), `$$…$$`, `\\[…\\]` (display), `\\(…\\)` (inline), and the
  display environments of `.tex` written bare.  `\\$` is a literal dollar; fenced code
  blocks and `inline code` are not math.  Inline math may wrap onto the next line but
  never crosses a blank line.
- `.tex`: the same, plus `equation`, `align`, `gather`, `multline`, `eqnarray`,
  `displaymath`, `flalign`, `alignat` (starred or not) and inline `math`.  `%` comments
  are stripped (not `\\%`), everything outside `\\begin{document}…\\end{document}` is
  ignored, `verbatim`-like environments, `\\verb|…|` and `\\iffalse…\\fi` are skipped,
  `\\input`/`\\include` are never followed.  In Markdown, HTML comments are skipped.
- A missing closing delimiter never raises: the segment is flagged `broken=True` and runs
  to the end of its line (inline delimiters) or of its paragraph (display delimiters).

Problems and parts (the marker in force at a segment's start is what counts, so a
sheet that restates its parts -- questions first, answers after -- still attributes each
answer to its part)
- A problem starts at a line that begins with "Problem 1", "Exercise 2", "Question 3",
  "Solution 4", "Q5", "مسئله ۱", "سوال ۲", "تمرین ۳" (optionally after Markdown or LaTeX
  emphasis), at a Markdown heading that starts with a number or contains such a
  keyword, and at `\\section{…}` (the keyword's number, a leading number, or else the
  section's ordinal).  Problem ids are ASCII digit strings ("1", "2.3").
- A part starts at a line that begins with "(a)", "a)", "a.", "Part (c)", "الف)",
  "(ب)", …, at a heading made of such a marker, at `\\subsection{…}` (its marker or its
  ordinal within the problem) and at `\\item[(a)]`; a Persian marker also starts a part
  right after the end of a sentence in the middle of a line ("… است. ج) توضیح …").
  Parts are latin letters: الف=a, ب=b, ج=c, د=d, ه=e, و=f, ز=g, ح=h.
- Persian (۰-۹) and Arabic-Indic (٠-٩) digits are digits.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Document", "DocumentError", "Section", "Segment", "Stray", "decode",
           "parse_document", "read_document"]


class DocumentError(Exception):
    """The input cannot be read as a document (binary, not UTF-8, unreadable).  The
    message is one line, fit for `derivcheck: error: …` and exit status 2."""


@dataclass(frozen=True)
class Segment:
    """One math region.  `latex` is the text between the delimiters, exactly as written
    (comments of a `.tex` file blanked out), so `line` plus the newlines before an offset
    of `latex` is that offset's source line.  `env` names the delimiter: "$", "$$",
    "\\\\[", "\\\\(" or an environment ("align*")."""

    index: int
    line: int
    end_line: int
    latex: str
    display: bool
    problem: str | None
    part: str | None
    env: str = "$"
    broken: bool = False


@dataclass(frozen=True)
class Section:
    """A problem or part marker: where it is and what is in force after it."""

    line: int
    problem: str | None
    part: str | None
    title: str


@dataclass(frozen=True)
class Stray:
    """Math-looking text outside any delimiter (`X^T`, `\\hat{m}_t` in prose); Markdown only."""

    line: int
    text: str


@dataclass(frozen=True)
class Document:
    name: str
    fmt: str  # "markdown" or "tex"
    text: str  # decoded, BOM removed, newlines normalized to "\n"
    segments: tuple[Segment, ...]
    sections: tuple[Section, ...] = ()
    stray: tuple[Stray, ...] = ()


# ----------------------------------------------------------------------------- tables
FORMATS = {"markdown": "markdown", "md": "markdown", "txt": "markdown", "text": "markdown",
           "tex": "tex", "latex": "tex"}
EXTENSIONS = {".md": "markdown", ".markdown": "markdown", ".txt": "markdown",
              ".tex": "tex", ".latex": "tex", ".ltx": "tex"}

DISPLAY_ENVS = ("equation", "align", "gather", "multline", "eqnarray", "displaymath",
                "flalign", "alignat")
INLINE_ENVS = ("math",)
SKIPPED_ENVS = ("verbatim", "Verbatim", "lstlisting", "minted", "comment")

DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
PERSIAN_PARTS = {"الف": "a", "ب": "b", "ج": "c", "د": "d", "ه": "e", "هـ": "e",
                 "و": "f", "ز": "g", "ح": "h"}
PROBLEM_WORDS = ("problem", "exercise", "question", "solution", "answer", "task",
                 "مسئله", "مساله", "مسأله", "سوال", "سؤال", "تمرین", "پرسش")
BIDI = dict.fromkeys(map(ord, "\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                "\u2066\u2067\u2068\u2069"), None)

_ENV_NAMES = "|".join(DISPLAY_ENVS + INLINE_ENVS)
# Openers, with escapes first so that `\\[` (a row break before "[") and `\$` never open.
_OPENER = re.compile(r"\\\\|\\\$|\$\$|\$|\\\[|\\\(|\\begin\{((?:" + _ENV_NAMES + r")\*?)\}(\{\d+\})?")
_CLOSERS = {"$": re.compile(r"\\.|\$|\n[ \t]*\n", re.S),
            "$$": re.compile(r"\\.|\$\$|\n[ \t]*\n", re.S),
            "\\[": re.compile(r"\\\]|\\.|\n[ \t]*\n", re.S),
            "\\(": re.compile(r"\\\)|\\.|\n[ \t]*\n", re.S)}
_CLOSER_TEXT = {"$": "$", "$$": "$$", "\\[": "\\]", "\\(": "\\)"}
_COMMENT = re.compile(r"\\.|%[^\n]*", re.S)
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]{0,3}\1[ \t]*$|\Z)", re.M | re.S)
_INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)[^\n]+?(?<!`)\1(?!`)")
_SKIPPED = re.compile(r"\\begin\{(" + "|".join(SKIPPED_ENVS) + r")\*?\}.*?(?:\\end\{\1\*?\}|\Z)"
                      r"|\\iffalse\b.*?(?:\\fi\b|\Z)|\\verb\*?([^A-Za-z\s*]).*?(?:\2|$)", re.S | re.M)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)

MASK = "\x00"  # stands for masked math/code in the prose text (a decoded document has no NUL)


# ----------------------------------------------------------------------------- reading
def read_document(path) -> Document:
    """Read and parse a file; the format comes from its extension (else sniffed)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise DocumentError(f"cannot read: {e.strerror or e}") from None
    return parse_document(decode(data), str(path), _format_of(p.suffix.lower(), data))


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) -> str; anything else is a DocumentError."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError("UTF-16 text is not supported; save the file as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DocumentError(f"binary file (NUL byte at offset {nul}), expected UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DocumentError(f"not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}, "
                            f"line {line})") from None


def _format_of(suffix: str, data: bytes | str) -> str | None:
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    probe = data[:200_000]
    marks = (b"\\begin{document}", b"\\documentclass") if isinstance(probe, bytes) else \
        ("\\begin{document}", "\\documentclass")
    return "tex" if any(m in probe for m in marks) else "markdown"


def parse_document(text: str, name: str, fmt: str | None = None) -> Document:
    """`fmt`: "markdown" (aliases "md", "txt") or "tex" ("latex"); None: from `name`'s
    extension, else sniffed (`\\documentclass` or `\\begin{document}` means tex)."""
    if fmt is None:
        fmt = _format_of(Path(name).suffix.lower(), text)
    if fmt not in FORMATS:
        raise DocumentError(f"unknown document format {fmt!r} (expected markdown or tex)")
    fmt = FORMATS[fmt]
    text = normalize(text)
    clean = _tex_clean(text) if fmt == "tex" else _markdown_clean(text)
    lines = _LineIndex(text)
    spans = _math_spans(clean)
    prose = _mask(clean, [(s.start, s.end) for s in spans], MASK)
    events = _events(prose)
    segments = _segments(clean, spans, events, lines)
    sections = tuple(Section(lines.line(e.offset), e.problem, e.part, e.title) for e in events)
    stray = _stray(prose, lines) if fmt == "markdown" else ()
    return Document(name, fmt, text, segments, sections, stray)


def normalize(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise DocumentError("binary content (NUL character), expected text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _LineIndex:
    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


def _mask(text: str, spans, fill: str) -> str:
    """`text` with each span's characters replaced by `fill` (newlines kept)."""
    out, pos = [], 0
    for start, end in spans:
        out.append(text[pos:start])
        out.append(re.sub(r"[^\n]", fill, text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _tex_clean(text: str) -> str:
    """Comments, preamble, postamble and verbatim blanked out; offsets unchanged."""
    comments = [(m.start(), m.end()) for m in _COMMENT.finditer(text) if m.group().startswith("%")]
    text = _mask(text, comments, " ")
    begin = re.search(r"\\begin\{document\}", text)
    spans = []
    if begin:
        spans.append((0, begin.end()))
        end = re.search(r"\\end\{document\}", text[begin.end():])
        if end:
            spans.append((begin.end() + end.start(), len(text)))
    text = _mask(text, spans, " ")
    return _mask(text, [(m.start(), m.end()) for m in _SKIPPED.finditer(text)], MASK)


def _markdown_clean(text: str) -> str:
    """Fenced and inline code and HTML comments blanked out (they are not math);
    offsets unchanged."""
    if "<!--" in text:
        text = _mask(text, [(m.start(), m.end()) for m in _HTML_COMMENT.finditer(text)], " ")
    if "`" not in text and "~~~" not in text:
        return text
    text = _mask(text, [(m.start(), m.end()) for m in _FENCE.finditer(text)], MASK)
    return _mask(text, [(m.start(), m.end()) for m in _INLINE_CODE.finditer(text)], MASK)


# ----------------------------------------------------------------------------- math spans
@dataclass(frozen=True)
class _Span:
    start: int  # opening delimiter
    end: int  # after the closing delimiter
    inner: tuple[int, int]
    env: str
    display: bool
    broken: bool


def _math_spans(text: str) -> list[_Span]:
    spans, pos = [], 0
    while True:
        m = _OPENER.search(text, pos)
        if m is None:
            return spans
        token = m.group()
        if token in ("\\\\", "\\$"):
            pos = m.end()
            continue
        span = _close(text, m)
        spans.append(span)
        pos = span.end


def _close(text: str, m: re.Match) -> _Span:
    start, inner = m.start(), m.end()
    env = m.group(1)
    if env is not None:
        display = env.rstrip("*") not in INLINE_ENVS
        end = re.compile(r"\\end\{" + re.escape(env) + r"\}|\\.", re.S)
        for c in end.finditer(text, inner):
            if c.group().startswith("\\end"):
                return _Span(start, c.end(), (inner, c.start()), env, display, False)
        return _broken(text, start, inner, env, display)
    token = m.group()
    display = token in ("$$", "\\[")
    for c in _CLOSERS[token].finditer(text, inner):
        if c.group() == _CLOSER_TEXT[token]:
            return _Span(start, c.end(), (inner, c.start()), token, display, False)
        if c.group().startswith("\n"):
            break
    return _broken(text, start, inner, token, display)


def _broken(text: str, start: int, inner: int, env: str, display: bool) -> _Span:
    """Unclosed: inline math runs to the end of its line, display math to the end of
    its paragraph."""
    stop = re.compile(r"\n[ \t]*\n" if display else r"\n").search(text, inner)
    end = stop.start() if stop else len(text)
    return _Span(start, end, (inner, end), env, display, True)


# ----------------------------------------------------------------------------- problems and parts
@dataclass(frozen=True)
class _Event:
    offset: int
    problem: str | None
    part: str | None
    title: str
    starts_problem: bool


_D = r"[0-9۰-۹٠-٩]"
_NUMBER = _D + r"+(?:\." + _D + r"+)*"
_LETTER = r"(?:الف|هـ|[بجدهوزح])"
_LEAD = re.compile(r"^(?:[ \t]*(?:#{1,6}(?=[ \t])|>|[-+*](?=[ \t])|\*\*|__|\*|_|"
                   r"\\(?:noindent|textbf|textit|emph|bfseries|itshape|large|Large|LARGE|bf|it|par)\b\s*\{?))*[ \t]*")
_PROBLEM = re.compile(r"(?:(?:" + "|".join(PROBLEM_WORDS) + r")\s*(?:No\.?|#|شماره)?\s*|Q\s?)(" + _NUMBER
                      + r")(?![0-9۰-۹٠-٩])(?:\s*\(([a-hA-H])\)|([a-h])(?![A-Za-z]))?", re.I)
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*)$")
_LEADING_NUMBER = re.compile(r"^(" + _NUMBER + r")(?:\s*\(([a-h])\))?(?:[.):]|\s|$)")
_PART = re.compile(r"^(?:(?:part|بخش|قسمت)\s*\(?([a-hA-H])\)?(?=[\s.:)]|$)"
                   r"|\(([a-hA-H])\)|([a-h])\)|(?-i:([a-h]))\.(?=\s)"
                   r"|\(?(" + _LETTER + r")\)(?!\w))", re.I)
_MID_PART = re.compile(r"[.؟?!]\s+\(?(" + _LETTER + r")\)(?!\w)")
_SECTION = re.compile(r"\\(section|subsection|subsubsection|paragraph)\*?\s*\{((?:[^{}\n]|\{[^{}\n]*\})*)\}|\\item\s*\[([^\]\n]*)\]")


def _part_letter(token: str) -> str:
    return PERSIAN_PARTS.get(token, token.lower())


def _ascii_number(token: str) -> str:
    return ".".join(str(int(p)) for p in token.translate(DIGITS).split("."))


def _match_part(text: str) -> str | None:
    m = _PART.match(text)
    if m is None:
        return None
    return _part_letter(next(g for g in m.groups() if g))


def _match_problem(text: str, anywhere: bool) -> tuple[str, str | None] | None:
    m = _PROBLEM.search(text) if anywhere else _PROBLEM.match(text)
    if m is None:
        return None
    part = m.group(2) or m.group(3)
    return _ascii_number(m.group(1)), part.lower() if part else None


class _State:
    def __init__(self):
        self.sections = 0
        self.subsections = 0

    def problem(self, offset, number, part, title):
        self.subsections = 0
        return _Event(offset, number, part, title, True)

    def part(self, offset, letter, title):
        return _Event(offset, None, letter, title, False)


def _events(prose: str) -> list[_Event]:
    events, state, offset = [], _State(), 0
    for raw in prose.split("\n"):
        line = raw.translate(BIDI)
        if line.strip():
            events.extend(_at_raw_offsets(_line_events(line, offset, state), raw, line, offset))
        offset += len(raw) + 1
    return _resolve(events)


def _line_events(line: str, offset: int, state: _State) -> list[_Event]:
    title = re.sub(MASK + "+", "…", line.strip())[:120]
    for m in _SECTION.finditer(line):
        return [_latex_section(m, offset + m.start(), state, title)]
    heading = _HEADING.match(line)
    body = line[_LEAD.match(line).end():]
    if heading:
        found = _match_problem(body, anywhere=True)
        number = _LEADING_NUMBER.match(body.lstrip("*_ "))
        if found is None and number:
            found = (_ascii_number(number.group(1)), number.group(2))
        if found:
            return [state.problem(offset, found[0], found[1], title)]
    found = _match_problem(body, anywhere=False)
    if found:
        return [state.problem(offset, found[0], found[1], title)]
    letter = _match_part(body)
    if letter:
        return [state.part(offset, letter, title)] + _mid_line_parts(line, offset, after=1)
    return _mid_line_parts(line, offset)


def _at_raw_offsets(events: list[_Event], raw: str, line: str, offset: int) -> list[_Event]:
    """Offsets found in the line without bidi controls, moved back onto the raw line."""
    if len(raw) == len(line):
        return events
    kept = [i for i, ch in enumerate(raw) if ord(ch) not in BIDI] + [len(raw)]
    return [_Event(offset + kept[e.offset - offset], e.problem, e.part, e.title, e.starts_problem)
            for e in events]


def _latex_section(m: re.Match, offset: int, state: _State, title: str) -> _Event:
    command, text = m.group(1), (m.group(2) if m.group(2) is not None else m.group(3))
    text = text.strip()
    if command == "section":
        state.sections += 1
        found = _match_problem(text, anywhere=True)
        number = _LEADING_NUMBER.match(text)
        if found is None and number:
            found = (_ascii_number(number.group(1)), number.group(2))
        found = found or (str(state.sections), None)
        return state.problem(offset, found[0], found[1], title)
    letter = _match_part(text)
    if letter is None and command == "subsection":
        state.subsections += 1
        letter = chr(ord("a") + min(state.subsections, 26) - 1)
    return state.part(offset, letter, title) if letter else _Event(offset, None, None, title, False)


def _mid_line_parts(line: str, offset: int, after: int = 0) -> list[_Event]:
    return [_Event(offset + m.start(1) - (1 if line[m.start(1) - 1] == "(" else 0), None,
                   _part_letter(m.group(1)), re.sub(MASK + "+", "…", line[m.start(1):].strip())[:120], False)
            for m in _MID_PART.finditer(line, after)]


def _resolve(events: list[_Event]) -> list[_Event]:
    """Fill in what is in force after each marker: a part keeps the current problem,
    a problem resets the part."""
    out, problem, part = [], None, None
    for e in events:
        if e.starts_problem:
            problem, part = e.problem, e.part
        elif e.part is not None:
            part = e.part
        else:
            continue
        out.append(_Event(e.offset, problem, part, e.title, e.starts_problem))
    return out


def _segments(clean: str, spans: list[_Span], events: list[_Event], lines: _LineIndex) -> tuple[Segment, ...]:
    out, k, problem, part = [], 0, None, None
    for i, s in enumerate(spans):
        while k < len(events) and events[k].offset <= s.start:
            problem, part = events[k].problem, events[k].part
            k += 1
        a, b = s.inner
        out.append(Segment(i, lines.line(a), lines.line(max(s.end - 1, s.start)), clean[a:b].replace(MASK, " "),
                           s.display, problem, part, s.env, s.broken))
    return tuple(out)


# ----------------------------------------------------------------------------- stray math
_STRAY = re.compile(r"\\[A-Za-z]+(?:\{[^{}\s]*\})?(?:[_^](?:\{[^{}\s]*\}|[A-Za-z0-9]))*"
                    r"|(?<![\w\\])[A-Za-z](?:[_^](?:\{[^{}\s]*\}|[A-Za-z0-9]{1,2}))+(?![\w{])")


def _stray(prose: str, lines: _LineIndex) -> tuple[Stray, ...]:
    return tuple(Stray(lines.line(m.start()), m.group()) for m in _STRAY.finditer(prose))
