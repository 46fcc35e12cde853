"""YAML nodes -> :class:`Guideline`, reporting every problem in one pass.

Each section of the file is a table of :class:`~.fields.Field` s read by the declarative
reader in ``fields.py``; this module says what the sections are and builds the records.
While reading it lists the ids declared and the names referred to; ``wellformed.py`` then
checks the whole guideline (names, references, cycles, unreferenced steps) on whatever
parts were valid, so one typo does not hide the next. The same whole-guideline checks
serve any other input format that builds the same records.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from . import expr as X
from . import wellformed
from .compose import ORIGINS, Opener, compose
from .divisors import divisor_problem
from .errors import Span, did_you_mean
from .graph import dependency_order
from .fields import (INVALID, VALUE, Field, NodeReader, Values, boolean, describe, identifier, integer,
                     number, one_of, text)
from .guideline import (FACT_SOURCES, OVER_TIME_RULES, Branch, Condition, Conflict, Constraint, Course, Definition, FhirBinding,
                        Guideline, Invariant, Named, Recommendation, SafetyRule, Source, Step, TemporalProperty, Timing,
                        Variable)
from .numbers import format_number
from .patient import coerce
from .source import SourceText, YMap, YNode, YScalar, YSeq, is_dmn, parse_yaml, paused_gc, plain, read_text
from .units import FAMILIES
from .wellformed import Decl, Ref, RefKind

LANGUAGE_VERSION = 1
#: the most visits a course is unrolled to (GP012 copies the guideline once per visit)
MAX_VISITS = 520

__all__ = ["LANGUAGE_VERSION", "build_guideline", "load_guideline", "load_guideline_text"]


def load_guideline(path: str | os.PathLike[str]) -> Guideline:
    """Read and check a guideline file; raises :class:`InputError` with every problem.
    Always from the files (the commands go through :func:`.cache.load_guideline`). The one
    place a guideline is read by its suffix: ``.dmn`` is a DMN decision model
    (``model/dmn.py``), anything else the YAML language."""
    if is_dmn(path):
        from .dmn import load_dmn  # only for DMN files: the YAML path never imports it

        return load_dmn(path)
    return build_guideline(read_text(path, "guideline"))[0]


def load_guideline_text(src: SourceText, opener: Opener | None = None) -> Guideline:
    """Check a guideline's text; ``opener`` reads the files it includes (default: beside it)."""
    return build_guideline(src, opener)[0]


def build_guideline(src: SourceText, opener: Opener | None = None) -> tuple[Guideline, dict[str, str]]:
    """The checked guideline, and the text of every file it included (by name); ``opener``
    reads the files it includes (default: beside it)."""
    with paused_gc():
        root = parse_yaml(src)
        loader = _Loader(src)
        return loader.load(compose(src, root, loader.c, opener)), loader.c.included


def _any(r: NodeReader, node: YNode, where: str) -> YNode:
    """Keep the node: its section is read by the loader itself."""
    return node


GUIDELINE_FIELDS = (Field("id", text, True), Field("title", text, True), Field("version", text, True),
                    Field("description", text, default=""))
SOURCE_FIELDS = (Field("title", text, True), Field("publisher", text, default=""),
                 Field("year", integer), Field("note", text, default=""))
NAMED_FIELDS = (Field("title", text, True), Field("description", text, default=""))
#: a category may mark its items as reassessments: the answer lists them by their timing
CATEGORY_FIELDS = NAMED_FIELDS + (Field("reassessment", boolean, default=False),)
ORIGIN_FIELD = Field("origin", one_of(*ORIGINS), default="source")
TOP_FIELDS = tuple(Field(name, _any, required) for name, required in (
    ("guideproof", True), ("guideline", True), ("durations", False), ("sources", True), ("categories", True),
    ("strengths", True), ("phases", False), ("variables", True), ("constraints", False),
    ("definitions", False), ("recommendations", True), ("dispositions", False), ("start", True),
    ("steps", True), ("conflicts", False), ("invariants", False), ("course", False)))
VARIABLE_TYPES = ("bool", "int", "decimal", "duration", "enum", "set")
DURATIONS_FIELDS = (Field("rule", text, True), Field("why", text, True))
#: the one declared conversion: ``N months = M weeks`` (or days)
_MONTH_RULE = re.compile(r"\s*([1-9][0-9]{0,3})\s+months?\s*=\s*([1-9][0-9]{0,5})\s+(weeks?|days?)\s*")
STEP_KINDS = ("decision", "action", "fork", "end")
#: rule -> (the resource types it reads, the variable kinds it gives values of)
FHIR_RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "latest": (("Observation",), ("int", "decimal")),
    "active": (("Condition", "MedicationStatement", "MedicationRequest"), ("bool", "set")),
    "history": (("Condition",), ("bool",)),
    "age": (("Patient",), ("int",)),
    "gender": (("Patient",), ("bool", "enum")),
    "since": (("Condition", "Procedure", "ImagingStudy", "Observation"), ("duration",)),
}
#: the code systems a binding may name, by short name
FHIR_SYSTEMS = {"loinc": "http://loinc.org", "snomed": "http://snomed.info/sct", "icd10": "http://hl7.org/fhir/sid/icd-10",
                "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm", "atc": "http://www.whocc.no/atc",
                "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm"}
#: Patient.gender's codes (FHIR R4 AdministrativeGender)
FHIR_GENDERS = ("male", "female", "other", "unknown")


class _Loader(NodeReader):
    def __init__(self, src: SourceText):
        super().__init__(src.collector(), Span(src.file, 1, 1))
        self.src = src
        self.refs: list[Ref] = []
        self.decls: list[Decl] = []
        self.scope = X.Scope({}, {}, set())
        #: definition name -> type, filled as definitions are checked (bool until then)
        self.def_types: dict[str, X.Type] = {}
        #: definition name -> optional variables it reads unguarded / what it tells of known()
        self.def_needs: dict[str, frozenset[str]] = {}
        self.def_known: dict[str, X.KnownWhen] = {}
        #: (divisor, position, where) of every division, proved non-zero after loading
        self.divisors: list[tuple[X.Expr, Span, str]] = []
        #: days in one of each duration unit (months only with the guideline's rule)
        self.unit_days: dict[str, Fraction] = dict(X.UNIT_DAYS)
        self.durations_rule = ""
        #: variable -> the node of its ``advances_while`` (read once the scope is known)
        self.clock_while: dict[str, YNode] = {}

    # -- readers that need the document ---------------------------------------------------

    def ref(self, kind: RefKind, owner: str = "") -> Callable[[NodeReader, YNode, str], Any]:
        """A reader of one name that refers to a ``kind`` declared elsewhere."""
        def read(r: NodeReader, node: YNode, where: str) -> Any:
            # source ids are the reference numbers of the source text
            name = self.source_id(node, where) if kind == "source" else self.ident(node, where)
            if name is None:
                return INVALID
            self.refs.append(Ref(kind, name, node.span, where, owner))
            return name
        return read

    def source_id(self, node: YNode, where: str) -> str | None:
        if isinstance(node, YScalar) and isinstance(node.value, (str, int)) and not isinstance(node.value, bool):
            return str(node.value)
        self.err("wrong-type", f"{where}: expected a source id, found {describe(node)}", self.span_of(node))
        return None

    def ref_list(self, kind: RefKind, what: str, least: int = 1, owner: str = "") -> Callable[[NodeReader, YNode, str], Any]:
        """A reader of a list of names referring to ``kind`` s (at least ``least`` of them)."""
        one = self.ref(kind, owner)

        def read(r: NodeReader, node: YNode, where: str) -> Any:
            s = self.seq(node, where)
            if s is None:
                return INVALID
            if len(s.items) < least:
                self.err("missing-citation" if kind == "source" else "wrong-type", f"{where}: {what}", s.span)
                return INVALID
            out = [one(r, item, where) for item in s.items]
            return INVALID if INVALID in out else tuple(out)
        return read

    def condition(self, allow_recommends: bool = False, path_guards: bool = False) -> Callable[[NodeReader, YNode, str], Any]:
        """A reader of a condition. Optional values it reads must be guarded by ``known``
        tests inside it, or, with ``path_guards`` (decision branches), by the tests on every
        path to its step (checked once the graph is known, in ``wellformed``)."""
        def read(r: NodeReader, node: YNode, where: str) -> Any:
            cond = self.read_condition(node, where, allow_recommends)
            if cond is not None and cond.unguarded and not path_guards:
                name, span, via = cond.unguarded[0]
                self.err("unguarded-optional", f"{where}: {X.unguarded_message(name, via)}", span)
                return INVALID
            return INVALID if cond is None else cond
        return read

    def read_condition(self, node: YNode | None, where: str, allow_recommends: bool = False) -> Condition | None:
        return self.read_expr(node, where, "condition", allow_recommends)

    def read_expr(self, node: YNode | None, where: str, want: str, allow_recommends: bool = False,
                  tree: X.S | None = None) -> Condition | None:
        """A condition (``want`` "condition"), a number ("number") or either ("value"),
        checked against the scope; every divisor in it is remembered to be proved non-zero."""
        if not isinstance(node, YScalar) or isinstance(node.value, Decimal) or node.value is None:
            self.err("wrong-type", f"{where}: expected {'a condition' if want == 'condition' else 'a formula'}, found {describe(node)}",
                     self.span_of(node))
            return None
        cnode = node
        value = cnode.value
        ctext = "true" if value is True else "false" if value is False else str(value)
        span_at: Callable[[int], Span] = cnode.span_at if isinstance(value, str) else (lambda _o: cnode.span)
        scope = X.Scope(self.scope.variables, self.scope.bounds, self.scope.definitions,
                        self.scope.recommendations, allow_recommends, self.scope.optional,
                        self.def_needs, self.def_known, self.unit_days)
        try:
            checked = X.check_typed(tree if tree is not None else X.parse(ctext), scope, span_at)
            if want == "condition" and checked.type != X.BOOL:
                raise X.ExprError("type-error", f"a condition must be true or false, but this is {X.describe_type(checked.type)}", 0)
            if want == "number" and checked.type not in X.NUMERIC:
                raise X.ExprError("type-error", f"a computed value must be a number, but this is {X.describe_type(checked.type)}", 0)
        except X.ExprError as err:
            self.err(err.code, f"{where}: {err.message}", span_at(err.offset))
            return None
        self.divisors.extend((d, span_at(off), where) for d, off in checked.divisors)
        unguarded = tuple((v, span_at(off), via) for v, off, via in checked.unguarded)
        return Condition(" ".join(ctext.split()), checked.expr, cnode.span, checked.type, unguarded)

    # -- the document ---------------------------------------------------------------------

    def load(self, root: YNode | None) -> Guideline:
        if root is None:
            self.err("wrong-type", "the guideline file is empty; expected a mapping with 'guideproof', 'guideline', 'variables', ...", self.root_span)
            self.c.raise_if_any()
        top = self.record(root, "top level", TOP_FIELDS)
        if top is None:
            self.c.raise_if_any()
        assert top is not None
        f = top.nodes

        if "guideproof" in f:
            v = self.integer(f["guideproof"], "guideproof (language version)")
            if v is not INVALID and v != LANGUAGE_VERSION:
                self.err("unsupported-version", f"language version {v} is not supported (this is version {LANGUAGE_VERSION})", f["guideproof"].span)

        meta = self.record(f.get("guideline"), "guideline", GUIDELINE_FIELDS)
        if "durations" in f:
            self.read_durations(f["durations"])
        sources = self.read_sources(f.get("sources"))
        categories = self.read_named(f.get("categories"), "categories", CATEGORY_FIELDS)
        strengths = self.read_named(f.get("strengths"), "strengths", NAMED_FIELDS)
        phases = self.read_named(f["phases"], "phases", NAMED_FIELDS) if "phases" in f else {}
        variables = self.read_variables(f.get("variables"))
        def_names = _keys(f.get("definitions"))
        rec_nodes = self.keyed(f.get("recommendations"), "recommendations")
        self.def_types = {n: X.BOOL for n in sorted(def_names)}
        self.scope = X.Scope({n: v.type for n, v in variables.items()},
                             {n: (v.min, v.max) for n, v in variables.items() if v.min is not None and v.max is not None},
                             self.def_types, {n for n, _, _ in rec_nodes},
                             optional=frozenset(n for n, v in variables.items() if v.optional),
                             unit_days=self.unit_days)

        definitions = self.read_definitions(f.get("definitions"))
        variables = self.read_clock_conditions(variables)
        constraints = self.read_constraints(f.get("constraints"))
        recs = self.read_recommendations(rec_nodes, variables)
        steps = self.read_steps(f.get("steps"))
        start = self.ref("step")(self, f["start"], "start") if "start" in f else INVALID
        conflicts = self.read_conflicts(f.get("conflicts"))
        invariants = self.read_invariants(f.get("invariants"))
        course = self.read_course(f["course"]) if "course" in f else None
        dispositions: Any = ()
        if "dispositions" in f:
            dispositions = self.ref_list("recommendation", "", least=0)(self, f["dispositions"], "dispositions")
            dispositions = () if dispositions is INVALID else dispositions
        # The whole-guideline checks run on whatever was valid, so they report alongside
        # the section errors; the guideline is returned only when there were none.
        info = meta.values if meta is not None else {}
        g = Guideline(
            file=self.src.file, id=info.get("id", ""), title=info.get("title", ""),
            version=info.get("version", ""), description=info.get("description", ""), sources=sources, categories=categories,
            strengths=strengths, phases=phases, variables=variables, constraints=constraints,
            definitions=definitions, recommendations=recs, start=start if start is not INVALID else "", steps=steps,
            conflicts=conflicts, invariants=invariants, dispositions=dispositions,
            dispositions_span=_key_span(root, "dispositions"),
            unit_days=self.unit_days, durations_rule=self.durations_rule, course=course,
        )
        declared = {kind: _keys(f.get(section)) for kind, section in (
            ("step", "steps"), ("recommendation", "recommendations"), ("source", "sources"),
            ("category", "categories"), ("strength", "strengths"), ("phase", "phases"))}
        order = wellformed.check(g, self.refs, self.decls, self.c, declared)
        self.c.raise_if_any()
        g = g.replace(order=order)
        for divisor, span, where in self.divisors:
            problem = divisor_problem(g, divisor)
            if problem:
                self.err("zero-divisor", f"{where}: {problem}", span)
        self.c.raise_if_any()
        return g

    def read_durations(self, node: YNode) -> None:
        """``durations: {rule: 3 months = 13 weeks, why: ...}``: how long a month is. Days and
        weeks need no rule; months have no fixed length, so a guideline that speaks of them
        says how it counts them, once."""
        v = self.record(node, "durations", DURATIONS_FIELDS)
        if v is None or not v.complete:
            return
        m = _MONTH_RULE.fullmatch(v["rule"])
        if m is None:
            self.err("wrong-type", f"durations.rule: expected 'N months = M weeks' (or days), found {v['rule']!r}",
                     v.span("rule"))
            return
        months, amount, unit = int(m.group(1)), int(m.group(2)), X.DURATION_UNITS[m.group(3)]
        self.unit_days["months"] = Fraction(amount) * X.UNIT_DAYS[unit] / months
        self.durations_rule = " ".join(v["rule"].split())

    def duration(self, r: NodeReader, node: YNode, where: str) -> Any:
        """A duration written with its unit (``3 months``), in days."""
        value = node.value if isinstance(node, YScalar) else None
        found = X.duration_text(value) if isinstance(value, str) else None
        if found is None or found[0] < 0:
            self.err("wrong-type", f"{where}: expected a duration such as '6 weeks', '10 days' or '3 months', "
                                   f"found {describe(node)}", self.span_of(node))
            return INVALID
        amount, unit = found
        if unit not in self.unit_days:
            self.err("unit-undeclared", f"{where}: {unit} have no fixed length: declare how the guideline counts them "
                                        "(for example 'durations: {rule: 3 months = 13 weeks, why: ...}')", self.span_of(node))
            return INVALID
        return amount * self.unit_days[unit]

    def read_sources(self, node: YNode | None) -> dict[str, Source]:
        out: dict[str, Source] = {}
        m = self.mapping(node, "sources")
        for k, v in m.items if m else ():
            sid = str(k.value)
            vals = self.record(v, f"sources.{sid}", SOURCE_FIELDS)
            if vals is not None and vals.complete:
                out[sid] = Source(sid, **vals.values)
        return out

    def read_named(self, node: YNode | None, where: str, fields: tuple[Field, ...]) -> dict[str, Named]:
        out: dict[str, Named] = {}
        for name, _key, body in self.keyed(node, where):
            if isinstance(body, YScalar):  # the short form: id: Title
                title = self.text(body, f"{where}.{name}")
                if title is not INVALID:
                    out[name] = Named(name, title)
                continue
            vals = self.record(body, f"{where}.{name}", fields)
            if vals is not None and vals.complete:
                out[name] = Named(name, **vals.values)
        return out

    # -- variables ------------------------------------------------------------------------

    def read_variables(self, node: YNode | None) -> dict[str, Variable]:
        out: dict[str, Variable] = {}
        for name, key, body in self.keyed(node, "variables"):
            where = f"variables.{name}"
            tnode = body.get("type") if isinstance(body, YMap) else None
            tname = tnode.value if isinstance(tnode, YScalar) else None
            fields = [Field("type", one_of(*VARIABLE_TYPES), True), Field("question", text, True),
                      Field("typical", _any), Field("optional", boolean, default=False), Field("fhir", _any),
                      Field("source", one_of(*FACT_SOURCES)), Field("over_time", one_of(*OVER_TIME_RULES), default="free"),
                      Field("advances_while", _any)]
            if tname in ("int", "decimal"):
                bound = integer if tname == "int" else number
                fields += [Field("min", bound, True), Field("max", bound, True), Field("unit", text, True)]
            elif tname == "duration":
                fields += [Field("min", integer, True), Field("max", integer, True),
                           Field("unit", one_of("days", "weeks", "months"), True)]
            elif tname in ("enum", "set"):
                fields += [Field("values", lambda r, n, w: r.names(n, w, VALUE), True)]
            vals = self.record(body, where, fields)
            if vals is None or not vals.complete:
                continue
            var = self.variable(name, key.span, vals, where)
            if var is not None:
                var = self.typical(var.replace(optional=vals["optional"], source=vals["source"]), vals["typical"], where)
                var = self.over_time(var, vals, where)
                if vals["fhir"] is not None:
                    var = var.replace(fhir=self.fhir_binding(var, vals["fhir"], f"{where}.fhir"))
                out[name] = var
        return out

    def over_time(self, var: Variable, vals: Values, where: str) -> Variable:
        """``over_time`` (how the fact may change between visits of a course) and a clock's
        ``advances_while``, checked against the variable's type."""
        rule, span = vals["over_time"], vals.span("over_time")
        kind = var.type.kind
        if rule == "clock" and (kind not in ("duration", "int") or var.unit not in ("days", "weeks")):
            self.err("bad-over-time", f"{where}.over_time: a clock is a duration (or a whole number) counted in days or "
                                      f"weeks (it advances by the time between visits); {var.name} is "
                                      f"{X.describe_type(var.type)}" + (f" in {var.unit}" if var.unit else ""), span)
            return var
        if rule in ("grows", "clock") and var.optional:
            self.err("bad-over-time", f"{where}.over_time: an optional fact may be 'fixed' or 'free', not {rule!r} "
                                      "(it may have no value at a visit)", span)
            return var
        if vals["advances_while"] is not None:
            if rule != "clock":
                self.err("bad-over-time", f"{where}.advances_while: only a clock advances (over_time: clock)",
                         vals.span("advances_while"))
                return var
            self.clock_while[var.name] = vals["advances_while"]
        return var.replace(over_time=rule)

    def read_clock_conditions(self, variables: dict[str, Variable]) -> dict[str, Variable]:
        """Each clock's ``advances_while`` condition, read once the variables and
        definitions are known."""
        out = dict(variables)
        for name, node in self.clock_while.items():
            cond = self.condition()(self, node, f"variables.{name}.advances_while")
            if cond is not INVALID and name in out:
                out[name] = out[name].replace(advances_while=cond)
        return out

    def fhir_binding(self, var: Variable, node: YNode, where: str) -> FhirBinding | None:
        """``fhir: {rule, resource, codes, ...}``: how a health record holds the variable
        (see docs/language.md); checked against the variable's type."""
        fields = (Field("rule", one_of(*FHIR_RULES), True), Field("resource", _any, True),
                  Field("codes", _any), Field("within", self.duration), Field("unit", text),
                  Field("convert", one_of(*FAMILIES)), Field("map", _any), Field("members", _any),
                  Field("absent", _any))
        v = self.record(node, where, fields)
        if v is None or not v.complete:
            return None
        rule, kind = v["rule"], var.type.kind
        allowed, kinds = FHIR_RULES[rule]
        ok = True
        if kind not in kinds:
            self.err("wrong-type", f"{where}.rule: rule {rule!r} gives {' or '.join(kinds)} values, but {var.name} is {kind}",
                     v.span("rule"))
            ok = False
        resources = self.fhir_resources(v.nodes["resource"], f"{where}.resource", allowed)
        needs = {"latest": ("codes", "within", "unit"), "active": ("codes",) if kind != "set" else ("members",),
                 "history": ("codes",), "since": ("codes",), "gender": ("map",), "age": ()}[rule]
        for key in needs:
            if v[key] is None:
                self.err("missing-key", f"{where}: rule {rule!r} needs {key!r}", v.span("rule"))
                ok = False
        for key in ("codes", "within", "unit", "convert", "map", "members", "absent"):
            if v[key] is not None and key not in needs + ({"latest": ("convert",), "active": ("absent",), "history": ("absent",)}.get(rule, ())):
                self.err("unknown-key", f"{where}.{key}: rule {rule!r} does not use {key!r}", v.span(key))
                ok = False
        codes = self.fhir_codes(v.nodes["codes"], f"{where}.codes") if v["codes"] is not None else ()
        members: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        if v["members"] is not None and (m := self.mapping(v.nodes["members"], f"{where}.members")) is not None:
            for k, body in m.items:
                if str(k.value) not in var.type.values:
                    self.err("unknown-value", f"{where}.members: {k.value!r} is not a value of {var.name} "
                                              f"({', '.join(var.type.values)})", k.span)
                    ok = False
                    continue
                members.append((str(k.value), self.fhir_codes(body, f"{where}.members.{k.value}")))
        mapping: list[tuple[str, Any]] = []
        if v["map"] is not None and (m := self.mapping(v.nodes["map"], f"{where}.map")) is not None:
            for k, body in m.items:
                if str(k.value) not in FHIR_GENDERS:
                    self.one_of(k, f"{where}.map", FHIR_GENDERS)
                    ok = False
                    continue
                value, problem = coerce(var, plain(body))
                if problem:
                    self.err(problem[0], f"{where}.map.{k.value}: {problem[1]}", body.span)
                    ok = False
                    continue
                mapping.append((str(k.value), value))
        absent = None
        if v["absent"] is not None and not (isinstance(v.nodes["absent"], YScalar) and v.nodes["absent"].value == "unknown"):
            absent, problem = coerce(var, plain(v.nodes["absent"]))
            if problem:
                self.err(problem[0], f"{where}.absent: 'unknown' or a value: {problem[1]}", v.span("absent"))
                ok = False
        if resources is None or INVALID in codes or any(INVALID in c for _, c in members) or not ok:
            return None
        return FhirBinding(rule, resources, codes, Fraction(v["within"]) if v["within"] is not None else Fraction(0),
                           v["unit"] or "", v["convert"] or "", tuple(mapping), tuple(members), absent)

    def fhir_resources(self, node: YNode, where: str, allowed: tuple[str, ...]) -> tuple[str, ...] | None:
        items = node.items if isinstance(node, YSeq) else [node]
        out = []
        for item in items:
            if not (isinstance(item, YScalar) and item.value in allowed):
                self.err("wrong-type", f"{where}: expected {' or '.join(allowed)}, found {describe(item)}", item.span)
                return None
            out.append(str(item.value))
        return tuple(out) if out else None

    def fhir_codes(self, node: YNode, where: str) -> Any:
        """``{loinc: ['2160-0'], snomed: [38341003], ...}``: system short name -> codes."""
        m = self.mapping(node, where)
        if m is None:
            return (INVALID,)
        out: list[tuple[str, str]] = []
        for k, body in m.items:
            system = FHIR_SYSTEMS.get(str(k.value))
            if system is None:
                self.one_of(k, where, FHIR_SYSTEMS)
                return (INVALID,)
            s = self.seq(body, f"{where}.{k.value}")
            if s is None or not s.items:
                if s is not None:
                    self.err("wrong-type", f"{where}.{k.value}: expected at least one code", s.span)
                return (INVALID,)
            for item in s.items:
                if not (isinstance(item, YScalar) and isinstance(item.value, (str, int)) and not isinstance(item.value, bool)
                        and str(item.value).strip()):
                    self.err("wrong-type", f"{where}.{k.value}: expected a code, found {describe(item)}", item.span)
                    return (INVALID,)
                out.append((system, str(item.value).strip()))
        return tuple(out)

    def variable(self, name: str, span: Span, vals: Values, where: str) -> Variable | None:
        tname, question = vals["type"], vals["question"]
        if tname == "bool":
            return Variable(name, X.BOOL, question, span)
        if tname in ("int", "decimal", "duration"):
            lo, hi = vals["min"], vals["max"]
            if lo > hi:
                self.err("bad-domain", f"{where}: min {format_number(lo)} is greater than max {format_number(hi)}", vals.span("min"))
                return None
            if tname == "duration" and vals["unit"] not in self.unit_days:
                self.err("unit-undeclared", f"{where}.unit: months have no fixed length: declare how the guideline "
                                            "counts them (for example 'durations: {rule: 3 months = 13 weeks, why: ...}')",
                         vals.span("unit"))
                return None
            typ = X.Type("duration", name=name, unit=vals["unit"]) if tname == "duration" else X.INT if tname == "int" else X.DEC
            return Variable(name, typ, question, span, vals["unit"], lo, hi)
        values: list[tuple[str, Span]] = vals["values"]
        seen: set[str] = set()
        for v, sp in values:
            if v in seen:
                self.err("duplicate-value", f"{where}.values: {v!r} is listed twice", sp)
            seen.add(v)
        if not values:
            self.err("bad-domain", f"{where}.values: an {tname} needs at least one value", vals.span("values"))
            return None
        return Variable(name, X.Type(tname, tuple(dict.fromkeys(v for v, _ in values)), name), question, span)

    def typical(self, var: Variable, node: YNode | None, where: str) -> Variable:
        """Attach the optional ``typical`` value (checked like a patient value)."""
        if node is None:
            return var
        value, problem = coerce(var, plain(node))
        if problem:
            self.err(problem[0], f"{where}.typical: {problem[1]}", node.span)
            return var
        return var.replace(typical=value)

    # -- constraints, definitions, conflicts, invariants ----------------------------------

    def listed(self, node: YNode | None, section: str, kind: str, fields: tuple[Field, ...]) -> list[tuple[Values, Span]]:
        """The complete items of a list section whose items carry an ``id``; every id,
        complete or not, is declared so ``wellformed`` can find one used twice."""
        out = []
        for where, item in self.items(node, section) if node is not None else ():
            v = self.record(item, where, (Field("id", identifier, True),) + fields)
            if v is not None and v["id"] is not None:
                self.decls.append(Decl(kind, v["id"], v.span("id")))
            if v is not None and v.complete:
                out.append((v, item.span))
        return out

    def provenance(self) -> tuple[Field, ...]:
        """``origin`` and ``sources``: a safety addition must cite its own sources."""
        return (ORIGIN_FIELD, Field("sources", self.ref_list("source", "", least=0), default=()))

    def cited(self, v: Values, where: str) -> bool:
        """A safety addition without a citation is an error (it is not in the source)."""
        if v["origin"] == "safety" and not v["sources"]:
            self.err("missing-citation", f"{where}: a safety addition cites at least one source (sources: [...])",
                     v.span("origin") or v.span("sources"))
            return False
        return True

    def read_constraints(self, node: YNode | None) -> list[Constraint]:
        fields = (Field("holds", self.condition(), True), Field("why", text, True), *self.provenance())
        return [Constraint(v["id"], v["holds"], v["why"], sp, v["origin"], v["sources"])
                for v, sp in self.listed(node, "constraints", "constraint", fields) if self.cited(v, f"constraint {v['id']}")]

    def read_definitions(self, node: YNode | None) -> dict[str, Definition]:
        """Definitions are conditions (``when``, or the short form ``name: condition``) or
        computed values (``value``, with an optional ``unit``). They are checked in the order
        of their use, so a definition's type is known wherever it is used."""
        fields = (Field("when", _any), Field("value", _any), Field("unit", text, default=""),
                  Field("why", text, default=""), *self.provenance())
        found: list[tuple[str, YScalar, YNode, str, Values | None]] = []
        for name, key, body in self.keyed(node, "definitions") if node is not None else ():
            where = f"definitions.{name}"
            if isinstance(body, YScalar):  # the short form: name: condition or formula
                found.append((name, key, body, "value", None))
                continue
            v = self.record(body, where, fields)
            if v is None or not v.complete:
                continue
            if (v["when"] is None) == (v["value"] is None):
                self.err("missing-key" if v["when"] is None else "wrong-type",
                         f"{where}: give either 'when' (a condition) or 'value' (a computed number)", body.span)
                continue
            found.append((name, key, v["when"] or v["value"], "condition" if v["when"] is not None else "number", v))
        trees = {name: _surface(body) for name, _key, body, _want, _v in found}
        by_name = {x[0]: x for x in found}
        out: dict[str, Definition] = {}
        for name in dependency_order({n: _names_in(trees[n]) for n in by_name}):
            _n, key, body, want, v = by_name[name]
            cond = self.read_expr(body, f"definitions.{name}" + (f".{'when' if want == 'condition' else 'value'}" if v else ""),
                                  want, tree=trees[name])
            if cond is None:
                continue
            definition = Definition(name, cond, v["why"] if v else "", key.span, v["unit"] if v else "",
                                    v["origin"] if v else "source", v["sources"] if v else ())
            # what later definitions and conditions need to know of it, even if it is refused below
            self.def_types[name] = cond.type
            self.def_needs[name] = definition.needs
            self.def_known[name] = X.known_when(cond.expr, self.def_known)
            if v is not None and not self.cited(v, f"definitions.{name}"):
                continue
            out[name] = definition
        return {n: out[n] for n, *_ in found if n in out}

    def read_conflicts(self, node: YNode | None) -> list[Conflict]:
        fields = (Field("between", self.ref_list("recommendation", "a conflict names at least two recommendations", 2), True),
                  Field("why", text, True))
        return [Conflict(v["id"], v["between"], v["why"], sp) for v, sp in self.listed(node, "conflicts", "conflict", fields)]

    def read_invariants(self, node: YNode | None) -> list[Invariant]:
        fields = (Field("holds", self.condition(allow_recommends=True), True), Field("why", text, True), *self.provenance())
        return [Invariant(v["id"], v["holds"], v["why"], sp, v["origin"], v["sources"])
                for v, sp in self.listed(node, "invariants", "invariant", fields) if self.cited(v, f"invariant {v['id']}")]

    # -- recommendations ------------------------------------------------------------------

    def read_recommendations(self, rec_nodes: list[tuple[str, YScalar, YNode]],
                             variables: dict[str, Variable]) -> dict[str, Recommendation]:
        fields = (
            Field("text", text, True), Field("short", text, True),
            Field("category", self.ref("category"), True), Field("strength", self.ref("strength"), True),
            Field("sources", self.ref_list("source", "every recommendation cites at least one source"), True),
            Field("kind", one_of("do", "avoid"), default="do"),
            Field("timing", self.timing), Field("note", text, default=""), Field("section", text, True),
            ORIGIN_FIELD, Field("contraindicated_when", self.safety_rules("why", True), default=()),
            Field("cautions", self.safety_rules("text", False), default=()), Field("safety_review", text, default=""),
            Field("treatment", one_of("drug", "procedure"), default=""),
            Field("records", self.records(variables), default=()),
        )
        out: dict[str, Recommendation] = {}
        for name, key, body in rec_nodes:
            v = self.record(body, f"recommendations.{name}", fields)
            if v is not None and v.complete:
                values = dict(v.values)
                values["contraindications"] = values.pop("contraindicated_when")
                out[name] = Recommendation(name, span=key.span, **values)
        return out

    def records(self, variables: dict[str, Variable]) -> Callable[[NodeReader, YNode, str], Any]:
        """``records: {variable: value, ...}``: what carrying out a recommendation records in
        the patient's history, each value checked like a patient value."""
        def read(r: NodeReader, node: YNode, where: str) -> Any:
            m = self.mapping(node, where)
            if m is None:
                return INVALID
            out = []
            for k, v in m.items:
                name = str(k.value)
                var = variables.get(name)
                if var is None:
                    self.err("unknown-variable", f"{where}: unknown variable {name!r}{did_you_mean(name, variables)}", k.span)
                    return INVALID
                if var.over_time == "fixed":
                    self.err("bad-over-time", f"{where}.{name}: {name} is fixed over a course (over_time: fixed); "
                                              "nothing can record a new value of it", k.span)
                    return INVALID
                value, problem = coerce(var, plain(v))
                if problem:
                    self.err(problem[0], f"{where}.{name}: {problem[1]}", v.span)
                    return INVALID
                out.append((name, value))
            return tuple(out)
        return read

    def safety_rules(self, words: str, needs_when: bool) -> Callable[[NodeReader, YNode, str], Any]:
        """A list of contraindications (``{when, why, sources}``) or cautions (``{when?,
        text, sources}``), each citing its sources."""
        fields = (Field("when", self.condition(), needs_when), Field(words, text, True),
                  Field("sources", self.ref_list("source", "a safety rule cites at least one source"), True))

        def read(r: NodeReader, node: YNode, where: str) -> Any:
            out, ok = [], True
            for iw, item in self.items(node, where):
                v = self.record(item, iw, fields)
                if v is None or not v.complete:
                    ok = False
                    continue
                out.append(SafetyRule(v["when"], v[words], v["sources"], item.span))
            return tuple(out) if ok else INVALID
        return read

    def timing(self, r: NodeReader, node: YNode, where: str) -> Any:
        """``{text, start?, end?}`` with durations (``start: 3 months``), or the older
        ``start_week``/``end_week`` in whole weeks; either end may be open."""
        fields = (Field("text", text, True), Field("start", self.duration), Field("end", self.duration),
                  Field("start_week", integer), Field("end_week", integer))
        v = self.record(node, where, fields)
        if v is None or not v.complete:
            return INVALID
        weeks: dict[str, int | None] = {}
        for end in ("start", "end"):
            days, old = v[end], v[f"{end}_week"]
            if days is not None and old is not None:
                self.err("wrong-type", f"{where}: give '{end}' or '{end}_week', not both", v.span(end))
                return INVALID
            if days is not None and days % 7:
                self.err("wrong-type", f"{where}.{end}: timings are kept in whole weeks; this is {format_number(days / 7)} weeks",
                         v.span(end))
                return INVALID
            weeks[end] = int(days / 7) if days is not None else old
        start, end_ = weeks["start"], weeks["end"]
        if start is not None and end_ is not None and start > end_:
            self.err("bad-domain", f"{where}: the start (week {start}) is after the end (week {end_})",
                     v.span("start") or v.span("start_week"))
            return INVALID
        return Timing(v["text"], start, end_)

    # -- courses of care ------------------------------------------------------------------

    def read_course(self, node: YNode) -> Course | None:
        """``course: {every, horizon, why, properties}``: how courses are unrolled for the
        temporal properties (GP012), and the properties."""
        v = self.record(node, "course", (Field("every", self.duration, True), Field("horizon", self.duration, True),
                                         Field("why", text, True), Field("properties", _any, default=None)))
        if v is None or not v.complete:
            return None
        every, horizon = v["every"], v["horizon"]
        for name, days in (("every", every), ("horizon", horizon)):
            if days <= 0 or days % 7:
                self.err("bad-domain", f"course.{name}: expected a positive whole number of weeks, found "
                                       f"{format_number(days / 7)} weeks", v.span(name))
                return None
        if horizon % every:
            self.err("bad-domain", f"course.horizon: {format_number(horizon / 7)} weeks is not a whole number of visits "
                                   f"{format_number(every / 7)} weeks apart", v.span("horizon"))
            return None
        if horizon // every + 1 > MAX_VISITS:
            self.err("bad-domain", f"course.horizon: {int(horizon // every) + 1} visits; the unrolling takes at most "
                                   f"{MAX_VISITS} (for example 10 years of weekly visits)", v.span("horizon"))
            return None
        props: list[TemporalProperty] = []
        seen: dict[str, Span] = {}
        for where, item in self.items(v["properties"], "course.properties") if v["properties"] is not None else ():
            prop = self.temporal_property(item, where, every, horizon)
            if prop is None:
                continue
            if prop.id in seen:
                self.err("duplicate-id", f"{where}: temporal property {prop.id!r} is already declared at {seen[prop.id]}",
                         prop.span)
                continue
            seen[prop.id] = prop.span
            props.append(prop)
        return Course(every, horizon, v["why"], node.span, tuple(props))

    def temporal_property(self, item: YNode, where: str, every: Fraction, horizon: Fraction) -> TemporalProperty | None:
        """One property: an ``id``, a ``why``, its citations, and exactly one of the forms."""
        cond = self.condition(allow_recommends=True)
        forms: dict[str, tuple[Field, ...]] = {
            "always": (),
            "eventually": (Field("holds", cond, True), Field("by", cond, True), Field("while", cond),
                           Field("from", cond)),
            "at_most": (Field("of", cond, True), Field("span", self.duration, True)),
            "not_repeated_within": (Field("of", cond, True), Field("span", self.duration, True), Field("unless", cond)),
        }
        v = self.record(item, where, (Field("id", identifier, True), Field("why", text, True), *self.provenance(),
                                      *(Field(f, _any) for f in forms)))
        if v is None or not v.complete:
            return None
        given = [f for f in forms if v[f] is not None]
        if len(given) != 1:
            self.err("missing-key" if not given else "wrong-type",
                     f"{where}: give exactly one of {', '.join(forms)}" + (f" (found {', '.join(given)})" if given else ""),
                     item.span)
            return None
        form = given[0]
        if not self.cited(v, f"temporal property {v['id']}"):
            return None
        common = {"id": v["id"], "form": form, "why": v["why"], "span": item.span, "origin": v["origin"],
                  "sources": v["sources"]}
        if form == "always":
            holds = cond(self, v[form], f"{where}.always")
            return None if holds is INVALID else TemporalProperty(holds=holds, **common)
        f = self.record(v[form], f"{where}.{form}", forms[form])
        if f is None or not f.complete:
            return None
        if form == "eventually":
            return TemporalProperty(holds=f["holds"], deadline=f["by"], during=f["while"], start=f["from"], **common)
        if f["span"] <= 0:
            self.err("bad-domain", f"{where}.{form}.span: expected a positive duration", f.span("span"))
            return None
        if form == "not_repeated_within" and f["span"] <= every:
            self.err("bad-domain", f"{where}.{form}.span: no two visits are less than {format_number(f['span'] / 7)} weeks "
                                   f"apart (a visit every {format_number(every / 7)} weeks): the property would say nothing",
                     f.span("span"))
            return None
        if form == "at_most" and f["span"] >= horizon:
            self.err("bad-domain", f"{where}.{form}.span: no two visits are more than {format_number(horizon / 7)} weeks "
                                   "apart (the horizon): the property would say nothing", f.span("span"))
            return None
        return TemporalProperty(holds=f["of"], days=f["span"], unless=f["unless"], **common)

    # -- steps ----------------------------------------------------------------------------

    def read_steps(self, node: YNode | None) -> dict[str, Step]:
        out: dict[str, Step] = {}
        for name, key, body in self.keyed(node, "steps"):
            where = f"steps.{name}"
            m = self.mapping(body, where)
            if m is None:
                continue
            knode = m.get("kind")
            kind = knode.value if isinstance(knode, YScalar) else None
            if kind not in STEP_KINDS:
                if knode is None:
                    self.err("missing-key", f"{where}: missing required key 'kind'", m.span)
                else:
                    self.one_of(knode, f"{where}.kind", STEP_KINDS)
                continue
            fields = [Field("kind", _any, True), Field("title", text, True),
                      Field("phase", self.ref("phase"), default=""), Field("why", text, default="")]
            step_ref = self.ref("step", owner=name)
            if kind == "decision":
                fields += [Field("choice", one_of("single", "first", "any"), True),
                           Field("branches", self.branches(name), True),
                           Field("otherwise", step_ref), Field("otherwise_label", text, default="otherwise")]
            elif kind == "action":
                fields += [Field("recommend", self.ref_list("recommendation", "an action recommends at least one thing"), True),
                           Field("next", step_ref)]
            elif kind == "fork":
                fields += [Field("tracks", self.ref_list("step", "a fork needs at least two tracks", 2, owner=name), True)]
            v = self.record(m, where, fields)
            if v is not None and v.complete:
                values = dict(v.values)
                del values["kind"]
                out[name] = Step(name, kind, span=key.span, **values)
        return out

    def branches(self, step: str) -> Callable[[NodeReader, YNode, str], Any]:
        fields = (Field("when", self.condition(path_guards=True), True), Field("label", text, default=""),
                  Field("goto", self.ref("step", owner=step), True))

        def read(r: NodeReader, node: YNode, where: str) -> Any:
            s = self.seq(node, where)
            if s is None:
                return INVALID
            if not s.items:
                self.err("wrong-type", f"{where}: a decision needs at least one branch", s.span)
                return INVALID
            out: list[Branch] = []
            ok = True
            for bw, item in self.items(node, where):
                v = self.record(item, bw, fields)
                if v is None or not v.complete:
                    ok = False
                    continue
                cond: Condition = v["when"]
                out.append(Branch(v["label"] or cond.text, cond, v["goto"], item.span))
            return tuple(out) if ok else INVALID
        return read


def _keys(node: YNode | None) -> set[str]:
    return {str(k.value) for k, _ in node.items} if isinstance(node, YMap) else set()


def _key_span(node: YNode | None, name: str) -> Span | None:
    """The span of a key itself (``Values`` keeps the value nodes only)."""
    key = node.key(name) if isinstance(node, YMap) else None
    return key.span if key is not None else None


def _surface(node: YNode) -> X.S | None:
    """The surface tree of a scalar's text, or None when it does not parse (the checker
    reports the error when the definition is read)."""
    if not isinstance(node, YScalar) or not isinstance(node.value, str):
        return None
    try:
        return X.parse(node.value)
    except X.ExprError:
        return None


def _names_in(tree: X.S | None) -> set[str]:
    """Every name a surface tree mentions (the definitions among them are what it uses)."""
    out: set[str] = set()
    todo = [tree] if tree is not None else []
    while todo:
        t = todo.pop()
        if t.op == "name":
            out.add(t.args[0])
        todo.extend(a for a in t.args if isinstance(a, X.S))
    return out
