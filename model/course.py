"""A patient's course of care: visits over time, and what the guideline says at each.

A course is a sequence of visits. The first visit states the patient's facts; each later
visit starts from the one before it, changed in three ways, in this order:

1. **what was done**: every recommendation the earlier visit gave (and the later visit does
   not list as ``declined``) records its ``records`` values, as of the earlier visit;
2. **time**: a ``clock`` fact (``over_time: clock``) advances by the weeks between the two
   visits, while its ``advances_while`` condition holds after step 1; every other fact
   carries over;
3. **what the visit states**: the facts written at the visit replace the carried ones,
   within the rules of ``over_time``: a ``fixed`` fact never changes, a ``grows`` fact never
   decreases (numbers, enums in their declared order, a yes never becomes a no, a set never
   loses a member), a clock states only the value time gave it, a ``free`` fact may change.

A patient with no history is a course of one visit, answered exactly as ``query`` answers
it. These rules are the same ones ``verify/temporal.py`` unrolls for the solver (GP012); a
counterexample course found there is replayed here, so every refutation is re-checked by
the evaluator.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from .errors import Collector, Diagnostic, InputError, Span, did_you_mean
from .evaluate import eval_expr
from .fields import INVALID, Field, NodeReader, describe
from .guideline import Guideline, TemporalProperty, Variable
from .patient import PatientInput, check_constraints, format_value, read_facts, type_words
from .record import Record
from .report import Answer, answer
from .source import YNode, YScalar, parse_yaml, read_text

DAYS_PER_WEEK = 7


class Visit(Record):
    """One visit of a history file: its week (counted from any origin the author likes;
    only differences matter), the facts it states, and the recommendations of the visit
    before it that were not carried out."""

    week: int
    facts: PatientInput
    declined: tuple[str, ...]
    #: where the visit is written (None for a course made by the solver)
    span: Span | None


class VisitAnswer(Record):
    """What the guideline says at one visit of a course."""

    week: int
    values: dict[str, Any]
    answer: Answer
    #: facts that differ from the visit before: (name, before, now, how: "stated", "time",
    #: "recorded" or "recorded, then time")
    changes: tuple[tuple[str, Any, Any, str], ...]
    starts: tuple[str, ...]
    continues: tuple[str, ...]
    #: (recommendation, why it stops: the decisive facts that changed, in words)
    stops: tuple[tuple[str, str], ...]
    #: two recommendations of the visit before recorded different values of one fact (a
    #: guideline problem, refuted by GP012; the first in the guideline's order was kept)
    clashes: tuple[str, ...] = ()


# -- the rules of change, shared with the solver's unrolling ----------------------------


def records(g: Guideline, given: Sequence[str] | set[str], declined: Sequence[str] = ()) -> tuple[dict[str, Any], list[str]]:
    """The values the recommendations ``given`` record (less those ``declined``), and a
    message per variable two of them record differently (a guideline problem: GP012)."""
    out: dict[str, Any] = {}
    by: dict[str, str] = {}
    clashes = []
    for r in g.recommendations:
        if r not in given or r in declined:
            continue
        for name, value in g.recommendations[r].records:
            if name in out and out[name] != value:
                clashes.append(f"{by[name]} records {name} = {format_value(out[name])} and {r} records {format_value(value)}")
                continue
            out[name], by[name] = value, r
    return out, clashes


def after_records(g: Guideline, values: Mapping[str, Any], given: Sequence[str] | set[str],
                  declined: Sequence[str] = ()) -> tuple[dict[str, Any], list[str]]:
    """The facts once what the visit recommended was done (step 1)."""
    rec, clashes = records(g, given, declined)
    return {**values, **rec}, clashes


def advance(g: Guideline, post: Mapping[str, Any], elapsed_days: int) -> dict[str, Any]:
    """The facts carried to a visit ``elapsed_days`` later (step 2): clocks advance, the rest
    carries over."""
    out = dict(post)
    for v in g.variables.values():
        if v.over_time != "clock":
            continue
        if v.advances_while is None or eval_expr(v.advances_while.expr, g.with_absent(post), g):
            out[v.name] = post[v.name] + clock_step(g, v, elapsed_days)
    return out


def clock_step(g: Guideline, v: Variable, elapsed_days: int) -> int:
    """How many of its units a clock advances in ``elapsed_days`` (whole: the loader allows
    clocks in days and weeks only, and visits fall on whole weeks)."""
    step = Fraction(elapsed_days) / g.unit_days[v.unit]
    assert step.denominator == 1, (v.name, elapsed_days)
    return int(step)


def change_problem(v: Variable, before: Any, carried: Any, stated: Any) -> str | None:
    """Why stating ``stated`` breaks ``v``'s rule of change (``before``: the value after the
    earlier visit's records; ``carried``: what time made of it), or None."""
    if v.over_time == "fixed" and stated != before:
        return f"{v.name} is fixed over a course: it was {format_value(before)}"
    if v.over_time == "clock" and stated != carried:
        return f"{v.name} advances with time: it is {format_value(carried)} {v.unit} at this visit"
    if v.over_time == "grows" and not grows(v, before, stated):
        return f"{v.name} never decreases over a course: it was {format_value(before)}"
    return None


def grows(v: Variable, before: Any, after: Any) -> bool:
    """``after`` is ``before`` or more, for ``over_time: grows``."""
    kind = v.type.kind
    if kind == "bool":
        return bool(after) or not before
    if kind == "set":
        return set(before) <= set(after)
    if kind == "enum":
        return v.type.values.index(after) >= v.type.values.index(before)
    return bool(after >= before)


# -- history files ----------------------------------------------------------------------


def load_history(g: Guideline, path: str | os.PathLike[str]) -> list[Visit]:
    """Read and check a history file (``visits: [{week, facts, declined?}, ...]``); every
    problem is reported with its position, exit 2."""
    src = read_text(path, "history file")
    root = parse_yaml(src)
    col = src.collector()
    r = NodeReader(col, Span(src.file, 1, 1))
    top = r.record(root, "history file", (Field("visits", _node, True),)) if root is not None else None
    if root is None:
        col.error("wrong-type", "the history file is empty; expected 'visits: [{week: 0, facts: {...}}, ...]'",
                  Span(src.file, 1, 1))
    visits: list[Visit] = []
    if top is not None and top.complete:
        for where, item in r.items(top["visits"], "visits"):
            v = _visit(g, r, col, item, where)
            if v is not None:
                if visits and v.week <= visits[-1].week:
                    col.error("history-order", f"{where}.week: week {v.week} is not after the visit before it "
                                               f"(week {visits[-1].week})", v.span)
                visits.append(v)
        if not visits and not col.diagnostics:
            col.error("wrong-type", "visits: expected at least one visit", top.span("visits"))
        if visits and visits[0].declined:
            col.error("history-unknown", "visits[1].declined: the first visit has no visit before it", visits[0].span)
    col.raise_if_any()
    return visits


def _node(r: NodeReader, node: YNode, where: str) -> YNode:
    return node


def _week(r: NodeReader, node: YNode, where: str) -> Any:
    value = node.value if isinstance(node, YScalar) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        r.err("wrong-type", f"{where}: expected a whole number of weeks from 0 to 100000, found {describe(node)}", node.span)
        return INVALID
    return value


def _visit(g: Guideline, r: NodeReader, col: Collector, item: YNode, where: str) -> Visit | None:
    v = r.record(item, where, (Field("week", _week, True), Field("facts", _node, default=None),
                               Field("declined", _node, default=None)))
    if v is None or not v.complete:
        return None
    facts = PatientInput()
    if v["facts"] is not None:
        m = r.mapping(v["facts"], f"{where}.facts")
        if m is not None:
            read_facts(g, m, col, facts)
    declined: list[str] = []
    if v["declined"] is not None:
        s = r.seq(v["declined"], f"{where}.declined")
        for node in s.items if s is not None else ():
            name = node.value if isinstance(node, YScalar) else None
            if not isinstance(name, str) or name not in g.recommendations:
                col.error("history-unknown", f"{where}.declined: expected a recommendation of the guideline, found {describe(node)}"
                          + (did_you_mean(name, g.recommendations) if isinstance(name, str) else ""), node.span)
                continue
            declined.append(name)
    return Visit(v["week"], facts, tuple(declined), item.span)


# -- answering a course -----------------------------------------------------------------


def replay(g: Guideline, visits: Sequence[Visit]) -> list[VisitAnswer]:
    """The answer at every visit; a visit whose facts break a rule of change, a constraint,
    or leave a fact unknown is an input error (exit 2) naming the visit."""
    out: list[VisitAnswer] = []
    post: dict[str, Any] = {}
    for i, visit in enumerate(visits):
        problems: list[Diagnostic] = []
        clashes: list[str] = []
        p = PatientInput()
        if i == 0:
            p.values, p.origin = dict(visit.facts.values), dict(visit.facts.origin)
            how = {}
        else:
            prev = out[-1]
            for r in visit.declined:
                if r not in prev.answer.trace.applies:
                    problems.append(Diagnostic("history-unknown", f"declined {r!r}: the visit at week {prev.week} did not "
                                                                  "recommend it", visit.span))
            recorded, clashes = records(g, prev.answer.trace.applies, visit.declined)
            post = {**prev.values, **recorded}
            carried = advance(g, post, (visit.week - prev.week) * DAYS_PER_WEEK)
            for name, value in visit.facts.values.items():
                problem = change_problem(g.variables[name], post[name], carried[name], value)
                if problem:
                    problems.append(Diagnostic("history-change", f"{name} = {format_value(value)} at week {visit.week}: "
                                                                 f"{problem}", _span(visit.facts.origin[name])))
            p.values = {**carried, **visit.facts.values}
            p.origin = {n: f"carried from week {prev.week}" for n in carried} | dict(visit.facts.origin)
            how = {n: "stated" if n in visit.facts.values else
                   ("recorded, then time" if n in recorded else "time") if carried[n] != post[n] else "recorded"
                   for n in g.variables if p.values.get(n) != prev.values.get(n)}
            for n, var in g.variables.items():
                if var.max is not None and var.over_time == "clock" and p.values[n] > var.max:
                    problems.append(Diagnostic("history-change", f"{n} would be {format_value(p.values[n])} {var.unit} at "
                                                                 f"week {visit.week}, beyond its maximum {format_value(var.max)}",
                                               visit.span))
        if problems:
            raise InputError(problems)
        p.without_value(g)
        missing = p.missing(g)
        if missing:
            lines = "\n".join(f"    {v.name} ({type_words(v)}): {v.question}" for v in missing)
            raise InputError([Diagnostic("missing-variable", f"the visit at week {visit.week} leaves "
                                         f"{len(missing)} fact{'s' if len(missing) != 1 else ''} unknown "
                                         f"(a course is answered for complete facts):\n{lines}", visit.span)])
        try:
            check_constraints(g, p)
        except InputError as e:
            raise InputError([d.replace(message=f"the visit at week {visit.week}: {d.message}", span=d.span or visit.span)
                              for d in e.diagnostics]) from None
        out.append(_answer_visit(g, visit.week, p.values, out[-1] if out else None, how).replace(clashes=tuple(clashes)))
    return out


def _span(origin: str) -> Span | None:
    """The position a fact's origin names (``file:line:col``), if any."""
    file, _, rest = origin.rpartition(":")
    file, _, line = file.rpartition(":")
    return Span(file, int(line), int(rest)) if line.isdigit() and rest.isdigit() and file else None


def _answer_visit(g: Guideline, week: int, values: dict[str, Any], prev: VisitAnswer | None,
                  how: dict[str, str]) -> VisitAnswer:
    ans = answer(g, values)
    now = ans.trace.applies
    before = prev.answer.trace.applies if prev else set()
    order = list(g.recommendations)
    changes = tuple((n, prev.values.get(n), values.get(n), how[n]) for n in g.variables if n in how) if prev else ()
    stops = []
    for r in (r for r in order if r in before and r not in now):
        assert prev is not None
        stops.append((r, _why_stopped(g, prev, r, values)))
    return VisitAnswer(week, dict(values), ans, changes, tuple(r for r in order if r in now and r not in before),
                       tuple(r for r in order if r in now and r in before), tuple(stops))


def _why_stopped(g: Guideline, prev: VisitAnswer, r: str, values: Mapping[str, Any]) -> str:
    """The decisive facts of ``r`` at the visit before that are different now."""
    applied = next(a for a in prev.answer.applied if a.rec.id == r)
    out = []
    for reason in applied.reasons:
        changed = [(n, v) for n, v in reason.facts if values.get(n) != v]
        if changed:
            facts = ", ".join(f"{n} {format_value(v)} -> {format_value(values.get(n))}" for n, v in changed)
            out.append(f"no longer '{reason.label}' ({facts})")
    if out:
        return "; ".join(out)
    changed_all = [n for n in g.variables if values.get(n) != prev.values.get(n)]
    return "the path to it changed (" + ", ".join(f"{n} {format_value(prev.values.get(n))} -> "
                                                  f"{format_value(values.get(n))}" for n in changed_all) + ")"


# -- temporal properties on a course (re-checking the solver's counterexamples) ---------


def property_holds(g: Guideline, prop: TemporalProperty, course: Sequence[VisitAnswer]) -> bool:
    """Whether ``prop`` holds on this course, evaluated visit by visit (the definition in
    ``TemporalProperty``'s docstring)."""
    def at(c: Any, i: int) -> bool:
        return bool(eval_expr(c.expr, g.with_absent(course[i].values), g, course[i].answer.trace.applies))

    n = len(course)
    weeks = [v.week for v in course]
    if prop.form == "always":
        return all(at(prop.holds, i) for i in range(n))
    if prop.form == "eventually":
        if prop.start is not None and not at(prop.start, 0):
            return True
        for d in range(n):
            if prop.during is not None and not at(prop.during, d):
                return True  # it stopped holding before the deadline: nothing is claimed
            if prop.deadline is not None and at(prop.deadline, d):
                return any(at(prop.holds, i) for i in range(d + 1))
        return True  # the deadline is not reached within the course
    assert prop.days is not None
    span_weeks = prop.days / DAYS_PER_WEEK
    hits = [i for i in range(n) if at(prop.holds, i)]
    if prop.form == "at_most":
        return not hits or weeks[hits[-1]] - weeks[hits[0]] <= span_weeks
    for a, i in enumerate(hits):
        for j in hits[a + 1:]:
            if weeks[j] - weeks[i] < span_weeks and not (
                    prop.unless is not None and any(at(prop.unless, k) for k in range(i + 1, j + 1))):
                return False
    return True


def history_yaml(g: Guideline, course: Sequence[VisitAnswer]) -> str:
    """A course as a history file (``query --history`` replays it): every fact at the first
    visit, then only the facts each later visit states (those time and records do not give)."""
    from .patient import to_plain

    lines = ["visits:"]
    prev: VisitAnswer | None = None
    for v in course:
        if prev is None:
            facts = to_plain(g, v.values)
        else:
            post, _ = after_records(g, prev.values, prev.answer.trace.applies)
            carried = advance(g, post, (v.week - prev.week) * DAYS_PER_WEEK)
            facts = to_plain(g, {n: x for n, x in v.values.items() if carried.get(n) != x})
        lines.append(f"  - week: {v.week}")
        if facts:
            lines.append("    facts:")
            # JSON values are YAML flow values that keep text such as "no" text; a decimal
            # is written bare (1.25, 875/18), as an author writes it
            lines.extend(f"      {n}: {x if g.variables[n].type.kind == 'decimal' and x is not None else json.dumps(x)}"
                         for n, x in facts.items())
        prev = v
    return "\n".join(lines) + "\n"


def course_of(g: Guideline, weeks_facts: Sequence[tuple[int, Mapping[str, Any]]]) -> list[VisitAnswer]:
    """Replay a course given as (week, every fact) per visit (a counterexample's form)."""
    visits = []
    for week, facts in weeks_facts:
        p = PatientInput()
        p.values = dict(facts)
        p.origin = {n: f"week {week}" for n in facts}
        visits.append(Visit(week, p, (), None))
    return replay(g, visits)
