"""One side of a relation, in LaTeX, to `symbolic.expr.Expr`.

    parse(r"(X^T X)^{-1} X^T y").expr
    == Mul((Pow(Mul((Transpose(X), X)), Num(-1)), Transpose(X), y))

`parse` never raises: a failure is a `Parsed` with ``expr=None``, a reason code and a
message naming what was not understood.

=========================  ==============================================================
``empty``                  nothing but whitespace or spacing commands
``too-large``              over `MAX_CHARS` characters or `MAX_TOKENS` tokens, brackets
                           nested deeper than `MAX_DEPTH`, or the recursion limit hit
``ellipsis``               `\\dots`, `\\vdots`, `\\ddots` whose pattern was not inferred
``unsupported-notation``   notation with no meaning in one side's IR (`\\in`,
                           `\\mathbb{R}`, `\\sim`, `=`, `\\int`, tuples, sets, prose,
                           `\\def`, any command not in the tables below); the message
                           names it
``unparsed``               malformed text (unbalanced, dangling `^`, engine error)
=========================  ==============================================================

Pipeline:

1. `_guard`: size and nesting;
2. `NORMALIZATION`: string rewrites, one `Rule` per row, each with an example;
3. `latex_tokens.tokenize`, then `latex_tokens.expand_ellipses`;
4. `_Translator` walks the tokens.  It owns every piece of notation (symbols and their
   indices, transposes, functions, derivatives, sums, norms, expectations, …): each
   becomes an IR node at once, its sub-expressions parsed by their own short engine
   calls, and a placeholder `(\\mathit{qN})` in the text of the enclosing expression;
5. `latex_engine` parses what is left, arithmetic only (`+ - \\cdot \\times / \\frac ^`,
   implicit products, groups, numbers), with latex2sympy2, and maps it back to IR.

Conventions (see also `symbolic.expr`):

- Names: `\\hat{y}` -> ``hat_y``, `\\bar`/`\\overline` -> ``bar_x``, `\\tilde` ->
  ``tilde_x``; fonts vanish (`\\mathbf{x}`, `\\boldsymbol{x}`, `\\vec{x}` -> ``x``,
  `\\mathcal{L}` -> ``L``); Greek by name (`\\varepsilon` -> ``epsilon``); primes stay
  (`W'` -> ``W'``); a star superscript is a decoration ("optimal"), not a power:
  `w^*`, `w^{*}`, `w^\\star`, `\\mathbf{w}^{\\ast}` -> ``w*`` (what follows the star in
  the same superscript is read as usual: `w^{*\\top}` -> Transpose(w*)).  `a * b` is a
  product; `^*` on a group and `^\\dagger` are refused.
- Subscripts are indices: `w_j` -> (j,); `w_{ij}`, `w_{n1}` -> (i, j), (n, 1) (two
  characters, at least one a letter); `w_{i,j}` -> (i, j); `x_{12}` -> (12,);
  `m_{t-1}` -> (t - 1,).
- Superscripts: `^T ^{T} ^\\top ^{\\top} ^\\intercal ^{\\mathsf{T}} ^{\\text{T}}` ->
  `Transpose` (on symbols and on groups); `^{-T}` -> inverse of the transpose;
  `^{(i)}`, `^{[l]}` (optionally followed by T) -> index.  A bare superscript (a letter
  or digits) is an index when the base is in `Notation.index_superscripts`, in a
  derivative's denominator (`\\partial z^3`), or when it is a letter bound by a
  `\\sum`/`\\prod` of the same relation and the base is a Latin letter (Greek bases
  such as `\\gamma^k` stay powers).  Otherwise it is a power.
- Functions: ``log`` (natural: `\\log` and `\\ln`), ``exp`` (`\\exp`, `e^{…}`),
  ``sqrt``, ``abs`` (`|x|`), ``sigma`` (`\\sigma(z)`, `\\text{Sigmoid}`), ``softmax``,
  ``relu``, ``tanh``, ``tr``, ``det``, ``max``, ``min``, ``sign``, ``diag``,
  ``factorial``; `\\text{tr} A B` and `\\det A B` without parentheses take everything
  up to the next top-level + or -, `\\log x` takes one factor: a symbol with its scripts
  (`\\log x^2` = log(x²), `\\log \\hat{y}_i`, `\\log x^{(i)}`), or an application with
  its scripts (`\\log \\sigma(z)`, `\\log \\text{Softmax}(u)`, `\\log \\sigma(z)^2` =
  log(σ(z)²)).  After a parenthesis-less `\\log`, `\\ln`, `\\exp`, any letter directly
  followed by `(` is applied, in the whole side (`-\\sum_x p(x) \\log p(x)`), unless the
  parentheses hold a sum starting with a number (`\\log a(1-a)` = log(a)·(1-a)).  A name in
  `Notation.functions` (or any `\\mathcal` letter) directly followed by `(` is a
  document function (`L(w)`, `O(nd^2)`, `N(0, \\sigma^2)`; a `|` inside separates
  arguments like a comma); any other letter followed by `(` is a product (`a(1-a)`).
  `\\text{Name}(…)` keeps its spelling unless the table knows the name;
  `\\text{Var}(X)` (or `\\mathrm`, `\\operatorname`) is E[X^2] - E[X]^2.
- A subscript on a value (after `)`, `]` or a matrix) is an entry: `\\text{softmax}(z)_i`,
  `\\sigma(z)_j`, `(Xw)_i` -> ``Func("entry", (value, i))``; `(XW)_{ij}` ->
  ``Func("entry", (value, i, j))``.
- Elementwise operators between factors: `a \\odot b`, `a \\circ b` ->
  ``Func("hadamard", (a, b))``; `a \\oslash b` -> ``Func("hadamard_div", (a, b))``.  They
  bind like `\\cdot`: looser than juxtaposition, left to right, inside one term
  (`W^T \\delta \\odot \\sigma'(z)` = hadamard(Wᵀδ, σ'(z)); `a \\odot b \\odot c` =
  hadamard(hadamard(a, b), c); `a \\odot b \\cdot c` = hadamard(a, b)·c).  `f \\circ g`
  between two function names is composition and is refused.
- Derivatives are built, never evaluated: `\\frac{\\partial f}{\\partial w}`,
  `\\frac{d f}{d w}`, `\\frac{\\partial^2 f}{\\partial w^2}` (order 2),
  `\\frac{\\partial^2 f}{\\partial u \\partial v}` (nested) -> `Deriv(kind="partial")`;
  `\\nabla_w f` -> `Deriv(kind="nabla")`; `\\nabla^2_w f`, `\\nabla_w^2 f` (Hessian) ->
  `Deriv(order=2, kind="nabla")`; bare `\\nabla f` -> ``Func("grad", (f,))``; bare
  `\\nabla^2 f` (Hessian or Laplacian?) is refused.
  Operator forms (`\\frac{\\partial}{\\partial w} …`, `\\nabla_w …`, `\\partial_w …`)
  apply to everything up to the next top-level + or - (a leading sign included).
- `\\sum_{i=1}^n`, `\\sum_i` (bounds None), bare `\\sum` (index inferred when the body
  indexes by exactly one letter, else ""); the body runs to the next top-level + or -,
  as in latex2sympy2.  `\\prod` alike.  Never collapsed.
- Ellipses (see `latex_tokens`): `t_1 + t_2 + \\dots + t_n` -> `Sum`;
  `[a_1, a_2, \\dots, a_d]` -> ``Func("rowvec", (body, Sym(k), lower, upper))``; a
  one-column matrix with a `\\vdots` row -> ``Func("colvec", …)`` (same arguments); a
  matrix whose rows use `\\dots` around a `\\vdots` row -> ``Func("array", (body,
  Sym(r), r_lower, r_upper, Sym(c), c_lower, c_upper))``.
- `\\|x\\|_p`, `\\lVert x \\rVert`, `||x||` -> `Norm`; `\\mathbb{E}_{x}[…]`, `E[…]` ->
  `Expect`; `\\delta_{ij}`, `\\mathbb{1}_{i=j}`, `\\mathbb{1}[i=j]` -> `Delta`;
  `\\mathbb{1}[z > 0]` -> ``Func("positive", (z - 0,))``, `\\ge`/`\\le` -> ``nonnegative``;
  `I`, `\\mathbf{I}` -> ``Sym("I")`` (identity, never √-1); bare `e` -> ``Sym("e")``;
  `\\mathbf{1}` -> ``Sym("ones")``; `\\mathbf{0}` -> 0; `\\pi`, `\\infty` -> ``Sym``;
  `[a, b]` -> a one-row `Matrix`; `bmatrix`/`pmatrix`/`matrix` -> `Matrix`; `vmatrix`
  -> ``Func("det", (Matrix,))``.  Numbers are exact (`0.5` -> 1/2).

Thread safety: engine calls are serialised by a lock (latex2sympy2 has module state).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterable

from . import latex_engine as le
from . import latex_tokens as lt
from .expr import Add, Delta, Deriv, Expect, Expr, Func, Matrix, Mul, Norm, Num, Pow, Product, Sum, Sym, walk

MAX_CHARS = 2000
MAX_DEPTH = 60
MAX_TOKENS = 1000  # past this the engine's recursion, not the text, is the limit

DEFAULT_FUNCTIONS = frozenset({"f", "g", "L", "J", "O", "N", "U", "sigma", "phi", "Phi", "psi", "ell"})


@dataclass(frozen=True)
class Notation:
    """Per-document conventions; `scan_notation` infers one from the document's math.

    index_superscripts: canonical base names (``y``, ``hat_y``, ``W``) whose bare
        superscripts (a letter or digits) are indices, not powers: `y^i`, `W^1`, `a^3`.
    functions: names that are functions when directly followed by `(`.  The default:
        `f`, `g`, `L`, `J` (losses), `O` (big-O), `N`, `U` (distributions), `\\sigma`,
        `\\phi`, `\\Phi`, `\\psi`, `\\ell`.  `h`, `p` and other letters are left out on
        purpose: `h(\\hat{y} - y)^T` and `p(1-p)` are products.
    bound_indices: letters bound by a `\\sum`/`\\prod` on the relation's other side
        (`summation_indices` finds them; those of the side itself are added by `parse`).
    """

    index_superscripts: frozenset[str] = frozenset()
    functions: frozenset[str] = DEFAULT_FUNCTIONS
    bound_indices: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Parsed:
    expr: Expr | None
    reason: str | None  # None exactly when expr is set
    message: str


class _Reject(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


def _unsupported(what: str) -> _Reject:
    return _Reject("unsupported-notation", what)


# ======================================================================================
# Normalization: string rewrites before tokenizing

@dataclass(frozen=True)
class Rule:
    """One rewrite: `pattern` (a regex) -> `replace` (a string or a match function);
    or, with `pattern=None`, `replace` is a function of the whole text."""

    name: str
    pattern: str | None
    replace: str | Callable
    example: str  # "before -> after"

    def apply(self, text: str) -> str:
        if self.pattern is None:
            return self.replace(text)
        return re.sub(self.pattern, self.replace, text)


_DIGITS = {ord(c): str(n % 10) for n, c in enumerate("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩")}
_UNICODE = {"−": "-", "×": "\\times ", "·": "\\cdot ", "⋅": "\\cdot ", "∂": "\\partial ",
            "∇": "\\nabla ", "…": "\\dots ", "⋯": "\\dots ", "‖": "\\|", "ᵀ": "^{T}", "⊤": "\\top ",
            "α": "\\alpha ", "β": "\\beta ", "γ": "\\gamma ", "δ": "\\delta ", "ε": "\\epsilon ",
            "ϵ": "\\epsilon ", "η": "\\eta ", "θ": "\\theta ", "λ": "\\lambda ", "μ": "\\mu ",
            "π": "\\pi ", "σ": "\\sigma ", "τ": "\\tau ", "φ": "\\phi ", "ω": "\\omega ", "Σ": "\\sum "}
_BRACKETS = {"lbrack": "[", "rbrack": "]", "lbrace": "\\{", "rbrace": "\\}", "lparen": "(", "rparen": ")"}
_NOT_LETTER = r"(?![a-zA-Z])"


def _unwrap(cmd: str, drop_script: bool = False, group: bool = True) -> Callable[[str], str]:
    """`\\cmd{X}` -> `{X}` (or `X`), braces balanced; `drop_script` also drops a
    following `_{…}`/`^{…}` (the label of `\\underbrace{x}_{n}`)."""
    head = re.compile(r"\\" + cmd + r"\s*\{")

    def run(text: str) -> str:
        while (m := head.search(text)):
            depth, k = 1, m.end()
            while k < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[k], 0)
                k += 1
            if depth:
                return text
            inner, rest = text[m.end():k - 1], text[k:]
            if drop_script:
                rest = re.sub(r"^\s*[_^]\s*(\{[^{}]*\}|\\text\{[^{}]*\}|\S)", "", rest)
            text = text[:m.start()] + ("{" + inner + "}" if group else inner) + rest
        return text

    return run


def _strip_wrappers(text: str) -> str:
    for run in (_unwrap("mathop", group=False), _unwrap("boxed"), _unwrap("underbrace", True),
                _unwrap("overbrace", True)):
        text = run(text)
    return re.sub(r"\\(?:textcolor|color)\s*\{[^{}]*\}", "", text)


NORMALIZATION: tuple[Rule, ...] = (
    Rule("persian-digits", r"[۰-۹٠-٩]+", lambda m: m.group().translate(_DIGITS), "x_۱ -> x_1"),
    Rule("unicode", "[" + "".join(_UNICODE) + "]", lambda m: _UNICODE[m.group()],
         "∂L/∂w -> \\partial L/\\partial w; β -> \\beta"),
    Rule("sizing-dot", r"\\(?:left|right)\s*\.", "", "\\left. x \\right| -> x |"),
    Rule("sizing", r"\\(?:left|right|[bB]igg?[lrm]?)" + _NOT_LETTER, "", "\\left( x \\right) -> ( x )"),
    Rule("spacing", r"(?<!\\)\\[,;:!> ]|\\q?quad" + _NOT_LETTER + r"|~|\\(?:displaystyle|textstyle"
         r"|scriptstyle|limits|nolimits|nonumber|notag)" + _NOT_LETTER, " ", "a\\,b \\quad c -> a b c"),
    Rule("labels", r"\\(?:label|tag)\s*\{[^{}]*\}", "", "x \\tag{3} -> x"),
    Rule("wrappers", None, _strip_wrappers,
         "\\mathop{\\mathbb{E}} -> \\mathbb{E}; \\underbrace{x}_{n} -> {x}; \\color{red} -> "),
    Rule("frac-variants", r"\\[dtc]frac" + _NOT_LETTER, r"\\frac", "\\dfrac{a}{b} -> \\frac{a}{b}"),
    Rule("ellipsis-spellings", r"\\(?:cdots|ldots|dotsc|dotsb|dotsm|dotsi|dotso|hdots|mathellipsis)"
         + _NOT_LETTER + r"|\.\.\.", r"\\dots ", "a_1 + \\cdots + a_n -> a_1 + \\dots + a_n"),
    Rule("norm-bars", r"\\(?:lVert|rVert|Vert)" + _NOT_LETTER, r"\\|", "\\lVert x \\rVert -> \\|x\\|"),
    Rule("abs-bars", r"\\(?:lvert|rvert|vert|mid)" + _NOT_LETTER, "|", "\\lvert x \\rvert -> |x|"),
    Rule("bracket-commands", r"\\(?:lbrack|rbrack|lbrace|rbrace|lparen|rparen)" + _NOT_LETTER,
         lambda m: _BRACKETS[m.group()[1:]], "\\lbrack a \\rbrack -> [a]"),
    Rule("transpose-spellings", r"\\intercal" + _NOT_LETTER + r"|\\mathsf\s*\{\s*T\s*\}", r"\\top ",
         "X^{\\intercal} -> X^{\\top}"),
    Rule("prime-command", r"\^\s*\{\s*\\prime\s*\}|\^\s*\\prime" + _NOT_LETTER + r"|\\prime" + _NOT_LETTER,
         "'", "W^{\\prime} -> W'"),
    Rule("trace-macros", r"\\(?:tr|Tr|trace)" + _NOT_LETTER, r"\\text{tr}", "\\tr A -> \\text{tr} A"),
    Rule("upright-e", r"\\mathrm\s*\{\s*e\s*\}", "e", "\\mathrm{e}^{x} -> e^{x}"),
    Rule("matmul-at", r"@", r"\\cdot ", "A @ B -> A \\cdot B"),
    Rule("ast-div", r"\\(?:ast|div)" + _NOT_LETTER, lambda m: "*" if "ast" in m.group() else "/",
         "a \\div b -> a / b"),
    Rule("trailing-punctuation", r"[\s.,;]+$", "", "a + b. -> a + b"),
)


def normalize(latex: str) -> str:
    """Apply `NORMALIZATION`, top to bottom."""
    for rule in NORMALIZATION:
        latex = rule.apply(latex)
    return latex


# ======================================================================================
# Tables

_GREEK = {f"\\{g}": g for g in (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
    "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega").split()}
_GREEK.update({"\\varepsilon": "epsilon", "\\varphi": "phi", "\\vartheta": "theta", "\\varrho": "rho",
               "\\varsigma": "sigma", "\\varpi": "pi", "\\ell": "ell"})
_ACCENTS = {"\\hat": "hat_", "\\widehat": "hat_", "\\bar": "bar_", "\\overline": "bar_", "\\tilde": "tilde_",
            "\\widetilde": "tilde_", "\\dot": "dot_", "\\ddot": "ddot_", "\\check": "check_",
            "\\breve": "breve_", "\\acute": "acute_", "\\grave": "grave_", "\\mathring": "ring_"}
_FONTS = frozenset({"\\mathbf", "\\boldsymbol", "\\bm", "\\pmb", "\\vec", "\\overrightarrow", "\\mathcal",
                    "\\mathscr", "\\mathfrak", "\\mathsf", "\\mathit", "\\mathnormal", "\\mathbb", "\\mathbbm"})
_TRANSPOSE_TOKENS = frozenset({"T", "\\top", "\\text{T}"})
_STARS = frozenset({"*", "\\star"})  # `\ast` is normalized to `*`
# between factors: Hadamard product and division (`\circ` too: composition is refused)
_ELEMENTWISE_OPS = {"\\odot": "hadamard", "\\circ": "hadamard", "\\oslash": "hadamard_div"}
_PRODUCT_OPS = frozenset({"\\cdot", "\\times", "*", "/", *_ELEMENTWISE_OPS})
# spelling -> (IR name, scope without parentheses: "factor" = the next factor,
# "term" = everything up to the next top-level + or -)
_FUNCTION_COMMANDS = {
    "\\log": ("log", "factor"), "\\ln": ("log", "factor"), "\\exp": ("exp", "factor"),
    "\\sin": ("sin", "factor"), "\\cos": ("cos", "factor"), "\\tan": ("tan", "factor"),
    "\\sinh": ("sinh", "factor"), "\\cosh": ("cosh", "factor"), "\\tanh": ("tanh", "factor"),
    "\\det": ("det", "term"), "\\max": ("max", "factor"), "\\min": ("min", "factor"),
    "\\Pr": ("P", "factor"), "\\sgn": ("sign", "factor"),
}
_TEXT_FUNCTIONS = {  # `\text{…}`, `\operatorname{…}`, `\mathrm{…}`, case-insensitive
    "log": ("log", "factor"), "ln": ("log", "factor"), "exp": ("exp", "factor"),
    "sigmoid": ("sigma", "factor"), "sigma": ("sigma", "factor"), "softmax": ("softmax", "factor"),
    "relu": ("relu", "factor"), "tanh": ("tanh", "factor"), "tr": ("tr", "term"), "trace": ("tr", "term"),
    "det": ("det", "term"), "diag": ("diag", "factor"), "sign": ("sign", "factor"),
    "sgn": ("sign", "factor"), "abs": ("abs", "factor"), "max": ("max", "factor"),
    "min": ("min", "factor"), "sqrt": ("sqrt", "factor"),
}
_SETS = frozenset("RNZQC")
_RELATIONS = frozenset({"=", "<", ">", ":", "\\in", "\\notin", "\\sim", "\\le", "\\leq", "\\ge", "\\geq",
                        "\\ne", "\\neq", "\\approx", "\\propto", "\\equiv", "\\to", "\\rightarrow",
                        "\\Rightarrow", "\\leftarrow", "\\Leftarrow", "\\iff", "\\implies", "\\mapsto",
                        "\\xrightarrow", "\\longrightarrow", "\\subset", "\\subseteq", "\\coloneqq",
                        "\\triangleq", "\\simeq", "\\cong", "\\ll", "\\gg"})
_CONSTANTS = {"\\infty": "infty"}
_MATRIX_ENVS = frozenset({"bmatrix", "pmatrix", "matrix", "Bmatrix", "smallmatrix", "vmatrix"})
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_QUICK = re.compile(r"\(\\mathit\{(q\d+)\}\)|(-?\d+(?:\.\d+)?)")
_TRANSPOSED = "^{" + le.placeholder(le.TRANSPOSE_KEY) + "}"


def _is_letter(t: str) -> bool:
    return len(t) == 1 and t.isascii() and t.isalpha()


def _is_transpose(arg: list[str]) -> bool:
    return len(arg) == 1 and arg[0] in _TRANSPOSE_TOKENS


def _text_content(t: str) -> str | None:
    return t[6:-1] if t.startswith("\\text{") else None


# ======================================================================================
# Symbols as written (shared by the translator and scan_notation)

@dataclass
class _Atom:
    name: str  # canonical, without primes
    root: str  # "latin" | "greek" | "digit" | "word"
    font: str | None
    accented: bool
    sub: list[str] | None  # raw tokens of the subscript argument
    sup: list[str] | None
    primes: int
    end: int  # index after the atom
    base_token: str
    star: bool = False  # `w^*`, `w^{\star}`: "optimal", part of the name

    @property
    def full_name(self) -> str:
        return self.name + "*" * self.star + "'" * self.primes


def _scan_base(toks: list[str], i: int) -> _Atom | None:
    t = toks[i]
    if _is_letter(t):
        return _Atom(t, "latin", None, False, None, None, 0, i + 1, t)
    if t in _GREEK:
        return _Atom(_GREEK[t], "greek", None, False, None, None, 0, i + 1, t)
    content = _text_content(t)
    if content is not None and len(content) == 1 and content.isalpha():
        return _Atom(content, "latin", "\\mathrm", False, None, None, 0, i + 1, t)
    if t not in _ACCENTS and t not in _FONTS:
        return None
    arg, j = lt.read_arg(toks, i + 1)
    if not arg:
        return None
    inner = _scan_atom(arg, 0)
    if inner is None or inner.end != len(arg):  # `\mathbf{XY}`, `\mathbb{1}`
        if not all(len(c) == 1 and c.isalnum() for c in arg):
            return None
        inner = _Atom("".join(arg), "digit" if arg[0].isdigit() else "word", None, False, None, None, 0,
                      len(arg), arg[0])
    if t in _ACCENTS:
        inner.name, inner.accented = _ACCENTS[t] + inner.name, True
    else:
        inner.font = t
    inner.end = j
    return inner


def _scan_atom(toks: list[str], i: int) -> _Atom | None:
    """The symbol starting at `toks[i]`, with its primes, subscript and superscript."""
    a = _scan_base(toks, i)
    if a is None:
        return None
    j = a.end
    while j < len(toks) and toks[j] == "'":
        a.primes += 1
        j += 1
    a.sub, a.sup, j = lt.read_scripts(toks, j, a.sub, a.sup)
    if a.sup and a.sup[0] in _STARS:  # `w^*`, `w^{\star\top}`, `w^{*(i)}`: a decoration, then the rest
        a.star, rest = True, a.sup[1:]
        while rest and rest[0] == "'":
            a.primes, rest = a.primes + 1, rest[1:]
        a.sup = rest or None
    a.end = j
    return a


def summation_indices(latex: str) -> frozenset[str]:
    """Letters bound by `\\sum`/`\\prod` in `latex` (`\\sum_i`, `\\sum_{i=1}^n`): pass
    those of one side as `Notation.bound_indices` when parsing the other."""
    try:
        return _bound_in(lt.tokenize(normalize(latex)))
    except Exception:  # noqa: BLE001 - best effort on text that may not parse
        return frozenset()


def _log_applied(toks: list[str]) -> frozenset[str]:
    """Names applied after a parenthesis-less `\\log`, `\\ln`, `\\exp` (`\\log p(x)`,
    `-\\log \\hat{q}(z)`): the log of a product is written with parentheses, so these are
    functions wherever the side follows them by `(` (`p(x) \\log p(x)`)."""
    found = set()
    for k, t in enumerate(toks):
        spelled = _FUNCTION_COMMANDS.get(t) or _TEXT_FUNCTIONS.get((_text_content(t) or "").lower())
        if spelled is None or spelled[0] not in ("log", "exp"):
            continue
        j = k + 1
        while j < len(toks) and toks[j] in ("^", "_"):  # \log^2 p(x), \log_2 p(x)
            j = lt.read_arg(toks, j + 1)[1]
        a = _scan_atom(toks, j) if j < len(toks) else None
        if a is None or a.sup is not None or a.root not in ("latin", "greek") or toks[a.end:a.end + 1] != ["("]:
            continue
        inner = toks[a.end + 1:lt.match(toks, a.end)]
        if inner and inner[0].isdigit() and len(lt.split_terms(inner)) > 1:
            continue  # \log a(1-a): the product a(1-a), of which log takes the factor a
        found.add(a.name.split("_", 1)[1] if a.accented else a.name)
    return frozenset(found)


def _bound_in(toks: list[str]) -> frozenset[str]:
    found = set()
    for k, t in enumerate(toks[:-2]):
        if t in ("\\sum", "\\prod") and toks[k + 1] == "_":
            arg, _ = lt.read_arg(toks, k + 2)
            if arg and _is_letter(arg[0]):
                found.add(arg[0])
        elif t in lt.PRIVATE:  # index letters of the ellipsis constructs
            j = k + 1
            for n in range(7 if t == lt.ARRAY else 1):
                arg, j = lt.read_arg(toks, j)
                if n in (0, 3) and len(arg) == 1 and _is_letter(arg[0]):
                    found.add(arg[0])
    return frozenset(found)


# ======================================================================================
# The translator

def _fast(toks: list[str]) -> Expr | None:
    """IR without the engine for a lone letter, Greek letter or integer."""
    if toks and all(t.isdigit() for t in toks):
        return Num(Fraction(int("".join(toks))))
    if len(toks) == 1 and _is_letter(toks[0]):
        return Sym(toks[0])
    if len(toks) == 1 and toks[0] in _GREEK:
        return Sym(_GREEK[toks[0]])
    return None


class _Translator:
    """Tokens -> engine text.  Every handler `h_*(toks, i)` returns (text, next index)."""

    def __init__(self, notation: Notation, bound: frozenset[str], applied: frozenset[str] = frozenset()):
        self.notation = notation
        self.bound = bound | notation.bound_indices
        self.functions = notation.functions | applied
        self.nodes: dict[str, Expr] = {}

    # -- placeholders and sub-expressions ------------------------------------------
    def node(self, expr: Expr) -> str:
        key = f"q{len(self.nodes)}"
        self.nodes[key] = expr
        return le.placeholder(key)

    def sub_expr(self, toks: list[str]) -> Expr:
        """Parse a sub-expression now, in its own engine call: ANTLR's lookahead cost
        grows with the text it scans, so short calls keep a cold process fast."""
        if not toks:
            raise _Reject("unparsed", "empty sub-expression")
        fast = _fast(toks)
        return fast if fast is not None else self.parse_text(self.emit(toks))

    def parse_text(self, text: str) -> Expr:
        quick = _QUICK.fullmatch(text)
        if quick:
            return self.nodes[quick.group(1)] if quick.group(1) else Num(Fraction(quick.group(2)))
        return le.to_ir(text, self.nodes)

    # -- the walk ------------------------------------------------------------------
    def emit(self, toks: list[str]) -> str:
        """Engine text for `toks`.  Two things need the operand already translated, so
        they are done here rather than by a handler: a subscript on a value (`\\sigma(z)_j`,
        `(Xw)_i` -> entry) and the elementwise operators (`a \\odot b` -> hadamard), which
        bind like `\\cdot`: looser than juxtaposition, left to right, inside one term."""
        parts, i, term = [], 0, 0  # parts[term:] is the current term, its sign excluded
        while i < len(toks):
            t = toks[i]
            if t in ("+", "-") and (i == 0 or toks[i - 1] not in lt.BEFORE_UNARY):
                parts.append(t)
                term, i = len(parts), i + 1
            elif t in _ELEMENTWISE_OPS:
                if len(parts) == term:
                    raise _Reject("unparsed", f"{t} without a left operand")
                right, i = self.units(toks, i + 1, operand=True)
                if not right:
                    raise _Reject("unparsed", f"{t} without a right operand")
                left, right = self.parse_text(" ".join(parts[term:])), self.parse_text(" ".join(right))
                self.no_composition(t, left, right)
                del parts[term:]
                parts.append(self.node(Func(_ELEMENTWISE_OPS[t], (left, right))))
            else:
                more, i = self.units(toks, i)
                parts.extend(more)
        return " ".join(parts)

    def units(self, toks: list[str], i: int, operand: bool = False) -> tuple[list[str], int]:
        """One unit (with `operand`: the right operand of an elementwise operator, units up
        to the next top-level product operator, binary + or -, or the end), each followed
        by its value subscripts."""
        parts, start = [], i
        while i < len(toks):
            t = toks[i]
            if t == "_" and parts and (toks[i - 1] in (")", "]") or toks[i - 1].startswith("\\end{")):
                index, i = lt.read_arg(toks, i + 1)
                parts.append(self.node(Func("entry", (self.parse_text(parts.pop()), *self.index_items(index)))))
                continue
            if parts and not operand:
                break
            if operand and (t in _PRODUCT_OPS or (t in ("+", "-") and i > start
                                                  and toks[i - 1] not in lt.BEFORE_UNARY)):
                break
            text, i = self.unit(toks, i)
            parts.append(text)
        return parts, i

    def no_composition(self, op: str, left: Expr, right: Expr) -> None:
        if op == "\\circ" and all(isinstance(e, Sym) and not e.sub and e.name in self.functions
                                   for e in (left, right)):
            raise _unsupported("function composition f \\circ g")

    def unit(self, toks: list[str], i: int) -> tuple[str, int]:
        t = toks[i]
        handler = _HANDLERS.get(t) or _class_handler(t)
        if handler is None:
            raise _unsupported(f"{t if t.isprintable() else repr(t)} is not supported")
        return handler(self, toks, i)

    def h_pass(self, toks, i):
        return toks[i], i + 1

    def h_number(self, toks, i):
        j = i
        while j < len(toks) and toks[j].isdigit():
            j += 1
        if j + 1 < len(toks) and toks[j] == "." and toks[j + 1].isdigit():
            j += 1
            while j < len(toks) and toks[j].isdigit():
                j += 1
        if j == i:
            raise _Reject("unparsed", "stray '.'")
        return "".join(toks[i:j]), j

    def h_group(self, toks, i):
        j = lt.match(toks, i)
        inner = toks[i + 1:j]
        if not inner:
            raise _Reject("unparsed", "empty group")
        items = lt.split_top(inner, {","})
        if len(items) == 1:
            return "(" + self.emit(inner) + ")", j + 1
        if toks[i] == "[":
            return self.matrix([items]), j + 1
        raise _unsupported("set \\{…, …\\}" if toks[i] == "\\{" else "tuple (…, …)")

    def matrix(self, rows: list[list[list[str]]]) -> str:
        if len({len(r) for r in rows}) != 1:
            raise _Reject("unparsed", "matrix rows of different lengths")
        return self.node(Matrix(tuple(tuple(self.sub_expr(c) for c in r) for r in rows)))

    def h_environment(self, toks, i):
        env = toks[i][7:-1]
        if env not in _MATRIX_ENVS:
            raise _unsupported(f"environment {env}")
        j = lt.match(toks, i)
        rows = [lt.split_top(r, {"&"}) for r in lt.split_top(toks[i + 1:j], {"\\\\"})]
        if rows and rows[-1] == [[]]:
            rows.pop()
        if not rows or any(not c for r in rows for c in r):
            raise _Reject("unparsed", "empty matrix cell")
        text = self.matrix(rows)
        if env == "vmatrix":
            text = self.node(Func("det", (self.parse_text(text),)))
        return text, j + 1

    def h_sup(self, toks, i):
        """A superscript after a group, a function value or a norm."""
        arg, j = lt.read_arg(toks, i + 1)
        return self.power_suffix(arg), j

    def power_suffix(self, arg: list[str]) -> str:
        if not arg:
            raise _Reject("unparsed", "empty superscript")
        if _is_transpose(arg):
            return _TRANSPOSED
        if len(arg) == 2 and arg[0] == "-" and arg[1] in _TRANSPOSE_TOKENS:
            return _TRANSPOSED + "^{-1}"
        if arg == ["'"]:
            raise _unsupported("prime on a non-symbol")
        if arg[0] in _STARS:
            raise _unsupported(f"^{arg[0]} on a non-symbol (a star decorates a name: w^*)")
        if "\\dagger" in arg:
            raise _unsupported("^\\dagger (pseudo-inverse or adjoint)")
        return "^{" + self.emit(arg) + "}"

    # -- symbols ---------------------------------------------------------------------
    def h_atom(self, toks, i):
        a = _scan_atom(toks, i)
        if a is None:
            raise _unsupported(f"{toks[i]} with this argument")
        nxt = toks[a.end] if a.end < len(toks) else None
        for special in _SPECIAL_ATOMS:
            got = special(self, a, toks, nxt)
            if got is not None:
                return got
        if self.is_function(a, toks):
            return self.call(self.function_name(a), toks, a.end)
        return self.symbol(a), a.end

    def is_function(self, a: _Atom, toks: list[str]) -> bool:
        """Is the atom applied to the group after it?  Yes for a known function name or
        a `\\mathcal` letter before `(` (a Latin one also before `[`: `U[a, b]`), for a
        letter with a Greek subscript (`h_\\theta(x)`, `p_\\phi(z)`), and for any
        letter whose parentheses hold a top-level `,` or `|` (`h(a, b)`, `p(y|x)`),
        which no product has."""
        nxt = toks[a.end] if a.end < len(toks) else None
        if a.sup is not None or nxt not in ("(", "["):
            return False
        base = a.name.split("_", 1)[1] if a.accented else a.name
        if base in self.functions or a.font == "\\mathcal":
            return nxt == "(" or a.root == "latin"
        if nxt != "(" or a.root == "digit":
            return False
        if a.sub is not None and len(a.sub) == 1 and a.sub[0] in _GREEK:
            return True
        inner = toks[a.end + 1:lt.match(toks, a.end)]
        return len(lt.split_top(inner, {","})) > 1 or len(lt.split_top(inner, {"|"})) > 1

    def function_name(self, a: _Atom) -> str:
        name = a.full_name
        return name if a.sub is None else str(Sym(name, tuple(self.index_items(a.sub))))

    def symbol(self, a: _Atom, force_index: bool = False) -> str:
        subs = tuple(self.index_items(a.sub)) if a.sub is not None else ()
        index, transpose, inverse, power = self.classify_sup(a, force_index)
        sups = tuple(self.index_items(index)) if index is not None else ()
        text = self.node(Sym(a.full_name, subs, sups))
        if transpose:
            text += _TRANSPOSED
        if inverse:
            text += "^{-1}"
        if power is not None:
            text += self.power_suffix(power)
        return text

    def classify_sup(self, a: _Atom, force_index: bool):
        """(index tokens, transpose?, inverse?, power tokens) for the atom's superscript."""
        s = a.sup
        if s is None:
            return None, False, False, None
        if _is_transpose(s):
            return None, True, False, None
        if len(s) == 2 and s[0] == "-" and s[1] in _TRANSPOSE_TOKENS:
            return None, True, True, None
        if s[0] in ("(", "[") and lt.match(s, 0) < len(s):
            k = lt.match(s, 0)
            if k == len(s) - 1 or (k == len(s) - 2 and s[-1] in _TRANSPOSE_TOKENS):
                return s[1:k], k == len(s) - 2, False, None
        transposed = len(s) > 1 and s[-1] in _TRANSPOSE_TOKENS
        core = s[:-1] if transposed else s
        simple = len(core) <= 3 and all(_is_letter(c) or c.isdigit() or c == "," for c in core)
        bound = a.root == "latin" and len(core) == 1 and core[0] in self.bound
        if simple and (force_index or bound or a.name in self.notation.index_superscripts):
            return core, transposed, False, None
        if force_index:
            raise _unsupported("superscript on a derivative variable")
        return None, False, False, s

    def index_items(self, toks: list[str]) -> list[Expr]:
        """A sub- or superscript as a list of indices (see the module docstring)."""
        if not toks:
            raise _Reject("unparsed", "empty subscript")
        items = lt.split_top(toks, {","})
        if len(items) > 1:
            return [self.index_item(x) for x in items]
        if len(toks) == 2 and all(len(c) == 1 and c.isalnum() for c in toks) and any(map(_is_letter, toks)):
            return [self.index_item([c]) for c in toks]
        return [self.index_item(toks)]

    def index_item(self, toks: list[str]) -> Expr:
        if len(toks) == 1:
            content = _text_content(toks[0])
            if content and _WORD.fullmatch(content):
                return Sym(content)  # x_{\text{train}}
            if toks[0] in ("\\max", "\\min"):
                return Sym(toks[0][1:])  # \lambda_{\max}
        return self.sub_expr(toks)

    # -- functions -------------------------------------------------------------------
    def call(self, name: str, toks: list[str], j: int) -> tuple[str, int]:
        """`name(args)`, the parenthesis (or bracket) at toks[j]; `|` separates like `,`."""
        k = lt.match(toks, j)
        items = lt.split_top(toks[j + 1:k], {","})
        if len(items) > 1 and not items[-1]:
            items.pop()  # trailing comma
        items = lt.split_top(items[0], {"|"}) + items[1:]
        if any(not x for x in items):
            raise _Reject("unparsed", f"empty argument of {name}")
        args = tuple(self.sub_expr(x) for x in items)
        if name.lower() in ("var", "variance") and len(args) == 1:  # Var(X) = E[X^2] - E[X]^2
            x = args[0]
            return self.node(Add((Expect(Pow(x, Num(Fraction(2)))),
                                  Mul((Num(Fraction(-1)), Pow(Expect(x), Num(Fraction(2)))))))), k + 1
        return self.node(Func(name, args)), k + 1

    def h_function_command(self, toks, i):
        name, scope = _FUNCTION_COMMANDS[toks[i]]
        return self.apply_function(name, scope, toks, i + 1, toks[i])

    def apply_function(self, name, scope, toks, j, spelled):
        base, power, j = lt.read_scripts(toks, j)
        if base is not None and name != "log":
            raise _unsupported(f"{spelled} with a subscript")
        if j >= len(toks):
            raise _Reject("unparsed", f"{spelled} without an argument")
        if toks[j] == "(":
            text, j = self.call(name, toks, j)
        else:
            end = self.scope_end(toks, j) if scope == "term" else self.factor_end(toks, j)
            text, j = self.node(Func(name, (self.sub_expr(toks[j:end]),))), end
        if base is not None:  # log_b x = log x / log b
            text = f"({text} {self.node(Func('log', (self.sub_expr(base),)))}^{{-1}})"
        if power is not None:  # \log^2 x
            text = f"({text})" + self.power_suffix(power)
        return text, j

    def h_text(self, toks, i):
        c = _text_content(toks[i])
        if _NUMBER.fullmatch(c):
            return c, i + 1
        if c.lower() in _TEXT_FUNCTIONS:
            name, scope = _TEXT_FUNCTIONS[c.lower()]
            return self.apply_function(name, scope, toks, i + 1, toks[i])
        if not _WORD.fullmatch(c):
            raise _unsupported(f"text {toks[i]} (prose or a label)")
        if i + 1 < len(toks) and toks[i + 1] == "(":
            return self.call(c, toks, i + 1)
        return self.node(Sym(c)), i + 1

    def h_sqrt(self, toks, i):
        j, root = i + 1, None
        if j < len(toks) and toks[j] == "[":
            k = lt.match(toks, j)
            root, j = toks[j + 1:k], k + 1
        arg, j = lt.read_arg(toks, j)
        if root is None:
            return self.node(Func("sqrt", (self.sub_expr(arg),))), j
        return f"({self.emit(arg)})^{{\\frac{{1}}{{{self.emit(root)}}}}}", j

    # -- operand scopes ----------------------------------------------------------------
    def scope_end(self, toks: list[str], j: int) -> int:
        """End of an operator's operand: the next top-level binary + or - (or the end)."""
        k = j + (j < len(toks) and toks[j] in ("+", "-"))
        start = k
        while k < len(toks):
            t = toks[k]
            if lt.is_opener(t):
                k = lt.match(toks, k) + 1
            elif t in ("|", "\\|"):
                close = _next_bar(toks, k)
                if close is None:
                    break
                k = close + 1
            elif (t in ("+", "-") and k > start and toks[k - 1] not in lt.BEFORE_UNARY) or \
                    t in _RELATIONS or t in (",", "&", "\\\\"):
                break
            else:
                k += 1
        return k

    def factor_end(self, toks: list[str], j: int) -> int:
        """End of the one factor at toks[j] (the argument of `\\log x`), scripts included."""
        t = toks[j]
        if t in _FUNCTION_COMMANDS or (_text_content(t) or "").lower() in _TEXT_FUNCTIONS:
            return self.factor_end(toks, j + 1)  # \log \log x
        if lt.is_opener(t):
            k = lt.match(toks, j) + 1
        elif t in ("|", "\\|"):
            close = _next_bar(toks, j)
            if close is None:
                raise _Reject("unparsed", "unmatched |")
            k = close + 1
        elif t == "\\frac":
            _, k = lt.read_arg(toks, j + 1)
            _, k = lt.read_arg(toks, k)
        elif t.isdigit():
            _, k = self.h_number(toks, j)
        elif t in ("\\sum", "\\prod"):  # `\\log \\sum_j e^{z_j}`: the sum and its body
            return self.scope_end(toks, j)
        else:
            a = _scan_atom(toks, j)
            if a is None:
                raise _Reject("unparsed", f"no argument for the function before {t}")
            if not self.is_function(a, toks):
                return a.end
            k = lt.match(toks, a.end) + 1  # \log \sigma(z), \log \sigma(z)^2, \log \sigma(z)_j
        while k < len(toks) and toks[k] in ("^", "_"):
            _, k = lt.read_arg(toks, k + 1)
        return k

    # -- derivatives -----------------------------------------------------------------
    def h_frac(self, toks, i):
        up, j = lt.read_arg(toks, i + 1)
        low, k = lt.read_arg(toks, j)
        marker = _derivative_marker(up, low)
        if marker is None:
            return f"\\frac{{{self.emit(up)}}}{{{self.emit(low)}}}", k
        order, body = 1, up[1:]
        if body and body[0] == "^":
            n, p = lt.read_arg(up, 2)
            if not all(c.isdigit() for c in n):
                raise _unsupported("derivative of symbolic order")
            order, body = int("".join(n)), up[p:]
        variables = self.derivative_variables(low, marker, order)
        if not body:  # operator form: applies to what follows
            end = self.scope_end(toks, k)
            body, k = toks[k:end], end
            if not body:
                raise _Reject("unparsed", "derivative operator without an operand")
        return self.derivative(body, variables, "partial"), k

    def derivative_variables(self, low, marker, order) -> list[tuple[Expr, int]]:
        out = []
        for chunk in _split_at(low, marker):
            n = 1
            if order > 1 and len(chunk) >= 3 and chunk[-2] == "^" and chunk[-1].isdigit():
                n, chunk = int(chunk[-1]), chunk[:-2]
            elif order > 1 and len(chunk) >= 5 and chunk[-1] == "}" and "^" in chunk:
                p = len(chunk) - 1 - chunk[::-1].index("^")
                digits = chunk[p + 2:-1]
                if chunk[p + 1] == "{" and digits and all(c.isdigit() for c in digits):
                    n, chunk = int("".join(digits)), chunk[:p]
            out.append((self.variable(chunk), n))
        if order > 1 and sum(n for _, n in out) != order:
            if len(out) != 1:
                raise _Reject("unparsed", "derivative orders do not add up")
            out = [(out[0][0], order)]
        return out

    def variable(self, toks: list[str]) -> Expr:
        a = _scan_atom(toks, 0) if toks else None
        if a is None or a.end != len(toks):
            raise _unsupported("derivative with respect to " + " ".join(toks))
        wrt = self.parse_text(self.symbol(a, force_index=True))
        if not isinstance(wrt, Sym):
            raise _unsupported("derivative with respect to a non-symbol")
        return wrt

    def derivative(self, body: list[str], variables: list[tuple[Expr, int]], kind: str) -> str:
        e = self.sub_expr(body)
        for wrt, n in reversed(variables):  # d²f/du dv = d/du (df/dv)
            e = Deriv(e, wrt, n, kind)
        return self.node(e)

    def h_nabla(self, toks, i):
        """`\\nabla_w f`; `\\nabla^2_w f`, `\\nabla_w^2 f` (Hessian: order 2); bare `\\nabla f`."""
        wrt, order, j = lt.read_scripts(toks, i + 1)
        if order is not None and not (order and all(c.isdigit() for c in order) and int("".join(order)) >= 1):
            raise _unsupported(f"\\nabla^{{{' '.join(order)}}} (an order that is not a positive integer)")
        if order is not None and wrt is None:
            n = "".join(order)
            raise _unsupported(f"\\nabla^{n} without a variable (Hessian or Laplacian?): write \\nabla^{n}_w")
        end = self.scope_end(toks, j)
        if end == j:
            raise _Reject("unparsed", "\\nabla without an operand")
        if wrt is None:
            return self.node(Func("grad", (self.sub_expr(toks[j:end]),))), end
        n = int("".join(order)) if order else 1
        return self.derivative(toks[j:end], [(self.variable(wrt), n)], "nabla"), end

    def h_partial(self, toks, i):
        if i + 1 >= len(toks) or toks[i + 1] != "_":
            raise _unsupported("\\partial outside \\frac{\\partial …}{\\partial …} and \\partial_x")
        wrt, j = lt.read_arg(toks, i + 2)
        end = self.scope_end(toks, j)
        if end == j:
            raise _Reject("unparsed", "\\partial_x without an operand")
        return self.derivative(toks[j:end], [(self.variable(wrt), 1)], "partial"), end

    # -- sums and products -----------------------------------------------------------
    def h_bigop(self, toks, i):
        sub, sup, j = lt.read_scripts(toks, i + 1)
        index, lower = "", None
        if sub is not None:
            pieces = lt.split_top(sub, {"="})
            head = _fast(pieces[0])
            if len(pieces) > 2 or not isinstance(head, Sym):
                raise _unsupported(f"{toks[i]} over a set or condition: {' '.join(sub)}")
            index = head.name
            lower = self.sub_expr(pieces[1]) if len(pieces) == 2 else None
        upper = self.sub_expr(sup) if sup is not None else None
        end = self.scope_end(toks, j)
        if end == j:
            raise _Reject("unparsed", f"{toks[i]} without a body")
        body = self.sub_expr(toks[j:end])
        node = Sum if toks[i] == "\\sum" else Product
        return self.node(node(body, index or _infer_index(body), lower, upper)), end

    # -- norms, absolute values, expectation ------------------------------------------
    def h_norm(self, toks, i):
        close = _next_bar(toks, i)
        if close is None:
            raise _Reject("unparsed", "unmatched \\|")
        return self.norm(toks[i + 1:close], toks, close + 1)

    def norm(self, inner, toks, j):
        if not inner:
            raise _Reject("unparsed", "empty norm")
        p = None
        if j < len(toks) and toks[j] == "_":
            p_toks, j = lt.read_arg(toks, j + 1)
            p = self.sub_expr(p_toks)
        return self.node(Norm(self.sub_expr(inner), p)), j

    def h_bar(self, toks, i):
        if i + 1 < len(toks) and toks[i + 1] == "|":  # ||x||
            k = i + 2
            while k + 1 < len(toks) and not (toks[k] == "|" and toks[k + 1] == "|"):
                k = lt.match(toks, k) + 1 if lt.is_opener(toks[k]) else k + 1
            if k + 1 >= len(toks):
                raise _Reject("unparsed", "unmatched ||")
            return self.norm(toks[i + 2:k], toks, k + 2)
        close = _next_bar(toks, i)
        if close is None:
            raise _unsupported("unmatched | (a conditional bar is read only inside a function's parentheses)")
        if close == i + 1:
            raise _Reject("unparsed", "empty |…|")
        return self.node(Func("abs", (self.sub_expr(toks[i + 1:close]),))), close + 1

    def expectation(self, toks, j, over: list[str] | None):
        if j < len(toks) and toks[j] in ("[", "("):
            k = lt.match(toks, j)
            body, end = toks[j + 1:k], k + 1
        else:
            end = self.scope_end(toks, j)
            body = toks[j:end]
        if not body:
            raise _Reject("unparsed", "expectation without a body")
        over_expr = self.sub_expr(lt.split_top(over, {"\\sim"})[0]) if over is not None else None
        return self.node(Expect(self.sub_expr(body), over_expr)), end

    # -- the ellipsis constructs of latex_tokens -------------------------------------------
    def h_private(self, toks, i):
        args, j = [], i + 1
        for _ in range(7 if toks[i] == lt.ARRAY else 4):
            a, j = lt.read_arg(toks, j)
            args.append(a)
        name = {lt.ROWVEC: "rowvec", lt.COLVEC: "colvec", lt.ARRAY: "array"}[toks[i]]
        *ranges, body = args  # (letter, lower, upper) once or twice, then the body
        parts = [Sym(r[0]) if n % 3 == 0 else self.sub_expr(r) for n, r in enumerate(ranges)]
        return self.node(Func(name, (self.sub_expr(body), *parts))), j

    def h_constant(self, toks, i):
        return self.node(Sym(_CONSTANTS[toks[i]])), i + 1


def _next_bar(toks: list[str], i: int) -> int | None:
    """Index of the bar closing the one at toks[i] (same spelling, same depth)."""
    bar, k = toks[i], i + 1
    while k < len(toks):
        if lt.is_opener(toks[k]):
            k = lt.match(toks, k) + 1
        elif toks[k] == bar:
            return k
        else:
            k += 1
    return None


def _split_at(toks: list[str], marker: str) -> list[list[str]]:
    chunks: list[list[str]] = []
    for t in toks:
        if t == marker:
            chunks.append([])
        elif chunks:
            chunks[-1].append(t)
    return chunks


def _is_d(t: str) -> bool:
    return t == "d" or t == "\\text{d}"


def _derivative_marker(up: list[str], low: list[str]) -> str | None:
    """`\\partial` or `d` when `\\frac{up}{low}` is a derivative, else None."""
    if up and low and up[0] == "\\partial" and low[0] == "\\partial":
        return "\\partial"
    starts_atom = len(low) >= 2 and (_is_letter(low[1]) or low[1] in _GREEK or low[1] in _ACCENTS
                                     or low[1] in _FONTS)
    if up and _is_d(up[0]) and _is_d(low[0] if low else "") and starts_atom and up[1:2] != ["_"]:
        return low[0]
    return None


def _infer_index(body: Expr) -> str:
    """Index of a bare `\\sum`: the one single-letter index used in the body, else ""."""
    names = {idx.name for node in walk(body) if isinstance(node, Sym) for idx in node.sub + node.sup
             if isinstance(idx, Sym) and len(idx.name) == 1 and not idx.sub and not idx.sup}
    return names.pop() if len(names) == 1 else ""


# -- special symbols: each returns (text, next index), or None to fall through -----------

_COMPARISONS = {">": ("positive", False), "<": ("positive", True), "\\geq": ("nonnegative", False),
                "\\ge": ("nonnegative", False), "\\leq": ("nonnegative", True), "\\le": ("nonnegative", True)}


def _sp_indicator(tr: _Translator, a: _Atom, toks, nxt):
    """`\\mathbb{1}_{i=j}`, `\\mathbb{1}[i=j]` -> Delta; `\\mathbf{1}` -> ones; `\\mathbb{I}` -> I."""
    if a.font not in ("\\mathbb", "\\mathbbm", "\\mathbf", "\\boldsymbol") or a.name not in ("1", "I"):
        return None
    cond, end = a.sub, a.end
    if cond is None and nxt in ("[", "(", "\\{") and a.name == "1":
        k = lt.match(toks, a.end)
        cond, end = toks[a.end + 1:k], k + 1
    if cond and cond[0] == "\\{" and cond[-1] == "\\}":
        cond = cond[1:-1]
    if cond is not None and "=" in cond:
        lhs, rhs = lt.split_top(cond, {"="})[:2]
        return tr.node(Delta(tr.sub_expr(lhs), tr.sub_expr(rhs))), end
    for op, (name, flip) in (_COMPARISONS.items() if cond is not None else ()):
        parts = lt.split_top(cond, {op})
        if len(parts) == 2 and all(parts):  # `\mathbb{1}[z > 0]`: 1 where z - 0 > 0
            big, small = parts[::-1] if flip else parts
            diff = Add((tr.sub_expr(big), Mul((Num(Fraction(-1)), tr.sub_expr(small)))))
            return tr.node(Func(name, (diff,))), end
    if a.sub is not None:
        return None
    a.name, a.root, a.font = ("I" if a.name == "I" else "ones"), "word", None
    return tr.symbol(a), a.end


def _sp_sets(tr: _Translator, a: _Atom, toks, nxt):
    if a.font == "\\mathbb" and a.name in _SETS:
        raise _unsupported(f"\\mathbb{{{a.name}}} (a set: declarations are read elsewhere)")
    if a.font in ("\\mathbf", "\\boldsymbol", "\\bm") and a.name == "0" and a.sub is None and a.sup is None:
        return tr.node(Num(Fraction(0))), a.end
    if a.root == "digit" or (a.font == "\\mathbb" and a.name not in ("E", "P")):
        raise _unsupported(f"{a.font}{{{a.name}}}")
    return None


def _sp_exp(tr: _Translator, a: _Atom, toks, nxt):
    """`e^{x}` -> exp(x), unless the superscript is an index (`e^{(i)}`)."""
    if a.base_token != "e" or a.font or a.accented or a.sup is None or a.sub is not None or a.primes or a.star:
        return None
    if tr.classify_sup(a, False)[0] is not None:
        return None
    return tr.node(Func("exp", (tr.sub_expr(a.sup),))), a.end


def _sp_expectation(tr: _Translator, a: _Atom, toks, nxt):
    """`\\mathbb{E}…`, or `E[…]` / `E_x[…]`."""
    if a.name != "E" or a.sup is not None or a.primes or a.star or a.accented:
        return None
    if a.font == "\\mathbb" or (nxt == "[" and a.font != "\\mathcal"):
        return tr.expectation(toks, a.end, a.sub)
    return None


def _sp_delta(tr: _Translator, a: _Atom, toks, nxt):
    """`\\delta_{ij}`, `\\delta_{i,j}` -> Delta (other subscripts: the symbol delta)."""
    if a.name != "delta" or a.sub is None or a.sup is not None or a.primes or a.star:
        return None
    items = tr.index_items(a.sub)
    return (tr.node(Delta(items[0], items[1])), a.end) if len(items) == 2 else None


_SPECIAL_ATOMS = (_sp_indicator, _sp_sets, _sp_exp, _sp_expectation, _sp_delta)


def _reject(message: str, reason: str = "unsupported-notation"):
    def handler(tr, toks, i):
        raise _Reject(reason, message.format(tok=toks[i]))
    return handler


_HANDLERS: dict[str, Callable] = {
    **{t: _Translator.h_pass for t in ("+", "-", "*", "/", "\\cdot", "\\times", "!")},
    **{t: _Translator.h_group for t in ("(", "[", "{", "\\{")},
    **{t: _Translator.h_function_command for t in _FUNCTION_COMMANDS},
    **{t: _Translator.h_constant for t in _CONSTANTS},
    **{t: _Translator.h_private for t in lt.PRIVATE},
    **{t: _reject("relation {tok} inside one side (split relations first)") for t in _RELATIONS},
    **{t: _reject("{tok}: the pattern of the elided terms could not be inferred", "ellipsis")
       for t in (lt.DOTS, *lt.VDOTS)},
    "^": _Translator.h_sup,
    "\\frac": _Translator.h_frac,
    "\\sqrt": _Translator.h_sqrt,
    "\\sum": _Translator.h_bigop,
    "\\prod": _Translator.h_bigop,
    "\\nabla": _Translator.h_nabla,
    "\\partial": _Translator.h_partial,
    "\\|": _Translator.h_norm,
    "|": _Translator.h_bar,
    ",": _reject("comma-separated list (split statements first)"),
    "_": _reject("subscript without a symbol: {tok}", "unparsed"),
    "'": _reject("prime on a non-symbol"),
    "&": _reject("alignment & (split aligned rows first)"),
    "\\\\": _reject("line break \\\\ (split aligned rows first)"),
}


def _class_handler(t: str) -> Callable | None:
    if t.isdigit() or t == ".":
        return _Translator.h_number
    if _is_letter(t) or t in _GREEK or t in _ACCENTS or t in _FONTS:
        return _Translator.h_atom
    content = _text_content(t)
    if content is not None:
        return _Translator.h_atom if len(content) == 1 and content.isalpha() else _Translator.h_text
    if t.startswith("\\begin{"):
        return _Translator.h_environment
    return None


# ======================================================================================
# The API

def _guard(latex: str) -> None:
    if len(latex) > MAX_CHARS:
        raise _Reject("too-large", f"{len(latex)} characters (limit {MAX_CHARS})")
    depth = deepest = 0
    for ch in latex:
        if ch in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "})]":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise _Reject("too-large", f"brackets nested {deepest} deep (limit {MAX_DEPTH})")


def _translate(latex: str, notation: Notation) -> tuple[str, _Translator]:
    toks = lt.tokenize(normalize(latex))
    if not toks:
        raise _Reject("empty", "nothing to parse")
    if len(toks) > MAX_TOKENS:
        raise _Reject("too-large", f"{len(toks)} tokens (limit {MAX_TOKENS})")
    reserved = [t for t in toks if t in lt.PRIVATE]
    if reserved:
        raise _unsupported(f"{reserved[0]} is reserved")
    lt.check_balanced(toks)
    toks = lt.expand_ellipses(toks)
    tr = _Translator(notation, _bound_in(toks), _log_applied(toks))
    return tr.emit(toks), tr


def parse(latex: str, notation: Notation = Notation()) -> Parsed:
    """One side of a relation -> `Parsed`.  Never raises (see the module docstring)."""
    try:
        if not isinstance(latex, str):
            raise _Reject("unparsed", f"expected a string, got {type(latex).__name__}")
        _guard(latex)
        text, tr = _translate(latex, notation)
        return Parsed(tr.parse_text(text), None, "")
    except _Reject as r:
        return Parsed(None, r.reason, r.message)
    except le.EngineError as e:
        return Parsed(None, "unparsed", str(e))
    except lt.Unbalanced as e:
        return Parsed(None, "unparsed", f"unbalanced: {e}")
    except RecursionError:
        return Parsed(None, "too-large", "nesting exceeds the recursion limit")
    except Exception as e:  # noqa: BLE001 - parse() promises never to raise
        return Parsed(None, "unparsed", f"internal {type(e).__name__}: {e}")


def engine_text(latex: str, notation: Notation = Notation()) -> str:
    """The arithmetic text the engine gets for `latex` at the top level (debugging)."""
    return _translate(latex, notation)[0]


def scan_notation(latex_pieces: Iterable[str], layers: Iterable[str] = ()) -> Notation:
    """Infer a document's `Notation` from all of its math (segments, relations or sides).

    Index superscripts, from any of:
    - a base written with a parenthesised or bracketed superscript (`x^{(i)}`,
      `\\hat{y}^{(1)}`, `W^{[l]}`): its bare superscripts are indices too;
    - a base under `\\partial` with a superscript (`\\partial z^3`), unless the piece
      writes `\\partial^2` somewhere;
    - a base with a superscript inside `\\dim(…)` (`\\dim(W^1)`);
    - a base written with superscript 1 and with another integer (`Z^1`, `Z^2`: layers);
    - a base written with superscript 1 in a document that numbers layers so (`b^1`
      beside `\\dim(W^1)`).
    - `layers`: bases the caller knows are numbered by layer (declared `W^1`).
    Functions: the defaults, plus a name defined as one (`h(x) = …` at a piece's start).
    """
    index: set[str] = set(layers)
    functions: set[str] = set(DEFAULT_FUNCTIONS)
    integers: dict[str, set[int]] = {}
    for piece in latex_pieces:
        try:
            toks = lt.tokenize(normalize(piece))
        except Exception:  # noqa: BLE001 - scanning is best effort
            continue
        second_order = any(toks[k] == "\\partial" and toks[k + 1] == "^" for k in range(len(toks) - 1))
        k = 0
        while k < len(toks):  # atoms left to right, their own scripts skipped
            try:
                a = _scan_atom(toks, k)
            except lt.Unbalanced:
                a = None
            if a is None or (k and toks[k - 1] in ("_", "^")):
                k += 1
                continue
            _scan_rules(a, toks, k, second_order, index, functions, integers)
            k = a.end
    # a document that numbers layers by superscripts (`\\dim(W^1)`, `Z^1 … Z^2`) writes
    # `b^1` for layer 1 too; nobody writes a first power
    layered = bool(layers) or any(name in index for name in integers) or any(1 in v and len(v) >= 2 for v in integers.values())
    index.update(name for name, values in integers.items() if 1 in values and (len(values) >= 2 or layered))
    return Notation(index_superscripts=frozenset(index), functions=frozenset(functions))


def _scan_rules(a: _Atom, toks, k, second_order, index, functions, integers) -> None:
    sup = a.sup
    if sup and not _is_transpose(sup):
        before = toks[max(0, k - 2):k]
        if sup[0] in ("(", "[") or (before[-1:] == ["\\partial"] and not second_order) \
                or before == ["\\dim", "("]:
            index.add(a.name)
        if all(c.isdigit() for c in sup):
            integers.setdefault(a.name, set()).add(int("".join(sup)))
    if k == 0 and a.sub is None and sup is None and a.end < len(toks) and toks[a.end] == "(":
        try:
            after = toks[lt.match(toks, a.end) + 1:][:2]
        except lt.Unbalanced:
            return
        if after[:1] == ["="] or after == [":", "="]:
            functions.add(a.name)
