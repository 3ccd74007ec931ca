"""The mutation score: planted errors in the verified relations of a sheet we wrote must
be refuted (target ≥ 95% over the whole corpus, see bench/mutation.py), and a planted
error must never be verified."""
from pathlib import Path

import pytest

from symbolic.checker import CheckOptions
from symbolic.expr import Add, Mul, Num, Pow, Sym, Transpose
from symbolic.document import read_document
from symbolic.mutation import OPERATORS, mutation_run, mutants_of, score

FIXTURE = Path(__file__).parent / "fixtures" / "mlp_backprop.tex"


def test_no_mutant_is_verified_and_most_are_refuted():
    results = mutation_run(read_document(FIXTURE), CheckOptions())
    s = score(results)
    assert s["mutants"] >= 30
    assert s["verified"] == 0, [m for m in results if m.status == "verified"]
    assert s["score"] >= 0.9, s


X, w, n = Sym("X"), Sym("w"), Sym("n")
SHAPES = {("X", (), ()): (n, Sym("d")), ("w", (), ()): (Sym("d"), Num(1))}
TREE = Add((Mul((Transpose(X), X, w)), Mul((Num(-1), Pow(n, Num(2))))))


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_each_operator_changes_what_it_applies_to(name):
    mutated = dict(mutants_of(TREE, TREE, SHAPES)).get(name)
    if name == "swap-indices":
        assert mutated is None  # nothing with two indices here
    else:
        assert mutated is not None and mutated != TREE
