"""Token-level LaTeX: the tokenizer, bracket matching and ellipsis expansion.

`symbolic.latex` is the only user.  Everything here works on a flat list of token
strings, so rewrites can respect nesting without a full parser:

- `tokenize("\\hat{y}^{(12)} + \\text{tr} A")` gives
  ``['\\hat', '{', 'y', '}', '^', '{', '(', '1', '2', ')', '}', '+', '\\text{tr}', 'A']``.
  Whitespace is dropped, every digit is its own token (so `w_{11}` shows its two indices
  and `x_1, x_2` count up one token at a time), and `\\text{…}`-like commands
  (`\\text`, `\\mathrm`, `\\operatorname`, …) become one token ``\\text{content}``.
- `expand_ellipses` rewrites `t_1 + t_2 + \\dots + t_n` into `\\sum_{k=1}^{n}(t_k)` and
  `[a_1, a_2, \\dots, a_d]` / matrices with `\\vdots` into private constructs
  (`\\dcrowvec`, `\\dccolvec`, `\\dcarray`) that `symbolic.latex` turns into the IR.
  A pattern it cannot infer is left alone; the `\\dots` that remains is reported as
  reason ``ellipsis`` by the caller.

Inference never guesses: the counted positions are anti-unified from the written
terms (two consecutive terms count c, c+1; or, with one example, an index position
that holds c in the first term and something else in the last), and the last term
must match the template exactly.
"""
from __future__ import annotations

import re

DOTS = "\\dots"
VDOTS = frozenset({"\\vdots", "\\ddots"})
ROWVEC, COLVEC, ARRAY = "\\dcrowvec", "\\dccolvec", "\\dcarray"
PRIVATE = frozenset({ROWVEC, COLVEC, ARRAY})
MATRIX_ENVS = frozenset({"bmatrix", "pmatrix", "matrix", "Bmatrix", "vmatrix", "smallmatrix"})

_CLOSER = {"(": ")", "[": "]", "{": "}", "\\{": "\\}"}
_CLOSERS = frozenset(_CLOSER.values())
_TEXT_CMDS = r"text|textrm|textit|textbf|textsf|texttt|textnormal|mathrm|operatorname\*?|mbox"
_TOKEN = re.compile(
    rf"""(?P<text>\\(?:{_TEXT_CMDS})\s*\{{(?P<content>[^{{}}\\]*)\}})
      | (?P<env>\\(?:begin|end)\s*\{{[a-zA-Z*]*\}})
      | (?P<cmd>\\[a-zA-Z]+)
      | (?P<esc>\\[^a-zA-Z])
      | (?P<ws>\s+)
      | (?P<ch>.)""",
    re.X | re.S,
)
# Where a `+` or `-` is a sign, not a binary operator.
BEFORE_UNARY = frozenset({"^", "_", "\\times", "\\cdot", "*", "/", "+", "-", "=", ","})
# Letters tried, in order, for an index the expansion introduces.
_FRESH = "kjilmpqrsuvabc"
_MAX_CAPTURE = 12  # tokens a counted position may take in the last term (`{n-1}`)
_MAX_TERM = 400  # longer terms are not anti-unified (cost guard)
_MAX_STEPS = 2000  # backtracking steps per match (cost guard)
_MAX_EXPLICIT = 32  # a numeric ellipsis sum is written out only this short


class Unbalanced(ValueError):
    """Brackets, braces or environments that do not match."""


def tokenize(latex: str) -> list[str]:
    out = []
    for m in _TOKEN.finditer(latex):
        kind = m.lastgroup
        if kind == "ws":
            continue
        if kind == "text":
            out.append("\\text{" + m.group("content").strip() + "}")
        elif kind == "env":
            out.append(re.sub(r"\s+", "", m.group()))
        else:
            out.append(m.group())
    return out


def is_opener(tok: str) -> bool:
    return tok in _CLOSER or tok.startswith("\\begin{")


def closer_of(tok: str) -> str:
    return _CLOSER[tok] if tok in _CLOSER else "\\end" + tok[len("\\begin"):]


def match(toks: list[str], i: int) -> int:
    """Index of the token closing the opener at `toks[i]`."""
    stack = []
    for k in range(i, len(toks)):
        t = toks[k]
        if is_opener(t):
            stack.append(closer_of(t))
        elif t in _CLOSERS or t.startswith("\\end{"):
            if not stack or stack.pop() != t:
                raise Unbalanced(f"unexpected {t}")
            if not stack:
                return k
    raise Unbalanced(f"unclosed {toks[i]}")


def check_balanced(toks: list[str]) -> None:
    k = 0
    while k < len(toks):
        if is_opener(toks[k]):
            k = match(toks, k)
        elif toks[k] in _CLOSERS or toks[k].startswith("\\end{"):
            raise Unbalanced(f"unexpected {toks[k]}")
        k += 1


def read_scripts(toks: list[str], j: int, sub: list[str] | None = None, sup: list[str] | None = None
                 ) -> tuple[list[str] | None, list[str] | None, int]:
    """At most one subscript and one superscript, in either order, from `toks[j]`:
    (subscript, superscript, index after them); None for an absent one.  A script already
    given (`\\hat{y_i}` carries its own) is kept, and a second one is not read."""
    for _ in range(2):
        if j < len(toks) and toks[j] == "_" and sub is None:
            sub, j = read_arg(toks, j + 1)
        elif j < len(toks) and toks[j] == "^" and sup is None:
            sup, j = read_arg(toks, j + 1)
    return sub, sup, j


def read_arg(toks: list[str], i: int) -> tuple[list[str], int]:
    """One TeX argument at `toks[i]`: a braced group's content or one token.  `^-1` is
    read as `^{-1}` (a common slip that TeX would render as `^{-}1`)."""
    if i >= len(toks):
        raise Unbalanced("missing argument")
    if toks[i] == "{":
        j = match(toks, i)
        return toks[i + 1:j], j + 1
    if toks[i] == "-" and i + 1 < len(toks) and (toks[i + 1].isalnum()):
        return toks[i:i + 2], i + 2
    return [toks[i]], i + 1


def top_level(toks: list[str], k: int = 0):
    """The tokens from `k` on, a whole group (opener to its closer) at a time:
    yields (tokens, is_group)."""
    while k < len(toks):
        if is_opener(toks[k]):
            j = match(toks, k)
            yield toks[k:j + 1], True
            k = j + 1
        else:
            yield [toks[k]], False
            k += 1


def split_top(toks: list[str], seps: frozenset[str] | set[str]) -> list[list[str]]:
    """Split at separators outside every group."""
    parts, cur = [], []
    for chunk, group in top_level(toks):
        if not group and chunk[0] in seps:
            parts.append(cur)
            cur = []
        else:
            cur.extend(chunk)
    parts.append(cur)
    return parts


def join(parts: list[list[str]], sep: str) -> list[str]:
    out: list[str] = []
    for n, p in enumerate(parts):
        if n:
            out.append(sep)
        out.extend(p)
    return out


def split_terms(toks: list[str]) -> list[tuple[str, list[str]]]:
    """Top-level signed terms: `a - b + c` -> [('+', a), ('-', b), ('+', c)]."""
    terms: list[tuple[str, list[str]]] = []
    sign, cur, k = "+", [], 0
    if toks and toks[0] in "+-":
        sign, k = toks[0], 1
    for chunk, group in top_level(toks, k):
        t = chunk[0]
        if not group and t in ("+", "-") and cur and cur[-1] not in BEFORE_UNARY:
            terms.append((sign, cur))
            sign, cur = t, []
        else:
            cur.extend(chunk)
    terms.append((sign, cur))
    return terms


def join_terms(terms: list[tuple[str, list[str]]]) -> list[str]:
    out: list[str] = []
    for n, (sign, toks) in enumerate(terms):
        if n or sign == "-":
            out.append(sign)
        out.extend(toks)
    return out


def index_positions(toks: list[str]) -> set[int]:
    """Positions inside a sub- or superscript argument (`x_1`, `y^{(1)}`, `w_{11}`)."""
    pos: set[int] = set()
    k = 0
    while k < len(toks) - 1:
        if toks[k] in ("_", "^"):
            if toks[k + 1] == "{":
                j = match(toks, k + 1)
                pos.update(range(k + 2, j))
                k = j
            else:
                pos.add(k + 1)
        k += 1
    return pos


# ---------------------------------------------------------------------------
# Anti-unification of the written terms around an ellipsis

class _Pattern:
    """`template` with `letter` at the counted positions, running lower..upper."""

    def __init__(self, template: list[str], lower: int, upper: list[str]):
        self.template, self.lower, self.upper = template, lower, upper


def _bare(toks: list[str], p: int) -> bool:
    return p > 0 and toks[p - 1] in ("_", "^")


def _whole(toks: list[str], p: int) -> bool:
    return 0 < p < len(toks) - 1 and toks[p - 1] in ("{", "(") and toks[p + 1] in ("}", ")")


def _balanced(toks: list[str]) -> bool:
    try:
        check_balanced(toks)
    except Unbalanced:
        return False
    return True


def _captures(tpl: list[str], holes: set[int], last: list[str]) -> dict[int, list[str]] | None:
    """Match `last` against `tpl`; each hole captures one TeX argument (at a bare
    position) or a short balanced run of tokens.  First match wins; literal runs are
    matched in a loop, so the recursion is as deep as the number of holes, and a step
    budget bounds the backtracking."""
    budget = [_MAX_STEPS]

    def rec(ti: int, li: int, caps: dict[int, list[str]]):
        while ti < len(tpl) and ti not in holes:
            if li >= len(last) or last[li] != tpl[ti]:
                return None
            ti, li = ti + 1, li + 1
        if ti == len(tpl):
            return caps if li == len(last) else None
        budget[0] -= 1
        if budget[0] < 0:
            return None
        if _bare(tpl, ti):
            try:
                cap, nli = read_arg(last, li)
            except Unbalanced:
                return None
            return rec(ti + 1, nli, {**caps, ti: cap})
        for n in range(1, min(_MAX_CAPTURE, len(last) - li) + 1):
            cap = last[li:li + n]
            if _balanced(cap):
                found = rec(ti + 1, li + n, {**caps, ti: cap})
                if found is not None:
                    return found
        return None

    if len(tpl) > _MAX_TERM or len(last) > _MAX_TERM + 50:
        return None
    return rec(0, 0, {})


def _shifted(upper: list[str], offset: int) -> list[str]:
    if offset == 0:
        return upper
    if len(upper) == 1 and upper[0].isdigit():
        return list(str(int(upper[0]) + offset))
    if all(t.isdigit() for t in upper):
        return list(str(int("".join(upper)) + offset))
    return upper + (["+"] if offset > 0 else ["-"]) + list(str(abs(offset)))


def infer(examples: list[list[str]], last: list[str]) -> tuple[list[str], int, list[str], dict[int, int]] | None:
    """Anti-unify `examples` (one or two consecutive terms) with `last`.

    Returns (first example, lower bound, upper bound tokens, {position: offset}) or None.
    Two examples: the positions where they differ must count c -> c+1.  One example:
    digits at index positions are candidates; those that change in the last term are
    the counted ones (all starting at the same value)."""
    first = examples[0]
    if len(examples) == 2:
        second = examples[1]
        if len(first) != len(second):
            return None
        diff = [p for p in range(len(first)) if first[p] != second[p]]
        if not diff or not all(first[p].isdigit() and second[p].isdigit()
                               and int(second[p]) == int(first[p]) + 1 for p in diff):
            return None
        holes, fixed = set(diff), True
    else:
        holes = {p for p in index_positions(first) if first[p].isdigit()}
        if not holes:
            return None
        fixed = False
    caps = _captures(first, holes, last)
    if caps is None and fixed:
        caps = _captures_without_last_power(first, holes, last)
    if caps is None:
        return None
    changed = sorted(p for p in holes if fixed or caps[p] != [first[p]])
    if not changed:
        return None
    lower = int(first[changed[0]])
    upper = caps[changed[0]]
    offsets = {p: int(first[p]) - lower for p in changed}
    if not fixed and any(offsets.values()):
        return None
    for p in changed:
        if _strip(caps[p]) != _strip(_shifted(upper, offsets[p])):
            return None
        if offsets[p] and not (_bare(first, p) or _whole(first, p)):
            return None
    if _strip(upper) == [str(lower)]:
        return None
    return first, lower, upper, offsets


def _vanishing_powers(toks: list[str], holes: set[int]):
    """(start, end, hole, head) of each power `base^{head - c}` whose exponent ends in a
    counted position: at the last term it may be written out (`\\beta^{n-n}`) or, being
    1, left out (`… + (1-\\beta) g_n`).  The base is one token, maybe with a subscript."""
    for hole in holes:
        if not (hole >= 4 and toks[hole - 1] == "-" and hole + 1 < len(toks) and toks[hole + 1] == "}"):
            continue
        try:
            open_ = max(k for k in range(hole) if toks[k] == "{" and k > 0 and toks[k - 1] == "^")
        except ValueError:
            continue
        head = toks[open_ + 1:hole - 1]
        if not head or not _balanced(head):
            continue
        start = open_ - 2  # the base token
        if start >= 2 and toks[start - 1] == "_":
            start -= 2  # `\\beta_1^{t-1}`: base `\\beta _ 1`
        if start >= 0 and toks[start] not in ("{", "}", "(", ")", "^", "_"):
            yield start, hole + 1, hole, head


def _captures_without_last_power(first: list[str], holes: set[int], last: list[str]):
    """Captures of `last` against `first` with a vanishing power left out: the last
    term of `\\beta^{n-1} g_1 + \\beta^{n-2} g_2 + \\dots + g_n`.  The power's head (n)
    must be what the other counted positions reach there, so its exponent is 0."""
    for start, end, hole, head in _vanishing_powers(first, holes):
        width = end - start + 1
        kept = {p if p < start else p - width for p in holes if p != hole}
        caps = _captures(first[:start] + first[end + 1:], kept, last)
        if caps is None or not kept:
            continue
        back = {(p if p < start else p + width): c for p, c in caps.items()}
        other = min(back)
        reached = _shifted(back[other], int(first[hole]) - int(first[other]))  # the exponent's count
        if _strip(reached) == _strip(head):
            return {**back, hole: reached}
    return None


def _sequence_like(a: list[str], b: list[str]) -> bool:
    """Two terms that differ only in some digits (whatever the step)."""
    return len(a) == len(b) and a != b and all(x == y or (x.isdigit() and y.isdigit()) for x, y in zip(a, b))


def _strip(toks: list[str]) -> list[str]:
    while len(toks) >= 2 and toks[0] == "{" and toks[-1] == "}" and _balanced(toks[1:-1]):
        toks = toks[1:-1]
    return toks


def _instantiate(first: list[str], offsets: dict[int, int], letter: str) -> list[str]:
    out: list[str] = []
    for p, t in enumerate(first):
        if p not in offsets:
            out.append(t)
            continue
        o = offsets[p]
        expr = [letter] if o == 0 else [letter, "+" if o > 0 else "-", *str(abs(o))]
        out.extend(["{", *expr, "}"] if _bare(first, p) and len(expr) > 1 else expr)
    return out


class _Expander:
    """explicit: write `a_1 + \\dots + a_4` (numeric bounds) out term by term instead of
    as a sum, so a matrix row can be matched against a row written out in full."""

    def __init__(self, doc_letters: set[str], explicit: bool = False):
        self.doc_letters, self.explicit = doc_letters, explicit

    def fresh(self, avoid: list[list[str]]) -> str:
        """An index letter used neither in the side nor in the tokens it will bind over.
        Independent expansions get the same letter, so rows of a matrix stay alike."""
        taken = self.doc_letters | {t for toks in avoid for t in toks}
        for c in _FRESH:
            if c not in taken:
                return c
        raise Unbalanced("no free index letter")

    def pattern(self, items: list[list[str]], d: int, letter: str | None = None
                ) -> tuple[_Pattern, int, str] | None:
        """Pattern around `items[d] == DOTS`; returns (pattern, first item used, letter)."""
        if d + 1 >= len(items):
            return None
        last = items[d + 1]
        tries = ([(d - 2, [items[d - 2], items[d - 1]])] if d >= 2 else []) + (
            [(d - 1, [items[d - 1]])] if d >= 1 else [])
        if d >= 2 and _sequence_like(items[d - 2], items[d - 1]):
            tries = tries[:1]  # `x_1 + x_3 + \dots`: a step other than 1 is not guessed
        for start, examples in tries:
            found = infer(examples, last)
            if found:
                first, lower, upper, offsets = found
                letter = letter or self.fresh(items)
                return _Pattern(_instantiate(first, offsets, letter), lower, upper), start, letter
        return None

    # -- regions -----------------------------------------------------------
    def region(self, toks: list[str]) -> list[str]:
        toks = self.groups(toks)
        return join([self.sums(item) for item in split_top(toks, {","})], ",")

    def groups(self, toks: list[str]) -> list[str]:
        out, k = [], 0
        while k < len(toks):
            t = toks[k]
            if not is_opener(t):
                out.append(t)
                k += 1
                continue
            j = match(toks, k)
            inner = toks[k + 1:j]
            if t.startswith("\\begin{") and t[7:-1] in MATRIX_ENVS:
                out.extend(self.matrix(t, inner, toks[j]))
            elif t == "[":
                out.extend(self.bracket(inner))
            else:
                out.extend([t, *self.region(inner), toks[j]])
            k = j + 1
        return out

    def sums(self, item: list[str]) -> list[str]:
        terms = split_terms(item)
        while True:
            dots = [n for n, (_, tk) in enumerate(terms) if tk == [DOTS]]
            if not dots:
                return join_terms(terms)
            d = dots[0]
            found = self._sum_at(terms, d)
            if found is None:
                return join_terms(terms)
            start, term = found
            terms[start:d + 2] = [term]

    def _sum_at(self, terms, d):
        items = [tk for _, tk in terms]
        got = self.pattern(items, d)
        if got is None:
            return None
        pat, start, letter = got
        if len({s for s, _ in terms[start:d + 2]}) != 1:
            return None
        if self.explicit and "".join(pat.upper).isdigit() and int("".join(pat.upper)) - pat.lower < _MAX_EXPLICIT:
            return start, (terms[start][0], _written_out(pat, letter))
        body = ["\\sum", "_", "{", letter, "=", *str(pat.lower), "}", "^", "{", *pat.upper, "}",
                "(", *pat.template, ")"]
        return start, (terms[start][0], body)

    def bracket(self, inner: list[str]) -> list[str]:
        items = split_top(self.region(inner), {","})
        dots = [n for n, it in enumerate(items) if it == [DOTS]]
        if len(items) > 2 and len(dots) == 1 and dots[0] == len(items) - 2:
            got = self.pattern(items, dots[0])
            if got and got[1] == 0:
                pat, _, letter = got
                return _construct(ROWVEC, [letter], [str(pat.lower)], pat.upper, pat.template)
        return ["[", *join(items, ","), "]"]

    def matrix(self, begin: str, inner: list[str], end: str) -> list[str]:
        rows = [[self.region(cell) for cell in split_top(row, {"&"})]
                for row in split_top(inner, {"\\\\"})]
        if rows and rows[-1] == [[]]:
            rows.pop()
        unchanged = [begin, *join([join(r, "&") for r in rows], "\\\\"), end]
        vrows = [n for n, r in enumerate(rows) if all(c and c[0] in VDOTS | {DOTS} and len(c) == 1 for c in r)]
        hrows = [n for n, r in enumerate(rows) if n not in vrows and [DOTS] in r]
        if not vrows and not hrows:
            return unchanged
        col = self.fresh([c for r in rows for c in r]) if hrows else None
        templ = {}
        for n in hrows:
            cells = rows[n]
            d = cells.index([DOTS])
            got = self.pattern(cells, d, col) if d == len(cells) - 2 else None
            if got is None or got[1] != 0:
                return unchanged
            templ[n] = got[0]
        if not vrows:
            if len(rows) == 1:
                p = templ[0]
                return _construct(ROWVEC, [col], [str(p.lower)], p.upper, p.template)
            return unchanged
        if len(vrows) != 1 or vrows[0] != len(rows) - 2 or vrows[0] not in (1, 2):
            return unchanged
        v = vrows[0]
        others = [n for n in range(len(rows)) if n != v]
        if all(n in templ for n in others):
            bounds = {(templ[n].lower, tuple(templ[n].upper)) for n in others}
            if len(bounds) != 1:
                return unchanged
            items = [templ[n].template for n in others[:-1]] + [[DOTS], templ[others[-1]].template]
            got = self.pattern(items, len(items) - 2, self.fresh(items + [[col]]))
            if got is None or got[1] != 0:
                return unchanged
            pat, _, row = got
            c = templ[others[0]]
            return _construct(ARRAY, [row], [str(pat.lower)], pat.upper, [col], [str(c.lower)], c.upper,
                              pat.template)
        if all(len(rows[n]) == 1 and n not in templ for n in others):
            items = [rows[n][0] for n in others[:-1]] + [[DOTS], rows[others[-1]][0]]
            got = self.pattern(items, len(items) - 2)
            if (got is None or got[1] != 0) and not self.explicit:  # rows written alike, then?
                return _Expander(self.doc_letters, explicit=True).matrix(begin, inner, end)
            if got is None or got[1] != 0:
                return unchanged
            pat, _, row = got
            return _construct(COLVEC, [row], [str(pat.lower)], pat.upper, pat.template)
        return unchanged


def _written_out(pat: _Pattern, letter: str) -> list[str]:
    """The terms of a pattern with numeric bounds, each as the writer would spell it."""
    single = len(split_terms(pat.template)) == 1
    terms = []
    for v in range(pat.lower, int("".join(pat.upper)) + 1):
        term = [d for t in pat.template for d in (list(str(v)) if t == letter else [t])]
        terms.append(term if single else ["(", *term, ")"])
    return join(terms, "+")


def _construct(cmd: str, *args: list[str]) -> list[str]:
    out = [cmd]
    for a in args:
        out.extend(["{", *a, "}"])
    return out


def expand_ellipses(toks: list[str]) -> list[str]:
    """Rewrite every ellipsis whose pattern can be inferred (see the module docstring)."""
    if not any(t == DOTS or t in VDOTS for t in toks):
        return toks
    letters = {t for t in toks if len(t) == 1 and t.isalpha()}
    return _Expander(letters).region(toks)
