"""Every core expression node goes through every pass: parsing and checking, printing (and
re-parsing what was printed), the generic walks, the evaluator, the Z3 encoder and the
explanation of an answer. A node kind added to ``expr.Expr`` without an example here fails
the first test, so no pass can silently mishandle it."""
from __future__ import annotations

from fractions import Fraction
from typing import get_args

import pytest
import z3

from conftest import MINI
from expr_corpus import PATIENTS as MINI_PATIENTS
from guideproof.model import expr as X
from guideproof.model.encode import Encoding
from guideproof.model.evaluate import eval_expr, run
from guideproof.model.loader import load_guideline_text
from guideproof.model.report import support
from guideproof.model.source import SourceText

#: the mini guideline with an optional decimal and a duration in months (with the rule
#: that counts them), and its patients without and with a weight
EXTRA = ("  weight: {type: decimal, min: 30, max: 200, unit: kg, optional: true, question: 'Weight, if measured?'}\n"
         "  waited: {type: duration, min: 0, max: 24, unit: months, question: 'Months waited?'}\n")
RULE = "durations: {rule: 3 months = 13 weeks, why: Test rule.}\n"
EXTRA_VALUES = {"young_well": {"weight": None, "waited": 0}, "old_sick": {"weight": Fraction(141, 2), "waited": 3},
                "boundary": {"weight": Fraction(65), "waited": 24}}
PATIENTS = {n: {**p, **EXTRA_VALUES[n]} for n, p in MINI_PATIENTS.items()}


@pytest.fixture(scope="module")
def mini():
    text = MINI.read_text().replace("\nconstraints:", "\n" + EXTRA.rstrip("\n") + "\nconstraints:", 1)
    text = text.replace("\nsources:", "\n" + RULE.rstrip("\n") + "\nsources:", 1)
    assert EXTRA in text and RULE in text
    return load_guideline_text(SourceText("mini_extended.yaml", text))

#: node class -> a condition over the mini guideline whose checked tree contains it
EXAMPLES: dict[type, str] = {
    X.BoolLit: "true or sick",
    X.IntLit: "age > 40",
    X.DecLit: "age > 40.5",
    X.Var: "sick",
    X.EnumLit: "stage == late",
    X.Not: "not sick",
    X.And: "sick and old",
    X.Or: "sick or old",
    X.Eq: "age == 65",
    X.Lt: "age < 65",
    X.Le: "age <= 65",
    X.Add: "age + 1 > 65",
    X.Sub: "age - 1 > 65",
    X.Mul: "age * 2 > 130",
    X.Div: "age / 2 > 32",
    X.Min: "min(age, 70) < 70",
    X.Max: "max(age, 70) > 70",
    X.Abs: "abs(age - 70) < 10",
    X.Ite: "(if sick then age else 18) > 64",
    X.Count: "count(sick, old) >= 1",
    X.AtLeast: "at least 1 of [sick, old]",
    X.Member: "L1 in levels",
    X.DefRef: "old",
    X.Recommends: "recommends(treat) implies sick",
    X.Known: "known(weight) and weight > 65",
    X.DurLit: "waited >= 3 months - 2 weeks + 10 days",
    X.InDays: "waited * 2 > 1 month",
}


def _check(g, text: str) -> X.Expr:
    scope = X.Scope({n: v.type for n, v in g.variables.items()},
                    {n: (v.min, v.max) for n, v in g.variables.items() if v.min is not None},
                    {n: d.cond.type for n, d in g.definitions.items()}, set(g.recommendations), allow_recommends=True,
                    optional=frozenset(n for n, v in g.variables.items() if v.optional), unit_days=g.unit_days)
    return X.check(X.parse(text), scope, lambda _o: None)


def _nodes(e: X.Expr) -> list[X.Expr]:
    out, todo = [], [e]
    while todo:
        x = todo.pop()
        out.append(x)
        todo.extend(X.children(x))
    return out


def test_every_node_kind_has_an_example():
    assert set(get_args(X.Expr)) == set(EXAMPLES)


@pytest.mark.parametrize("cls", list(EXAMPLES), ids=[c.__name__ for c in EXAMPLES])
def test_node_through_every_pass(mini, cls):
    e = _check(mini, EXAMPLES[cls])
    assert any(type(n) is cls for n in _nodes(e)), f"{EXAMPLES[cls]!r} has no {cls.__name__}"
    # printing gives text that checks to the same tree
    assert _check(mini, X.show(e)) == e
    # generic walks terminate and see the variables
    read = X.variables_of(e, mini.definition_exprs())
    assert read <= set(mini.variables)
    assert X.definitions_of(e) <= set(mini.definitions)
    enc = Encoding(mini)
    term = enc.term(e)
    for p in PATIENTS.values():
        value = eval_expr(e, p, mini, run(mini, p).applies)
        s = z3.Solver()
        s.add([enc.fix(n, v) for n, v in p.items()])
        assert s.check() == z3.sat
        s.add(term != z3.BoolVal(bool(value)))
        assert s.check() == z3.unsat, (EXAMPLES[cls], p)
        if not any(isinstance(n, X.Recommends) for n in _nodes(e)):
            # the facts an explanation names are among those the condition reads
            assert support(mini, e, p, bool(value)) <= read
