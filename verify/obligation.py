"""What every proof obligation builds on: the context a check runs in (the guideline, its
encoding, the prover and the witnesses confirmed so far) and the :class:`Check` base with
its two kinds of obligation, universal (proved by ``unsat`` of the negation, refuted by a
witness the evaluator confirms) and existential (proved by a confirmed witness, refuted by
an unsat core). The checks themselves are in ``checks.py`` and ``temporal.py``.
"""
from __future__ import annotations

import itertools
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator, Sequence
from fractions import Fraction
from typing import Any

import z3

from ..model import expr as X
from ..model.encode import Encoding
from ..model.errors import Span
from ..model.evaluate import AbsentValue, Patient, Trace, eval_expr, run, violated_constraints
from ..model.guideline import Guideline, Step
from ..model.graph import predecessors, reachable
from ..model.kinds import kind_of
from ..model.patient import typical_value
from .findings import Finding, InternalError, Verdict
from .regions import MAX_REGIONS, list_regions
from .solver import Prover, Result, SliceModel

#: The tracked parts of a query: (name, as in cores and messages; Z3 condition).
Parts = Sequence[tuple[str, z3.BoolRef]]
#: An evaluator re-check of a universal property's witness: (agrees, message, detail lines).
Recheck = tuple[bool, str, tuple[str, ...]]
Refuted = Callable[[Patient], Recheck]


class Context:
    """What every check needs: the guideline, its encoding and the prover."""

    def __init__(self, g: Guideline, enc: Encoding, prover: Prover, max_regions: int = MAX_REGIONS):
        self.g = g
        self.enc = enc
        self.prover = prover
        #: regions listed per refuted obligation (0: none, only the one witness)
        self.max_regions = max_regions
        #: valid patients already confirmed by the evaluator; an existential obligation that
        #: one of them already satisfies is proved by it without another solver call
        self.witnesses: list[Patient] = []
        self._traces: dict[int, tuple[Patient, Trace]] = {}
        #: "step:ID", "edge:KEY" and "rec:ID" reached by some confirmed witness
        self.covered: set[str] = set()
        #: set when whether any valid patient exists is not settled (Z3's reason)
        self.domain_unsettled = ""
        self._base: dict[str, Any] | None = None
        defs = g.definition_exprs()
        #: the positions (in ``g.constraints``) of the constraints reading each variable
        self._constraints_reading: dict[str, list[int]] = {}
        for i, c in enumerate(g.constraints):
            for v in X.variables_of(c.cond.expr, defs):
                self._constraints_reading.setdefault(v, []).append(i)
        self._preds: dict[str, set[str]] | None = None
        self._ancestors: dict[frozenset[str], frozenset[str]] = {}
        self._settled: dict[tuple[int, ...], tuple[Parts, Result]] = {}

    # -- universal claims settled together --------------------------------------------------

    def settle(self, negations: Sequence[Parts]) -> None:
        """Ask the solver which of ``negations`` are unsatisfiable together
        (:meth:`Prover.settle_together`); :meth:`settled` then answers for those proved."""
        if self.domain_unsettled or len(negations) < 2:
            return
        for negation, r in zip(negations, self.prover.settle_together(negations), strict=True):
            if r is not None:
                self._settled[self._claim_key(negation)] = (negation, r)

    def settled(self, negation: Parts) -> Result | None:
        """The ``unsat`` result of a negation proved by :meth:`settle` (used once)."""
        hit = self._settled.pop(self._claim_key(negation), None)
        return hit[1] if hit is not None else None

    @staticmethod
    def _claim_key(negation: Parts) -> tuple[int, ...]:
        # Z3 AST ids: the stored negation keeps its terms alive, so no id is reused meanwhile
        return tuple(t.get_id() for _, t in negation)

    # -- witnesses -------------------------------------------------------------------------

    def witness(self, result: Result, parts: Parts, plausible: bool, unique: bool = False) -> Patient:
        """The patient of ``result``; with ``plausible``, the one closest to a typical
        patient; with ``unique`` too, ties are broken so that the same question gives the
        same patient whatever the solver was asked before (region witnesses)."""
        if plausible:
            prefer, distance = preferences(self.g, self.enc)
            numbers = [t for t in self.enc.vars.values() if z3.is_arith(t)]
            tiebreak = z3.Sum(numbers) if unique and numbers else z3.IntVal(0) if unique else None
            model = self.prover.plausible(parts, prefer, distance, result.model, tiebreak)
            # A witness shown to the user is a plain record in declaration order.
            p = self.patient(result.replace(model=model))
            return p if isinstance(p, dict) else {n: p[n] for n in self.g.variables}
        return self.patient(result)

    def patient(self, result: Result) -> Patient:
        """The patient of a satisfiable result: read off the model, or, for a model of a slice
        of the domain, the slice's variables over the base patient (the first whole-domain
        witness, already confirmed by the evaluator)."""
        m = result.model
        if isinstance(m, SliceModel):
            if self._base is None:
                self._base = self.enc.patient(self._prover_base())
            return ChainMap(self.enc.patient(m.model, m.variables), self._base)
        return self.enc.patient(m)

    def _prover_base(self) -> z3.ModelRef:
        base = getattr(self.prover, "base", None)
        if base is None:
            raise InternalError("a slice model without a base model")
        return base

    def confirm(self, ok: bool, what: str, patient: Patient) -> None:
        """The evaluator must agree with the solver about a witness."""
        broken = self.violated(patient)
        if broken:
            raise InternalError(f"{what}: the solver's witness breaks domain constraints {broken}: {dict(patient)}")
        if not ok:
            raise InternalError(f"{what}: the plain evaluator disagrees with the solver's witness {dict(patient)}")

    def violated(self, patient: Patient) -> list[str]:
        """The constraints ``patient`` breaks. A slice witness differs from the base patient
        (which satisfies every constraint) only in its own variables, so only the
        constraints reading one of those (by the guideline's own expressions) are evaluated."""
        if not isinstance(patient, ChainMap):
            return violated_constraints(self.g, patient)
        return self._violated_changing(patient, patient.maps[0])

    def _violated_changing(self, patient: Patient, changed: Iterable[str]) -> list[str]:
        """The constraints ``patient`` breaks, for a patient that differs from one satisfying
        every constraint only in the variables ``changed``: only those reading one of them
        can be broken."""
        touched = {i for v in changed for i in self._constraints_reading.get(v, ())}
        # in the guideline's order, without a walk over every constraint (linear per witness)
        cs = self.g.constraints
        return [cs[i].id for i in sorted(touched) if not eval_expr(cs[i].cond.expr, patient, self.g)]

    #: confirmed witnesses an existential obligation tries before asking the solver: the
    #: first (whole-domain models) and the latest (from the neighbouring obligations)
    TRIED_WITNESSES = 8

    def tried_witnesses(self) -> list[Patient]:
        """The witnesses an existential obligation tries before the solver. Not all: their
        number grows with the guideline (a corner per definition), and trying each for
        each obligation made large runs quadratic; on a 5,000-branch guideline every one
        that settled an obligation was among the first eight."""
        n = self.TRIED_WITNESSES
        w = self.witnesses
        return w if len(w) <= 2 * n else w[:n] + w[-n:]

    def add_witness(self, patient: Patient, within: str | None = None) -> None:
        """Record what ``patient`` reaches; with ``within`` (a step id), only on the paths to
        that step (a local walk, for slice witnesses). Whole patients are also kept to settle
        later existential obligations without the solver."""
        if within is None:
            self.witnesses.append(patient)
            t = self.run(patient)
        else:
            t = run(self.g, patient, self.ancestors(within), exact=(within,))
        self.covered.update(f"step:{s}" for s in t.reached)
        self.covered.update(f"edge:{k}" for k in t.fired_keys())
        self.covered.update(f"rec:{r}" for r in t.applies)

    #: numeric variables whose bounds a corner search combines (2 ** CORNER_VARIABLES patients)
    CORNER_VARIABLES = 6

    def corner(self, reads: frozenset[str], holds: Callable[[Patient], bool]) -> Patient | None:
        """A valid patient satisfying ``holds``, looked for without the solver: the first
        confirmed witness with the numeric variables in ``reads`` at the corners of their
        bounds. Cheap, and a witness like any other (the evaluator checks it and every
        constraint), so an existential obligation over a nonlinear formula (a clearance from
        age, weight and creatinine) is proved without asking Z3 to search a product of
        variables, whose answer time depends on the order it met them in."""
        if not self.witnesses or not isinstance(self.witnesses[0], dict):  # a whole patient
            return None
        base: dict[str, Any] = self.witnesses[0]
        numeric = [self.g.variables[n] for n in sorted(reads)
                   if self.g.variables[n].type.kind in ("int", "decimal", "duration")][:self.CORNER_VARIABLES]
        if not numeric:
            return None
        for values in itertools.product(*[(v.min, v.max) for v in numeric]):
            # the corner's values over the base patient: no copy of every variable per corner
            # (a copy per try made large guidelines quadratic, and the copies kept filled memory)
            p: ChainMap[str, Any] = ChainMap({v.name: int(x) if v.type.kind != "decimal" else Fraction(x)
                                              for v, x in zip(numeric, values, strict=True)}, base)
            try:
                if self._violated_changing(p, (v.name for v in numeric)) or not holds(p):
                    continue
            except AbsentValue:  # it reads an optional fact this corner leaves without a value
                continue
            # Kept untraced: a whole-graph walk per corner made vacuity quadratic on large
            # guidelines; whoever needs its trace (or part of it) asks for it.
            self.witnesses.append(p)
            return p
        return None

    def ancestors(self, *sids: str) -> frozenset[str]:
        """``sids`` and every step on a path from the start to one of them."""
        key = frozenset(sids)
        hit = self._ancestors.get(key)
        if hit is None:
            if self._preds is None:
                self._preds = predecessors(self.g.steps)
            hit = self._ancestors[key] = frozenset(reachable(sorted(key), self._preds))
        return hit

    def run(self, patient: Patient) -> Trace:
        """The evaluator's trace for ``patient``, computed once per patient object."""
        hit = self._traces.get(id(patient))
        if hit is not None and hit[0] is patient:
            return hit[1]
        trace = run(self.g, patient)
        self._traces[id(patient)] = (patient, trace)
        return trace

    def trace_at(self, patient: Patient, *sids: str) -> Trace:
        """A trace of ``patient`` exact for the steps ``sids``, the edges leaving them and the
        recommendations of the steps they lead to: the whole trace when it is already known,
        else a walk of the steps on the paths to them only. Whether a patient reaches one
        step, takes one branch or gets one recommendation is then decided at the cost of
        that step's ancestry, not of the whole graph (which made checks that try every
        witness on every obligation quadratic)."""
        hit = self._traces.get(id(patient))
        if hit is not None and hit[0] is patient:
            return hit[1]
        return run(self.g, patient, self.ancestors(*sids), exact=sids)

    def guard_parts(self, step: Step, index: int) -> list[tuple[str, z3.BoolRef]]:
        """The tracked parts of "branch ``index`` of ``step`` is taken": its conjuncts and, in
        priority order, the negation of every earlier branch."""
        b = step.branches[index]
        parts = [(f"step {step.id} is reached", self.enc.reached.get(step.id, z3.BoolVal(False)))]
        for c in X.conjuncts(b.cond.expr):
            parts.append((f"{step.id} branch {index + 1} ({b.label}): {X.show(c)}", self.enc.term(c)))
        if step.choice == "first":
            for k, earlier in enumerate(step.branches[:index]):
                parts.append((f"{step.id} branch {k + 1} not taken: not ({X.show(earlier.cond.expr)})",
                              z3.Not(self.enc.term(earlier.cond.expr))))
        return parts


def preferences(g: Guideline, enc: Encoding) -> tuple[list[z3.BoolRef], z3.ArithRef | None]:
    """Soft goals toward a typical patient: declared ``typical`` values, else false for
    bools, the first value of enums, no set members and the minimum of ints; plus the
    total distance of the ints from their typical values."""
    prefer: list[z3.BoolRef] = []
    dist: list[z3.ArithRef] = []
    for v in g.variables.values():
        typical = typical_value(v)
        if typical is None:  # an optional fact: typically it has no value
            prefer.append(enc.fix(v.name, None))
            continue
        goals, distance = kind_of(v.type).prefer(v, enc.term_of(v.name), typical)
        prefer.extend(goals)
        if v.name in enc.known:
            prefer.append(enc.known[v.name])
        if distance is not None:
            dist.append(distance)
    return prefer, (z3.Sum(dist) if dist else None)


class Check:
    code = ""
    name = ""

    def run(self, ctx: Context) -> Iterator[Finding]:  # pragma: no cover - interface
        raise NotImplementedError

    def finding(self, subject: str, verdict: Verdict, message: str, span: Span | None, result: Result,
                **kw: Any) -> Finding:
        return Finding(self.code, self.name, subject, verdict, message, span,
                       reason=result.reason, seconds=result.seconds, **kw)

    def universal(self, ctx: Context, subject: str, span: Span | None, negation: Parts, proved_msg: str,
                  refuted: Refuted, rules: tuple[str, ...] = (),
                  regions: Callable[[], Sequence[X.Expr]] | None = None,
                  locate: Callable[[Patient], Span | None] | None = None) -> Finding:
        """Prove a property by showing its ``negation`` (tracked parts) unsatisfiable.

        ``refuted(patient)`` re-checks a witness with the evaluator and returns
        (evaluator agrees, message, detail lines). While whether any valid patient exists
        is not settled, nothing universal is proved: it could hold only vacuously.
        ``regions``, when given, names the guard atoms over which every region of the
        problem set is listed (see ``regions.py``).
        ``locate``, when given, places a refutation more precisely, from its witness patient.
        """
        if ctx.domain_unsettled:
            return self.finding(subject, Verdict.UNKNOWN, f"not settled: {proved_msg}", span,
                                Result("unknown", reason=f"whether any valid patient exists is not settled ({ctx.domain_unsettled})"),
                                rules=rules)
        r = ctx.settled(negation) or ctx.prover.check(negation, want_core=False)
        if r.status == "unsat":
            return self.finding(subject, Verdict.PROVED, proved_msg, span, r, rules=rules)
        if r.status == "unknown":
            return self.finding(subject, Verdict.UNKNOWN, f"not settled: {proved_msg}", span, r, rules=rules)
        patient = ctx.witness(r, negation, plausible=True)
        ok, msg, details = refuted(patient)
        ctx.confirm(ok, f"{self.code} {subject}", patient)
        if locate is not None:  # a place more precise than the obligation's, found from the witness
            span = locate(patient) or span
        if regions is None or ctx.max_regions <= 0:
            return self.finding(subject, Verdict.REFUTED, msg, span, r, witness=patient, rules=rules, details=details)
        listing = list_regions(ctx, negation, regions(), patient, lambda p: refuted(p)[0], f"{self.code} {subject}",
                               ctx.max_regions)
        return self.finding(subject, Verdict.REFUTED, msg, span, r, witness=patient, rules=rules, details=details,
                            regions=tuple(listing.regions), regions_end=listing.end)

    def together(self, ctx: Context, claims: Sequence[tuple[Parts, Callable[[], Finding]]]) -> Iterator[Finding]:
        """Universal claims, each a (negation, the :meth:`universal` call that reports it),
        settled together first where the solver can (:meth:`Context.settle`), then reported
        one by one in their order."""
        ctx.settle([negation for negation, _ in claims])
        for _, claim in claims:
            yield claim()

    def existential(self, ctx: Context, subject: str, span: Span | None, parts: Parts | Callable[[], Parts],
                    proved_msg: str, refuted_msg: str, holds: Callable[[Patient], bool],
                    rules: tuple[str, ...] = (), cover: str | None = None, reads: frozenset[str] = frozenset()) -> Finding:
        """Prove that some valid patient satisfies ``parts`` (a witness re-checked by
        ``holds``); refute with the unsat core when none does. ``cover`` names the
        obligation in :attr:`Context.covered`, which earlier witnesses may already settle.
        ``parts`` may be a function that builds them, called only if the solver is needed."""
        if cover is not None:
            if cover in ctx.covered:
                return self.finding(subject, Verdict.PROVED, proved_msg, span, Result("sat"), rules=rules)
        else:
            for patient in ctx.tried_witnesses():
                if holds(patient):
                    return self.finding(subject, Verdict.PROVED, proved_msg, span, Result("sat"), rules=rules)
            if reads and ctx.corner(reads, holds) is not None:
                return self.finding(subject, Verdict.PROVED, proved_msg, span, Result("sat"), rules=rules)
        if callable(parts):
            parts = parts()
        r = ctx.prover.check(parts)
        if r.status == "sat":
            patient = ctx.witness(r, parts, plausible=False)
            ctx.confirm(holds(patient), f"{self.code} {subject}", patient)
            if not isinstance(patient, ChainMap):  # whole patients only: tracing one costs the whole graph
                ctx.add_witness(patient)
            return self.finding(subject, Verdict.PROVED, proved_msg, span, r, rules=rules)
        if r.status == "unknown":
            return self.finding(subject, Verdict.UNKNOWN, f"not settled: {proved_msg}", span, r, rules=rules)
        return self.finding(subject, Verdict.REFUTED, refuted_msg, span, r, rules=rules, core=r.core)
