"""The IR: trees are values (hashable, comparable) and walk visits every node."""
from fractions import Fraction

from symbolic.expr import Add, Mul, Num, Sym, Transpose, symbols, walk


def test_products_keep_written_order():
    X, w = Sym("X"), Sym("w")
    assert Mul((Transpose(X), X, w)) != Mul((X, Transpose(X), w))


def test_trees_are_hashable_values():
    a = Add((Sym("y", sup=(Sym("i"),)), Num(Fraction(-1, 2))))
    b = Add((Sym("y", sup=(Sym("i"),)), Num(Fraction(-1, 2))))
    assert a == b and hash(a) == hash(b)


def test_walk_reaches_index_symbols():
    e = Mul((Num(Fraction(2)), Sym("x", sub=(Sym("j"),), sup=(Sym("i"),))))
    assert {s.name for s in symbols(e)} == {"x", "i", "j"}
    assert len(list(walk(e))) == 5
