"""The loaded guideline: plain, immutable values (no YAML, no solver)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from functools import cached_property
from typing import Any, Final, Literal

from .errors import Span
from .expr import BOOL, UNIT_DAYS, Expr, Type, expansion_order
from .record import Record



RecKind = Literal["do", "avoid"]
#: where a piece of advice comes from: the source guideline, or a safety addition beyond it
#: (with citations of its own: a drug label, a regulator, another guideline)
Origin = Literal["source", "safety"]
Treatment = Literal["drug", "procedure", ""]
StepKind = Literal["decision", "action", "fork", "end"]
#: how many branches of a decision may be taken ("" for steps that are not decisions)
Choice = Literal["single", "first", "any", ""]

class FhirBinding(Record):
    """How a variable is found in an HL7 FHIR R4 bundle (``fhir:`` in the guideline; the
    rules are in ``model/fhir.py`` and docs/language.md)."""

    rule: str  # latest | active | age | gender | since
    resources: tuple[str, ...]
    #: (system URI, code) pairs; ICD-10 and ATC codes match as prefixes (hierarchical systems)
    codes: tuple[tuple[str, str], ...] = ()
    #: latest: the observation window in days, the UCUM unit expected, the conversion family
    within_days: Fraction = Fraction(0)
    unit: str = ""
    convert: str = ""
    #: gender: Patient.gender -> the variable's value
    map: tuple[tuple[str, Any], ...] = ()
    #: a set variable's members: member -> its codes
    members: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    #: what no matching resource means: None (unknown) or a value of the variable
    absent: Any = None


#: how a fact may change from one visit to the next of a course (``over_time:``): ``fixed``
#: (never changes), ``grows`` (never decreases: a number or an ordered enum never goes down,
#: a yes never becomes no, a set never loses a member), ``free`` (any valid value at each
#: visit) or ``clock`` (a duration that advances by the time between visits)
OVER_TIME_RULES: Final = ("fixed", "grows", "free", "clock")

#: where a fact comes from, in the order a clinician gathers them: the history (what the
#: patient or the record says), the bedside examination, laboratory tests, imaging
FACT_SOURCES: Final = ("history", "exam", "lab", "imaging")


class Variable(Record):
    name: str
    type: Type
    question: str
    span: Span
    unit: str = ""
    #: inclusive bounds for int variables; None otherwise
    min: Any = None  # int, or a Fraction for a decimal variable
    max: Any = None
    #: the value of a typical patient; witnesses deviate from it as little as they can
    typical: object = None
    #: an optional fact may have no value (not measured, does not apply): the patient's
    #: value is then None, and conditions read it only where ``known(name)`` holds
    optional: bool = False
    #: how the health record holds it (``query --fhir``); None: it stays a question
    fhir: FhirBinding | None = None
    #: where a clinician gets the answer (one of FACT_SOURCES, in the order they are
    #: gathered); None when the author did not say. Partial queries ask in this order.
    source: str | None = None
    #: how the fact may change between visits of a course (one of OVER_TIME_RULES)
    over_time: str = "free"
    #: a ``clock`` advances only while this holds at the earlier visit (None: always)
    advances_while: Condition | None = None


class Condition(Record):
    """A checked expression with the text the author wrote (kept for explanations/charts):
    a condition, or the formula of a computed value (``type`` a number)."""

    text: str
    expr: Expr
    span: Span
    type: Type = BOOL
    #: reads of optional variables that no ``known`` test inside the condition guards:
    #: (variable, position of the read, the definition it is read through or ""); a decision
    #: branch may rely on the paths to its step (checked once the graph is known), anything
    #: else must have none
    unguarded: tuple[tuple[str, Span | None, str], ...] = ()


class Constraint(Record):
    id: str
    cond: Condition
    why: str
    span: Span
    origin: Origin = "source"
    sources: tuple[str, ...] = ()


class Definition(Record):
    """A named condition, or a computed value when ``cond.type`` is a number."""

    name: str
    cond: Condition
    why: str
    span: Span
    unit: str = ""
    origin: Origin = "source"
    sources: tuple[str, ...] = ()

    @property
    def computed(self) -> bool:
        return self.cond.type != BOOL

    @property
    def needs(self) -> frozenset[str]:
        """The optional variables it reads without guarding them itself: each use of the
        definition must be guarded by ``known`` tests of these."""
        return frozenset(v for v, _, _ in self.cond.unguarded)


class Timing(Record):
    """A window in weeks after ``anchor`` (either end may be open), plus the author's words."""

    text: str
    start_week: int | None = None
    end_week: int | None = None


class SafetyRule(Record):
    """A contraindication (``text`` says why; the recommendation must never apply while
    ``cond`` holds: proof obligation GP008) or a caution (``text`` is shown with the
    recommendation when ``cond`` holds, or always when it is None), with its own citations."""

    cond: Condition | None
    text: str
    sources: tuple[str, ...]
    span: Span


class Recommendation(Record):
    id: str
    text: str
    short: str
    category: str
    strength: str
    sources: tuple[str, ...]
    kind: RecKind
    span: Span
    #: the heading of the source text the recommendation comes from
    section: str
    timing: Timing | None = None
    note: str = ""
    origin: Origin = "source"
    contraindications: tuple[SafetyRule, ...] = ()
    cautions: tuple[SafetyRule, ...] = ()
    #: "drug" or "procedure" for a treatment whose safety must be reviewed (GP010), else ""
    treatment: Treatment = ""
    #: why a drug or procedure declares no contraindication or caution (the author's
    #: acknowledgement of the review)
    safety_review: str = ""
    #: what carrying it out records in the patient's history for the next visit of a
    #: course: (variable, value) pairs, values as in a patient file (``mri_done: true``,
    #: ``weeks_since_imaging: 0``: a clock then advances from the visit that recommended it)
    records: tuple[tuple[str, Any], ...] = ()


class Branch(Record):
    label: str
    cond: Condition
    target: str
    span: Span


class Step(Record):
    """One node of the decision graph.

    kind ``decision``: ``branches`` guarded by conditions; ``choice`` says how many may be
    taken: ``single`` (the guards must be mutually exclusive: a proof obligation), ``first``
    (priority order, first true guard wins) or ``any`` (every true guard is taken).
    ``otherwise`` is taken when no guard holds. kind ``action``: ``recommend`` applies the listed
    recommendations, then continues at ``next`` (if any). kind ``fork``: every ``tracks`` step
    runs in parallel. kind ``end``: a terminal with a title and no successors.
    """

    id: str
    kind: StepKind
    title: str
    span: Span
    phase: str = ""
    choice: Choice = ""
    branches: tuple[Branch, ...] = ()
    otherwise: str | None = None
    otherwise_label: str = "otherwise"
    recommend: tuple[str, ...] = ()
    next: str | None = None
    tracks: tuple[str, ...] = ()
    why: str = ""

    def successors(self) -> list[str]:
        out = [b.target for b in self.branches]
        if self.otherwise:
            out.append(self.otherwise)
        if self.next:
            out.append(self.next)
        out.extend(self.tracks)
        return out


class Conflict(Record):
    id: str
    recs: tuple[str, ...]
    why: str
    span: Span


class Invariant(Record):
    id: str
    cond: Condition
    why: str
    span: Span
    origin: Origin = "source"
    sources: tuple[str, ...] = ()


#: the temporal properties' forms (docs/language.md, "A course of care")
TemporalForm = Literal["always", "eventually", "at_most", "not_repeated_within"]


class TemporalProperty(Record):
    """A property of every course of visits up to the horizon (proof obligation GP012).

    ``always``: ``holds`` at every visit. ``eventually``: in every course whose first visit
    satisfies ``start`` and that reaches a visit where ``deadline`` holds with ``during``
    holding at every visit up to it, ``holds`` holds at some visit up to the first such
    one. ``at_most``: no two visits where ``holds`` holds are more than ``days`` apart.
    ``not_repeated_within``: when ``holds`` holds at two visits less than ``days`` apart,
    ``unless`` holds at some visit after the first, up to the second.
    """

    id: str
    form: TemporalForm
    holds: Condition
    why: str
    span: Span
    days: Fraction | None = None
    deadline: Condition | None = None
    during: Condition | None = None
    start: Condition | None = None
    unless: Condition | None = None
    origin: Origin = "source"
    sources: tuple[str, ...] = ()


class Course(Record):
    """How courses are unrolled for GP012: a visit every ``every_days`` from the first, up
    to ``horizon_days`` after it (both whole weeks), and the properties to prove."""

    every_days: Fraction
    horizon_days: Fraction
    why: str
    span: Span
    properties: tuple[TemporalProperty, ...] = ()

    @property
    def visits(self) -> int:
        """The number of visits of the longest course: the first and one per interval."""
        return int(self.horizon_days // self.every_days) + 1


class Source(Record):
    id: str
    title: str
    publisher: str = ""
    year: int | None = None
    note: str = ""


class Named(Record):
    """A category, strength or phase: an id with a title (declared order is display order)."""

    id: str
    title: str
    description: str = ""
    #: categories only: its items are reassessments, listed by timing in the answer
    reassessment: bool = False


class NotAnalysed(Record):
    """A part of an imported model (a DMN decision, table or business knowledge model) that
    lies beyond what the checks can analyse: reported by ``verify`` (NOT ANALYSED, exit 3),
    never skipped silently."""

    what: str
    reason: str
    span: Span | None = None


class Guideline(Record):
    file: str
    id: str
    title: str
    version: str
    description: str
    sources: dict[str, Source]
    categories: dict[str, Named]
    strengths: dict[str, Named]
    phases: dict[str, Named]
    variables: dict[str, Variable]
    constraints: list[Constraint]
    definitions: dict[str, Definition]
    recommendations: dict[str, Recommendation]
    start: str
    steps: dict[str, Step]
    conflicts: list[Conflict]
    invariants: list[Invariant]
    dispositions: tuple[str, ...] = ()
    dispositions_span: Span | None = None
    #: step ids in topological order (start first), computed by the loader
    order: tuple[str, ...] = ()
    #: days in one of each duration unit: days and weeks, and months when the guideline
    #: declares its rule (``durations_rule``, as written)
    unit_days: Mapping[str, Fraction] = UNIT_DAYS
    durations_rule: str = ""
    #: parts of an imported model that are not analysed, each with its reason
    not_analysed: tuple[NotAnalysed, ...] = ()
    #: courses of visits and their temporal properties (None: the guideline declares none)
    course: Course | None = None

    def definition_exprs(self) -> Mapping[str, Expr]:
        """Each definition's expression by name (built once: the guideline never changes)."""
        return self._definition_map

    @cached_property
    def optional(self) -> tuple[str, ...]:
        """The optional variables, in declaration order."""
        return tuple(n for n, v in self.variables.items() if v.optional)

    def with_absent(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` with every optional variable it leaves out given no value (None): a
        left-out optional fact is absent, not unknown."""
        return {**{n: None for n in self.optional if n not in values}, **values}

    @cached_property
    def _expansion_orders(self) -> dict[str, tuple[str, ...]]:
        return {}

    def expansion_order(self, name: str) -> tuple[str, ...]:
        """Definition ``name`` and those it uses, transitively, dependencies first (cached)."""
        cache = self._expansion_orders
        if name not in cache:
            cache[name] = tuple(expansion_order(name, self._definition_map))
        return cache[name]

    @cached_property
    def _definition_map(self) -> dict[str, Expr]:
        return {n: d.cond.expr for n, d in self.definitions.items()}

    @cached_property
    def position(self) -> dict[str, int]:
        """Each reachable step's index in :attr:`order`."""
        return {sid: i for i, sid in enumerate(self.order)}

    def in_order(self, sids: Iterable[str]) -> list[str]:
        """The reachable steps among ``sids``, in :attr:`order`: a lookup per step, not a
        pass over the whole order (done once per obligation, that was quadratic)."""
        pos = self.position
        return sorted((s for s in sids if s in pos), key=pos.__getitem__)

    @cached_property
    def variable_position(self) -> dict[str, int]:
        """Each variable's index in declaration order."""
        return {name: i for i, name in enumerate(self.variables)}

    def steps_recommending(self, rec: str) -> list[Step]:
        """The steps that recommend ``rec``, in declaration order."""
        return list(self._recommenders.get(rec, ()))

    @cached_property
    def _recommenders(self) -> dict[str, list[Step]]:
        by: dict[str, list[Step]] = {}
        for s in self.steps.values():
            for r in dict.fromkeys(s.recommend):
                by.setdefault(r, []).append(s)
        return by
