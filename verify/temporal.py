"""GP012 temporal properties: proved over every course of visits up to a stated horizon.

Bounded model checking. The guideline's encoding (one patient, ``model/encode.py``) is
copied once per visit of the longest course (``course: {every, horizon}``: a visit every
``every`` weeks from the first, up to ``horizon`` weeks after it), and consecutive copies
are linked by the rules of change that ``model/course.py`` applies to a history file: what
the earlier visit recommended records its values; clocks advance by the weeks between the
visits (while their ``advances_while`` holds); ``fixed`` facts stay, ``grows`` facts never
decrease, ``free`` facts take any valid value. Every visit's facts satisfy the guideline's
bounds and constraints.

A course may end at any visit (``alive``): a patient discharged at week 3, or one whose
clock would pass its maximum, is a course too, so nothing is claimed only because a longer
course could not exist. A property is proved when the solver finds no course of at most the
horizon's visits that breaks it (``unsat``); nothing is claimed beyond the horizon. A
counterexample is read back as a history, replayed through ``model/course.py`` and
re-checked there (the evaluator must agree, or it is an internal error), and cut after the
visit that breaks the property.

Before the properties, one more obligation per variable that several recommendations
record: no valid patient gets two of them that record different values.
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from typing import Any

import z3

from ..model import expr as X
from ..model.course import DAYS_PER_WEEK, clock_step, course_of, history_yaml, property_holds
from ..model.encode import Encoding
from ..model.errors import InputError
from ..model.guideline import Guideline, TemporalProperty, Variable
from ..model.kinds import kind_of
from ..model.patient import format_value
from .findings import Finding, InternalError, Verdict
from .obligation import Check, Context, preferences
from .solver import OPTIMIZE_RLIMIT, Result


class Unrolled:
    """The guideline's encoding copied for ``n`` visits, linked by the rules of change."""

    def __init__(self, g: Guideline, enc: Encoding, n: int, every_days: int):
        self.g, self.enc, self.n, self.every_days = g, enc, n, every_days
        self.alive = [z3.BoolVal(True)] + [z3.Bool(f"alive@{k}") for k in range(1, n)]
        #: per visit: the substitution of the encoding's leaves by that visit's copies
        self.subs: list[list[tuple[Any, Any]]] = []
        self._arrays: list[tuple[int, Any, Any]] = []
        #: per visit: variable -> its term (a dict of member Bools for a set); known Bools
        self.vars: list[dict[str, Any]] = []
        self.known: list[dict[str, Any]] = []
        for k in range(n):
            pairs, terms, known = [], {}, {}
            for v in g.variables.values():
                base = enc.members[v.name] if v.type.kind == "set" else enc.vars[v.name]
                if isinstance(base, dict):
                    terms[v.name] = {m: z3.Bool(f"{v.name}.{m}@{k}") for m in base}
                    pairs += [(base[m], terms[v.name][m]) for m in base]
                else:
                    terms[v.name] = z3.Const(f"{v.name}@{k}", base.sort())
                    pairs.append((base, terms[v.name]))
                if v.name in enc.known:
                    known[v.name] = z3.Bool(f"known({v.name})@{k}")
                    pairs.append((enc.known[v.name], known[v.name]))
            self.subs.append(pairs)
            self._arrays.append(_substitution(pairs))
            self.vars.append(terms)
            self.known.append(known)
        self._applies: list[dict[str, Any]] = [{} for _ in range(n)]
        self.assertions: list[z3.BoolRef] = []
        valid = enc.valid()
        for k in range(n):
            self.assertions.append(z3.Implies(self.alive[k], self.at(valid, k)))
            if k:
                self.assertions.append(z3.Implies(self.alive[k], self.alive[k - 1]))
                self.assertions.append(z3.Implies(self.alive[k], z3.And(self.transition(k - 1))))

    def at(self, term: Any, k: int) -> Any:
        """``term`` (over the one-patient encoding) at visit ``k``."""
        return _substitute(term, self._arrays[k])

    def cond(self, e: X.Expr, k: int) -> z3.BoolRef:
        return self.at(self.enc.term(e), k)

    def applies(self, r: str, k: int) -> z3.BoolRef:
        got = self._applies[k].get(r)
        if got is None:
            got = self._applies[k][r] = self.at(self.enc.applies[r], k)
        return got

    def transition(self, k: int) -> list[z3.BoolRef]:
        """Visit ``k`` to visit ``k + 1``: records, then time, then the rules of change."""
        g = self.g
        post: dict[str, Any] = dict(self.vars[k])
        post_known: dict[str, Any] = dict(self.known[k])
        for r in reversed(list(g.recommendations)):  # the first recorder wins, as in model/course.py
            for name, value in g.recommendations[r].records:
                v = g.variables[name]
                fired = self.applies(r, k)
                if name in post_known:
                    post_known[name] = z3.If(fired, z3.BoolVal(value is not None), post_known[name])
                    if value is None:
                        continue
                term = _value_term(v, value)
                if isinstance(term, dict):
                    post[name] = {m: z3.If(fired, term[m], post[name][m]) for m in term}
                else:
                    post[name] = z3.If(fired, term, post[name])
        post_pairs = _substitution([(a, _flat(post, post_known, b)) for a, b in self.subs[k]])
        out: list[z3.BoolRef] = []
        nxt, nxt_known = self.vars[k + 1], self.known[k + 1]
        for v in g.variables.values():
            before, after = post[v.name], nxt[v.name]
            if v.over_time == "fixed":
                out.append(_same(before, after))
                if v.name in nxt_known:
                    out.append(nxt_known[v.name] == post_known[v.name])
            elif v.over_time == "grows":
                out.append(_grows(v, before, after))
            elif v.over_time == "clock":
                step = clock_step(g, v, self.every_days)
                moves = z3.BoolVal(True) if v.advances_while is None else \
                    _substitute(self.enc.term(v.advances_while.expr), post_pairs)
                out.append(after == z3.If(moves, before + step, before))
        return out

    def history(self, model: z3.ModelRef, last: int) -> list[tuple[int, dict[str, Any]]]:
        """Visits 0..``last`` of a model as (week, every fact), the form ``course_of`` replays."""
        out = []
        for k in range(last + 1):
            facts = {v.name: None if v.name in self.known[k]
                     and not z3.is_true(model.eval(self.known[k][v.name], model_completion=True))
                     else kind_of(v.type).read(v, self.vars[k][v.name], model) for v in self.g.variables.values()}
            out.append((k * self.every_days // DAYS_PER_WEEK, facts))
        return out


def _substitution(pairs: list[tuple[Any, Any]]) -> tuple[int, Any, Any]:
    """A substitution as Z3's C arrays, built once: ``z3.substitute`` rebuilds them and
    re-checks every pair's sorts on each call, which was most of the unrolling's time (the
    pairs are the encoding's own leaves and their copies of the same sort)."""
    n = len(pairs)
    src, dst = (z3.Ast * n)(), (z3.Ast * n)()
    for i, (a, b) in enumerate(pairs):
        src[i], dst[i] = a.as_ast(), b.as_ast()
    return n, src, dst


def _substitute(term: Any, arrays: tuple[int, Any, Any]) -> Any:
    n, src, dst = arrays
    return z3.z3._to_expr_ref(z3.Z3_substitute(term.ctx_ref(), term.as_ast(), n, src, dst), term.ctx)


def _flat(post: dict[str, Any], post_known: dict[str, Any], leaf: Any) -> Any:
    """The post-record term replacing a visit's copy ``leaf`` (a variable, member or known)."""
    name = leaf.decl().name().rsplit("@", 1)[0]
    if name.startswith("known("):
        return post_known[name[6:-1]]
    if name in post:
        return post[name]
    var, member = name.split(".", 1)
    return post[var][member]


def _value_term(v: Variable, value: Any) -> Any:
    kind = v.type.kind
    if kind == "bool":
        return z3.BoolVal(bool(value))
    if kind == "set":
        return {m: z3.BoolVal(m in value) for m in v.type.values}
    if kind == "enum":
        return z3.IntVal(v.type.values.index(value))
    if kind == "decimal":
        return z3.RealVal(f"{value.numerator}/{value.denominator}")
    return z3.IntVal(int(value))


def _same(a: Any, b: Any) -> z3.BoolRef:
    if isinstance(a, dict):
        return z3.And([a[m] == b[m] for m in a])
    return a == b


def _grows(v: Variable, a: Any, b: Any) -> z3.BoolRef:
    if isinstance(a, dict):
        return z3.And([z3.Implies(a[m], b[m]) for m in a])
    if v.type.kind == "bool":
        return z3.Implies(a, b)
    return b >= a


def negation(u: Unrolled, prop: TemporalProperty) -> tuple[z3.BoolRef, list[tuple[z3.BoolRef, int]]]:
    """A course that breaks ``prop``, as one term, and the ways it can break with the last
    visit each needs (so a counterexample is cut after that visit).

    Every form is linear in the number of visits: what a visit needs of the visits before
    it is one shared term built from the previous visit's (the prefix of an ``eventually``,
    the visits seen so far of an ``at_most``, and for ``not_repeated_within`` the distance
    back to the latest visit where ``of`` held with no ``unless`` since), so the solver
    never receives a term per pair of visits."""
    n, alive = u.n, u.alive

    def at(c: Any, k: int) -> z3.BoolRef:
        return u.cond(c.expr, k)

    ways: list[tuple[z3.BoolRef, int]] = []
    if prop.form == "always":
        ways = [(z3.And(alive[k], z3.Not(at(prop.holds, k))), k) for k in range(n)]
    elif prop.form == "eventually":
        assert prop.deadline is not None
        start = at(prop.start, 0) if prop.start is not None else z3.BoolVal(True)
        prefix: z3.BoolRef = start  # the first visit qualifies and nothing so far settled the property
        for d in range(n):
            deadline = at(prop.deadline, d)
            during = [at(prop.during, d)] if prop.during is not None else []
            prefix = z3.And(prefix, *during, z3.Not(at(prop.holds, d)))
            ways.append((z3.And(alive[d], deadline, prefix), d))
            prefix = z3.And(prefix, z3.Not(deadline))
    else:
        assert prop.days is not None
        holds = [at(prop.holds, k) for k in range(n)]
        if prop.form == "at_most":
            apart = int(prop.days // u.every_days) + 1  # visits this many apart are too far
            seen: list[z3.BoolRef] = []
            for k in range(n):
                seen.append(z3.Or(seen[-1], holds[k]) if seen else holds[k])
                if k >= apart:
                    ways.append((z3.And(alive[k], holds[k], seen[k - apart]), k))
        else:
            # visits at most ``within`` apart are too close (their gap is under the span)
            within = -(-prop.days // u.every_days) - 1  # exact: a span in months may be a fraction of a day
            big = within + 1  # "too far back, or none": every distance past ``within`` is the same
            dist: Any = z3.IntVal(big)  # visits back to the latest unexcused one where ``of`` held
            for k in range(n):
                if k:
                    back = z3.If(holds[k - 1], z3.IntVal(1), z3.If(dist >= big, z3.IntVal(big), dist + 1))
                    dist = z3.If(at(prop.unless, k), z3.IntVal(big), back) if prop.unless is not None else back
                    if within >= 1:
                        ways.append((z3.And(alive[k], holds[k], dist <= within), k))
    return z3.Or([w for w, _ in ways]) if ways else z3.BoolVal(False), ways


def premise(u: Unrolled, prop: TemporalProperty) -> tuple[z3.BoolRef | None, str]:
    """What must be possible for ``prop`` not to hold vacuously (a course that reaches its
    deadline under its conditions; a visit where its ``of`` holds), and those words; None
    for ``always``."""
    if prop.form == "always":
        return None, ""
    if prop.form == "eventually":
        assert prop.deadline is not None
        start = u.cond(prop.start.expr, 0) if prop.start is not None else z3.BoolVal(True)
        reach, prefix = [], start
        for d in range(u.n):
            if prop.during is not None:
                prefix = z3.And(prefix, u.cond(prop.during.expr, d))
            reach.append(z3.And(u.alive[d], u.cond(prop.deadline.expr, d), prefix))
        return z3.Or(reach), f"reaches a visit where {prop.deadline.text}" + (
            f" with {prop.during.text} at every visit" if prop.during else "") + (
            f" from a first visit where {prop.start.text}" if prop.start else "")
    return z3.Or([z3.And(u.alive[k], u.cond(prop.holds.expr, k)) for k in range(u.n)]), \
        f"has a visit where {prop.holds.text}"


def _solve(s: z3.Solver, term: z3.BoolRef) -> tuple[str, float, z3.ModelRef | None]:
    """``term`` checked in a scope of ``s``: (status, seconds, the model when sat)."""
    t0 = time.perf_counter()
    s.push()
    try:
        s.add(term)
        status = s.check()
        model = s.model() if status == z3.sat else None
    finally:
        s.pop()
    return ("sat" if status == z3.sat else "unsat" if status == z3.unsat else "unknown"), time.perf_counter() - t0, model


def scope_words(g: Guideline) -> str:
    c = g.course
    assert c is not None
    every = int(c.every_days // DAYS_PER_WEEK)
    return (f"every course of visits {every} week{'s' if every != 1 else ''} apart up to week "
            f"{int(c.horizon_days // DAYS_PER_WEEK)} ({c.visits} visits, every recommendation carried out)")


class Temporal(Check):
    """GP012 temporal: every temporal property holds on every course of visits up to the
    guideline's horizon (bounded model checking), and no valid patient gets two
    recommendations that record different values of one fact.

    Failing::

        course:
          every: 1 week
          horizon: 26 weeks
          why: ...
          properties:
            - id: mri_not_repeated
              not_repeated_within: {of: recommends(mri), span: 8 weeks}
              why: ...
        # ... while the MRI records nothing (records: {weeks_since_imaging: 0}), so the
        # guideline orders it again at the next visit

    Passing: the MRI records what it does and the re-imaging branch reads it.
    """

    code, name = "GP012", "temporal"

    def run(self, ctx: Context) -> Iterator[Finding]:
        g = ctx.g
        yield from self.records_agree(ctx)
        if g.course is None or not g.course.properties:
            return
        if ctx.domain_unsettled:
            for prop in g.course.properties:
                yield self.finding(f"temporal {prop.id}", Verdict.UNKNOWN, f"not settled: {prop.id}", prop.span,
                                   Result("unknown", reason=f"whether any valid patient exists is not settled "
                                                            f"({ctx.domain_unsettled})"), rules=(prop.id,))
            return
        u = Unrolled(g, ctx.enc, g.course.visits, int(g.course.every_days))
        s = ctx.prover.scratch()
        s.set("core.minimize", False)
        for a in u.assertions:
            s.add(a)
        yield self.horizon_reached(ctx, u, s)
        for prop in g.course.properties:
            yield self.prove(ctx, u, s, prop)

    def records_agree(self, ctx: Context) -> Iterator[Finding]:
        g, enc = ctx.g, ctx.enc
        by_var: dict[str, list[tuple[str, Any]]] = {}
        for r, rec in g.recommendations.items():
            for name, value in rec.records:
                by_var.setdefault(name, []).append((r, value))
        for name, recorders in by_var.items():
            pairs = [(a, b) for a, b in itertools.combinations(recorders, 2) if a[1] != b[1]]
            if not pairs:
                continue
            both = z3.Or([z3.And(enc.applies[a], enc.applies[b]) for (a, _), (b, _) in pairs])
            subject = f"records of {name}"
            words = ", ".join(f"{r} ({format_value(v)})" for r, v in recorders)
            res = ctx.prover.check([(f"two records of {name}", both)], want_core=False)
            span = g.recommendations[recorders[0][0]].span
            if res.status == "unsat":
                yield self.finding(subject, Verdict.PROVED, f"no valid patient gets two of {words}", span, res,
                                   rules=tuple(x for x, _ in recorders))
            elif res.status == "unknown":
                yield self.finding(subject, Verdict.UNKNOWN, f"not settled: no valid patient gets two of {words}", span, res,
                                   rules=tuple(x for x, _ in recorders))
            else:
                patient = ctx.witness(res, [(subject, both)], plausible=True)
                got = ctx.run(patient).applies
                clash = next(((a, b) for (a, _), (b, _) in pairs if a in got and b in got), None)
                ctx.confirm(clash is not None, f"{self.code} {subject}", patient)
                assert clash is not None
                yield self.finding(subject, Verdict.REFUTED,
                                   f"{clash[0]} and {clash[1]} both apply but record different values of {name}: "
                                   "what the next visit knows would depend on their order", span, res,
                                   witness=dict(patient), rules=clash)

    def horizon_reached(self, ctx: Context, u: Unrolled, s: z3.Solver) -> Finding:
        """Some course lasts the whole horizon: otherwise the rules of change and the
        constraints together end every course early, and the properties would be proved of
        short courses only (a clock that cannot advance, a fact that must change and may not)."""
        g = ctx.g
        assert g.course is not None
        subject = "courses reach the horizon"
        words = f"some course has all {u.n} visits ({scope_words(g)})"
        status, dt, model = _solve(s, u.alive[-1])
        if status == "unknown":
            return self.finding(subject, Verdict.UNKNOWN, f"not settled: {words}", g.course.span,
                                Result("unknown", reason=s.reason_unknown() or "unknown", seconds=dt))
        if status == "unsat":
            return self.finding(subject, Verdict.REFUTED, f"no course reaches visit {u.n}: the variables' over_time rules, "
                                "the recommendations' records and the constraints end every course early, so the "
                                "temporal properties would hold of short courses only", g.course.span, Result("unsat", seconds=dt))
        try:
            course_of(g, u.history(model, u.n - 1))
        except InputError as e:
            raise InternalError(f"{self.code} {subject}: the solver's course does not replay: {e}") from e
        return self.finding(subject, Verdict.PROVED, words, g.course.span, Result("sat", seconds=dt))

    def prove(self, ctx: Context, u: Unrolled, s: z3.Solver, prop: TemporalProperty) -> Finding:
        g = ctx.g
        subject = f"temporal {prop.id}"
        scope = scope_words(g)
        neg, ways = negation(u, prop)
        status, dt, model = _solve(s, neg)
        if status == "unknown":
            return self.finding(subject, Verdict.UNKNOWN, f"not settled: {prop.id!r} on {scope}", prop.span,
                                Result("unknown", reason=s.reason_unknown() or "unknown", seconds=dt), rules=(prop.id,))
        if status == "unsat":
            trigger, what = premise(u, prop)
            if trigger is None:
                return self.finding(subject, Verdict.PROVED, f"{prop.id!r} holds on {scope}", prop.span,
                                    Result("unsat", seconds=dt), rules=(prop.id,))
            status, dt2, _ = _solve(s, trigger)
            dt += dt2
            if status == "sat":
                return self.finding(subject, Verdict.PROVED, f"{prop.id!r} holds on {scope}", prop.span,
                                    Result("unsat", seconds=dt), rules=(prop.id,))
            if status == "unknown":
                return self.finding(subject, Verdict.UNKNOWN, f"not settled: {prop.id!r} holds, but whether {what} is not "
                                    "settled (it could hold only vacuously)", prop.span,
                                    Result("unknown", reason=s.reason_unknown() or "unknown", seconds=dt), rules=(prop.id,))
            return self.finding(subject, Verdict.REFUTED, f"{prop.id!r} holds only vacuously on {scope}: no course "
                                f"{what}", prop.span, Result("unsat", seconds=dt), rules=(prop.id,))
        assert model is not None
        last = self.shortest(s, ways, min(k for w, k in ways if z3.is_true(model.eval(w, model_completion=True))))
        short = Unrolled(g, ctx.enc, last + 1, u.every_days)
        better = self.plausible(ctx, short, prop)
        course = self.confirm(ctx, short, better, last, prop) if better is not None else \
            self.confirm(ctx, u, self.model_of(s, ways, last), last, prop)
        details = (*course_lines(g, course, sorted(X.recommendations_of(prop.holds.expr))),
                   "replay: guideproof query --history FILE with the history below",
                   *("  " + line for line in history_yaml(g, course).splitlines()))
        return self.finding(subject, Verdict.REFUTED, f"{prop.id!r} fails on a course of {len(course)} visit"
                            f"{'s' if len(course) != 1 else ''} ({scope}): {_form_words(prop)}", prop.span,
                            Result("sat", seconds=dt), witness=dict(course[0].values), rules=(prop.id,), details=details,
                            course=tuple((v.week, dict(v.values)) for v in course))

    @staticmethod
    def shortest(s: z3.Solver, ways: list[tuple[z3.BoolRef, int]], found: int) -> int:
        """The fewest visits a counterexample needs (binary search below ``found``, the
        length of one already found); the answer is a property of the guideline, not of the
        solver's search, so the course shown does not depend on it."""
        lo, hi = 0, found
        while lo < hi:
            mid = (lo + hi) // 2
            status, _, _ = _solve(s, z3.Or([w for w, k in ways if k <= mid] or [z3.BoolVal(False)]))
            if status == "sat":
                hi = mid
            elif status == "unsat":
                lo = mid + 1
            else:
                return found
        return hi

    @staticmethod
    def model_of(s: z3.Solver, ways: list[tuple[z3.BoolRef, int]], last: int) -> z3.ModelRef:
        """A model of a counterexample that breaks the property at visit ``last``."""
        status, _, model = _solve(s, z3.Or([w for w, k in ways if k == last]))
        if model is None:
            raise InternalError(f"GP012: a counterexample of {last + 1} visits was found, then not ({status})")
        return model

    def plausible(self, ctx: Context, u: Unrolled, prop: TemporalProperty) -> z3.ModelRef | None:
        """A counterexample of exactly ``u.n`` visits close to a typical patient at the first
        visit and with as few changes as it can between visits, found by optimisation bounded
        by Z3's resource counter (never the clock), so it does not depend on the machine or
        the timeout; None when the optimisation does not finish."""
        g = ctx.g
        opt = z3.Optimize()
        opt.set("random_seed", ctx.prover.seed)
        limit = ctx.prover.rlimit
        opt.set("rlimit", OPTIMIZE_RLIMIT if limit is None else min(OPTIMIZE_RLIMIT, int(limit)))
        for a in u.assertions:
            opt.add(a)
        opt.add(z3.And(u.alive))
        opt.add(z3.Or([w for w, k in negation(u, prop)[1] if k == u.n - 1]))
        prefer, _ = preferences(g, ctx.enc)
        for p in prefer:
            opt.add_soft(u.at(p, 0), 2)
        for k in range(1, u.n):
            for v in g.variables.values():
                if v.over_time != "clock":
                    opt.add_soft(_same(u.vars[k - 1][v.name], u.vars[k][v.name]), 1)
        try:
            return opt.model() if opt.check() == z3.sat else None
        except z3.Z3Exception:
            return None

    def confirm(self, ctx: Context, u: Unrolled, model: z3.ModelRef, last: int, prop: TemporalProperty) -> list[Any]:
        """Replay the solver's course through the evaluator; it must break ``prop`` there too
        and give the recommendations the solver gave, visit by visit."""
        g = ctx.g
        try:
            course = course_of(g, u.history(model, last))
        except InputError as e:
            raise InternalError(f"{self.code} {prop.id}: the solver's course does not replay: {e}") from e
        for k, v in enumerate(course):
            solver = {r for r in g.recommendations if z3.is_true(model.eval(u.applies(r, k), model_completion=True))}
            if solver != v.answer.trace.applies:
                raise InternalError(f"{self.code} {prop.id}: at visit {k + 1} the solver's recommendations "
                                    f"{sorted(solver)} differ from the evaluator's {sorted(v.answer.trace.applies)}")
        if property_holds(g, prop, course):
            raise InternalError(f"{self.code} {prop.id}: the evaluator finds the property holds on the solver's course")
        return course


def _form_words(prop: TemporalProperty) -> str:
    if prop.form == "always":
        return f"always {prop.holds.text}"
    if prop.form == "eventually":
        assert prop.deadline is not None
        return (f"{prop.holds.text} by the first visit where {prop.deadline.text}"
                + (f", while {prop.during.text}" if prop.during else "")
                + (f", for courses starting where {prop.start.text}" if prop.start else ""))
    assert prop.days is not None
    span = f"{format_value(prop.days / DAYS_PER_WEEK)} weeks" if prop.days % DAYS_PER_WEEK == 0 \
        else f"{format_value(prop.days)} days"
    if prop.form == "at_most":
        return f"{prop.holds.text} at visits at most {span} apart"
    return (f"{prop.holds.text} not again within {span}"
            + (f" unless {prop.unless.text}" if prop.unless else ""))


def course_lines(g: Guideline, course: Sequence[Any], watched: Sequence[str] = ()) -> list[str]:
    """A course visit by visit: the facts of the first visit, then what changed, the
    recommendations that start and stop, and which of ``watched`` (those the property
    reads) apply."""
    out = []
    for i, v in enumerate(course):
        if i == 0:
            facts = ", ".join(f"{n} {format_value(x)}" for n, x in v.values.items())
            out.append(f"visit 1, week {v.week}: {facts}")
        else:
            changed = ", ".join(f"{n} {format_value(a)} -> {format_value(b)}" for n, a, b, _how in v.changes) or "no change"
            out.append(f"visit {i + 1}, week {v.week}: {changed}")
        if v.starts:
            out.append("  starts: " + ", ".join(v.starts))
        if v.stops:
            out.append("  stops: " + ", ".join(r for r, _ in v.stops))
        given = [r for r in watched if r in v.answer.trace.applies]
        if given:
            out.append("  given: " + ", ".join(given))
    return out
