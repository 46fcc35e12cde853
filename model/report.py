"""The clinician's answer for one complete patient, as plain values (no rendering here).

For each applicable recommendation the answer says *why*: the branches taken on the way to
a step that recommends it, and the patient facts those branches read.
"""
from __future__ import annotations

from typing import Any

from . import expr as X
from .evaluate import AbsentValue, Patient, Trace, eval_expr, run
from .expr import variables_of
from .guideline import Definition, Guideline, Recommendation, SafetyRule
from .record import Record
from .graph import Edge, edges_of, predecessors, reachable


class Reason(Record):
    step: str  # the decision step
    step_title: str
    label: str  # the branch taken, in the author's words
    condition: str  # the guard's text ("none of the above" for otherwise)
    facts: tuple[tuple[str, Any], ...]  # (variable, patient value) that decided the branch


class Applied(Record):
    rec: Recommendation
    reasons: tuple[Reason, ...]
    #: the recommendation's cautions that hold for this patient
    cautions: tuple[SafetyRule, ...] = ()


class Answer:
    def __init__(self, guideline: Guideline, patient: dict[str, Any], trace: Trace):
        self.guideline = guideline
        self.patient = patient
        self.trace = trace
        self.applied: list[Applied] = []

    def do(self) -> list[Applied]:
        return [a for a in self.applied if a.rec.kind == "do"]

    def avoid(self) -> list[Applied]:
        return [a for a in self.applied if a.rec.kind == "avoid"]

    def by_category(self) -> list[tuple[str, list[Applied]]]:
        out = []
        for cid in self.guideline.categories:
            items = [a for a in self.do() if a.rec.category == cid]
            if items:
                out.append((cid, items))
        return out

    def computed(self) -> list[tuple[Definition, Any]]:
        """Every computed value (a numeric definition) with its value for this patient;
        None when it reads an optional fact the patient does not have."""
        return [(d, None if any(self.patient[v] is None for v in d.needs)
                 else eval_expr(d.cond.expr, self.patient, self.guideline))
                for d in self.guideline.definitions.values() if d.computed]

    def pathway(self) -> list[Recommendation]:
        return [self.guideline.recommendations[r] for r in self.guideline.dispositions if r in self.trace.applies]

    def reassess(self) -> list[Recommendation]:
        """Items of the guideline's reassessment categories that have a timing, earliest
        window first."""
        cats = self.guideline.categories
        items = [a.rec for a in self.do() if cats[a.rec.category].reassessment and a.rec.timing]
        return sorted(items, key=lambda r: (r.timing.start_week or 0) if r.timing else 0)


def answer(g: Guideline, patient: Patient) -> Answer:
    """The answer for a complete patient (an optional fact left out has no value)."""
    patient = g.with_absent(patient)
    trace = run(g, patient)
    ans = Answer(g, dict(patient), trace)
    order = {r: i for i, r in enumerate(g.recommendations)}
    into: dict[str, list[Edge]] = {}  # step -> fired edges into it
    for e in trace.fired:
        into.setdefault(e.target, []).append(e)
    back = {t: [e.source for e in es] for t, es in into.items()}  # step -> steps that fired into it
    preds = predecessors(g.steps)
    for rid in sorted(trace.applies, key=order.__getitem__):
        rec = g.recommendations[rid]
        cautions = tuple(c for c in rec.cautions if c.cond is None or eval_expr(c.cond.expr, patient, g))
        ans.applied.append(Applied(rec, tuple(_reasons(g, patient, trace, into, back, rid, preds)), cautions))
    return ans


def _reasons(g: Guideline, patient: Patient, trace: Trace, into: dict[str, list[Edge]],
             back: dict[str, list[str]], rid: str, preds: dict[str, set[str]]) -> list[Reason]:
    """The decisive branches on fired paths from the start to the steps recommending ``rid``:
    a branch is decisive when some other way out of its decision leads nowhere that
    recommends ``rid`` (a decision every outcome of which leads to it explains nothing)."""
    targets = [s.id for s in g.steps_recommending(rid) if s.id in trace.reached]
    edges = [e for t in reachable(targets, back) for e in into.get(t, ()) if e.kind in ("branch", "otherwise")]
    leads = reachable([s.id for s in g.steps_recommending(rid)], preds)  # steps from which rid can follow
    pos = g.position
    out = []
    for e in sorted(set(edges), key=lambda e: (pos[e.source], e.index)):
        step = g.steps[e.source]
        if all(o.target in leads for o in edges_of(step) if o.key != e.key):
            continue
        if e.branch is not None:
            cond = e.branch.cond
            names = support(g, cond.expr, patient, True)
            text, label = cond.text, e.branch.label
        else:
            names = frozenset[str]().union(*(support(g, b.cond.expr, patient, False) for b in step.branches))
            text = "none of: " + "; ".join(b.label for b in step.branches)
            label = step.otherwise_label
        facts = tuple((n, patient[n]) for n in g.variables if n in names)
        out.append(Reason(step.id, step.title, label, text, facts))
    return out




def support(g: Guideline, e: X.Expr, p: Patient, value: bool,
            _defs: dict[str, frozenset[str]] | None = None) -> frozenset[str]:
    """The variables that make ``e`` evaluate to ``value`` for ``p``: for a true ``or`` its
    true alternatives (every one: each is a reason), for a false ``and`` its false parts, and
    so on, so an explanation names every fact that decided and none that did not.

    ``value`` is always what ``e`` evaluates to, so a definition's support depends on its
    name alone: it is computed once, bottom-up (``_defs``), however deep the chain."""
    match e:
        case X.Not(arg=a):
            return support(g, a, p, not value, _defs)
        case X.And(args=xs) | X.Or(args=xs):
            decisive = value if isinstance(e, X.Or) else not value
            if decisive:  # true or / false and: each part with that value decides alone: name them all
                hits = [a for a in xs if _value(g, a, p) is value]
                return frozenset().union(*(support(g, a, p, value, _defs) for a in hits))
            return frozenset().union(*(support(g, a, p, value, _defs) for a in xs))
        case X.DefRef(name=n):
            memo: dict[str, frozenset[str]] = {} if _defs is None else _defs
            if n not in memo:
                values: dict[str, Any] = {}
                for d in g.expansion_order(n):  # n last; everything it uses before it
                    if d not in memo:
                        try:
                            truth = bool(eval_expr(X.DefRef(d), p, g, None, values))
                        except AbsentValue:  # never read for this patient (guarded where used)
                            memo[d] = frozenset()
                            continue
                        memo[d] = support(g, g.definitions[d].cond.expr, p, truth, memo)
            return memo[n]
        case _:
            return frozenset(variables_of(e, g.definition_exprs()))


def _value(g: Guideline, e: X.Expr, p: Patient) -> bool | None:
    """The truth of ``e`` for ``p``; None for a part that reads an optional fact ``p`` does
    not have (its ``known`` guard, evaluated first, decided instead)."""
    try:
        return bool(eval_expr(e, p, g))
    except AbsentValue:
        return None
