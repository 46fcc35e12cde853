"""Durations: variables counted in days, weeks or months, literals with units, the one
declared rule for months, unit errors, and the shipped guideline's use of them."""
from __future__ import annotations

from fractions import Fraction

import pytest
import z3
from click.testing import CliRunner

from conftest import MINI, load_text
from guideproof.cli import cli
from guideproof.model import expr as X
from guideproof.model.encode import Encoding
from guideproof.model.evaluate import eval_expr

#: the mini guideline with durations in days, weeks and months (a month of 30 days)
TEXT = MINI.read_text().replace("\nconstraints:", """
  in_days: {type: duration, min: 0, max: 400, unit: days, question: 'Days?'}
  in_weeks: {type: duration, min: 0, max: 60, unit: weeks, question: 'Weeks?'}
  in_months: {type: duration, min: 0, max: 14, unit: months, question: 'Months?'}
constraints:""", 1).replace("\nsources:", "\ndurations: {rule: 1 month = 30 days, why: Test rule.}\nsources:", 1)

CONDITIONS = [
    "in_weeks >= 1 month",               # 7w >= 30: from 5 weeks
    "in_days < 2 weeks + 1 day",         # d < 15
    "in_months * 2 > in_weeks",          # 60m > 7w
    "in_days / in_weeks > 2",            # d / 7w (in_weeks never 0 below)
    "max(in_days, in_weeks) == 35 days",
    "abs(in_days - 3 months) <= 10 days",
    "(if sick then in_weeks else 2 months) >= 8 weeks",
    "in_weeks - in_months >= 0 days",
]


@pytest.fixture(scope="module")
def g():
    text = TEXT.replace("  old: age >= 65\n", "  old: age >= 65\n" + "".join(
        f"  c{i}: {c}\n" for i, c in enumerate(CONDITIONS)) + "  none_weeks: in_weeks >= 1 week\n", 1)
    text = text.replace("holds: L1 in levels or L2 in levels,", "holds: (L1 in levels or L2 in levels) and in_weeks >= 1 week,")
    return load_text(text)


def _patients():
    for d in (0, 14, 15, 35, 90, 100, 400):
        for w in (1, 4, 5, 8, 60):
            for m in (0, 1, 2, 3, 14):
                yield {"age": 70, "sick": bool((d + w + m) % 2), "stage": "early", "levels": frozenset({"L1"}),
                       "in_days": d, "in_weeks": w, "in_months": m}


def test_month_rule_is_declared(g):
    assert g.unit_days["months"] == 30 and g.durations_rule == "1 month = 30 days"


@pytest.mark.slow
def test_evaluator_and_solver_agree(g):
    enc = Encoding(g)
    s = z3.Solver()
    terms = [enc.term(X.DefRef(f"c{i}")) for i in range(len(CONDITIONS))]
    for p in _patients():
        s.push()
        s.add([enc.fix(n, v) for n, v in p.items()])
        for i, term in enumerate(terms):
            value = eval_expr(g.definitions[f"c{i}"].cond.expr, p, g)
            assert s.check(term != z3.BoolVal(bool(value))) == z3.unsat, (CONDITIONS[i], p)
        s.pop()


def test_literal_values_in_days(g):
    p = {"age": 70, "sick": False, "stage": "early", "levels": frozenset({"L1"}), "in_days": 0, "in_weeks": 4, "in_months": 0}
    assert eval_expr(g.definitions["c0"].cond.expr, p, g) is False  # 28 days < 30
    assert eval_expr(g.definitions["c0"].cond.expr, {**p, "in_weeks": 5}, g) is True
    dur = X.conjuncts(g.definitions["c1"].cond.expr)[0]
    assert isinstance(dur, X.Lt) and eval_expr(dur.right, p, g) == 15
    assert X.show(g.definitions["c5"].cond.expr) == "abs(in_days - 3 months) <= 10 days"


def test_shipped_guideline_counts_three_months_as_thirteen_weeks(shipped):
    assert shipped.durations_rule == "3 months = 13 weeks" and shipped.unit_days["months"] == Fraction(91, 3)
    stale = shipped.definitions["imaging_stale"].cond.expr
    base = {"imaged": True, "weeks_since_imaging": 13}
    assert eval_expr(stale, base, shipped) is False
    assert eval_expr(stale, {**base, "weeks_since_imaging": 14}, shipped) is True
    # timings written as durations keep their weeks
    timing = shipped.recommendations["conservative_care_first"].timing
    assert (timing.start_week, timing.end_week) == (0, 13)
    timing = shipped.recommendations["reassess_4_6_weeks"].timing
    assert (timing.start_week, timing.end_week) == (4, 6)


@pytest.mark.parametrize("value,expected", [("14 days", 2), ("2 weeks", 2), ("3", 3), ("1 week", 1)])
def test_patient_values_with_units(shipped, value, expected):
    from guideproof.model.patient import apply_sets

    assert apply_sets(shipped, [f"weeks_since_fracture={value}"]).values == {"weeks_since_fracture": expected}


@pytest.mark.parametrize("value,message", [
    ("10 days", "weeks_since_fracture is a whole number of weeks, found '10 days' (10/7 of a week)"),
    ("3 months", "weeks_since_fracture is counted in weeks, found '3 months'"),
    ("2.5", "weeks_since_fracture is a whole number of weeks"),
])
def test_patient_values_that_are_not_whole_units(value, message):
    r = CliRunner().invoke(cli, ["query", "-s", f"weeks_since_fracture={value}"], catch_exceptions=False)
    assert r.exit_code == 2
    assert message in r.output


@pytest.mark.slow
def test_a_threshold_in_months_is_found_when_wrong():
    """Moving 'after 3 months' to 'after 2 months' is caught by the invariants that state
    the 3-month rule, with a witness between 2 and 3 months (by the declared rule)."""
    from guideproof.guideline import SHIPPED
    from guideproof.verify.checks import verify
    from guideproof.verify.findings import Verdict

    text = SHIPPED.read_text().replace("when: weeks_conservative_care >= 3 months", "when: weeks_conservative_care >= 2 months")
    g = load_text(text, str(SHIPPED))  # its overlay is found beside it
    bad = [f for f in verify(g) if f.verdict == Verdict.REFUTED]
    assert bad
    weeks = {f.witness["weeks_conservative_care"] for f in bad if f.witness}
    assert weeks and all(Fraction(2 * 91, 3) <= 7 * w < 91 for w in weeks)
