"""Print a derivation (optionally with its proof report) as LaTeX, Markdown or text.

LaTeX: one `align*` per derivation, one step per row, the rule as `\\text{...}` on the
right; pure ASCII, compiles with amsmath alone.  Markdown: the same rows in a
`$$\\begin{aligned}...\\end{aligned}$$` block, which GitHub renders.  Text: SymPy's
pretty printer, for a terminal.

Rule texts are prose with `$...$` math.  Prose goes into `\\text{}` holding only
letters, digits, spaces and harmless punctuation; everything else (specials such as
`_` or `&`, and Unicode such as `β` or `ᵀ`) becomes math, because MathJax (GitHub)
shows escapes inside `\\text{}` literally and pdflatex rejects stray Unicode in math.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Callable

import sympy as sp

from symbolic.derivation import Derivation, ProofReport, StepResult

# Characters outside \text{}: ASCII specials, then Unicode seen in ML prose.
MATH_CHARS: dict[str, str] = {
    "\\": r"\backslash ", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\hat{}", "&": r"\&",
    "%": r"\%", "#": r"\#", "~": r"\sim ", "$": r"\$", "<": "<", ">": ">", "|": "|",
    "α": r"\alpha ", "β": r"\beta ", "γ": r"\gamma ", "δ": r"\delta ", "ε": r"\varepsilon ",
    "η": r"\eta ", "θ": r"\theta ", "λ": r"\lambda ", "μ": r"\mu ", "ν": r"\nu ", "π": r"\pi ",
    "σ": r"\sigma ", "Σ": r"\Sigma ", "∑": r"\sum ", "∇": r"\nabla ", "∂": r"\partial ",
    "ᵀ": "^T", "²": "^2", "³": "^3", "⁻": "^-", "¹": "^1", "≠": r"\ne ", "≤": r"\le ",
    "≥": r"\ge ", "≈": r"\approx ", "·": r"\cdot ", "×": r"\times ", "→": r"\to ",
    "⇒": r"\Rightarrow ", "⇔": r"\iff ", "∈": r"\in ", "ℝ": r"\mathbb{R}", "‖": r"\|",
    "−": "-", "–": "-", "—": "-", "∞": r"\infty ", "ŷ": r"\hat{y}", "ŵ": r"\hat{w}",
}
TEXT_SAFE = re.compile(r"[A-Za-z0-9 .,;:!?()\[\]'\"=+\-*/@]")


def rule_latex(rule: str) -> str:
    """Prose-with-$math$ as a math-mode fragment: \\text{} runs and math runs."""
    pieces = []
    for n, part in enumerate(rule.split("$")):
        pieces += [("math", _math_ascii(part))] if n % 2 else _prose_pieces(part)
    return "".join(rf"\text{{{s}}}" if kind == "text" else "{" + s + "}" for kind, s in _merge(pieces) if s)


def _math_ascii(math: str) -> str:
    return "".join(ch if ch.isascii() else MATH_CHARS.get(ch) or _ascii_or_placeholder(ch) for ch in math)


ASCII_RELATIONS = (("<=", "≤"), (">=", "≥"), ("!=", "≠"), ("->", "→"), ("=>", "⇒"))


def _prose_pieces(text: str) -> list[tuple[str, str]]:
    out = []
    for ascii_form, symbol in ASCII_RELATIONS:
        text = text.replace(ascii_form, symbol)
    for ch in text:
        if TEXT_SAFE.fullmatch(ch):
            out.append(("text", ch))
        else:
            out.append(("math", MATH_CHARS.get(ch) or _ascii_or_placeholder(ch)))
    return out


def _ascii_or_placeholder(ch: str) -> str:
    plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
    return r"\text{" + (plain if plain and all(TEXT_SAFE.fullmatch(c) for c in plain) else "?") + "}"


def _merge(pieces):
    merged: list[list[str]] = []
    for kind, s in pieces:
        if merged and merged[-1][0] == kind:
            merged[-1][1] += s
        else:
            merged.append([kind, s])
    return merged


# ------------------------------------------------------------------------ latex


# A `Step.latex` that starts with one of these states its own relation (e.g. "\le 1/4").
RELATIONS = ("=", "<", ">", r"\le", r"\ge", r"\leq", r"\geq", r"\approx", r"\propto", r"\sim", r"\ne")
# a relation command must end there: `\left(` does not start with `\le`
_OWN_RELATION = re.compile("|".join(re.escape(r) + (r"(?![A-Za-z])" if r[0] == "\\" else "") for r in RELATIONS))


def expr_latex(step) -> str:
    """The right column with its relation: '= expr' unless Step.latex brings its own."""
    if step.latex and _OWN_RELATION.match(step.latex.lstrip()):
        return step.latex.lstrip()
    return "= " + (step.latex or sp.latex(step.expr))


def lhs_latex(lhs: Any) -> str:
    if lhs is None:
        return ""
    return lhs if isinstance(lhs, str) else sp.latex(lhs)


def _status(results: dict[int, StepResult], k: int) -> str:
    r = results.get(k)
    return f"{r.status} ({r.seconds:.3f} s)" if r else "not checked"


def _latex_rows(d: Derivation, results: dict[int, StepResult], comments: bool) -> list[str]:
    rows = []
    for k, step in enumerate(d.steps):
        row = f"{lhs_latex(step.lhs)} &{expr_latex(step)} && {rule_latex(step.rule)}"
        end = r" \\" if k < len(d.steps) - 1 else ""
        note = f" % step {k + 1}: {_status(results, k)}" if comments and results else ""
        rows.append(row + end + note)
    return rows


def _by_index(report: ProofReport | None) -> dict[int, StepResult]:
    return {r.index: r for r in report.results} if report else {}


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "replace").decode()


# amsmath alone (no amssymb/amsfonts/bm): the LaTeX output swaps these; MathJax has all.
AMSMATH_ONLY = ((r"\mathbb{", r"\mathbf{"), (r"\boldsymbol{", r"\mathbf{"), (r"\bm{", r"\mathbf{"))


def _amsmath_only(row: str) -> str:
    for macro, replacement in AMSMATH_ONLY:
        row = row.replace(macro, replacement)
    return row


def to_latex(d: Derivation, report: ProofReport | None = None) -> str:
    results = _by_index(report)
    head = [f"% {d.id}: {_ascii(d.title)}", f"% source: {_ascii(d.source)}"]
    head += [f"% hypothesis: {_ascii(h)}" for h in d.hypotheses]
    if report:
        head.append(f"% status: {'verified' if report.ok else 'FAILED'} ({report.seconds:.3f} s)")
        head += [f"% {_ascii(r.name)}: {_status(results, r.index)}" for r in report.results[len(d.steps):]]
    rows = [_amsmath_only(row) for row in _latex_rows(d, results, comments=True)]
    body = [r"\begin{align*}", *rows, r"\end{align*}"]
    return "\n".join(head + body) + "\n"


# --------------------------------------------------------------------- markdown


def to_markdown(d: Derivation, report: ProofReport | None = None) -> str:
    results = _by_index(report)
    status = f" — **{'verified' if report.ok else 'FAILED'}** ({report.seconds:.2f} s)" if report else ""
    lines = [f"### `{d.id}`: {d.title}", "", f"Source: {d.source}{status}", ""]
    lines += [f"- hypothesis: `{h}`" for h in d.hypotheses]
    lines += [f"- witness: {r.name.removeprefix('witness: ')}: {_status(results, r.index)}"
              for r in (report.results[len(d.steps):] if report else ())]
    rows = _latex_rows(d, results, comments=False)
    return "\n".join(lines + ["", "$$", r"\begin{aligned}", *rows, r"\end{aligned}", "$$", ""])


# ------------------------------------------------------------------------- text

PLAIN = (  # LaTeX of labels and rule math, made readable in a terminal (order matters)
    (r"\\mathcal\{(\w)\}", r"\1"), (r"\\mathbb\{E\}", "E"),
    (r"\\mathrm\{(\w+)\}", r"\1"), (r"\\hat\{(\w)\}", "\\1\u0302"), (r"\\tilde\{(\w)\}", "\\1\u0303"),
    (r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"\1/\2"),
    (r"\\nabla", "∇"), (r"\\partial ?", "∂"), (r"\\beta", "β"), (r"\\sigma", "σ"), (r"\\mu", "μ"),
    (r"\\nu", "ν"), (r"\\delta", "δ"), (r"\\varepsilon", "ε"), (r"\\epsilon", "ε"), (r"\\sum", "Σ"), (r"\\le(?![a-z])", "≤"),
    (r"\\infty", "∞"), (r"\\operatorname\{(\w+)\}", r"\1"), (r"\\left|\\right", ""),
    (r"\\ne(?![a-z])", "≠"), (r"\\iff", "⇔"), (r"\\times", "×"), (r"\\in(?![a-z])", "∈"), (r"\\", ""), (r"[{}]", ""),
)


def plain(latex: str) -> str:
    for pattern, repl in PLAIN:
        latex = re.sub(pattern, repl, latex)
    return latex


def _pretty(expr: Any) -> list[str]:
    return sp.pretty(expr, use_unicode=True, wrap_line=False).splitlines()


def _text_step(k: int, step, results) -> list[str]:
    label = f"  ({k + 1}) " + (plain(lhs_latex(step.lhs)) + " = " if step.lhs is not None else "    = ")
    block, pad = _pretty(step.expr), " " * len(label)
    lines = [label + block[0]] if len(block) == 1 else [label] + [pad + b for b in block]
    rule = plain(step.rule.replace("$", ""))
    return lines + [f"{pad}by {step.by}: {rule}   [{_status(results, k)}]"]


def to_text(d: Derivation, report: ProofReport | None = None) -> str:
    results = _by_index(report)
    status = f"{'verified' if report.ok else 'FAILED'} in {report.seconds:.2f} s" if report else "not checked"
    lines = [f"{d.id}: {d.title}  [{status}]", f"  source: {d.source}"]
    lines += [f"  hypothesis: {h}" for h in d.hypotheses]
    for k, step in enumerate(d.steps):
        lines += _text_step(k, step, results)
    if report:
        lines += [f"  {r.name}   [{_status(results, r.index)}]" for r in report.results[len(d.steps):]]
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[Derivation, ProofReport | None], str]] = {
    "latex": to_latex,
    "markdown": to_markdown,
    "text": to_text,
}
FORMATS = tuple(RENDERERS)


def render(d: Derivation, fmt: str = "text", report: ProofReport | None = None) -> str:
    return RENDERERS[fmt](d, report)
