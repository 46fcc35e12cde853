"""Queries with incomplete information, decided with Z3 over the valid completions.

Unset variables are unknown, never defaulted. For each recommendation (and, for the
flowchart, each step and branch) the answer is:

* **applies**: true in every valid completion of the known facts (``unsat`` of its negation);
* **does not apply**: true in none (``unsat`` of it);
* **depends**: a completion each way, both found by the solver and confirmed by the
  evaluator.

For a recommendation that depends, the variables it *hinges on* are the unknown variables
whose value alone can change it: ``v`` is kept when two valid completions that differ only
in ``v`` disagree about the recommendation (a two-copy query). Removing any of them would
hide a real dependency, so the set is minimal in that sense. When constraints couple
variables so that no single one can be changed alone, the variables on the paths to the
recommendation are reported instead.

"Ask next" ranks unknown variables by how many undecided recommendations hinge on them;
an unknown variable on which no undecided recommendation hinges is *not needed*.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal, NoReturn

import z3

from ..model.encode import Encoding
from ..model.errors import Diagnostic, InputError
from ..model.evaluate import Trace, run
from ..model.expr import variables_of
from ..model.graph import predecessors, reachable
from ..model.guideline import Guideline
from ..model.patient import format_value
from ..model.record import Record
from .findings import InternalError
from .solver import Prover

#: what a partial answer says of a recommendation (or a part of the chart)
Status = Literal["applies", "depends", "does_not_apply", "unknown"]
APPLIES: Final = "applies"
DEPENDS: Final = "depends"
NEVER: Final = "does_not_apply"
UNKNOWN: Final = "unknown"


class RecStatus(Record):
    id: str
    status: Status
    hinges: tuple[str, ...] = ()
    #: a valid completion in which it applies / does not apply (when it depends)
    example: dict[str, Any] | None = None
    counterexample: dict[str, Any] | None = None
    reason: str = ""


class PartialAnswer(Record):
    guideline: Guideline
    known: dict[str, Any]
    unknown: tuple[str, ...]
    recs: dict[str, RecStatus]  # rec id -> RecStatus
    ask_next: tuple[tuple[str, int], ...]  # (variable, number of undecided recommendations hinging on it)
    not_needed: tuple[str, ...]
    calls: int


def _applies(rid: str) -> Callable[[Trace], bool]:
    """Whether a trace applies recommendation ``rid``."""
    return lambda t: rid in t.applies


def _reached(sid: str) -> Callable[[Trace], bool]:
    """Whether a trace reaches step ``sid``."""
    return lambda t: sid in t.reached


def _fired(key: str) -> Callable[[Trace], bool]:
    """Whether a trace takes the edge ``key``."""
    return lambda t: key in t.fired_keys()


class _Classifier:
    """Sorts boolean targets into always / never / sometimes over the valid completions,
    reusing every completion it finds (confirmed by the evaluator) to settle other targets
    without asking the solver again."""

    def __init__(self, g: Guideline, enc: Encoding, prover: Prover, known: Mapping[str, Any]):
        self.g, self.enc, self.prover, self.known = g, enc, prover, known
        self.can_true: dict[str, dict[str, Any]] = {}
        self.can_false: dict[str, dict[str, Any]] = {}
        self.truth: dict[str, Callable[[Trace], bool]] = {}  # key -> function(trace) -> bool
        self.terms: dict[str, z3.BoolRef] = {}

    def target(self, key: str, term: z3.BoolRef, truth: Callable[[Trace], bool]) -> None:
        self.terms[key] = term
        self.truth[key] = truth

    def add(self, model: z3.ModelRef) -> dict[str, Any]:
        patient = self.enc.patient(model)
        if any(patient[n] != v for n, v in self.known.items()):
            raise InternalError(f"a completion contradicts the known facts: {patient}")
        trace = run(self.g, patient)
        for key, truth in self.truth.items():
            (self.can_true if truth(trace) else self.can_false).setdefault(key, patient)
        return patient

    def classify(self) -> dict[str, Status]:
        out: dict[str, Status] = {}
        for key, term in self.terms.items():
            for want, seen in ((True, self.can_true), (False, self.can_false)):
                if key in seen:
                    continue
                r = self.prover.check([(key, term if want else z3.Not(term))], want_core=False)
                if r.status == "sat":
                    self.add(r.model)
                    if key not in seen:
                        raise InternalError(f"the evaluator disagrees with the solver about {key}")
                elif r.status == "unknown":
                    out[key] = UNKNOWN
            if key in out:
                continue
            t, f = key in self.can_true, key in self.can_false
            out[key] = DEPENDS if t and f else APPLIES if t else NEVER
        return out


def _setup(g: Guideline, known: Mapping[str, Any], timeout: float | None,
           rlimit: int | None = None) -> tuple[Encoding, Prover, z3.ModelRef | None]:
    """Encoding and prover with the known facts asserted; the model is None when the
    solver could not even tell whether the facts are consistent."""
    enc = Encoding(g)
    facts = [(f"fact {n} = {format_value(v)}", enc.fix(n, v)) for n, v in known.items()]
    prover = Prover(list(enc.domain) + facts, timeout=timeout, rlimit=rlimit)
    r = prover.check([], want_core=False)
    if r.status == "unsat":
        _inconsistent(g, enc, prover, facts)
    return enc, prover, (r.model if r.status == "sat" else None)


def _inconsistent(g: Guideline, enc: Encoding, prover: Prover, facts: list[tuple[str, z3.BoolRef]]) -> NoReturn:
    """Known facts that no valid patient has: name the constraints and facts involved."""
    core_prover = Prover([(n, t) for n, t in enc.domain if n.startswith(("bounds", "values"))])
    r = core_prover.check([(n, t) for n, t in enc.domain if n.startswith("constraint")] + facts)
    constraints = [c[len("constraint "):] for c in r.core if c.startswith("constraint ")]
    used = [c for c in r.core if c.startswith("fact ")]
    texts = {c.id: c for c in g.constraints}
    what = "; ".join(f"{c} ({texts[c].cond.text})" for c in constraints) or "the variables' bounds"
    raise InputError([Diagnostic(
        "constraint-violated",
        f"the known facts cannot all hold for a valid patient: they break {what}; facts involved: "
        + ", ".join(f[len("fact "):] for f in used))])


def decide(g: Guideline, known: Mapping[str, Any], timeout: float | None = 10.0,
           rlimit: int | None = None) -> PartialAnswer:
    enc, prover, model = _setup(g, known, timeout, rlimit)
    unknown = tuple(n for n in g.variables if n not in known)
    if model is None:  # the solver gave up on the facts themselves: nothing is decided
        recs = {rid: RecStatus(rid, UNKNOWN) for rid in g.recommendations}
        return PartialAnswer(g, dict(known), unknown, recs, (), (), prover.calls)
    cl = _Classifier(g, enc, prover, known)
    for rid in g.recommendations:
        cl.target(rid, enc.applies[rid], _applies(rid))
    cl.add(model)
    status = cl.classify()
    recs = {}
    preds = predecessors(g.steps)
    domain = z3.And([t for _, t in enc.domain])
    for rid, st in status.items():
        if st != DEPENDS:
            recs[rid] = RecStatus(rid, st)
            continue
        hinges = _hinges(g, enc, prover, rid, unknown, _cone(g, rid, preds) & set(unknown), domain)
        example = _plausible(g, enc, prover, [("applies", enc.applies[rid])], cl.can_true[rid], known)
        recs[rid] = RecStatus(rid, DEPENDS, hinges, example, cl.can_false[rid])
    counts = {v: sum(v in r.hinges for r in recs.values()) for v in unknown}
    ask = tuple(sorted(((v, n) for v, n in counts.items() if n), key=lambda x: (-x[1], unknown.index(x[0]))))
    not_needed = tuple(v for v in unknown if counts[v] == 0)
    return PartialAnswer(g, dict(known), unknown, recs, ask, not_needed, prover.calls)


def _plausible(g: Guideline, enc: Encoding, prover: Prover, parts: Sequence[tuple[str, z3.BoolRef]],
               fallback_patient: dict[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
    """A completion close to a typical patient (the unknowns take typical values where they
    can), confirmed by the evaluator; else the completion already found."""
    from .checks import preferences

    prefer, distance = preferences(g, enc)
    model = prover.plausible(parts, prefer, distance, None)
    if model is None:
        return fallback_patient
    patient = enc.patient(model)
    if any(patient[n] != v for n, v in known.items()):
        raise InternalError(f"a completion contradicts the known facts: {patient}")
    return patient


def _copy_of(enc: Encoding, g: Guideline, name: str) -> list[tuple[Any, Any]]:
    """Substitution pairs that rename variable ``name`` to a fresh copy."""
    return [(c, z3.Const(f"{c}'", c.sort())) for c in enc.constants(name)]


def _hinges(g: Guideline, enc: Encoding, prover: Prover, rid: str, unknown: tuple[str, ...],
            cone: set[str], domain: z3.BoolRef) -> tuple[str, ...]:
    """The unknown variables (of ``cone``) whose value alone can change ``rid``; ``domain``
    is the conjunction of every bound and domain constraint."""
    term = enc.applies[rid]
    kept: list[str] = []
    for v in [u for u in unknown if u in cone]:
        pairs = _copy_of(enc, g, v)
        other = z3.substitute(term, *pairs)
        r = prover.check([("copy is valid", z3.substitute(domain, *pairs)),
                          ("applies", term), ("not in the copy", z3.Not(other))], want_core=False)
        if r.status != "unsat":  # sat: flipping v alone changes it; unknown: keep, to be safe
            kept.append(v)
    return tuple(kept) if kept else tuple(u for u in unknown if u in cone)


def _cone(g: Guideline, rid: str, preds: dict[str, set[str]]) -> set[str]:
    """Variables read by the guards on any path from the start to a step recommending ``rid``."""
    seen = reachable([s.id for s in g.steps_recommending(rid)], preds)
    defs = g.definition_exprs()
    out: set[str] = set()
    for sid in seen:
        for b in g.steps[sid].branches:
            out |= variables_of(b.cond.expr, defs)
    return out


def graph_states(g: Guideline, known: Mapping[str, Any], timeout: float | None = 10.0,
                 rlimit: int | None = None) -> tuple[set[str], set[str], set[str]]:
    """(certain, possible, undecided) parts of the flowchart, as namespaced keys
    (``step:ID``, ``edge:KEY``, ``rec:ID``: a step may share its id with a recommendation).
    *Possible* parts are reached in some valid completions of the known facts and not in
    others (both confirmed by the evaluator); *undecided* ones are those the solver gave up
    on (time or resource limit): never shown as possible. Anything in no set is excluded."""
    enc, prover, model = _setup(g, known, timeout, rlimit)
    if model is None:  # the solver could not even tell whether the facts are consistent
        everything = ({f"step:{s}" for s in g.steps} | {f"edge:{k}" for k in enc.fired}
                      | {f"rec:{r}" for r in g.recommendations})
        return set(), set(), everything
    cl = _Classifier(g, enc, prover, known)
    for sid in g.steps:
        cl.target(f"step:{sid}", enc.reached[sid], _reached(sid))
    for key, term in enc.fired.items():
        cl.target(f"edge:{key}", term, _fired(key))
    for rid in g.recommendations:
        cl.target(f"rec:{rid}", enc.applies[rid], _applies(rid))
    cl.add(model)
    status = cl.classify()

    certain = {k for k, s in status.items() if s == APPLIES}
    possible = {k for k, s in status.items() if s == DEPENDS}
    undecided = {k for k, s in status.items() if s == UNKNOWN}
    return certain, possible, undecided
