"""latex2sympy2, wrapped: arithmetic text with placeholders -> IR.

Only `symbolic.latex` uses this module; nothing else in derivcheck imports latex2sympy2.

`symbolic.latex` hands over text that holds nothing but arithmetic over placeholders,
e.g. ``\\frac{1}{2 (\\mathit{q0})} ((\\mathit{q1})^{(\\mathit{qt})} (\\mathit{q2}))``, where
``(\\mathit{qN})`` stands for an IR node it has already built and
``^{(\\mathit{qt})}`` marks a transpose.  Here:

- the engine builds *non-commutative* SymPy symbols, so `Mul` keeps written order
  (a module shim replaces `Symbol` inside latex2sympy2 only);
- its module globals (`var`, `variances`, `VARIABLE_VALUES`, `frac_type`) are restored
  before and after every call: a differential such as `d \\times 1` otherwise rebinds
  `var` to a Symbol and every later call in the process fails;
- parsing enters the grammar at `expr` instead of `math` (whose first decision, one
  relation or a list of them, makes ANTLR scan the whole input with full context),
  checks that every token was consumed, and tries SLL prediction before LL: 50x faster
  on this grammar, and the tests check that both give the same trees;
- a lock serialises calls (the module state is shared);
- `_Converter` turns the SymPy tree into IR, exactly (`Fraction`), flattening sums and
  products and gathering numeric factors into one leading coefficient.
"""
from __future__ import annotations

import threading
import types
from fractions import Fraction

from .expr import Add, Expr, Func, Mul, Num, Pow, Transpose

TRANSPOSE_KEY = "qt"


class EngineError(Exception):
    """The engine could not parse the text, or produced something unexpected."""


def placeholder(key: str) -> str:
    return "(\\mathit{" + key + "})"


def _nc_symbol(name, **kwargs):
    import sympy
    return sympy.Symbol(name, commutative=False)


class Engine:
    def __init__(self):
        import antlr4
        import sympy
        import latex2sympy2 as l2s
        from antlr4.atn.PredictionMode import PredictionMode

        shim = types.ModuleType("derivcheck_sympy_nc")
        shim.__dict__.update(sympy.__dict__)
        shim.Symbol = _nc_symbol
        l2s.sympy = shim
        self.l2s, self.sympy, self.antlr4 = l2s, sympy, antlr4
        self.modes = {"sll": PredictionMode.SLL, "ll": PredictionMode.LL}
        self.var, self.variances = dict(l2s.var), dict(l2s.variances)
        self.lock = threading.Lock()

    def reset(self) -> None:
        l2s = self.l2s
        l2s.var.clear()
        l2s.var.update(self.var)
        l2s.variances.clear()
        l2s.variances.update(self.variances)
        l2s.VARIABLE_VALUES = {}
        l2s.frac_type = r"\frac"

    def run(self, text: str, mode: str):
        l2s, antlr4 = self.l2s, self.antlr4
        listener = l2s.MathErrorListener(text)
        lexer = l2s.PSLexer(antlr4.InputStream(text))
        lexer.removeErrorListeners()
        lexer.addErrorListener(listener)
        tokens = antlr4.CommonTokenStream(lexer)
        parser = l2s.PSParser(tokens)
        parser.removeErrorListeners()
        parser.addErrorListener(listener)
        parser._interp.predictionMode = self.modes[mode]
        tree = parser.expr()
        if tokens.LA(1) != antlr4.Token.EOF:
            raise EngineError(f"unexpected {tokens.LT(1).text!r}")
        return l2s.convert_expr(tree)

    def __call__(self, text: str, mode: str = "auto"):
        """SymPy tree for `text`; mode "auto" tries SLL, then LL."""
        error: Exception | None = None
        with self.lock:
            try:
                for m in (("sll", "ll") if mode == "auto" else (mode,)):
                    self.reset()
                    try:
                        return self.run(text, m)
                    except RecursionError:
                        raise
                    except Exception as e:  # noqa: BLE001 - the engine raises bare Exception
                        error = e
            finally:
                self.reset()
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise EngineError(f"engine: {first}")


_ENGINE: Engine | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> Engine:
    """The process-wide engine (created on first use: importing SymPy takes ~1 s)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = Engine()
    return _ENGINE


def to_ir(text: str, nodes: dict[str, Expr]) -> Expr:
    """Parse arithmetic `text` whose placeholders are the keys of `nodes`."""
    eng = engine()
    return _Converter(nodes, eng.sympy)(eng(text))


def _key(symbol) -> str | None:
    name = symbol.name
    return name[8:-1] if name.startswith("\\mathit{") and name.endswith("}") else None


class _Converter:
    def __init__(self, nodes: dict[str, Expr], sympy):
        self.nodes, self.sympy = nodes, sympy

    def __call__(self, obj) -> Expr:
        sp = self.sympy
        if isinstance(obj, sp.Symbol):
            node = self.nodes.get(_key(obj) or "")
            if node is None:
                raise EngineError(f"engine produced a stray symbol {obj.name}")
            return node
        if isinstance(obj, sp.Pow):
            base, exp = obj.args
            if isinstance(exp, sp.Symbol) and _key(exp) == TRANSPOSE_KEY:
                return Transpose(self(base))
            return power(self(base), self(exp))
        if isinstance(obj, sp.Add):
            return add([self(a) for a in obj.args])
        if isinstance(obj, sp.Mul):
            return mul([self(a) for a in obj.args])
        if isinstance(obj, sp.Rational):
            return Num(Fraction(int(obj.p), int(obj.q)))
        if isinstance(obj, sp.factorial):
            return Func("factorial", (self(obj.args[0]),))
        raise EngineError(f"engine produced {type(obj).__name__}")


def add(terms: list[Expr]) -> Expr:
    flat: list[Expr] = []
    for t in terms:
        flat.extend(t.terms if isinstance(t, Add) else (t,))
    return flat[0] if len(flat) == 1 else Add(tuple(flat))


def mul(factors: list[Expr]) -> Expr:
    """Flatten; gather numeric factors into one leading coefficient (scalars commute);
    keep every other factor in written order."""
    flat: list[Expr] = []
    for f in factors:
        flat.extend(f.factors if isinstance(f, Mul) else (f,))
    coeff = Fraction(1)
    rest = []
    for f in flat:
        if isinstance(f, Num):
            coeff *= f.value
        else:
            rest.append(f)
    if coeff != 1 or not rest:
        rest.insert(0, Num(coeff))
    return rest[0] if len(rest) == 1 else Mul(tuple(rest))


def power(base: Expr, exp: Expr) -> Expr:
    """Fold small integer powers of numbers (`2^{-1}` -> 1/2); keep everything else."""
    if (isinstance(base, Num) and isinstance(exp, Num) and exp.value.denominator == 1
            and abs(exp.value) <= 64 and not (base.value == 0 and exp.value < 0)
            and max(abs(base.value.numerator), base.value.denominator) < 10 ** 6):
        return Num(base.value ** int(exp.value))
    return Pow(base, exp)
