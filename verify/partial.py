"""Queries with incomplete information, decided with Z3 over the valid completions.

Unset variables are unknown, never defaulted. For each recommendation (and, for the
flowchart, each step and branch) the answer is:

* **applies**: true in every valid completion of the known facts (``unsat`` of its negation);
* **does not apply**: true in none (``unsat`` of it);
* **depends**: a completion each way, both found by the solver and confirmed by the
  evaluator.

For a recommendation that depends, the variables it *hinges on* form a minimal set of
unknown variables that **determines** it: a set ``S`` determines recommendation ``r`` when
``r`` is a function of ``S`` over the valid completions, i.e. the two-copy query

    valid(c1) and valid(c2) and c1, c2 agree on S and r(c1) and not r(c2)

is unsat, where both copies keep the known facts and every unknown variable outside ``S``
has its own value in each copy (one direction suffices: the query is symmetric). Why not
flip one variable at a time, as before: a variable the constraints tie to others (a score
the author wrote as a variable with ``score == count(...)``) cannot change alone, so no
single flip ever shows that the input deciding the answer matters. Determination does not
care how the facts are tied together.

The set is found greedily, each step proved by the solver:

1. **Start** from the unknown variables that the recommendation's term reads (its support,
   through definitions and computed values, which are expressions over variables and not
   variables) together with every unknown variable tied to them by domain constraints: the
   *constraint closure*, components of the graph linking the unknown variables each domain
   entry reads (known variables are constants and link nothing). This start set
   determines ``r`` without asking the solver, and no variable outside it is in any minimal
   determining set: the valid completions are the product of the components' valid values,
   and ``r`` reads only its own components, so agreeing outside them says nothing about
   ``r``. Starting from the support alone would be sound but would miss inputs: a guard on
   ``score`` reads only ``score``, yet the inputs tied to it by a constraint decide it too
   (an off-path variable can matter only through a constraint).
2. **Drop** variables one at a time, keeping the rest: ``S - {v}`` still determines ``r``
   (unsat) drops ``v``; sat keeps it; *unknown* keeps it too (safe: the set still
   determines ``r``, but ``v`` is then not proved necessary, and the answer says so in
   :attr:`RecStatus.unproved`). Determination is monotone (a superset of a determining
   set determines), so when the loop ends every kept variable is necessary: without it the
   two-copy query is sat.
3. **Order** decides *which* minimal set is found. *Derived* variables go first: those the
   guideline's other variables determine for every valid patient (two copies of any valid
   patient, agreeing on the rest of the variable's component and differing in ``w``:
   unsat), such as a hand-computed score or a flag the constraints define. This is a
   property of the guideline, not of the known facts: with ``deficit = false`` the
   constraint ``red_flag == (deficit or instability)`` ties the flag and ``instability``
   both ways, yet only the flag is computed from the others. A sum and its terms determine
   each other (``h = score - d - ...``), so the semantics alone cannot tell the score from
   its items; among derived variables those with more possible values go first (a score,
   an integer, before the yes/no items it adds up: a bool counts 2 values, a set 2 per
   member, a number or an enum as many as can be), then the later-declared. The remaining
   variables follow, later-declared first, so the earlier ones, which follow the clinical
   examination, are the ones kept. When variables are tied symmetrically and have as many
   values (``c == (a xor b)`` over booleans), declaration order alone decides.

All checks of one answer share one incremental solver holding the domain and the known
facts over both copies (:class:`_Pairs`), built once; a query adds "the copies agree on
``v``" for each ``v`` in ``S`` and the two sides of ``r`` inside push/pop (the derived
checks use a second one, without the facts). Two checks are skipped because their answer
is known: a variable tied to no other is not derived unless constant (which changes only
the order), and the last variable of a set is kept (the empty set determines only what
does not depend).

A recommendation the solver could not classify (*unknown*) counts its whole start set as
hinges: nothing about it is proved, so none of those variables may be called not needed.

"Ask next" lists the unknown variables that some undecided recommendation (depends or
unknown) has in its hinge set, in the order a clinician gathers facts: grouped by the
``source`` each variable declares (history, then examination, then laboratory, then
imaging; variables that declare none come last), and within a group ranked by how many
undecided recommendations hinge on them, ties in declaration order. It is **premise
aware**: an unknown yes/no variable ``u`` is a *premise* of ``v`` when ``v`` matters only
once ``u`` has one value ``b``. Two ways are proved. By the domain: whenever ``u`` is not
``b``, the constraints leave ``v`` a single value (``symptoms_changed implies imaged``:
without imaging there is no change since it to ask about); both ways at once (``imaged =
true`` is also forced by ``symptoms_changed = true``), the earlier-declared variable is the
premise. By the hinge sets: every undecided recommendation
whose hinge set holds ``v`` is a "depends" whose hinge set holds ``u`` too and, with ``u``
fixed to the other value, is determined without ``v`` (the two-copy query above, with
``u = not b`` added, is unsat); and ``v`` is not in the same way a premise of ``u`` (a
conjunction read by one recommendation alone makes each a premise of the other: no order
follows from it). A premise is listed before the variables that rest on it, whatever its
group. Only the order uses this: which variables are listed, and which are not needed, is
decided by the hinge sets alone, and a premise the solver could not prove (*unknown*) is
simply not used.

An unknown
variable in no hinge set is **not needed**, which means exactly: any two valid completions
of the known facts that agree on the ask-next variables get the same recommendations, so
once those are known no value of a not-needed variable changes any recommendation. It does
not mean that a not-needed variable could never settle anything sooner: with the
constraint ``b implies a`` and a recommendation that reads ``a``, knowing ``b = true``
settles it, but ``a`` settles it whatever ``b`` is, so ``b`` is not needed.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal, NoReturn

import z3

from ..model.encode import Encoding
from ..model.errors import Diagnostic, InputError
from ..model.evaluate import Trace, run
from ..model.guideline import FACT_SOURCES, Guideline
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
    #: a minimal set of unknown variables that determines it (see the module doc)
    hinges: tuple[str, ...] = ()
    #: a valid completion in which it applies / does not apply (when it depends)
    example: dict[str, Any] | None = None
    counterexample: dict[str, Any] | None = None
    reason: str = ""
    #: hinges kept only because the solver could not tell whether they are needed
    unproved: tuple[str, ...] = ()


class PartialAnswer(Record):
    guideline: Guideline
    known: dict[str, Any]
    unknown: tuple[str, ...]
    recs: dict[str, RecStatus]  # rec id -> RecStatus
    ask_next: tuple[tuple[str, int], ...]  # (variable, number of undecided recommendations hinging on it)
    not_needed: tuple[str, ...]
    calls: int
    #: ask-next variable -> its premises: (yes/no variable, the value it must have for this
    #: one to matter), each listed before it (see the module doc)
    premises: dict[str, tuple[tuple[str, bool], ...]]


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
           rlimit: int | None = None) -> tuple[Encoding, Prover, z3.ModelRef | None, list[tuple[str, z3.BoolRef]]]:
    """Encoding and prover with the known facts asserted, and those facts; the model is
    None when the solver could not even tell whether the facts are consistent."""
    enc = Encoding(g)
    facts = [(f"fact {n} = {format_value(v)}", enc.fix(n, v)) for n, v in known.items()]
    prover = Prover(list(enc.domain) + facts, timeout=timeout, rlimit=rlimit)
    r = prover.check([], want_core=False)
    if r.status == "unsat":
        _inconsistent(g, enc, prover, facts)
    return enc, prover, (r.model if r.status == "sat" else None), facts


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
    enc, prover, model, facts = _setup(g, known, timeout, rlimit)
    unknown = tuple(n for n in g.variables if n not in known)
    if model is None:  # the solver gave up on the facts themselves: nothing is decided
        recs = {rid: RecStatus(rid, UNKNOWN) for rid in g.recommendations}
        return PartialAnswer(g, dict(known), unknown, recs, (), (), prover.calls, {})
    cl = _Classifier(g, enc, prover, known)
    for rid in g.recommendations:
        cl.target(rid, enc.applies[rid], _applies(rid))
    cl.add(model)
    status = cl.classify()
    recs = {}
    hinges = _Hinges(g, enc, unknown, facts, timeout, rlimit)
    for rid, st in status.items():
        if st == UNKNOWN:  # nothing proved about it: every fact it may read could be needed
            recs[rid] = RecStatus(rid, UNKNOWN, hinges.ordered(hinges.start(rid)))
        elif st == DEPENDS:
            kept, unproved = hinges.of(rid)
            example = _plausible(g, enc, prover, [("applies", enc.applies[rid])], cl.can_true[rid], known)
            recs[rid] = RecStatus(rid, DEPENDS, kept, example, cl.can_false[rid], unproved=unproved)
        else:
            recs[rid] = RecStatus(rid, st)
    counts = {v: sum(v in r.hinges for r in recs.values()) for v in unknown}
    asked = [v for v in unknown if counts[v]]
    premises = hinges.premises(asked, recs)
    ask = tuple((v, counts[v]) for v in ask_order(g, asked, counts, premises))
    not_needed = tuple(v for v in unknown if counts[v] == 0)
    return PartialAnswer(g, dict(known), unknown, recs, ask, not_needed, prover.calls + hinges.calls, premises)


def ask_order(g: Guideline, asked: Sequence[str], counts: Mapping[str, int],
              premises: Mapping[str, Sequence[tuple[str, bool]]]) -> list[str]:
    """``asked`` in clinical order: by the group of the variable's declared ``source``
    (undeclared last), then by ``counts`` (more first), then in declaration order; each
    variable's premises (among ``asked``) are moved just before it."""
    position = g.variable_position

    def group(v: str) -> int:
        src = g.variables[v].source
        return FACT_SOURCES.index(src) if src in FACT_SOURCES else len(FACT_SOURCES)

    ranked = sorted(asked, key=lambda v: (group(v), -counts[v], position[v]))
    out: list[str] = []
    placed: set[str] = set()

    def place(v: str, visiting: frozenset[str]) -> None:
        if v in placed or v in visiting:  # a cycle of premises cannot order anything
            return
        for u, _ in premises.get(v, ()):
            if counts.get(u):
                place(u, visiting | {v})
        placed.add(v)
        out.append(v)

    for v in ranked:
        place(v, frozenset())
    return out


def _plausible(g: Guideline, enc: Encoding, prover: Prover, parts: Sequence[tuple[str, z3.BoolRef]],
               fallback_patient: dict[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
    """A completion close to a typical patient (the unknowns take typical values where they
    can), confirmed by the evaluator; else the completion already found."""
    from .obligation import preferences

    prefer, distance = preferences(g, enc)
    model = prover.plausible(parts, prefer, distance, None)
    if model is None:
        return fallback_patient
    patient = enc.patient(model)
    if any(patient[n] != v for n, v in known.items()):
        raise InternalError(f"a completion contradicts the known facts: {patient}")
    return patient


class _Pairs:
    """Two valid completions of some facts at once (no facts: any two valid patients), for
    determination queries.

    One incremental solver holds the domain and the facts over the variables (the first
    completion) and the domain again over a copy of every variable in ``unknown`` (the
    second); the other variables are shared, so the copy keeps the facts too. A query
    assumes the copies agree on some of the copied variables, inside push/pop."""

    def __init__(self, enc: Encoding, unknown: Sequence[str], facts: Sequence[tuple[str, z3.BoolRef]],
                 timeout: float | None, rlimit: int | None):
        renames = {v: [(c, z3.Const(f"{c}'", c.sort())) for c in enc.constants(v)] for v in unknown}
        self._pairs = [p for v in unknown for p in renames[v]]
        self.same = {v: z3.And([c == d for c, d in ps]) for v, ps in renames.items()}
        self.differ = {v: z3.Or([c != d for c, d in ps]) for v, ps in renames.items()}
        # One substitution of the whole domain: z3 checks every pair's sorts on each call.
        copied = ("copy of the domain", self.copy(z3.And([t for _, t in enc.domain])))
        self.prover = Prover([*enc.domain, *facts, copied], timeout=timeout, rlimit=rlimit)

    def copy(self, term: z3.BoolRef) -> z3.BoolRef:
        """``term`` over the second completion."""
        return z3.substitute(term, *self._pairs) if self._pairs else term

    def check(self, agree: Iterable[str], parts: Sequence[tuple[str, z3.BoolRef]]) -> str:
        """sat / unsat / unknown of ``parts`` with the copies agreeing on ``agree``."""
        same = [(f"same {v}", self.same[v]) for v in sorted(agree)]
        return self.prover.check(same + list(parts), want_core=False).status


def _components(supports: Sequence[frozenset[str] | None], unknown: Sequence[str]) -> dict[str, frozenset[str]]:
    """Each unknown variable's component: the unknown variables linked to it through the
    domain entries that read them (``supports``, one per entry, None when not known: linked
    to everything); known variables are constants and link nothing."""
    parent = {v: v for v in unknown}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for sup in supports:
        names = list(unknown) if sup is None else [v for v in sup if v in parent]
        for v in names[1:]:
            parent[find(v)] = find(names[0])
    groups: dict[str, set[str]] = {}
    for v in unknown:
        groups.setdefault(find(v), set()).add(v)
    return {v: frozenset(groups[find(v)]) for v in unknown}


def _values(enc: Encoding, name: str) -> float:
    """How many values a variable can take, roughly: 2 per boolean constant, a number or an
    enum as many as can be (only used to order the derived variables)."""
    out = 1.0
    for c in enc.constants(name):
        out *= 2 if z3.is_bool(c) else float("inf")
    return out


class _Hinges:
    """Minimal determining sets of the undecided recommendations (see the module doc)."""

    def __init__(self, g: Guideline, enc: Encoding, unknown: tuple[str, ...],
                 facts: Sequence[tuple[str, z3.BoolRef]], timeout: float | None, rlimit: int | None):
        self.enc, self.unknown = enc, unknown
        self.position = g.variable_position
        self._supports = [enc.support(t) for _, t in enc.domain]
        self.comp = _components(self._supports, unknown)
        self._derived: dict[str, bool] = {}
        self._settings = timeout, rlimit
        self._pairs: dict[bool, _Pairs] = {}  # with the known facts (True) / over every patient
        self._facts = facts
        self._whole_comp: dict[str, frozenset[str]] | None = None

    def pairs(self, with_facts: bool = True) -> _Pairs:
        """The two-copy solver of the valid completions of the known facts, or (without
        them) of every valid patient; built on first use: a decided answer needs neither."""
        if with_facts not in self._pairs:
            names = self.unknown if with_facts else tuple(self.position)
            self._pairs[with_facts] = _Pairs(self.enc, names, self._facts if with_facts else (), *self._settings)
        return self._pairs[with_facts]

    @property
    def calls(self) -> int:
        return sum(p.prover.calls for p in self._pairs.values())

    def start(self, rid: str) -> frozenset[str]:
        """The unknown variables ``rid`` reads and those the constraints tie to them."""
        sup = self.enc.support(self.enc.applies[rid])
        read = self.unknown if sup is None else [v for v in self.unknown if v in sup]
        return frozenset().union(*(self.comp[v] for v in read))

    def derived(self, w: str) -> bool:
        """Whether the guideline's other variables determine ``w`` for every valid patient
        (proved: unsat). A property of the guideline, not of the known facts: given
        ``deficit = false``, ``red_flag == (deficit or instability)`` ties the flag and
        ``instability`` both ways, yet only the flag is computed from the others."""
        if w not in self._derived:
            if self._whole_comp is None:
                self._whole_comp = _components(self._supports, tuple(self.position))
            comp = self._whole_comp[w]
            if comp == {w}:  # tied to no other variable: derived only if constant, which
                self._derived[w] = False  # changes the order and never the set: not asked
                return False
            whole = self.pairs(with_facts=False)
            self._derived[w] = whole.check(comp - {w}, [(f"{w} differs", whole.differ[w])]) == "unsat"
        return self._derived[w]

    def of(self, rid: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A minimal determining set of ``rid`` and the variables in it kept only because
        the solver answered unknown (both in declaration order)."""
        kept = set(self.start(rid))
        derived = [v for v in kept if self.derived(v)] if len(kept) > 1 else []
        order = sorted(derived, key=lambda v: (-_values(self.enc, v), -self.position[v])) \
            + sorted(kept - set(derived), key=lambda v: -self.position[v])
        term = self.enc.applies[rid]
        pairs = self.pairs()
        differs = [("applies", term), ("not in the copy", z3.Not(pairs.copy(term)))]
        unproved = []
        for v in order:
            if len(kept) == 1:  # the empty set determines only what does not depend: keep it
                break
            status = pairs.check(kept - {v}, differs)
            if status == "unsat":
                kept.discard(v)
            elif status == "unknown":
                unproved.append(v)
        if not kept:  # nothing determines a recommendation that depends: the semantics disagree
            raise InternalError(f"{rid} depends on the unknown facts, yet the solver finds it constant")
        return self.ordered(kept), self.ordered(unproved)

    def ordered(self, names: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(names, key=self.position.__getitem__))

    def moot(self, rid: str, hinges: Sequence[str], u: str, value: bool, v: str) -> bool:
        """Proved (unsat): with ``u`` fixed to ``value``, the hinges of ``rid`` other than
        ``v`` determine it, so ``v`` does not matter to it."""
        pairs = self.pairs()
        term = self.enc.applies[rid]
        parts = [(f"{u} = {value}", self.enc.fix(u, value)), ("applies", term),
                 ("not in the copy", z3.Not(pairs.copy(term)))]
        return pairs.check(set(hinges) - {v}, parts) == "unsat"

    def premises(self, asked: Sequence[str], recs: Mapping[str, RecStatus]) -> dict[str, tuple[tuple[str, bool], ...]]:
        """Each asked variable's premises (see the module doc): yes/no variables ``u`` with
        the value ``b`` that ``u`` must have for the variable to matter."""
        holding = {v: [r for r in recs.values() if v in r.hinges] for v in asked}
        bools = [u for u in asked if self.enc.g.variables[u].type.kind == "bool"]

        def rests_on(v: str, u: str) -> tuple[str, bool] | None:
            rs = holding[v]
            if u == v or not rs or any(r.status != DEPENDS or u not in r.hinges for r in rs):
                return None
            for b in (True, False):  # v matters only once u == b: moot wherever u == not b
                if all(self.moot(r.id, r.hinges, u, not b, v) for r in rs):
                    return (u, b)
            return None

        pairs = self.pairs()

        def presupposes(v: str, u: str) -> tuple[str, bool] | None:
            if u == v or v not in self.comp[u]:  # only a domain entry can tie them
                return None
            for b in (True, False):  # v has one possible value whenever u == not b
                fixed = (f"{u} = {not b}", self.enc.fix(u, not b))
                if pairs.check((), [fixed]) == "sat" and \
                        pairs.check({u}, [fixed, (f"{v} differs", pairs.differ[v])]) == "unsat":
                    return (u, b)
            return None

        found = {(v, u): p for v in asked for u in bools if (p := rests_on(v, u)) is not None}
        forced = {(v, u): p for v in asked for u in bools if (p := presupposes(v, u)) is not None}
        out: dict[str, tuple[tuple[str, bool], ...]] = {}
        for (v, u), p in sorted({**forced, **found}.items(), key=lambda x: self.position[x[0][1]]):
            mutual = (u, v) in found or (u, v) in forced
            # a mutual relation orders nothing, except that a presupposition both ways (b
            # implies a: a = false fixes b, b = true fixes a) keeps the declaration order,
            # which follows the clinical examination
            if not mutual or ((v, u) in forced and (u, v) in forced and self.position[u] < self.position[v]):
                out[v] = (*out.get(v, ()), p)
        return out


def graph_states(g: Guideline, known: Mapping[str, Any], timeout: float | None = 10.0,
                 rlimit: int | None = None) -> tuple[set[str], set[str], set[str]]:
    """(certain, possible, undecided) parts of the flowchart, as namespaced keys
    (``step:ID``, ``edge:KEY``, ``rec:ID``: a step may share its id with a recommendation).
    *Possible* parts are reached in some valid completions of the known facts and not in
    others (both confirmed by the evaluator); *undecided* ones are those the solver gave up
    on (time or resource limit): never shown as possible. Anything in no set is excluded."""
    enc, prover, model, _ = _setup(g, known, timeout, rlimit)
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
