"""The proof obligations. Each check has a stable code, a name and a docstring with a
failing and a passing example; each obligation it derives yields exactly one Finding, so
the summary shows what was not proved as clearly as what was.

Universal properties (consistency, coverage, exclusivity, invariants) are *proved* only
when Z3 answers ``unsat`` for their negation; ``sat`` refutes them with a witness patient.
Existential properties (reachability, non-redundancy, non-vacuity) are *proved* by a
witness patient that the plain evaluator confirms, and *refuted* by ``unsat``, explained
with an unsat core. Every witness, either way, is re-checked by the evaluator; a
disagreement raises :class:`InternalError` instead of producing a finding.
"""
from __future__ import annotations

import gc
import time
from functools import partial
from collections import ChainMap
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from typing import Any

import z3

from ..model import expr as X
from ..model.encode import Encoding, all_of, any_of, not_term
from ..model.errors import Span
from ..model.evaluate import AbsentValue, Patient, eval_expr, fired_edges
from ..model.guideline import Branch, Condition, Conflict, Definition, Guideline, Invariant, Step
from ..model.intervals import complement, intersect, values_allowed
from ..model.kinds import kind_of
from ..model.numbers import format_number
from ..model.patient import format_value
from ..model.report import answer
from ..model.graph import Edge, all_edges, edges_of
from .findings import Finding, InternalError, Verdict
from .regions import MAX_REGIONS, decision_atoms, list_regions, names_read
from .lanes import default_jobs, run_lanes
from .obligation import Check, Context, Parts, Recheck, preferences
from .solver import GROUP_SECONDS, Result, SliceModel, SlicedProver
from .temporal import Temporal

#: Reachability cover: rounds of one query for a batch of targets before the remaining
#: targets are taken one by one.
COVER_ROUNDS = 8

def _recommending(g: Guideline, recs: Sequence[str]) -> list[str]:
    """The reachable steps that recommend any of ``recs``, in the guideline's order."""
    return g.in_order({s.id for r in recs for s in g.steps_recommending(r)})


def _paths(ctx: Context, patient: Patient, recs: list[str]) -> tuple[str, ...]:
    """One line per recommendation: the branches that led to it, in the author's words."""
    ans = answer(ctx.g, patient)
    lines = []
    for a in ans.applied:
        if a.rec.id in recs:
            why = "; ".join(f"{x.step_title} -> {x.label}" for x in a.reasons) or "applies to every patient"
            lines.append(f"{a.rec.id}: {why}")
    return tuple(lines)


# ------------------------------------------------------------------------------------ GP007


class Vacuity(Check):
    """GP007 vacuity: the domain admits patients, each domain constraint excludes some
    patient, each definition is true for some valid patients and false for others, and
    each computed value takes more than one value over the valid patients.

    Failing::

        constraints:
          - {id: adult, holds: age >= 18, why: ...}    # age is declared min: 18 already
        definitions:
          impossible: age > 65 and age < 60            # never true
          score: {value: 2 * count(age > 100 and age < 50)}   # always 0

    Passing: ``holds: weeks_conservative_care <= weeks_since_fracture`` (excludes patients
    whose care started before the fracture); ``elderly: age >= 65``.
    """

    code, name = "GP007", "vacuity"

    def domain(self, ctx: Context) -> Finding:
        g = ctx.g
        span = g.constraints[0].span if g.constraints else None
        return self.existential(
            ctx, "domain", span, [],
            "the bounds and domain constraints admit at least one patient",
            "no patient satisfies the bounds and domain constraints together",
            lambda p: True, rules=tuple(c.id for c in g.constraints))

    def run(self, ctx: Context) -> Iterator[Finding]:
        g, enc = ctx.g, ctx.enc
        for c in g.constraints:
            # Drop this constraint from the domain: can a patient break it?
            r = _check_without(ctx, f"constraint {c.id}", [(f"constraint {c.id} broken", z3.Not(enc.term(c.cond.expr)))])
            subject = f"constraint {c.id}"
            if r.status == "sat":
                patient = ctx.patient(r)
                if eval_expr(c.cond.expr, patient, g):  # this witness breaks the constraint by design
                    raise InternalError(f"{self.code} {subject}: the evaluator says {patient} satisfies it")
                yield self.finding(subject, Verdict.PROVED, f"constraint {c.id!r} excludes some patients", c.span, r, rules=(c.id,))
            elif r.status == "unknown":
                yield self.finding(subject, Verdict.UNKNOWN, f"not settled: constraint {c.id!r} excludes some patients", c.span, r, rules=(c.id,))
            else:
                yield self.finding(subject, Verdict.REFUTED,
                                   f"constraint {c.id!r} ({c.cond.text}) excludes no patient: the bounds and other constraints already imply it",
                                   c.span, r, rules=(c.id,), core=r.core)
        defs = g.definition_exprs()
        for name, d in g.definitions.items():
            if d.computed:  # a number: it must not be the same for every valid patient
                yield self.varies(ctx, name, d)
                continue
            t = enc.term(d.cond.expr)
            for want in (True, False):
                def holds(p: Patient, d: Definition = d, want: bool = want) -> bool:
                    return _has(p, d.needs) and eval_expr(d.cond.expr, p, g) is want
                parts = _known_parts(enc, d.needs)
                parts += [(f"definition {name} is {str(want).lower()}", t if want else z3.Not(t))]
                parts += [(f"{name} part: {X.show(x)}", enc.term(x)) for x in X.conjuncts(d.cond.expr)] if want else []
                yield self.existential(
                    ctx, f"definition {name} can be {str(want).lower()}", d.span, parts,
                    f"definition {name!r} is {str(want).lower()} for some valid patient",
                    f"definition {name!r} ({d.cond.text}) is never {str(want).lower()} for a valid patient"
                    + (" (it is always false)" if want else " (it is always true)"),
                    holds, rules=(name,), reads=frozenset(X.variables_of(d.cond.expr, defs)))


    def varies(self, ctx: Context, name: str, d: Definition) -> Finding:
        """A computed value that is the same for every valid patient is a formula that
        cannot inform a decision (a wrong operator, a condition that never holds)."""
        g = ctx.g
        subject = f"computed value {name} varies"
        base = next((p for p in ctx.witnesses if _has(p, d.needs)), None)
        if base is None and d.needs:  # a patient who has the optional facts it reads
            known = _known_parts(ctx.enc, d.needs)
            r = ctx.prover.check(known)
            if r.status == "sat":
                base = ctx.patient(r)
                ctx.confirm(_has(base, d.needs) and not ctx.violated(base), subject, base)
            elif r.status == "unsat":
                return self.finding(subject, Verdict.REFUTED,
                                    f"computed value {name!r} ({d.cond.text}) never has a value: no valid patient "
                                    f"has {', '.join(sorted(d.needs))}", d.span, r, rules=(name,), core=r.core)
        if base is None:  # no valid patient is known: the domain's own finding says why
            return self.finding(subject, Verdict.UNKNOWN,
                                f"not settled: no valid patient is known to compare {name!r} with",
                                d.span, Result("unknown", reason="no valid patient known"), rules=(name,))
        first = eval_expr(d.cond.expr, base, g)
        shown = format_number(first)

        def holds(p: Patient) -> bool:
            return _has(p, d.needs) and bool(eval_expr(d.cond.expr, p, g) != first)

        other = z3.RealVal(f"{Fraction(first).numerator}/{Fraction(first).denominator}")
        parts = _known_parts(ctx.enc, d.needs)
        parts += [(f"computed value {name} is not {shown}", ctx.enc.term(d.cond.expr) != other)]
        return self.existential(
            ctx, f"computed value {name} varies", d.span, parts,
            f"computed value {name!r} takes more than one value over the valid patients",
            f"computed value {name!r} ({d.cond.text}) is {shown} for every valid patient",
            holds, rules=(name,), reads=frozenset(X.variables_of(d.cond.expr, g.definition_exprs())))


def _has(p: Patient, names: frozenset[str]) -> bool:
    """Whether patient ``p`` has a value for each of the optional variables ``names``."""
    return all(p[n] is not None for n in names)


def _known_parts(enc: Encoding, names: frozenset[str]) -> list[tuple[str, z3.BoolRef]]:
    """Tracked parts saying the optional variables ``names`` have values (a definition
    that reads them unguarded has a meaning only then)."""
    return [(f"known({n})", enc.known[n]) for n in sorted(names)]


def _check_without(ctx: Context, name: str, parts: Parts) -> Result:
    """The domain without its entry ``name``, and ``parts``."""
    if isinstance(ctx.prover, SlicedProver):
        return ctx.prover.check_without(name, parts)
    others = [(n, t) for n, t in ctx.enc.domain if n != name]
    return ctx.prover.check(others + list(parts), use_domain=False)


# ------------------------------------------------------------------------------------ GP004


class Reachability(Check):
    """GP004 reachability: every step, every branch and every recommendation is reached by
    some valid patient. In a ``first`` decision a branch is also dead when the branches
    before it together cover every patient that satisfies its guard (masking).

    Failing::

        choice: first
        branches:
          - {when: age >= 65, goto: a}
          - {when: age < 65, goto: b}
          - {when: age >= 80, goto: c}     # masked: branches 1 and 2 together take everyone

    Passing: the same with ``age >= 80`` first.
    """

    code, name = "GP004", "reachability"

    def targets(self, ctx: Context) -> list[tuple[str, str, z3.BoolRef]]:
        """(cover key, decision, term) for every branch and 'otherwise' of every decision.
        Reaching all of them reaches every reachable step and recommendation as well, since
        other edges fire whenever their step is reached."""
        g, enc = ctx.g, ctx.enc
        return [(f"edge:{e.key}", sid, enc.fired[e.key])
                for sid in g.order if g.steps[sid].kind == "decision"
                for e in edges_of(g.steps[sid])]

    def cover(self, ctx: Context) -> None:
        """Find witnesses that together reach every reachable target.

        First, rounds of one query each for a patient who takes a batch of still-uncovered
        branches (at most one per decision). The first batch that is unsatisfiable for
        more than one target ends the rounds: on large guidelines independent conflicts are
        many, and each retry without the targets of a core, over the whole domain, took
        seconds and rarely made progress. The targets
        still uncovered are then taken one by one, deepest first, each in a query over the
        domain components it reads, and its witness is confirmed by the evaluator on the
        steps leading to it (which also covers the rest of its path). A target that is
        unsatisfiable on its own is left to the per-obligation check, which explains it
        with a full core. Every witness is a solver model confirmed by the evaluator.
        Every query here only saves time, so each is bounded by ``GROUP_SECONDS``: one the
        solver does not settle quickly (a nonlinear clearance, say) is left to its own
        obligation, asked with the full timeout, and often covered by then.
        """
        targets = self.targets(ctx)
        dead: set[str] = set()
        self.rounds(ctx, targets, dead)
        for key, group, term in reversed(targets):
            if key in ctx.covered or key in dead:
                continue
            # bounded: a target the solver does not settle quickly is left to its own
            # obligation (asked with the full timeout, and often covered meanwhile)
            r = ctx.prover.check([(key, term)], want_core=False, seconds=GROUP_SECONDS)
            if r.status == "sat":
                patient = ctx.patient(r)
                ctx.add_witness(patient, within=group)
                ctx.confirm(key in ctx.covered, f"{self.code} witness for {key}", patient)
            elif r.status == "unsat":
                dead.add(key)

    def rounds(self, ctx: Context, targets: list[tuple[str, str, z3.BoolRef]], dead: set[str]) -> None:
        """The batched rounds of :meth:`cover` over ``targets``, until a round makes no
        progress or the solver does not settle a batch quickly."""
        for _ in range(COVER_ROUNDS):
            batch: list[tuple[str, str, z3.BoolRef]] = []
            groups: set[str] = set()
            for key, group, term in targets:
                if key in ctx.covered or key in dead or group in groups:
                    continue
                groups.add(group)
                batch.append((key, group, term))
            if not batch:
                return
            r = ctx.prover.check_assuming([(k, t) for k, _, t in batch], seconds=GROUP_SECONDS)
            if r.status == "unknown":  # not settled quickly: the targets are taken one by one
                return
            if r.status == "sat":
                patient = ctx.patient(r)
                if isinstance(patient, ChainMap):
                    for _, group, _ in batch:
                        ctx.add_witness(patient, within=group)
                else:
                    ctx.add_witness(patient)
                missing = [k for k, _, _ in batch if k not in ctx.covered]
                ctx.confirm(not missing, f"{self.code} witness for {missing[:3]}", patient)
                continue
            if len(batch) > 1 and r.core:  # targets that exclude each other: one by one
                return
            # one target, or a domain no target is needed to refute: never reached
            dead.update(k for k, _, _ in batch if not r.core or k in r.core)

    def run(self, ctx: Context) -> Iterator[Finding]:
        g, enc = ctx.g, ctx.enc
        self.cover(ctx)
        for sid, step in g.steps.items():
            reached = enc.reached.get(sid, z3.BoolVal(False))

            def reaches(p: Patient, sid: str = sid) -> bool:
                return sid in ctx.trace_at(p, sid).reached
            yield self.existential(
                ctx, f"step {sid}", step.span, [(f"step {sid} is reached", reached)],
                f"step {sid!r} is reached by some valid patient",
                f"step {sid!r} is never reached by a valid patient (no branch into it can be taken)",
                reaches, rules=(sid,), cover=f"step:{sid}")
            for e in edges_of(step):
                if e.kind == "branch":
                    yield self.branch(ctx, step, e)
                elif e.kind == "otherwise":
                    def parts(sid: str = sid, step: Step = step, reached: z3.BoolRef = reached) -> Parts:
                        return [(f"step {sid} is reached", reached)] + [
                            (f"{sid} branch {i + 1} not taken: not ({X.show(b.cond.expr)})", z3.Not(enc.term(b.cond.expr)))
                            for i, b in enumerate(step.branches)]

                    def takes(p: Patient, e: Edge = e) -> bool:
                        return e.key in ctx.trace_at(p, e.source).fired_keys()
                    yield self.existential(
                        ctx, f"branch {e.key}", step.span, parts,
                        f"the 'otherwise' branch of {sid!r} is taken by some valid patient",
                        f"the 'otherwise' branch of {sid!r} is never taken: its branches together cover every patient reaching it",
                        takes, rules=(sid,), cover=f"edge:{e.key}")
        for rid, rec in g.recommendations.items():
            def applies(p: Patient, rid: str = rid) -> bool:
                return rid in ctx.trace_at(p, *(s.id for s in g.steps_recommending(rid))).applies
            yield self.existential(
                ctx, f"recommendation {rid}", rec.span, [(f"{rid} applies", enc.applies[rid])],
                f"recommendation {rid!r} applies to some valid patient",
                f"recommendation {rid!r} applies to no valid patient",
                applies, rules=(rid,), cover=f"rec:{rid}")

    def branch(self, ctx: Context, step: Step, e: Edge) -> Finding:
        b = step.branches[e.index]
        masked = ""
        if f"edge:{e.key}" not in ctx.covered and step.choice == "first" and e.index > 0:
            # Distinguish "guard unsatisfiable where the step is reached" from masking.
            alone = [(f"step {step.id} is reached", ctx.enc.reached.get(step.id, z3.BoolVal(False))),
                     ("guard", ctx.enc.term(b.cond.expr))]
            if ctx.prover.check(alone, want_core=False).status == "sat":
                masked = self.masked_by(ctx, step, e.index, alone)
        return self.existential(
            ctx, f"branch {e.key}", b.span, lambda: ctx.guard_parts(step, e.index),
            f"branch {e.index + 1} of {step.id!r} ({b.label}) is taken by some valid patient",
            f"branch {e.index + 1} of {step.id!r} ({b.label}) is never taken{masked}",
            lambda p: e.key in ctx.trace_at(p, step.id).fired_keys(), rules=(step.id,), cover=f"edge:{e.key}")


    def masked_by(self, ctx: Context, step: Step, index: int, alone: Parts) -> str:
        """Which earlier branches mask branch ``index``: a minimal set of them whose
        negations, with the branch's guard where the step is reached, are unsatisfiable
        (an unsat core over the tracked "branch j not taken" parts, from a fresh solver,
        then shrunk by deletion). In masked-rule terms (DMN decision-table analysis, e.g.
        the Drools ``DTAnalysis`` "masked rule"), these are the rules that mask it."""
        def negations(js: Sequence[int]) -> list[tuple[str, z3.BoolRef]]:
            return [(f"branch {j + 1} not taken", z3.Not(ctx.enc.term(step.branches[j].cond.expr))) for j in js]
        r = ctx.prover.check(list(alone) + negations(range(index)))
        if r.status != "unsat":
            return "; the branches before it, taken together, take every patient that satisfies it"
        keep = [j for j in range(index) if f"branch {j + 1} not taken" in r.core]
        if not keep:  # the guard alone was satisfiable: some earlier branch must be involved
            raise InternalError(f"{self.code} branch {step.id}#{index + 1}: masked, but by no earlier branch")
        for j in list(keep):
            trial = [k for k in keep if k != j]
            if ctx.prover.check(list(alone) + negations(trial), want_core=False).status == "unsat":
                keep = trial
        labels = "; ".join(step.branches[j].label for j in keep)
        if len(keep) == 1:
            return f"; masked by branch {keep[0] + 1} ({labels}), which takes every patient that satisfies it"
        numbers = ", ".join(str(j + 1) for j in keep[:-1]) + f" and {keep[-1] + 1}"
        return (f"; masked by branches {numbers} ({labels}), which, taken together, take every patient "
                "that satisfies it")


# ------------------------------------------------------------------------------------ GP002


class Coverage(Check):
    """GP002 coverage: every valid patient who reaches a decision step takes some branch
    out of it, and every valid patient gets one of the declared dispositions.

    Failing::

        branches:
          - {when: weeks_since_fracture < 4 weeks, goto: early}
          - {when: weeks_since_fracture > 4 weeks, goto: late}     # nobody handles exactly 4 weeks

    Passing: ``weeks_since_fracture >= 4 weeks`` in the second branch, or an ``otherwise``.
    """

    code, name = "GP002", "coverage"

    def run(self, ctx: Context) -> Iterator[Finding]:
        g, enc = ctx.g, ctx.enc
        claims: list[tuple[Parts, Callable[[], Finding]]] = []
        for sid, step in g.steps.items():
            if step.kind != "decision" or sid not in g.position:
                continue  # a step no path leads to is reported by reachability
            out = [enc.fired[e.key] for e in edges_of(step)]
            negation = [(f"step {sid} is reached", enc.reached[sid]), ("no branch is taken", not_term(any_of(out)))]

            def refuted(p: Patient, step: Step = step) -> Recheck:
                trace = ctx.run(p)
                ok = step.id in trace.reached and not fired_edges(g, step, p)
                return ok, f"a valid patient reaches {step.id!r} ({step.title}) and no branch applies", ()
            claims.append((negation, partial(
                self.universal, ctx, f"step {sid}", step.span, negation,
                f"every valid patient reaching {sid!r} takes a branch", refuted, rules=(sid,),
                regions=partial(decision_atoms, ctx, [sid]))))
        yield from self.together(ctx, claims)
        if g.dispositions:
            negation = [("no disposition applies", z3.Not(z3.Or([enc.applies[r] for r in g.dispositions])))]

            def refuted_d(p: Patient) -> Recheck:
                got = set(g.dispositions) & ctx.run(p).applies
                return not got, "a valid patient gets none of the dispositions: " + ", ".join(g.dispositions), ()
            yield self.universal(ctx, "dispositions", g.dispositions_span, negation,
                                 "every valid patient gets a disposition", refuted_d, rules=g.dispositions,
                                 regions=lambda: decision_atoms(ctx, _recommending(g, g.dispositions)))


# ------------------------------------------------------------------------------------ GP003


class Exclusivity(Check):
    """GP003 exclusivity: at a ``single`` decision at most one branch applies.

    Failing::

        choice: single
        branches:
          - {when: weeks_since_fracture <= 6 weeks, goto: reassess}
          - {when: weeks_since_fracture >= 6 weeks, goto: ongoing}     # both at exactly 6 weeks

    Passing: ``weeks_since_fracture > 6 weeks`` in the second branch (or ``choice: first`` when
    the overlap is meant and the order decides).
    """

    code, name = "GP003", "exclusivity"

    def run(self, ctx: Context) -> Iterator[Finding]:
        g, enc = ctx.g, ctx.enc
        claims: list[tuple[Parts, Callable[[], Finding]]] = []
        for sid, step in g.steps.items():
            if step.kind != "decision" or step.choice != "single" or len(step.branches) < 2:
                continue
            guards = [enc.term(b.cond.expr) for b in step.branches]
            negation = [(f"step {sid} is reached", enc.reached.get(sid, z3.BoolVal(False))),
                        ("two branches apply", z3.AtLeast(*guards, 2))]

            def refuted(p: Patient, step: Step = step) -> Recheck:
                both = [i for i, b in enumerate(step.branches) if eval_expr(b.cond.expr, p, g)]
                ok = step.id in ctx.run(p).reached and len(both) >= 2
                labels = " and ".join(f"branch {i + 1} ({step.branches[i].label})" for i in both[:2])
                return ok, f"at single-choice step {step.id!r} {labels} both apply", ()
            def later(p: Patient, step: Step = step) -> Span:
                """The later of the witness's first two overlapping branches (a rule of a DMN
                table is located at its own element)."""
                both = [b for b in step.branches if eval_expr(b.cond.expr, p, g)]
                return both[1].span
            claims.append((negation, partial(
                self.universal, ctx, f"step {sid}", step.span, negation,
                f"at most one branch of {sid!r} applies", refuted, rules=(sid,),
                regions=partial(decision_atoms, ctx, [sid]), locate=later)))
        yield from self.together(ctx, claims)


# ------------------------------------------------------------------------------------ GP001


class Consistency(Check):
    """GP001 consistency: no valid patient gets two recommendations declared in conflict.

    Failing::

        conflicts:
          - {id: c, between: [conservative_care_first, consider_early_augmentation], why: ...}
        # ... while both are reached for a patient with worsening pain at week 2

    Passing: a ``first`` decision that sends that patient down one of the two paths only.
    """

    code, name = "GP001", "consistency"

    def run(self, ctx: Context) -> Iterator[Finding]:
        g, enc = ctx.g, ctx.enc
        claims: list[tuple[Parts, Callable[[], Finding]]] = []
        for c in g.conflicts:
            negation = [("two conflicting recommendations apply", z3.AtLeast(*[enc.applies[r] for r in c.recs], 2))]

            def refuted(p: Patient, c: Conflict = c) -> Recheck:
                both = [r for r in c.recs if r in ctx.run(p).applies]
                msg = f"conflict {c.id!r}: a valid patient gets both {both[0]!r} and {both[1]!r}" if len(both) >= 2 else ""
                return len(both) >= 2, msg, _paths(ctx, p, both)
            claims.append((negation, partial(
                self.universal, ctx, f"conflict {c.id}", c.span, negation,
                f"no valid patient gets two of {', '.join(c.recs)}", refuted, rules=c.recs,
                regions=partial(decision_atoms, ctx, _recommending(g, c.recs)))))
        yield from self.together(ctx, claims)


# ------------------------------------------------------------------------------------ GP005


class Redundancy(Check):
    """GP005 redundancy: no branch is subsumed by another branch of the same decision that
    leads to the same step (it would add nothing but a chance to drift apart).

    Failing::

        branches:
          - {when: malignancy_suspected, goto: workup}
          - {when: malignancy_suspected and age >= 50, goto: workup}   # subsumed by branch 1

    Passing: two branches to the same step that each admit a patient the other does not.
    """

    code, name = "GP005", "redundancy"

    def run(self, ctx: Context) -> Iterator[Finding]:
        g, enc = ctx.g, ctx.enc
        for sid, step in g.steps.items():
            for i, bi in enumerate(step.branches):
                for j, bj in enumerate(step.branches):
                    if i == j or bi.target != bj.target:
                        continue
                    parts = [(f"step {sid} is reached", enc.reached.get(sid, z3.BoolVal(False))),
                             (f"branch {i + 1}: {bi.cond.text}", enc.term(bi.cond.expr)),
                             (f"not branch {j + 1}: not ({bj.cond.text})", not_term(enc.term(bj.cond.expr)))]

                    def admits(p: Patient, bi: Branch = bi, bj: Branch = bj, sid: str = sid) -> bool:
                        # as the query: a patient who reaches the step. The guards go first
                        # (cheaper than the walk to the step); one may read an optional fact
                        # that only the paths to the step establish, and a patient without
                        # it does not reach the step.
                        try:
                            if not eval_expr(bi.cond.expr, p, g) or eval_expr(bj.cond.expr, p, g):
                                return False
                        except AbsentValue:
                            return False
                        return sid in ctx.trace_at(p, sid).reached
                    yield self.existential(
                        ctx, f"branch {sid}#{i + 1} vs {sid}#{j + 1}", bi.span, parts,
                        f"branch {i + 1} of {sid!r} admits a patient that branch {j + 1} does not",
                        f"branch {i + 1} of {sid!r} ({bi.label}) is subsumed by branch {j + 1} ({bj.label}), "
                        f"which leads to the same step {bi.target!r}",
                        admits, rules=(sid,))


# ------------------------------------------------------------------------------------ GP006


class Invariants(Check):
    """GP006 invariants: every stated safety property holds for every valid patient.

    Failing::

        invariants:
          - {id: deficit_referred, holds: neuro_deficit implies recommends(urgent_surgical_referral), why: ...}
        # ... while the red-flag branch tests only spinal_instability

    Passing: the red-flag branch includes ``neuro_deficit``.
    """

    code, name = "GP006", "invariants"

    def run(self, ctx: Context) -> Iterator[Finding]:
        g, enc = ctx.g, ctx.enc
        claims: list[tuple[Parts, Callable[[], Finding]]] = []
        for inv in g.invariants:
            negation = [(f"invariant {inv.id} broken", not_term(enc.term(inv.cond.expr)))]

            def refuted(p: Patient, inv: Invariant = inv) -> Recheck:
                trace = ctx.run(p)
                ok = not eval_expr(inv.cond.expr, p, g, trace.applies)
                recs = sorted(X.recommendations_of(inv.cond.expr))
                return ok, f"invariant {inv.id!r} fails: {inv.cond.text}", _paths(ctx, p, recs)
            claims.append((negation, partial(
                self.universal, ctx, f"invariant {inv.id}", inv.span, negation,
                f"invariant {inv.id!r} holds for every valid patient", refuted, rules=(inv.id,))))
        yield from self.together(ctx, claims)


# ------------------------------------------------------------------------------------ GP008


class Contraindications(Check):
    """GP008 contraindications: no valid patient is recommended anything while one of its
    declared contraindications holds.

    Failing::

        recommendations:
          nsaid_or_opioid:
            contraindicated_when:
              - {when: on_anticoagulant, why: Bleeding risk with an anticoagulant., sources: [12]}
        # ... while the analgesia step recommends it to every patient in pain

    Passing: the analgesia decision sends patients on an anticoagulant to paracetamol.
    """

    code, name = "GP008", "contraindications"

    def run(self, ctx: Context) -> Iterator[Finding]:
        g, enc = ctx.g, ctx.enc
        claims: list[tuple[Parts, Callable[[], Finding]]] = []
        for rid, rec in g.recommendations.items():
            for i, rule in enumerate(rec.contraindications):
                assert rule.cond is not None  # a contraindication always has a condition
                cond = rule.cond
                negation = [(f"{rid} applies", enc.applies[rid]),
                            (f"contraindication: {cond.text}", enc.term(cond.expr))]

                def refuted(p: Patient, rid: str = rid, cond: Condition = cond, why: str = rule.text) -> Recheck:
                    ok = rid in ctx.run(p).applies and bool(eval_expr(cond.expr, p, g))
                    return ok, f"{rid!r} is recommended while it is contraindicated ({cond.text}): {why}", _paths(ctx, p, [rid])
                claims.append((negation, partial(
                    self.universal, ctx, f"contraindication {rid}#{i + 1}", rule.span, negation,
                    f"{rid!r} is never recommended when {cond.text}", refuted, rules=(rid,))))
        yield from self.together(ctx, claims)


# ------------------------------------------------------------------------------------ GP009


class MisleadingOverlaps(Check):
    """GP009 misleading: a warning, never a failure (exit 0 when nothing else fails), when
    in a ``first`` decision a higher branch takes some of the patients a lower branch,
    leading elsewhere, was written for, and the two draw their lines on the same variable
    with ranges that overlap (a misleading overlap).

    The name is DMN decision-table analysis's: a *misleading rule* overlaps a rule of lower
    priority with a different output (a warning in the KIE/Drools DMN validator,
    ``DTAnalysis.computeMisleadingRules``, beside the *masked rule*, an error, which is
    GP004's masked branch here).

    Which overlaps. Overlapping branches are what ``first`` is for: the shipped guideline
    takes surgical red flags before indications for early augmentation on purpose (a
    patient with a neurological deficit and pulmonary dysfunction sees a surgeon), and an
    exception listed before its general rule (``age >= 80`` above ``age >= 65``) misleads
    no one. A warning for every overlap would be noise an author learns to skip. Warned is
    the interval slip: the lower branch keeps patients of its own (it is only partly
    masked; wholly masked is GP004) and some patient in the overlap can, by a change of one
    variable alone, leave the higher branch while still satisfying the lower one, and by
    another change of it satisfy the higher branch but no longer the lower one. Both
    branches then bound that variable and their ranges overlap (``weeks <= 6`` above
    ``weeks >= 4``: between 4 and 6 weeks the lower branch reads as if it applied). An
    overlap of two different facts present at once is never warned about. Computed values
    cannot change on their own and are not varied (a limitation: ``crcl > 95`` above
    ``crcl <= 50`` is not looked at).

    Failing::

        choice: first
        branches:
          - {when: weeks_since_fracture <= 6, goto: acute}
          - {when: weeks_since_fracture >= 4 and pain == severe, goto: augmentation}

    Passing: ``weeks_since_fracture > 6 and pain == severe`` in the second branch; or
    red flags above indications that test other facts.
    """

    code, name = "GP009", "misleading"

    def reads(self, g: Guideline, b: Branch) -> set[str]:
        """The variables branch ``b`` tests by name (once per branch and run)."""
        hit = self._reads.get(id(b))
        if hit is None or hit[0] is not b:
            hit = self._reads[id(b)] = (b, names_read(g, b.cond.expr))
        return hit[1]

    def run(self, ctx: Context) -> Iterator[Finding]:
        g = ctx.g
        self._reads: dict[int, tuple[Branch, set[str]]] = {}
        # One small solver for the whole check, holding one decision's entries at a time
        # (a new solver per decision cost more to set up than its queries took).
        scratch = ctx.prover.scratch()
        for sid in g.order:
            step = g.steps[sid]
            if step.kind != "decision" or step.choice != "first":
                continue
            pairs = [(i, j) for j, bj in enumerate(step.branches) for i, bi in enumerate(step.branches[:j])
                     if bi.target != bj.target]
            if not pairs:
                continue
            # The domain entries on the decision's variables, for the patient and for its two
            # copies that differ in one variable (each copy's entries on fresh constants).
            scratch.push()
            try:
                seen: set[int] = set()
                for v in sorted(set().union(*(self.reads(g, b) for b in step.branches))):
                    for t in ctx.enc.domain_reading(v):
                        if t.get_id() not in seen:
                            seen.add(t.get_id())
                            scratch.add(t)
                        for tag in ("leaves", "enters"):
                            scratch.add(z3.substitute(t, *self.copy(ctx, v, tag)[0]))
                for i, j in pairs:
                    yield self.pair(ctx, step, i, j, scratch)
            finally:
                scratch.pop()

    def pair(self, ctx: Context, step: Step, i: int, j: int, scratch: z3.Solver) -> Finding:
        g, enc = ctx.g, ctx.enc
        bi, bj = step.branches[i], step.branches[j]
        subject = f"branch {step.id}#{i + 1} over {step.id}#{j + 1}"
        proved = f"branch {i + 1} of {step.id!r} ({bi.label}) does not mislead a reader of branch {j + 1} ({bj.label})"
        key = {e.index: e.key for e in edges_of(step) if e.kind == "branch"}
        both = self.reads(g, bi) & self.reads(g, bj)
        shared = sorted(both, key=g.variable_position.__getitem__)  # in declaration order
        if not shared:
            return self.finding(subject, Verdict.PROVED, proved + ": they test no variable in common", bj.span,
                                Result("unsat"), rules=(step.id,))
        gi, gj = enc.term(bi.cond.expr), enc.term(bj.cond.expr)
        # First without the path to the decision and with only the domain entries on the
        # decision's variables (a relaxation: unsat here is unsat with everything), in a small
        # solver kept per decision, so that the many pairs that cannot mislead (nested
        # thresholds, different facts) cost a small query each.
        candidates = []
        for v in shared:
            if self.nested_or_apart(g, bi, bj, v):
                continue
            (out_i, _), (out_j, _) = self.copy(ctx, v, "leaves"), self.copy(ctx, v, "enters")
            scratch.push()
            scratch.add(gi, gj, z3.substitute(all_of([not_term(gi), gj]), *out_i), z3.substitute(all_of([gi, not_term(gj)]), *out_j))
            if scratch.check() != z3.unsat:
                candidates.append(v)
            scratch.pop()
        if not candidates:
            return self.finding(subject, Verdict.PROVED, proved + ": where they overlap, no variable they both test "
                                "has overlapping ranges", bj.span, Result("unsat"), rules=(step.id,))
        if f"edge:{key[j]}" not in ctx.covered:
            r = ctx.prover.check([(f"branch {j + 1} taken", enc.fired[key[j]])], want_core=False)
            if r.status == "unknown":
                return self.finding(subject, Verdict.UNKNOWN, f"not settled: {proved}", bj.span, r, rules=(step.id,))
            if r.status == "unsat":
                return self.finding(subject, Verdict.PROVED, proved + f": branch {j + 1} is never taken (GP004)",
                                    bj.span, r, rules=(step.id,))
        reached = enc.reached[step.id]
        overlap = [(f"step {step.id} is reached", reached), (f"branch {i + 1} is taken", enc.fired[key[i]]),
                   (f"branch {j + 1} applies", gj)]

        def in_overlap(p: Patient) -> bool:
            return key[i] in ctx.run(p).fired_keys() and bool(eval_expr(bj.cond.expr, p, g))
        r = ctx.prover.check(overlap, want_core=False)
        if r.status == "unknown":
            return self.finding(subject, Verdict.UNKNOWN, f"not settled: {proved}", bj.span, r, rules=(step.id,))
        if r.status == "unsat":
            return self.finding(subject, Verdict.PROVED, proved + ": no patient satisfies both", bj.span, r,
                                rules=(step.id,))
        unknown: Result | None = None
        for v in candidates:
            leave, c1 = self.moved(ctx, v, "leaves", [reached, z3.Not(gi), gj])
            enter, c2 = self.moved(ctx, v, "enters", [reached, gi, z3.Not(gj)])
            parts = [*overlap, *leave, *enter]
            r = ctx.prover.check(parts, want_core=False)
            if r.status == "unknown":
                unknown = r
            if r.status != "sat":
                continue
            # The witness closest to a typical patient, and its two changed copies as close
            # to it as they can be (at the lines the branches draw).
            prefer, distance = preferences(g, enc)
            orig = enc.term_of(v)
            near = [z3.If(c >= orig, c - orig, orig - c) for c in (c1, c2) if z3.is_arith(orig)]
            numbers = [t for t in enc.vars.values() if z3.is_arith(t)]
            found = ctx.prover.plausible(parts, prefer, z3.Sum([x for x in [distance, *near] if x is not None] or [0]),
                                         r.model, z3.Sum(numbers) if numbers else z3.IntVal(0))
            if isinstance(found, SliceModel):  # not polished: the slice's values over the base patient
                patient, model = dict(ctx.patient(r.replace(model=found))), found.model
            else:
                patient, model = enc.patient(found), found
            var = g.variables[v]
            p1 = {**patient, v: kind_of(var.type).read(var, c1, model)}
            p2 = {**patient, v: kind_of(var.type).read(var, c2, model)}

            def lines(p: Patient) -> tuple[bool, bool, bool]:
                return (step.id in ctx.run(p).reached and not ctx.violated(p), bool(eval_expr(bi.cond.expr, p, g)),
                        bool(eval_expr(bj.cond.expr, p, g)))
            ok = in_overlap(patient) and lines(p1) == (True, False, True) and lines(p2) == (True, True, False)
            ctx.confirm(ok, f"{self.code} {subject}", patient)
            details = (f"{v} = {format_value(p1[v])}: no longer branch {i + 1}, still branch {j + 1}",
                       f"{v} = {format_value(p2[v])}: branch {i + 1}, no longer branch {j + 1}")
            msg = (f"misleading overlap: branch {i + 1} of {step.id!r} ({bi.label}) takes patients that branch "
                   f"{j + 1} ({bj.label}) also describes and sends them to {bi.target!r}, not {bj.target!r}; "
                   f"both bound {v} and their ranges overlap")
            listing = None
            if ctx.max_regions > 0:
                listing = list_regions(ctx, overlap, decision_atoms(ctx, [step.id]), patient, in_overlap,
                                       f"{self.code} {subject}", ctx.max_regions)
            return self.finding(subject, Verdict.WARNING, msg, bj.span, r, witness=patient, rules=(step.id,),
                                details=details, regions=tuple(listing.regions) if listing else (),
                                regions_end=listing.end if listing else "")
        if unknown is not None:
            return self.finding(subject, Verdict.UNKNOWN, f"not settled: {proved}", bj.span, unknown, rules=(step.id,))
        return self.finding(subject, Verdict.PROVED, proved + ": where they overlap, no variable they both test "
                            "has overlapping ranges", bj.span, Result("unsat"), rules=(step.id,))

    @staticmethod
    def nested_or_apart(g: Guideline, bi: Branch, bj: Branch, v: str) -> bool:
        """Whether, with both guards comparing the number ``v`` with numbers only (and, or,
        not), their ranges of ``v`` are disjoint or one holds the other: then no patient
        can leave one branch and stay in the other by a change of ``v`` both ways, and the
        solver query that asks it (unsat then) is not needed. A threshold ladder's rungs
        are all nested; they made most of this check's queries."""
        if g.variables[v].optional:
            return False
        si, sj = values_allowed(bi.cond.expr, v), values_allowed(bj.cond.expr, v)
        if si is None or sj is None:
            return False
        return not intersect(si, sj) or not intersect(si, complement(sj)) or not intersect(sj, complement(si))

    @staticmethod
    def copy(ctx: Context, v: str, tag: str) -> tuple[list[tuple[Any, Any]], Any]:
        """The substitution of ``v``'s term(s) by a fresh copy's (``v~tag``), and the copy."""
        orig, copy = ctx.enc.term_of(v), ctx.enc.copy_of(v, tag)
        return ([(orig[el], copy[el]) for el in orig] if isinstance(orig, dict) else [(orig, copy)]), copy

    def moved(self, ctx: Context, v: str, tag: str, terms: list[z3.BoolRef]) -> tuple[Parts, Any]:
        """A copy of the patient that differs only in ``v`` (a fresh constant, or one per
        member of a set), valid, and satisfying ``terms``; and the copy's term for ``v``."""
        pairs, copy = self.copy(ctx, v, tag)
        domain = [z3.substitute(t, *pairs) for t in ctx.enc.domain_reading(v)]
        return [(f"{v} {tag}: valid", z3.And(domain)),
                (f"{v} {tag}", z3.And([z3.substitute(t, *pairs) for t in terms]))], copy


# ------------------------------------------------------------------------------------ GP010


class SafetyReview(Check):
    """GP010 safety review: a warning, never a failure, for a drug or procedure (a
    recommendation with ``treatment``) that declares no contraindication and no caution and
    does not say, in ``safety_review``, why none applies. The author either adds the rules
    (with their sources) or acknowledges the review in the YAML.

    Failing::

        recommendations:
          laxative_with_opioid: {..., treatment: drug}   # no contraindicated_when, no cautions

    Passing: ``cautions: [{text: ..., sources: [S41]}]``, or ``safety_review: No
    contraindication in the label applies to this population.``
    """

    code, name = "GP010", "safety review"

    def run(self, ctx: Context) -> Iterator[Finding]:
        for rid, rec in ctx.g.recommendations.items():
            if not rec.treatment:
                continue
            subject = f"safety review {rid}"
            declared = len(rec.contraindications) + len(rec.cautions)
            if declared or rec.safety_review:
                how = (f"{declared} contraindication{'s' if declared != 1 else ''} or caution{'s' if declared != 1 else ''}"
                       if declared else f"reviewed: {rec.safety_review}")
                yield self.finding(subject, Verdict.PROVED, f"{rec.treatment} {rid!r}: {how}", rec.span,
                                   Result("sat"), rules=(rid,))
            else:
                yield self.finding(subject, Verdict.WARNING,
                                   f"{rec.treatment} {rid!r} ({rec.short}) declares no contraindication or caution: add them "
                                   "with their sources, or say why none applies (safety_review: ...)", rec.span,
                                   Result("sat"), rules=(rid,))


# ------------------------------------------------------------------------------------ GP011


class NotAnalysedParts(Check):
    """GP011 not analysed: a part of an imported model (a DMN decision whose logic is a boxed
    expression, a table with FEEL beyond simple unary tests, COLLECT with an aggregation, ...)
    that the checks cannot analyse. Each is an obligation left unknown (exit 3), with its
    reason, so nothing is skipped silently; guidelines written in the language have none.

    Failing::

        <decision name="Adjudication"><literalExpression><text>if a then b else c</text>...

    Passing: a decision table whose cells are simple unary tests (``< 18``, ``[1..5)``,
    ``"High", "Low"``, ``not("x")``, ``-``) and whose outputs are literals.
    """

    code, name = "GP011", "not analysed"

    def run(self, ctx: Context) -> Iterator[Finding]:
        for part in ctx.g.not_analysed:
            yield self.finding(part.what, Verdict.UNKNOWN, f"{part.what} is NOT ANALYSED: {part.reason}", part.span,
                               Result("unknown", reason="not analysed: beyond the analysable subset"))


#: Every check, in the order obligations are run and reported.
CHECKS: tuple[Check, ...] = (Vacuity(), Reachability(), Coverage(), Exclusivity(), Consistency(),
                             Redundancy(), Invariants(), Contraindications(), MisleadingOverlaps(), SafetyReview(),
                             NotAnalysedParts(), Temporal())


#: The checks of the first lane (``lanes.py``); the others form the second. On large
#: guidelines the two take about the same time (reachability's cover is the longest check).
FIRST_LANE = frozenset({"GP007", "GP004"})

#: Edges of the decision graph (branches, 'otherwise', 'next' and tracks of the reachable
#: steps) from which the second lane runs in a forked process: below, forking costs more
#: than it saves, and every check runs here in order.
LANES_FROM_EDGES = 400


def verify(g: Guideline, timeout: float | None = 10.0, rlimit: int | None = None,
           only: set[str] | None = None, timings: dict[str, float] | None = None,
           max_regions: int = MAX_REGIONS, jobs: int | None = None) -> list[Finding]:
    """Run every obligation on ``g``; returns one finding per obligation.

    ``timings``, when given, receives the wall time of the encoding and of each check class.
    ``max_regions`` caps the problem regions listed per refuted coverage, exclusivity and
    consistency obligation (0: the one witness only). ``jobs``: processes at once (default:
    the cores available); the findings are the same whatever it is (``lanes.py``).
    """
    t0 = time.perf_counter()
    enc = Encoding(g)
    # The guideline and its encoding live for the whole run; frozen, the cyclic garbage
    # collector stops rescanning them at every collection, which made large runs
    # superlinear (a full collection over a 20,000-branch model costs half a second).
    gc.freeze()
    try:
        return _verify(g, enc, timeout, rlimit, only, timings if timings is not None else {}, t0, max_regions,
                       default_jobs() if jobs is None else jobs)
    finally:
        gc.unfreeze()


def _verify(g: Guideline, enc: Encoding, timeout: float | None, rlimit: int | None, only: set[str] | None,
            timings: dict[str, float], t0: float, max_regions: int, jobs: int) -> list[Finding]:
    prover = SlicedProver(enc.domain, enc.support, timeout=timeout, rlimit=rlimit)
    ctx = Context(g, enc, prover, max_regions)
    timings["encode"] = time.perf_counter() - t0
    vac = CHECKS[0]
    assert isinstance(vac, Vacuity)
    domain = vac.domain(ctx)
    findings = [domain]
    if domain.verdict == Verdict.REFUTED:
        return findings  # every universal property would hold vacuously: nothing else is meaningful
    if domain.verdict == Verdict.UNKNOWN:
        ctx.domain_unsettled = domain.reason or "unknown"
    selected = [c for c in CHECKS if not only or c.code in only or c.name in only]
    first = [c for c in selected if c.code in FIRST_LANE]
    second = [c for c in selected if c.code not in FIRST_LANE]
    calls = prover.calls
    if not first or not second or len(all_edges(g)) < LANES_FROM_EDGES:
        findings.extend(_lane(ctx, selected, timings))
        calls = prover.calls
    else:
        (a, ta), (b, tb) = run_lanes(partial(_timed_lane, ctx, first), partial(_timed_lane, ctx, second), jobs)
        timings.update(ta)
        timings.update(tb)
        calls += int(ta["solver calls"] + tb["solver calls"])  # each lane's own, wherever it ran
        order = {c.code: i for i, c in enumerate(CHECKS)}
        findings.extend(sorted([*a, *b], key=lambda f: order[f.code]))  # stable: each check's own order
    timings["solver calls"] = calls
    return findings


def _lane(ctx: Context, checks: Sequence[Check], timings: dict[str, float]) -> list[Finding]:
    """The findings of ``checks``, run in order; each one's wall time in ``timings``."""
    out: list[Finding] = []
    for check in checks:
        t = time.perf_counter()
        out.extend(check.run(ctx))
        timings[check.name] = time.perf_counter() - t
    return out


def _timed_lane(ctx: Context, checks: Sequence[Check]) -> tuple[list[Finding], dict[str, float]]:
    """:func:`_lane` with its timings and the solver calls it made (one lane of ``lanes.py``)."""
    timings: dict[str, float] = {}
    calls = ctx.prover.calls
    findings = _lane(ctx, checks, timings)
    timings["solver calls"] = ctx.prover.calls - calls
    return findings, timings
