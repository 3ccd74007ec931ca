"""Hostile and broken answer sheets (issue 5), written at test time -- no 200 kB files
in the repository.  No tests here: `tests/test_hostile.py` runs them through the CLI
and `bench/bench_hostile.py` measures them.

    from hostile_inputs import CASES, write_case
    path = write_case(CASES["deep-parens"], tmp_path)

Each case is a row of the `CASES` table: a name, the file name it is written to (the
extension picks the format: `.md` Markdown, `.tex` LaTeX), a builder that returns the
file's bytes, and the exit statuses the CLI may give it.  Builders take the directory
the files go to, so that payloads that try to write a file (`touch PWNED`) aim at a
path the test then inspects.  Everything is deterministic (a seeded `random.Random`).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

PWNED = "PWNED"  # the file a payload tries to create; it must never appear

REPORT = frozenset({0, 1})  # a report was written (1: something refuted)
UNREADABLE = frozenset({2})  # exit 2 with one line on stderr


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    build: Callable[[Path], bytes]
    exits: frozenset = REPORT
    note: str = ""
    # false identities, as (lhs, rhs) exactly as written: never `verified`
    never_verified: tuple[tuple[str, str], ...] = ()


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


# ------------------------------------------------------------------ unreadable bytes
def empty(_: Path) -> bytes:
    return b""


def binary_nul(_: Path) -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8


def random_bytes(_: Path) -> bytes:
    return random.Random(5).randbytes(64 << 10)


def random_bytes_no_nul(_: Path) -> bytes:
    """Random bytes without NUL: not caught as binary, must fail as invalid UTF-8."""
    data = random.Random(6).randbytes(64 << 10)
    return data.replace(b"\x00", b"\xff")


def latin1(_: Path) -> bytes:
    text = ("Problème 1 (a): la dérivée de $f(x) = x^2$ est $f'(x) = 2x$.\n"
            "Résumé: $a + b = b + a$ — façon très simple.\n")
    return text.encode("latin-1", errors="replace")


def utf16(_: Path) -> bytes:
    return "Problem 1\n$x + x = 2x$\n".encode("utf-16")


# ------------------------------------------------------------------ size and depth
def big_formula(_: Path, target: int = 200_000) -> bytes:
    """One `$$…$$` of about 200 kB: a sum of squares equal to itself reordered."""
    terms, k = [], 0
    while sum(map(len, terms)) < target // 2:
        k += 1
        terms.append(f"x_{{{k}}}^{{2}} + ")
    lhs = "".join(terms) + "1"
    rhs = "1 + " + "".join(reversed(terms))[:-3]
    return _utf8(f"Problem 1\n\n$${lhs} = {rhs}$$\n")


def deep_parens(_: Path, depth: int = 3000) -> bytes:
    return _utf8(f"Problem 1\n\n$${'(' * depth}x{')' * depth} = x$$\n\n"
                 f"and inline ${'{' * depth}y{'}' * depth} = y$ too.\n")


def deep_declaration(_: Path, depth: int = 3000) -> bytes:
    """Declarations are read in the checker's own process: make them deep too."""
    return _utf8(f"Problem 1\n\nLet ${'(' * depth}X{')' * depth} \\in \\mathbb{{R}}^{{n \\times d}}$ "
                 f"and $\\dim({'(' * depth}W{')' * depth}) = (4 \\times n)$.\n\n"
                 f"$X \\in \\mathbb{{R}}^{{10^{{10^{{10^{{10}}}}}} \\times 10^{{10^{{10}}}}}}$\n")


def long_declarations(_: Path, count: int = 20) -> bytes:
    """Declarations are read in the checker's own process (no sandbox): 20 whose target
    is a 1900-character sum (each about 1 s to parse), as `\\in` and as layer `\\dim`."""
    out = ["Problem 1", ""]
    for k in range(count):
        terms = "+".join(f"x_{{{k}{j}}}^{{2}}" for j in range(1, 160))[:1900].rsplit("+", 1)[0]
        out.append(f"${terms} \\in \\mathbb{{R}}^{{n}}$ and $\\dim({terms}^{{1}}) = (4 \\times n)$")
    return _utf8("\n\n".join(out) + "\n")


def many_formulas(_: Path, count: int = 3000) -> bytes:
    """3000 one-line formulas of three kinds; every 100th has a planted error."""
    lines = ["# Problem 1", ""]
    for k in range(1, count + 1):
        if k % 100 == 0:
            formula = f"2(y + {k}) = 2y + {k}"  # planted: the factor 2 is lost
        elif k % 3 == 0:
            formula = f"(x + {k})^2 = x^2 + {2 * k}x + {k * k}"
        elif k % 3 == 1:
            formula = f"a_{{{k}}} + {k} = {k} + a_{{{k}}}"
        else:
            formula = f"x^{{{2 + k % 7}}} x = x^{{{3 + k % 7}}}"
        lines.append(f"Step {k}: ${formula}$.")
    return _utf8("\n".join(lines) + "\n")


def many_problems(_: Path, count: int = 1000) -> bytes:
    """1000 problems, each declaring a symbol of its own and stating one relation."""
    return _utf8("\n".join(f"Problem {k}\n\n$x_{{{k}}} \\in \\mathbb{{R}}^{{n}}$ and $a + {k} = {k} + a$\n"
                           for k in range(1, count + 1)))


def many_declarations(_: Path, count: int = 1000) -> bytes:
    """One problem that declares, defines and states 1000 times (the context grows with
    every line)."""
    return _utf8("Problem 1\n\n" + "\n".join(
        f"$x_{{{k}}} \\in \\mathbb{{R}}^{{n}}$ and $L_{{{k}}} = a + {k}$ and $a + {k} = {k} + a$"
        for k in range(1, count + 1)) + "\n")


def dollar_storm(_: Path) -> bytes:
    """Pathological delimiter runs: 20001 `$`, 5000 `\\(`, empty segments."""
    return _utf8("Problem 1\n\n" + "$" * 20001 + "\n\n" + "\\(" * 5000 + "\n\n"
                 + "$ $ $$ $$ \\[ \\] $\\,$\n\n" + "x$" * 5000 + "\n")


def long_prose(_: Path) -> bytes:
    """200 kB of prose on one line with math-looking words and no delimiter."""
    rng = random.Random(7)
    words = ["the", "gradient", "X^T", "\\hat{m}_t", "w_1", "(a)", "Problem", "مسئله", "است.",
             "ب)", "x^{(i)}", "\\\\", "\\$", "`code`", "~~~"]
    return _utf8(" ".join(rng.choice(words) for _ in range(40_000)) + "\n")


# ------------------------------------------------------------------ broken structure
def unbalanced(_: Path) -> bytes:
    return _utf8("\n".join([
        "Problem 1",
        "(a) $\\frac{1}{2 = 3$",
        "(b) $x + y) = (x + y$",
        "(c) ${{{x = x$ and $}}}y = y$",
        "(d) $a = b and then the line ends",
        "$$ c = d",
        "still display",
        "",
        "\\[ e = f",
        "\\begin{aligned} g &= h \\\\ h &= g",
        "$\\left( x \\right. = x$ and $\\sqrt{ = 2$ and $x^ = 1$ and $_ = $",
        "$$\\begin{aligned} p &= q \\\\ & = r \\end{aligned}$$",
        "a lone dollar $",
    ]) + "\n")


def macro_recursion(_: Path) -> bytes:
    return _utf8("\n".join([
        "\\documentclass{article}",
        "\\def\\x{\\x\\x}",
        "\\newcommand{\\loop}{\\loop\\loop}",
        "\\newcommand{\\twice}[1]{#1#1}",
        "\\begin{document}",
        "\\section{Problem 1}",
        "$\\x = 1$",
        "$\\def\\y{\\y\\y}\\y = \\y$",
        "$\\loop + 1 = 1 + \\loop$",
        "$\\newcommand{\\z}{\\z}\\z = 2$",
        "\\begin{equation}\\twice{\\twice{\\twice{\\twice{x}}}} = x\\end{equation}",
        "\\end{document}",
    ]) + "\n")


def file_inclusion(_: Path) -> bytes:
    return _utf8("\n".join([
        "\\documentclass{article}",
        "\\input{/etc/passwd}",
        "\\begin{document}",
        "\\input{/etc/passwd}\\include{/etc/shadow}",
        "\\section{Problem 1}",
        "$\\input{/etc/passwd} = 1$",
        "$\\include{/etc/hostname} + x = x$",
        "$\\immediate\\write18{touch PWNED} = 0$",
        "$\\openin5=/etc/passwd \\read5 to\\line = \\line$",
        "\\end{document}",
    ]) + "\n")


def python_payloads(directory: Path) -> bytes:
    target = directory / PWNED
    cmd = f"touch {target}"
    return _utf8("\n".join([
        "Problem 1",
        f"$__import__('os').system('{cmd}')$",
        f"$eval(\"__import__('os').system('{cmd}')\") = 1$",
        f"$exec(\"open('{target}', 'w')\") = 0$",
        f"$x = __import__('os').system('{cmd}')$",
        "$().__class__.__bases__[0].__subclasses__() = 1$",
        f"$lambda: __import__('subprocess').run(['touch', '{target}']) = 1$",
        f"$$\\text{{{cmd}}} = \\mathrm{{os.system}}('{cmd}')$$",
        f"$compile('{cmd}', 'f', 'exec') = getattr(os, 'system')$",
        "$import\\ os = 1$",
    ]) + "\n")


# ------------------------------------------------------------------ formats
SMALL_SHEET = "\n".join([
    "# Problem 1",
    "",
    "(a) Expand: $(a+b)^2 = a^2 + 2ab + b^2$.",
    "",
    "(b) $$\\begin{aligned} 2(x + 1) &= 2x + 2 \\\\ &= 2(x+1) \\end{aligned}$$",
    "",
    "مسئله ۲",
    "",
    "الف) $\\log(ab) = \\log a + \\log b$ و $x^2 x = x^3$.",
    "",
])


def crlf(_: Path) -> bytes:
    return _utf8(SMALL_SHEET.replace("\n", "\r\n"))


def lf(_: Path) -> bytes:
    return _utf8(SMALL_SHEET)


def tex_preamble(_: Path) -> bytes:
    return _utf8("\n".join([
        "% a comment with math that is not math: $x = 2$",
        "\\documentclass[11pt]{article}",
        "\\usepackage{amsmath,amssymb} % $y = 3$",
        "\\newcommand{\\R}{\\mathbb{R}}",
        "\\title{Homework 1 $\\alpha = \\beta$}",
        "\\begin{document}",
        "\\maketitle",
        "\\section{Problem 1}",
        "% \\begin{equation} 1 = 2 \\end{equation}",
        "We have $(a+b)^2 = a^2 + 2ab + b^2$ % and $a = b$ here is a comment",
        "and 50\\% of $x + x = 2x$.",
        "\\begin{align}",
        "  f(x) &= x^2 + 1 \\label{eq:f} \\\\ % trailing comment",
        "  (x+1)^2 &= x^2 + 2x + 1 \\nonumber",
        "\\end{align}",
        "\\begin{verbatim}$not = math$\\end{verbatim}",
        "\\subsection{}",
        "\\[ \\sum_{i=1}^{n} i = \\frac{n(n+1)}{2} \\]",
        "\\end{document}",
        "$after = end$",
    ]) + "\n")


# ------------------------------------------------------------------ expensive mathematics
def power_tower(_: Path) -> bytes:
    return _utf8("Problem 1\n\n$10^{10^{10^{10}}} = 1$\n\n$10^{10^{10^{10}}} + 1 = 1 + 10^{10^{10^{10}}}$\n\n"
                 "$2^{2^{2^{2^{2^{2}}}}} - 1 = 2^{2^{2^{2^{2^{2}}}}}$\n")


def factorial(_: Path) -> bytes:
    return _utf8("Problem 1\n\n$(10^6)! = 1$\n\n$(10^{6})! = (10^{6})!$\n\n$(10^{7})! - 1 = (10^{7})!$\n")


def huge_sum(_: Path) -> bytes:
    return _utf8("Problem 1\n\n$\\sum_{i=1}^{10^{12}} i = 1$\n\n"
                 "$\\sum_{i=1}^{10^{12}} i = \\frac{10^{12}(10^{12}+1)}{2}$\n\n"
                 "$\\sum_{i=1}^{10^{12}} \\sum_{j=1}^{10^{12}} i j = 7$\n")


def _bmatrix(size: int) -> str:
    rows = [" & ".join(f"a_{{{i},{j}}}" for j in range(1, size + 1)) for i in range(1, size + 1)]
    return "\\begin{bmatrix}\n" + " \\\\\n".join(rows) + "\n\\end{bmatrix}"


def matrix_inverse(_: Path, size: int = 60) -> bytes:
    """A 60x60 symbolic inverse (3600 symbols, past the parser's size guard) and an 8x8
    one (parsed and judged: refuted at a random point)."""
    return _utf8(f"Problem 1\n\n$${_bmatrix(size)}^{{-1}} = {_bmatrix(size)}$$\n\n"
                 f"$${_bmatrix(8)}^{{-1}} = {_bmatrix(8)}$$\n")


def huge_exponent(_: Path) -> bytes:
    return _utf8("Problem 1\n\n$x^{99999999999} = x$\n\n$(x+1)^{99999999999} = (1+x)^{99999999999}$\n")


def claim_bait(_: Path) -> bytes:
    """A relation headed like a catalog claim (`w = …`: the normal equations) makes the
    checker evaluate the document's own definition of w, a 10-billion-digit number."""
    return _utf8("Problem 1\n\n$w = 10^{10^{10}} x$\n\n$w = 1$\n\n"
                 "$\\frac{\\partial L}{\\partial b} = 10^{10^{10}}$\n")


# ------------------------------------------------------------------ the table
_FALSE = (("10^{10^{10^{10}}}", "1"), ("2^{2^{2^{2^{2^{2}}}}} - 1", "2^{2^{2^{2^{2^{2}}}}}"),
          ("(10^6)!", "1"), ("(10^{7})! - 1", "(10^{7})!"),
          ("\\sum_{i=1}^{10^{12}} i", "1"), ("\\sum_{i=1}^{10^{12}} \\sum_{j=1}^{10^{12}} i j", "7"),
          ("x^{99999999999}", "x"))

CASES: dict[str, Case] = {c.name: c for c in [
    # unreadable input: exit 2, one line
    Case("empty", "empty.md", empty, REPORT, "no math at all: an empty report"),
    Case("binary-nul", "binary.md", binary_nul, UNREADABLE, "NUL bytes"),
    Case("random-bytes", "random.bin", random_bytes, UNREADABLE, "64 KiB of random bytes"),
    Case("random-no-nul", "random.md", random_bytes_no_nul, UNREADABLE, "random bytes, no NUL"),
    Case("latin-1", "latin1.md", latin1, UNREADABLE, "invalid UTF-8"),
    Case("utf-16", "utf16.md", utf16, UNREADABLE, "UTF-16 with BOM"),
    # size and depth
    Case("big-formula", "big_formula.md", big_formula, note="one 200 kB formula"),
    Case("deep-parens", "deep_parens.md", deep_parens, note="3000-deep () and {}"),
    Case("deep-declaration", "deep_decl.md", deep_declaration,
         note="3000-deep declaration targets, 10^10^10 dimensions"),
    Case("long-declarations", "long_decl.md", long_declarations,
         note="20 declarations of 1900-character targets"),
    Case("many-formulas", "many.md", many_formulas, note="3000 small formulas"),
    Case("many-problems", "problems.md", many_problems, note="1000 problems with declarations"),
    Case("many-declarations", "declarations.md", many_declarations,
         note="one problem, 1000 declarations and definitions"),
    Case("dollar-storm", "dollars.md", dollar_storm, note="20001 $, 5000 \\("),
    Case("long-prose", "prose.md", long_prose, note="200 kB of prose, no math"),
    # broken structure
    Case("unbalanced", "unbalanced.md", unbalanced, note="unclosed braces, $, $$, \\[, aligned"),
    Case("macro-recursion", "macros.tex", macro_recursion, note="\\def / \\newcommand recursion"),
    Case("file-inclusion", "include.tex", file_inclusion, note="\\input{/etc/passwd}, \\write18"),
    Case("python-payloads", "python.md", python_payloads, note="__import__, eval, exec"),
    # formats
    Case("crlf", "crlf.md", crlf, note="Windows line endings"),
    Case("tex-preamble", "preamble.tex", tex_preamble, note="preamble, comments, verbatim"),
    # expensive mathematics: unverified (timeout / too-large) or refuted, never verified if false
    Case("power-tower", "tower.md", power_tower, never_verified=_FALSE),
    Case("factorial", "factorial.md", factorial, never_verified=_FALSE),
    Case("huge-sum", "sum.md", huge_sum, never_verified=_FALSE),
    Case("matrix-inverse", "matrix.md", matrix_inverse, note="60x60 symbolic inverse, 3600 symbols"),
    Case("huge-exponent", "exponent.md", huge_exponent, never_verified=_FALSE),
    Case("claim-bait", "claim.md", claim_bait, note="a catalog claim evaluates 10^{10^{10}}"),
]}


def write_case(case: Case, directory: Path) -> Path:
    path = Path(directory) / case.filename
    path.write_bytes(case.build(Path(directory)))
    return path


def write_all(directory: Path) -> dict[str, Path]:
    return {name: write_case(case, directory) for name, case in CASES.items()}
