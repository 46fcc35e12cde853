"""The expression corpus through the parser/checker, the evaluator and the Z3 encoder."""
from __future__ import annotations

import itertools

import pytest
import z3

from guideproof.model import expr as X
from guideproof.model.encode import Encoding
from guideproof.model.evaluate import eval_expr
from expr_corpus import INVALID, PATIENTS, VALID


def _scope(g):
    return X.Scope({n: v.type for n, v in g.variables.items()},
                   {n: (v.min, v.max) for n, v in g.variables.items() if v.min is not None},
                   set(g.definitions), set(g.recommendations))


def _check(g, text):
    return X.check(X.parse(text), _scope(g), lambda off: None)


@pytest.mark.parametrize("text,expected", VALID, ids=[v[0] for v in VALID])
def test_parse_and_evaluate(mini, text, expected):
    e = _check(mini, text)
    for name, value in expected.items():
        assert eval_expr(e, PATIENTS[name], mini) is value, name


@pytest.mark.parametrize("text,code,offset", INVALID, ids=[repr(v[0]) for v in INVALID])
def test_invalid(mini, text, code, offset):
    with pytest.raises(X.ExprError) as info:
        _check(mini, text)
    assert (info.value.code, info.value.offset) == (code, offset)


def _all_patients(g):
    """Every patient of the mini guideline over a discretised age range."""
    levels = g.variables["levels"].type.values
    subsets = [frozenset(c) for r in range(len(levels) + 1) for c in itertools.combinations(levels, r)]
    for age, sick, stage, lv in itertools.product([18, 40, 64, 65, 66, 110], [False, True],
                                                  g.variables["stage"].type.values, subsets):
        yield {"age": age, "sick": sick, "stage": stage, "levels": lv}


@pytest.mark.slow
@pytest.mark.parametrize("text", [v[0] for v in VALID])
def test_encoder_agrees_with_evaluator(mini, text):
    """For every discretised patient the Z3 term and the evaluator give the same value."""
    enc = Encoding(mini)
    term = enc.term(_check(mini, text))
    s = z3.Solver()
    for p in _all_patients(mini):
        s.push()
        s.add([enc.fix(n, v) for n, v in p.items()])
        s.add(term != z3.BoolVal(eval_expr(_check(mini, text), p, mini)))
        assert s.check() == z3.unsat, (text, p)
        s.pop()


def test_sugar_is_rewritten(mini):
    e = _check(mini, "age > 65")
    assert isinstance(e, X.Lt) and isinstance(e.left, X.IntLit) and e.left.value == 65
    e = _check(mini, "sick implies old")
    assert isinstance(e, X.Or) and isinstance(e.args[0], X.Not)
    e = _check(mini, "stage in [early, late]")
    assert isinstance(e, X.Or) and all(isinstance(a, X.Eq) for a in e.args)


def test_precedence(mini):
    # not binds tighter than and, and tighter than or, or tighter than implies.
    e = _check(mini, "not sick and old or sick implies old")
    assert isinstance(e, X.Or)  # implies rewritten at the top
    inner = e.args[0].arg
    assert isinstance(inner, X.Or) and isinstance(inner.args[0], X.And)
    assert isinstance(inner.args[0].args[0], X.Not)


def test_never_eval(mini):
    with pytest.raises(X.ExprError):
        _check(mini, "__import__('os').system('true')")
