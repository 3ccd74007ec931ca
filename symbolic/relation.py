"""Relation: one claim of a document -- `lhs op rhs` with its source line, problem and part.

`split_relations(segment, previous)` cuts one math segment into relations;
`relations(document)` does it for a whole document (and `split_document` also returns the
rows it skipped).  Pure text work: nothing is parsed here, sides stay LaTeX as written
(whitespace runs collapsed, alignment `&`, `\\label`, `\\tag`, `\\nonumber` removed).

How a segment is cut (only at the top level: never inside `{…}`, `(…)`, `[…]`,
`\\left…\\right`, nor inside a `bmatrix`/`cases`/… environment)
1. Rows: `\\\\` inside `aligned`/`align`/`gather`/`split`/… (and in a bare display),
   and the `\\begin`/`\\end` of such an environment.  In `align`-like environments every
   second `&` separates two column pairs (`a &= b & c &= d` is two statements); the others
   are dropped.  A row that starts with `+`, `-`, `\\cdot`, `\\times` (after its `&`) or that
   follows a row with an unclosed bracket continues that row; `multline` rows are one
   formula.  Rows that are only `\\vdots`/`\\dots` or empty are skipped and reported.
2. Statements: `\\quad`, `\\qquad`, arrows (`\\Rightarrow`, `\\rightarrow`, `\\implies`,
   `\\leftarrow`, `\\iff`, …, `\\xrightarrow[…]{…}` whose label becomes the `note` of what
   follows), text labels (`\\text{closed-form: }`, `\\text{ and }`, `\\text{(by (3))}`; a
   one-word `\\text{Softmax}` is a name, not a label), a leading `*)`, and a comma or
   semicolon between two relations (`a = b, c = d`, not `L(w, b) = …`).
3. Chains: `a = b \\le c` gives (a, =, b) and (b, \\le, c).  A statement that starts with
   an operator continues the previous one: its lhs is the previous right side (`&= …`
   rows; a display block `$$= …$$` continues the previous display block of the same
   problem, see `split_document`), or "" when there is nothing to continue.

Kinds: "definition" (`:=`, `\\coloneqq`, `\\triangleq`, `\\overset{def}{=}`; whether an
`=` defines a new name is the caller's call), "declaration" (`\\in`, `\\sim`, and shapes:
`\\dim(X) = (n \\times d)` and `(1 \\times d) @ (d \\times n) = …` both become op "dim"
meaning "the shape of lhs is rhs", as does `A \\xrightarrow{\\dim} (d \\times h)`),
"expression" (no relation: rhs "" and op ""), "prose" (only `\\text{…}`), else "relation".
Every segment yields at least one relation, so a report can account for all of them.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

__all__ = ["KINDS", "OPS", "Relation", "Skipped", "Split", "relations", "split_document",
           "split_relations", "split_segment"]


@dataclass(frozen=True)
class Relation:
    segment: int  # Segment.index
    line: int  # 1-based source line of the operator (of the formula, for an expression)
    problem: str | None
    part: str | None
    lhs: str
    rhs: str
    op: str  # one of OPS
    kind: str  # one of KINDS
    index: int  # position in the document's list of relations
    note: str | None = None  # arrow label or text label in force (`w, b=0`, `closed-form:`)
    broken: bool = False  # its segment has no closing delimiter


@dataclass(frozen=True)
class Skipped:
    """A row that holds no formula: `\\vdots` ("ellipsis-row") or nothing ("empty-row")."""

    segment: int
    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Split:
    relations: tuple[Relation, ...]
    skipped: tuple[Skipped, ...] = ()


OPS = ("=", ":=", "\\approx", "\\le", "\\ge", "<", ">", "\\neq", "\\in", "\\sim", "\\propto", "dim", "")
KINDS = ("relation", "definition", "declaration", "expression", "prose")

# ----------------------------------------------------------------------------- tables
RELATION_TOKENS = {
    "=": "=", ":=": ":=", "=:": "=:", "<": "<", ">": ">", "<=": "\\le", ">=": "\\ge",
    "\\le": "\\le", "\\leq": "\\le", "\\leqslant": "\\le", "\\ge": "\\ge", "\\geq": "\\ge",
    "\\geqslant": "\\ge", "\\lt": "<", "\\gt": ">", "\\neq": "\\neq", "\\ne": "\\neq",
    "\\approx": "\\approx", "\\simeq": "\\approx", "\\in": "\\in", "\\sim": "\\sim",
    "\\propto": "\\propto", "\\equiv": "=", "\\coloneqq": ":=", "\\coloneq": ":=",
    "\\defeq": ":=", "\\triangleq": ":=", "\\eqqcolon": "=:",
}
OP_KINDS = {":=": "definition", "\\in": "declaration", "\\sim": "declaration", "dim": "declaration"}
DEFINITION_MARKS = {"def", "def.", "\\text{def}", "\\mathrm{def}", "\\text{def.}", "\\triangle",
                    "\\Delta", ":", "\\scriptscriptstyle\\text{def}"}

SEPARATORS = {"\\quad", "\\qquad", "\\Rightarrow", "\\rightarrow", "\\Longrightarrow",
              "\\longrightarrow", "\\implies", "\\impliedby", "\\Leftarrow", "\\leftarrow",
              "\\Longleftarrow", "\\longleftarrow", "\\iff", "\\Leftrightarrow",
              "\\Longleftrightarrow", "\\therefore", "\\because", "\\hfill"}
# command -> (optional args, required args)
LABELLED_ARROWS = {"\\xrightarrow": (1, 1), "\\xleftarrow": (1, 1), "\\xRightarrow": (1, 1),
                   "\\xLeftarrow": (1, 1), "\\xLongrightarrow": (1, 1), "\\xlongrightarrow": (1, 1)}
SPACERS = {"\\hspace": (0, 1), "\\hspace*": (0, 1)}
DROPPED = {"\\label": (0, 1), "\\tag": (0, 1), "\\tag*": (0, 1), "\\nonumber": (0, 0), "\\notag": (0, 0)}
TEXT_COMMANDS = {"\\text", "\\textrm", "\\textit", "\\textbf", "\\textsf", "\\texttt", "\\textup",
                 "\\textnormal", "\\mbox", "\\intertext", "\\shortintertext"}
ALWAYS_LABELS = {"\\intertext", "\\shortintertext"}
STACKED = {"\\overset", "\\stackrel", "\\underset"}
STARRED = {"\\tag", "\\hspace"}

OPENERS = {"(", "[", "\\{", "\\langle", "\\lVert", "\\lvert", "\\lceil", "\\lfloor", "\\lbrace", "\\lbrack"}
CLOSERS = {")", "]", "\\}", "\\rangle", "\\rVert", "\\rvert", "\\rceil", "\\rfloor", "\\rbrace", "\\rbrack"}
DELIMITER_SIZES = {"\\left": "open", "\\right": "close", "\\bigl": "open", "\\Bigl": "open",
                   "\\biggl": "open", "\\Biggl": "open", "\\bigr": "close", "\\Bigr": "close",
                   "\\biggr": "close", "\\Biggr": "close"}
ELLIPSES = {"\\vdots", "\\cdots", "\\ddots", "\\dots", "\\ldots", "\\dotsb", "\\dotsc", "⋮", "…"}
BINARY_STARTS = {"+", "-", "\\cdot", "\\times", "\\pm", "\\mp"}
SPACING = {"\\,", "\\;", "\\:", "\\!", "\\ ", "~", "\\enspace", "\\thinspace", "\\medspace",
           "\\thickspace", "\\negthinspace"}
TRIMMED_PUNCTUATION = {",", ";", "."}

# environment -> how its rows work: "pairs" (& & separates column pairs), "strip" (every & is
# alignment), "join" (rows are one formula).  Any other environment is opaque (a matrix, cases).
ROW_MODES = {"aligned": "pairs", "align": "pairs", "alignat": "pairs", "alignedat": "pairs",
             "flalign": "pairs", "split": "pairs", "eqnarray": "strip", "gather": "strip",
             "gathered": "strip", "multline": "join"}
ENV_ARGS = {"alignat": 1, "alignedat": 1, "array": 1}

CONNECTIVES = {"", "and", "or", ",", ";", "so", "thus", "hence", "then", "therefore", "و", "یا", "پس"}
CONDITION_WORDS = {"if", "for", "where", "when", "whenever", "since", "because", "with", "given",
                   "s.t.", "st", "i.e.", "e.g.", "otherwise", "else", "let", "by", "using", "as", "iff"}

_TOKEN = re.compile(r"""
  (?P<row>\\\\\*?(?:\s*\[\s*-?[\d.]+\s*(?:pt|em|ex|mm|cm|in|mu|bp|pc|sp)\s*\])?)
| (?P<begin>\\begin\s*\{(?P<bname>[^{}]*)\})
| (?P<end>\\end\s*\{(?P<ename>[^{}]*)\})
| (?P<cmd>\\(?:[A-Za-z]+|.))
| (?P<ws>\s+)
| (?P<rel>:=|=:|<=|>=)
| (?P<word>[A-Za-z0-9]+)
| (?P<ch>.)
""", re.S | re.X)
_WS = re.compile(r"\s+")
_DIM = re.compile(r"^\\(?:dim|operatorname\s*\{dim\}|mathrm\s*\{dim\}|text\s*\{dim\})\s*"
                  r"(?:\\left\s*)?(?:\((.*)\)|\{(.*)\}|(\S+))$")
_SHAPE = r"\(\s*[^()]+?\s*(?:\\times|\*|×)\s*[^()]+?\s*\)"
_SHAPE_ALGEBRA = re.compile(r"^" + _SHAPE + r"(?:\s*(?:@|[-+])\s*" + _SHAPE + r")*$")
_DIM_LABELS = {"\\dim", "dim", "\\text{dim}", "\\mathrm{dim}", "\\text{shape}", "shape"}


# ----------------------------------------------------------------------------- items
@dataclass(eq=False, slots=True)
class _Item:
    kind: str  # ws atom lbrace rbrace open close rel sep colsep text drop begin end row amp comma
    text: str  # source text (a grouped command: the whole command with its arguments)
    start: int
    op: str | None = None  # rel: the operator; sep: "dim" for `\xrightarrow{\dim}`
    note: str | None = None  # rel/sep: the label; text: the label's content
    level: int = 0  # braces + opaque environments around it
    paren: int = 0  # brackets around it (row-relative)


def _tokens(latex: str) -> list[tuple[str, str, int, str | None]]:
    out = []
    for m in _TOKEN.finditer(latex):
        kind = m.lastgroup
        name = m.group("bname") if kind == "begin" else m.group("ename") if kind == "end" else None
        if kind in ("bname", "ename"):  # lastgroup names the innermost group
            kind = "begin" if kind == "bname" else "end"
        out.append((kind, m.group(), m.start(), name))
    return out


def _group(toks, i: int, open_: str, close: str) -> tuple[tuple[int, int] | None, int]:
    """The argument starting at token i (spaces skipped): (inner token range, next index).
    No `open_` there: a one-token argument for "{", no argument for "["."""
    j = i
    while j < len(toks) and toks[j][0] == "ws":
        j += 1
    if j >= len(toks):
        return None, i
    if toks[j][1] != open_:
        if open_ == "{" and toks[j][0] in ("cmd", "ch", "word"):
            return (j, j + 1), j + 1
        return None, i
    depth = 0
    for k in range(j, len(toks)):
        t = toks[k][1]
        if t == open_:
            depth += 1
        elif t == close:
            depth -= 1
            if depth == 0:
                return (j + 1, k), k + 1
    return None, i  # unclosed: not an argument


def _args(toks, i: int, optional: int, required: int):
    spans = []
    for _ in range(optional):
        span, i2 = _group(toks, i, "[", "]")
        if span is not None:
            spans.append(span)
            i = i2
    for _ in range(required):
        span, i2 = _group(toks, i, "{", "}")
        if span is None:
            return None, i
        spans.append(span)
        i = i2
    return spans, i


def _source(latex: str, toks, span) -> str:
    a, b = span
    if a >= b:
        return ""
    end = toks[b - 1][2] + len(toks[b - 1][1])
    return latex[toks[a][2]:end]


def _items(latex: str) -> list[_Item]:
    toks = _tokens(latex)
    items, i, n = [], 0, len(toks)
    while i < n:
        kind, text, start, _ = toks[i]
        if kind == "ws" or kind == "word" or (kind == "ch" and text not in _SPECIAL_CHARS):
            items.append(_Item("ws" if kind == "ws" else "atom", text, start))
            i += 1
            continue
        item, i = _item(latex, toks, i)
        items.append(item)
    return items


def _item(latex: str, toks, i: int) -> tuple[_Item, int]:
    kind, text, start, name = toks[i]
    nxt = i + 1
    if kind == "cmd" and text in STARRED and nxt < len(toks) and toks[nxt][1] == "*":
        text, nxt = text + "*", nxt + 1
    if kind == "word":
        return _Item("atom", text, start), nxt
    if kind == "cmd":
        grouped = _grouped(latex, toks, text, start, nxt)
        if grouped is not None:
            return grouped
        if text in DELIMITER_SIZES:
            j = nxt
            while j < len(toks) and toks[j][0] == "ws":
                j += 1
            if j < len(toks):
                return _Item(DELIMITER_SIZES[text], latex[start:_end_of(toks, j + 1)], start), j + 1
        if text in RELATION_TOKENS:
            return _Item("rel", text, start, op=RELATION_TOKENS[text]), nxt
        if text in SEPARATORS:
            return _Item("sep", text, start), nxt
        if text in OPENERS:
            return _Item("open", text, start), nxt
        if text in CLOSERS:
            return _Item("close", text, start), nxt
        return _Item("atom", text, start), nxt
    if kind == "begin":
        env = name.strip()
        nargs = ENV_ARGS.get(env.rstrip("*"), 0)
        spans, j = _args(toks, nxt, 0, nargs)
        j = j if spans is not None else nxt
        return _Item("begin", latex[start:_end_of(toks, j)], start, note=env), j
    if kind == "end":
        return _Item("end", text, start, note=name.strip()), nxt
    if kind in ("row", "ws"):
        return _Item(kind, text, start), nxt
    if kind == "rel":
        return _Item("rel", text, start, op=RELATION_TOKENS[text]), nxt
    k = _SIMPLE.get(text) or ("open" if text in OPENERS else "close" if text in CLOSERS else "atom")
    return _Item(k, text, start, op=RELATION_TOKENS.get(text) if k == "rel" else None), nxt


_SIMPLE = {"{": "lbrace", "}": "rbrace", "&": "amp", ",": "comma", ";": "comma",
           "=": "rel", "<": "rel", ">": "rel"}


_SPECIAL_CHARS = set(_SIMPLE) | OPENERS | CLOSERS


def _end_of(toks, j: int) -> int:
    """End offset of token j - 1."""
    return toks[j - 1][2] + len(toks[j - 1][1])


def _grouped(latex: str, toks, text: str, start: int, nxt: int):
    """A command with arguments, as one item; None if `text` is not one (or its arguments
    are missing)."""
    table = (LABELLED_ARROWS if text in LABELLED_ARROWS else SPACERS if text in SPACERS
             else DROPPED if text in DROPPED else None)
    if text in TEXT_COMMANDS:
        table = {text: (0, 1)}
    elif text in STACKED:
        table = {text: (0, 2)}
    if table is None:
        return None
    spans, j = _args(toks, nxt, *table[text])
    if spans is None:
        return None
    whole = latex[start:toks[j - 1][2] + len(toks[j - 1][1])]
    args = [_source(latex, toks, s) for s in spans]
    if text in TEXT_COMMANDS:
        return _Item("text", whole, start, note=args[0], op="label" if text in ALWAYS_LABELS else None), j
    if text in DROPPED:
        return _Item("drop", whole, start), j
    if text in SPACERS:
        return _Item("sep", whole, start), j
    if text in STACKED:
        base, mark = args[-1].strip(), args[0].strip()
        if base not in RELATION_TOKENS:
            return _Item("atom", whole, start), j
        op = ":=" if mark in DEFINITION_MARKS and RELATION_TOKENS[base] == "=" else RELATION_TOKENS[base]
        return _Item("rel", whole, start, op=op, note=mark), j
    label = ", ".join(a.strip() for a in reversed(args) if a.strip())
    return _Item("sep", whole, start, op="dim" if label in _DIM_LABELS else None, note=label or None), j


# ----------------------------------------------------------------------------- rows
@dataclass(eq=False)
class _Row:
    items: list[_Item]
    mode: str
    block: int
    breaks: bool = False  # delimited by `\\` on at least one side


def _rows(items: list[_Item], base_mode: str) -> list[_Row]:
    """Levels for every item, then the rows of the top level."""
    rows, current = [], _Row([], base_mode, 0)
    stack: list[tuple[str, int]] = []  # (environment, block id; 0 for an opaque one)
    depth = opaque = blocks = 0

    def close(by_break: bool) -> None:
        nonlocal current
        current.breaks = current.breaks or by_break
        rows.append(current)
        env, block = next(((e, b) for e, b in reversed(stack) if b), (None, 0))
        current = _Row([], ROW_MODES[env.rstrip("*")] if env else base_mode, block, by_break)

    for it in items:
        kind = it.kind
        it.level = depth + opaque
        if kind == "lbrace":
            depth += 1
        elif kind == "rbrace":
            depth = max(0, depth - 1)
            it.level = depth + opaque
        elif kind == "begin":
            if it.level == 0 and it.note.rstrip("*") in ROW_MODES:
                blocks += 1
                stack.append((it.note, blocks))
                close(False)
                it.kind = "drop"
            else:
                stack.append((it.note, 0))
                opaque += 1
        elif kind == "end":
            if stack and stack[-1][0] == it.note:
                _, block = stack.pop()
                if block:
                    close(False)
                    it.kind = "drop"
                else:
                    opaque -= 1
                    it.level = depth + opaque
        elif kind == "row" and it.level == 0:
            close(True)
            continue
        elif kind == "row":
            it.kind = "atom"
        current.items.append(it)
    rows.append(current)
    for row in rows:
        _columns(row)
    return rows


def _columns(row: _Row) -> None:
    """Alignment `&`s: dropped, or column-pair separators (every second one in "pairs")."""
    count = 0
    for it in row.items:
        if it.kind == "amp" and it.level == 0:
            count += 1
            it.kind = "colsep" if row.mode == "pairs" and count % 2 == 0 else "drop"
        elif it.kind == "amp":
            it.kind = "atom"


_QUIET = SPACING | {"\\quad", "\\qquad"}


def _significant(items: list[_Item]) -> list[_Item]:
    """Items other than spacing, dropped markup and indentation (`\\quad`, `\\hspace`)."""
    return [it for it in items if it.kind != "ws" and it.kind != "drop" and it.text not in _QUIET
            and not it.text.startswith("\\hspace")]


def _paren_depth(items: list[_Item]) -> int:
    depth = 0
    for it in items:
        if it.level == 0 and it.kind == "open":
            depth += 1
        elif it.level == 0 and it.kind == "close":
            depth = max(0, depth - 1)
    return depth


def _continues(prev: _Row, row: _Row) -> bool:
    if prev.block != row.block or not _significant(prev.items):
        return False
    if prev.mode == "join" or _paren_depth(prev.items) > 0:
        return True
    sig = _significant(row.items)
    if not sig or sig[0].text not in BINARY_STARTS:
        return False
    leading_amp = any(it.kind == "drop" and it.text == "&" for it in row.items[:row.items.index(sig[0])])
    return leading_amp or not any(it.kind == "rel" and it.level == 0 for it in sig)


def _quiet_lead(items: list[_Item]) -> list[_Item]:
    """A continuation row's leading `\\quad`/`\\hspace` is indentation, not a separator."""
    for it in items:
        if it.kind == "sep" and (it.text in ("\\quad", "\\qquad") or it.text.startswith("\\hspace")):
            it.kind, it.text = "ws", " "
        elif it.kind not in ("ws", "drop"):
            break
    return items


def _merge(rows: list[_Row]) -> list[_Row]:
    out: list[_Row] = []
    for row in rows:
        if out and _continues(out[-1], row):
            out[-1].items.extend(_quiet_lead(row.items))
        else:
            out.append(row)
    return out


def _set_parens(items: list[_Item]) -> None:
    """Bracket depth of each top-level item; ignored (all 0) when the row leaves a
    bracket open, since then the brackets cannot be trusted (`[0, 1)` is fine)."""
    trust = _paren_depth(items) == 0
    depth = 0
    for it in items:
        if it.level != 0:
            continue
        if it.kind == "close":
            depth = max(0, depth - 1)
        it.paren = depth if trust else 0
        if it.kind == "open":
            depth += 1


# ----------------------------------------------------------------------------- statements
@dataclass(eq=False)
class _Piece:
    items: list[_Item] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dim: bool = False
    labels: list[_Item] = field(default_factory=list)  # label items that start it


def _top(it: _Item) -> bool:
    return it.level == 0 and it.paren == 0


def _label_role(it: _Item, operand: bool = False) -> str | None:
    """"space", "connective", "forward", "backward" or None: a name such as
    `\\text{tr}`, or a quantity written in words (`operand`: an operator is next to it,
    as in `\\text{learning rate} \\times g`)."""
    if it.op == "label":
        return "forward"
    content = it.note.strip()
    if not content:
        return "space"
    bare = content.lower().strip(",.;: ")
    if bare in CONNECTIVES:
        return "connective"
    if operand and not content.endswith(":"):
        return None
    if content.startswith(("(", "[")):
        return "backward"
    if (":" in content or len(content.split()) >= 2 or bare in CONDITION_WORDS
            or re.search(r"[^\x00-\x7f]", content)):
        return "forward"
    return None


def _pieces(items: list[_Item]) -> list[_Piece]:
    pieces, cur = [], _Piece()

    def cut(nxt: _Piece) -> None:
        nonlocal cur
        pieces.append(cur)
        cur = nxt

    i = 0
    while i < len(items):
        it = items[i]
        if not _top(it) or it.kind not in ("sep", "colsep", "text", "atom"):
            cur.items.append(it)
        elif it.kind == "sep":
            cut(_Piece(notes=[it.note] if it.note else [], dim=it.op == "dim"))
        elif it.kind == "colsep":
            cut(_Piece())
        elif it.kind == "text":
            role = _label_role(it, _in_formula(items, i))
            if role is None:
                cur.items.append(it)
            elif role == "space":
                cur.items.append(_Item("ws", " ", it.start))
            elif role == "connective":
                cut(_Piece())
            elif role == "backward" and _significant(cur.items):
                cur.notes.append(it.note.strip())
                cut(_Piece())
            elif role == "backward" and pieces and _significant(pieces[-1].items):
                pieces[-1].notes.append(it.note.strip())
            else:
                cut(_Piece(notes=[it.note.strip()], labels=[it]))
        elif it.text == "*" and not _significant(cur.items) and _next_text(items, i) == ")":
            i = items.index(_next_sig(items, i)) + 1
            cur.notes.append("*)")
            continue
        else:
            cur.items.append(it)
        i += 1
    pieces.append(cur)
    return pieces


OPERATOR_TEXTS = BINARY_STARTS | {"/", "*", "\\div", "\\odot", "\\otimes"}


def _in_formula(items: list[_Item], i: int) -> bool:
    """Is an operator (relation or binary) the neighbour of item i?"""
    prev = next((it for it in reversed(items[:i]) if it.kind not in ("ws", "drop")), None)
    nxt = _next_sig(items, i)
    return any(n is not None and (n.kind == "rel" or n.text in OPERATOR_TEXTS) for n in (prev, nxt))


def _next_sig(items: list[_Item], i: int) -> _Item | None:
    return next((it for it in items[i + 1:] if it.kind not in ("ws", "drop")), None)


def _next_text(items: list[_Item], i: int) -> str | None:
    nxt = _next_sig(items, i)
    return nxt.text if nxt is not None else None


def _comma_split(piece: _Piece) -> list[_Piece]:
    """Cut at a top-level comma (or semicolon) that sits between two relations."""
    commas = [k for k, it in enumerate(piece.items) if it.kind == "comma" and _top(it)]
    if not commas:
        return [piece]
    has_rel = lambda a, b: any(it.kind == "rel" and _top(it) for it in piece.items[a:b])  # noqa: E731
    bounds = commas + [len(piece.items)]
    out, start = [], 0
    for n, c in enumerate(commas):
        if has_rel(start, c) and has_rel(c + 1, bounds[n + 1]):
            out.append(piece.items[start:c])
            start = c + 1
    out.append(piece.items[start:])
    if len(out) == 1:
        return [piece]
    return [_Piece(items, list(piece.notes), piece.dim and k == 0, piece.labels if k == 0 else [])
            for k, items in enumerate(out)]


def _trim(items: list[_Item]) -> list[_Item]:
    def idle(it: _Item) -> bool:
        return (it.kind in ("ws", "drop") or it.text in SPACING
                or (it.kind in ("comma", "atom") and it.text in TRIMMED_PUNCTUATION))
    a, b = 0, len(items)
    while a < b and idle(items[a]):
        a += 1
    while b > a and idle(items[b - 1]):
        b -= 1
    return items[a:b]


def _render(items: list[_Item]) -> str:
    return _WS.sub(" ", "".join(it.text for it in _trim(items) if it.kind != "drop")).strip()


# ----------------------------------------------------------------------------- relations
@dataclass
class _Draft:
    lhs: str
    rhs: str
    op: str
    kind: str
    offset: int
    notes: list[str]


def _drafts(piece: _Piece, last_side: str | None) -> tuple[list[_Draft], str | None]:
    items = _trim(piece.items)
    if not items:
        return [], last_side
    cuts = [k for k, it in enumerate(items) if it.kind == "rel" and _top(it)]
    sides = [_render(items[a + 1 if a >= 0 else 0:b]) for a, b in zip([-1] + cuts, cuts + [len(items)])]
    first = next((it for it in items if it.kind not in ("ws", "drop")), items[0])
    out = []
    if piece.dim and last_side and sides[0]:
        out.append(_draft(last_side, "dim", sides[0], first.start, piece.notes))
    if not cuts:
        if not out:
            kind = "prose" if all(it.kind == "text" for it in _significant(items)) else "expression"
            out.append(_Draft(sides[0], "", "", kind, first.start, list(piece.notes)))
        return out, sides[0] if out[-1].kind != "prose" else last_side
    for n, k in enumerate(cuts):
        lhs = sides[n] if (n or sides[0]) else (last_side or "")
        out.append(_draft(lhs, items[k].op, sides[n + 1], items[k].start,
                          piece.notes + ([items[k].note] if items[k].note else [])))
    return out, out[-1].rhs or out[-1].lhs


def _draft(lhs: str, op: str, rhs: str, offset: int, notes: list[str]) -> _Draft:
    if op == "=:":
        lhs, rhs, op = rhs, lhs, ":="
    if op == "=":
        m = _DIM.match(lhs)
        if m:
            lhs, op = next(g for g in m.groups() if g is not None).strip(), "dim"
        elif _SHAPE_ALGEBRA.match(lhs) and "@" in lhs:
            op = "dim"
    return _Draft(lhs, rhs, op, OP_KINDS.get(op, "relation"), offset, list(notes))


def split_segment(segment, previous: Relation | None = None, start: int | None = None
                  ) -> tuple[list[Relation], list[Skipped]]:
    """Relations and skipped rows of one segment.  `previous`: the relation a leading
    operator continues; `start`: the index of the first relation (default: after
    `previous`, else 0)."""
    latex = segment.latex
    newlines = [m.start() for m in re.finditer("\n", latex)]
    line_of = lambda offset: segment.line + bisect.bisect_left(newlines, offset)  # noqa: E731
    base = ROW_MODES.get(segment.env.rstrip("*"), "strip") if segment.env else "strip"
    rows = _rows(_items(latex), base)
    drafts, skipped, last_side = [], [], _side_of(previous)
    for row in _merge(rows):
        sig = [it for it in _significant(row.items) if it.kind not in ("open", "close")]
        if not sig or all(it.text in ELLIPSES for it in sig):
            if sig or row.breaks:
                at = sig[0].start if sig else (row.items[0].start if row.items else len(latex))
                skipped.append(Skipped(segment.index, line_of(at), _render(row.items),
                                       "ellipsis-row" if sig else "empty-row"))
            continue
        _set_parens(row.items)
        for piece in _pieces(row.items):
            for part in _comma_split(piece):
                new, last_side = _drafts(part, last_side)
                if new and new[0].op == "dim" and drafts and drafts[-1].kind == "expression" \
                        and drafts[-1].lhs == new[0].lhs:
                    drafts.pop()  # `A \xrightarrow{\dim} (n \times d)`: A is the claim's subject
                if new:
                    drafts.extend(new)
                elif part.notes and part.labels:
                    drafts.append(_Draft(_render(part.labels), "", "", "prose", part.labels[0].start, []))
    if not drafts:
        drafts.append(_Draft(_WS.sub(" ", latex).strip(), "", "", "expression", 0, []))
    first = start if start is not None else (previous.index + 1 if previous is not None else 0)
    rels = [Relation(segment.index, line_of(d.offset), segment.problem, segment.part, d.lhs, d.rhs,
                     d.op, d.kind, first + n, "; ".join(d.notes) or None, segment.broken)
            for n, d in enumerate(drafts)]
    return rels, skipped


def _side_of(previous: Relation | None) -> str | None:
    if previous is None or previous.kind == "prose":
        return None
    return previous.rhs if previous.op and previous.rhs else previous.lhs


def split_relations(segment, previous: Relation | None = None, start: int | None = None) -> list[Relation]:
    return split_segment(segment, previous, start)[0]


def split_document(document) -> Split:
    """All relations of a document in order, with the rows skipped.  A display segment
    that starts with an operator continues the last display segment of the same problem;
    an inline one, the last segment."""
    rels: list[Relation] = []
    skipped: list[Skipped] = []
    last_display = last_any = None
    problem = object()
    for seg in document.segments:
        if seg.problem != problem:
            last_display = last_any = None
            problem = seg.problem
        out, skip = split_segment(seg, last_display if seg.display else last_any, len(rels))
        rels.extend(out)
        skipped.extend(skip)
        tail = next((r for r in reversed(out) if r.kind != "prose"), None)
        if tail is not None:
            last_any = tail
            if seg.display:
                last_display = tail
    return Split(tuple(rels), tuple(skipped))


def relations(document) -> list[Relation]:
    return list(split_document(document).relations)
