"""What makes verify near-linear on large guidelines, tested for what it must never change:

* claims settled together (:meth:`Prover.settle_together`) prove exactly the claims that
  one query each proves, and a refuted claim is still refuted with a witness;
* a trace of the steps on the paths to a step (:meth:`Context.trace_at`) agrees with the
  whole trace on that step, the edges leaving it and the recommendations it gives.
"""
from __future__ import annotations

import random
import sys

import pytest
import z3

from guideproof.model.encode import Encoding
from guideproof.model.evaluate import run
from guideproof.model.graph import edges_of
from guideproof.verify import solver
from guideproof.verify.checks import verify
from guideproof.verify.obligation import Context
from guideproof.verify.solver import Prover, Result, SlicedProver
from conftest import TESTS, load_text

sys.path.insert(0, str(TESTS.parent / "benchmarks"))
from realistic import realistic_yaml


def _int(name: str, lo: int, hi: int) -> tuple[z3.ArithRef, list[tuple[str, z3.BoolRef]]]:
    x = z3.Int(name)
    return x, [(f"bounds {name}", z3.And(x >= lo, x <= hi))]


def test_settle_together_proves_exactly_the_unsatisfiable_negations():
    x, dx = _int("x", 0, 10)
    negations = [[("a", x > 20)], [("b", x > 5)], [("c", x < 0)], [("d", x == 3)], [("e", z3.And(x > 4, x < 5))]]
    got = Prover(dx).settle_together(negations)
    assert [r is not None for r in got] == [True, False, True, False, True]
    assert all(r.status == "unsat" for r in got if r is not None)


def test_settle_together_on_slices_of_the_domain():
    # Two components that share no variable; the base model is set by a first whole query.
    x, dx = _int("x", 0, 10)
    y, dy = _int("y", 0, 10)
    z_, dz = _int("z", 0, 10)
    w, dw = _int("w", 0, 10)
    support = {t.get_id(): frozenset({str(t)}) for t in (x, y, z_, w)}

    def sup(t):
        if t.get_id() in support:
            return support[t.get_id()]
        if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            return None
        out = frozenset()
        for c in t.children():
            s = sup(c)
            if s is None:
                return None
            out |= s
        return out
    p = SlicedProver(dx + dy + dz + dw, sup)
    assert p.check([]).status == "sat"  # the base
    negations = [[("a", x > 10)], [("b", y > 10)], [("c", x + 0 == 7)], [("d", y < 0)], [("e", x < y - 10)]]
    got = p.settle_together(negations)
    assert [r is not None for r in got] == [True, True, False, True, True]


def test_a_group_the_solver_does_not_settle_is_asked_one_by_one(monkeypatch):
    x, dx = _int("x", 0, 10)
    real = Prover._run

    def slow(self, s, assumptions):
        status, dt = real(self, s, assumptions)
        return (z3.unknown, dt) if any(len(a.children()) > 1 for a in s.assertions() if z3.is_or(a)) else (status, dt)
    monkeypatch.setattr(Prover, "_run", slow)
    got = Prover(dx).settle_together([[("a", x > 20)], [("c", x < 0)]])
    assert got == [None, None]  # nothing proved here: each is then its own query


def _broken_realistic() -> str:
    """A realistic generated guideline with faults of several kinds: two single-choice
    branches that overlap, a gap, and a conflict that can fire."""
    text = realistic_yaml(300)
    for old, new in (("'s0 >= 30 and s0 < 70'", "'s0 >= 20 and s0 < 70'"),
                     ("'s3 >= 30 and s3 < 70'", "'s3 >= 35 and s3 < 70'")):
        assert old in text
        text = text.replace(old, new, 1)
    return text


def _summary(findings):
    """What a finding says: its verdict, message and problem regions. Witnesses (the
    finding's and each region's) are left out: which of several equally typical patients
    Z3 picks can depend on what the process asked Z3 before (its global term table), though
    never on the run; each witness is confirmed by the evaluator anyway."""
    return [(f.code, f.subject, f.verdict.value, f.message, f.witness is not None,
             tuple(r.condition for r in f.regions), f.regions_end) for f in findings]


@pytest.mark.slow
def test_settling_together_changes_no_verdict_or_region(monkeypatch):
    g = load_text(_broken_realistic(), "broken-realistic.yaml")
    together = verify(g, timeout=60)
    assert {f.verdict.value for f in together} >= {"proved", "refuted"}
    assert sum(f.verdict.value == "refuted" for f in together) >= 2
    monkeypatch.setattr(Context, "settle", lambda self, negations: None)
    one_by_one = verify(g, timeout=60)
    assert _summary(together) == _summary(one_by_one)


@pytest.mark.slow
def test_groups_left_unsettled_change_no_verdict(monkeypatch):
    g = load_text(_broken_realistic(), "broken-realistic.yaml")
    expected = _summary(verify(g, timeout=60))
    monkeypatch.setattr(solver.Prover, "_settle_group", lambda self, negations, pending, out, s, assumptions, entries=(): None)
    assert _summary(verify(g, timeout=60)) == expected


def _random_value(rng: random.Random, v):
    kind = v.type.kind
    if kind == "bool":
        return rng.choice([False, True])
    if kind == "enum":
        return rng.choice(v.type.values)
    if kind == "set":
        return frozenset(m for m in v.type.values if rng.random() < 0.5)
    return rng.randint(v.min, v.max)


def test_trace_at_agrees_with_the_whole_trace():
    g = load_text(realistic_yaml(200), "realistic-200.yaml")
    enc = Encoding(g)
    rng = random.Random(7)
    ctx = Context(g, enc, Prover([]))
    for _ in range(25):
        p = {v.name: _random_value(rng, v) for v in g.variables.values()}
        whole = run(g, p)
        for sid, step in g.steps.items():
            local = ctx.trace_at(p, sid)
            assert (sid in local.reached) == (sid in whole.reached), sid
            for e in edges_of(step):
                assert (e.key in local.fired_keys()) == (e.key in whole.fired_keys()), e.key
        for rid in g.recommendations:
            local = ctx.trace_at(p, *(s.id for s in g.steps_recommending(rid)))
            assert (rid in local.applies) == (rid in whole.applies), rid


def test_trace_at_uses_the_whole_trace_once_known():
    g = load_text(realistic_yaml(66), "realistic-66.yaml")
    ctx = Context(g, Encoding(g), Prover([]))
    p = {v.name: _random_value(random.Random(1), v) for v in g.variables.values()}
    whole = ctx.run(p)
    assert ctx.trace_at(p, g.order[-1]) is whole


def test_settled_results_are_used_once():
    x, dx = _int("x", 0, 10)
    g = load_text(realistic_yaml(66), "realistic-66.yaml")
    ctx = Context(g, Encoding(g), Prover(dx))
    neg = [("a", x > 20)]
    ctx.settle([neg, [("b", x < 0)], [("c", x == 3)]])
    first = ctx.settled(neg)
    assert isinstance(first, Result) and first.status == "unsat"
    assert ctx.settled(neg) is None  # used once
    assert ctx.settled([("b", x < 0)]) is not None  # the same terms, another list
    assert ctx.settled([("c", x == 3)]) is None  # satisfiable: left to its own query
