"""DMN 1.1-1.5 decision models -> :class:`Guideline`, so every check, query and chart works on them.

A decision table becomes a decision step whose branches are its rules, in the modeller's
numbering (``rule 3``, located at the ``<rule>`` element), each going to an action step that
recommends the rule's output (one per distinct output; a default output is the
``otherwise``). Hit policies map onto the decision kinds the language has:

==============  ==================================================================
UNIQUE          ``single``: an overlap is a GP003 exclusivity failure, with regions
ANY             ``any`` and a conflict between its different outputs (GP001)
PRIORITY        ``first``, the rules sorted by the priority of their outputs
FIRST           ``first`` in rule order (masked rules: GP004; misleading: GP009)
RULE ORDER,     ``any`` (every matching rule's output applies; the answer is the set
OUTPUT ORDER,   of outputs, not their order or repetitions)
COLLECT
==============  ==================================================================

A gap (no rule matches, no default output) is a GP002 coverage failure, listed as regions.
A table input that is another single-hit decision table's output (a decision requirement
graph; ``Name``, or ``Name.component`` of a table with several outputs) reads definitions
``<table>_gives_<k>``: "that table's result is its k-th output", built from its rules under
its hit policy. Inputs are typed: a number is an exact decimal (an ``integer``
or ``long`` an int), a string an enum of its allowed values (or of the strings the tables
test, plus ``other`` for every other string), a boolean a bool. Inputs are assumed present
(FEEL ``null`` inputs are not modelled).

Whatever lies beyond that subset (literal expressions, contexts, invocations and the other
boxed expressions, FEEL beyond simple unary tests, COLLECT with an aggregation, ...) is kept
in :attr:`Guideline.not_analysed` with its reason and position: ``verify`` reports each as
NOT ANALYSED (exit 3), never skips it. The XML is read with the standard library's expat
parser, which gives every element its line and column; a DOCTYPE (and with it every entity
declaration, internal or external) is refused before anything is expanded.
"""
from __future__ import annotations

import os
import re
from fractions import Fraction
from xml.parsers import expat

from . import expr as X
from . import feel, wellformed
from .errors import Collector, Diagnostic, InputError, Span
from .guideline import (Branch, Choice, Condition, Conflict, Constraint, Definition, Guideline, Named, NotAnalysed, Recommendation,
                        Source, Step, Variable)
from .record import Record
from .source import SourceText, read_text

#: The namespace of each DMN version's model (its XML schema's target namespace).
DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
HIT_POLICIES = {"UNIQUE": "U", "ANY": "A", "PRIORITY": "P", "FIRST": "F", "RULE ORDER": "R",
                "OUTPUT ORDER": "O", "COLLECT": "C"}
_CHOICE: dict[str, Choice] = {"U": "single", "A": "any", "P": "first", "F": "first", "R": "any", "O": "any", "C": "any"}
#: Boxed expressions and other decision logic beyond decision tables, as the modeller calls them.
_LOGIC = {"literalExpression": "a literal expression", "context": "a context (boxed expression)",
          "invocation": "an invocation of a business knowledge model (boxed expression)",
          "relation": "a relation (boxed expression)", "list": "a list (boxed expression)",
          "functionDefinition": "a function definition (boxed expression)",
          "conditional": "a conditional (boxed expression)", "filter": "a filter (boxed expression)",
          "for": "an iteration (boxed expression)", "every": "a quantifier (boxed expression)",
          "some": "a quantifier (boxed expression)"}
#: Numbers without allowed values are bounded here: a table compares an input only with its
#: literals, so every value beyond them behaves like one within (the bound grows past them).
NUMBER_BOUND = 10 ** 9
_RESERVED = X.KEYWORDS | set(X.FUNCTIONS) | {"known", "recommends", "at", "least", "of"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_TYPES = {"string": "string", "number": "number", "boolean": "boolean", "integer": "int", "long": "int",
          "int": "int", "double": "number", "decimal": "number"}


# ------------------------------------------------------------------------- safe XML reading


class Element:
    """One XML element: its namespace and local name, attributes, children, text and the
    1-based position of its start tag."""

    __slots__ = ("attrs", "children", "ns", "parts", "span", "tag")

    def __init__(self, ns: str, tag: str, attrs: dict[str, str], span: Span):
        self.ns, self.tag, self.attrs, self.span = ns, tag, attrs, span
        self.children: list[Element] = []
        self.parts: list[str] = []

    def all(self, tag: str) -> list[Element]:
        return [c for c in self.children if c.tag == tag and c.ns == self.ns]

    def first(self, tag: str) -> Element | None:
        found = self.all(tag)
        return found[0] if found else None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def text_of(self, tag: str = "text") -> str | None:
        """The text of the child ``<text>`` (FEEL cells and expressions keep theirs there)."""
        t = self.first(tag)
        return None if t is None else t.text


class _Refused(Exception):
    pass


def parse_xml(src: SourceText) -> Element:
    """The document's root element; exit-2 diagnostics for malformed XML or any DOCTYPE."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Element] = []
    root: list[Element] = []

    def here() -> Span:
        return Span(src.file, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)

    def refuse(*_args: object) -> int:
        raise _Refused()

    def start(name: str, attrs: dict[str, str]) -> None:
        ns, _, local = name.rpartition("}")
        e = Element(ns, local, {k.rpartition("}")[2]: v for k, v in attrs.items()}, here())
        (stack[-1].children if stack else root).append(e)
        stack.append(e)

    def end(_name: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack:
            stack[-1].parts.append(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(src.text, True)
    except _Refused:
        span = here()
        raise InputError([Diagnostic("xml-doctype", "a DOCTYPE is not allowed in a DMN file (entity declarations, "
                                     "entity expansion and external entities are refused)", span,
                                     _line(src, span))]) from None
    except expat.ExpatError as e:
        span = Span(src.file, e.lineno, e.offset + 1)
        raise InputError([Diagnostic("xml-syntax", f"malformed XML: {expat.ErrorString(e.code)}", span,
                                     _line(src, span))]) from None
    return root[0]


def _line(src: SourceText, span: Span) -> str | None:
    return src.lines[span.line - 1] if 1 <= span.line <= len(src.lines) else None


# ------------------------------------------------------------------------- the model read


class Imported(Record):
    """A DMN model read into a guideline, and how DMN names map onto it (for answers in DMN
    terms: test-case replays, patient input by DMN name)."""

    guideline: Guideline
    #: DMN input name (inputData, or ``bkm.parameter``) -> variable
    variables: dict[str, str]
    #: variable -> {DMN string: enum value} for string inputs
    strings: dict[str, dict[str, str]]
    #: recommendation -> (table name, ((output name, FEEL literal), ...))
    outputs: dict[str, tuple[str, tuple[tuple[str, feel.Literal], ...]]]
    #: table name -> its step
    tables: dict[str, str]


class _Input(Record):
    label: str
    expr: str
    span: Span
    type_ref: str
    allowed: str | None  # inputValues text


class _Output(Record):
    name: str
    values: tuple[feel.Literal, ...]  # outputValues (the PRIORITY order)
    default: feel.Literal | None


class _Rule(Record):
    number: int
    span: Span
    description: str
    cells: tuple[tuple[feel.UnaryTests, Span], ...]
    outputs: tuple[feel.Literal, ...]


class _Table(Record):
    name: str
    what: str  # "decision 'X'" or "business knowledge model 'X'"
    span: Span
    hit: str
    inputs: tuple[_Input, ...]
    outputs: tuple[_Output, ...]
    rules: tuple[_Rule, ...]
    #: parameter name -> typeRef (business knowledge models)
    params: dict[str, str]
    decision: bool


class _Read(Record):
    """A column that reads output ``output`` of another decision table (a requirement graph)."""

    table: _Table
    output: int


class _VarInfo:
    """What the tables say about one input variable."""

    def __init__(self, name: str, span: Span):
        self.name = name
        self.span = span
        self.kind = ""  # string, number, int, boolean
        #: the allowed values (None: any value of the type)
        self.allowed: feel.UnaryTests | None = None
        self.allowed_span: Span = span
        self.literals: list[feel.Literal] = []
        self.question = ""


def load_dmn(path: str | os.PathLike[str]) -> Guideline:
    """Read a DMN file into a guideline; raises :class:`InputError` for bad input."""
    return import_dmn(read_text(path, "DMN model")).guideline


def import_dmn(src: SourceText) -> Imported:
    return _Importer(src).run()


def snake(name: str) -> str:
    """A DMN name as a guideline identifier: ``guestCount`` -> ``guest_count``,
    ``Pre-bureauRiskCategory`` -> ``pre_bureau_risk_category``."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").lower()
    if not s or not s[0].isalpha():
        s = "x_" + s
    return s + "_" if s in _RESERVED else s


def _value_id(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
    if not s or not s[0].isalpha():
        s = "v_" + s
    return s + "_" if s in _RESERVED else s


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _number(v: Fraction) -> str:
    """An exact number in the condition language (decimals, or a quotient when it has none)."""
    if v.denominator == 1:
        return str(v.numerator)
    d = v.denominator
    twos = fives = 0
    while d % 2 == 0:
        d, twos = d // 2, twos + 1
    while d % 5 == 0:
        d, fives = d // 5, fives + 1
    if d != 1:
        return f"({v.numerator} / {v.denominator})"
    places = max(twos, fives)
    scaled = abs(v.numerator) * 10 ** places // v.denominator
    digits = str(scaled).rjust(places + 1, "0")
    return ("-" if v < 0 else "") + digits[:-places] + "." + digits[-places:]


class _Skip(Exception):
    """A table (or decision) outside the analysed subset: why, and where."""

    def __init__(self, reason: str, span: Span):
        super().__init__(reason)
        self.reason = reason
        self.span = span


class _Importer:
    def __init__(self, src: SourceText):
        self.src = src
        self.c: Collector = src.collector()
        self.not_analysed: list[NotAnalysed] = []
        self.item_defs: dict[str, Element] = {}
        self.types: dict[str, str] = {}  # element name -> typeRef (inputData, decisions)

    # -- diagnostics ------------------------------------------------------------------

    def error(self, code: str, message: str, span: Span) -> InputError:
        return InputError([Diagnostic(code, message, span, self.c.excerpt(span))])

    def cell_span(self, e: Element) -> Span:
        t = e.first("text")
        return t.span if t is not None else e.span

    # -- reading ----------------------------------------------------------------------

    def run(self) -> Imported:
        root = parse_xml(self.src)
        if root.tag != "definitions" or root.ns not in DMN_NAMESPACES:
            raise self.error("dmn-structure", "expected a DMN <definitions> element in a DMN 1.1-1.5 namespace "
                            f"({', '.join(DMN_NAMESPACES)}), found <{root.tag}>"
                            + (f" in namespace {root.ns!r}" if root.ns else " without a namespace"), root.span)
        model_name = root.attrs.get("name", "") or os.path.basename(self.src.file)
        for e in root.all("itemDefinition"):
            self.item_defs[e.attrs.get("name", "")] = e
        for e in root.all("inputData") + root.all("decision"):
            var = e.first("variable")
            self.types[e.attrs.get("name", "")] = (var.attrs.get("typeRef", "") if var is not None else "")
        tables: list[_Table] = []
        for e in root.children:
            if e.ns != root.ns:
                continue
            try:
                if e.tag == "decision":
                    tables.extend(self.decision(e))
                elif e.tag == "businessKnowledgeModel":
                    tables.extend(self.bkm(e))
                elif e.tag == "decisionService":
                    raise _Skip("a decision service (it only groups decisions; each decision is read on its own)",
                                e.span)
                elif e.tag == "import":
                    raise _Skip("an imported model is not read (its decisions are neither analysed nor available "
                                "to this model's tables)", e.span)
            except _Skip as s:
                what = {"decision": "decision", "businessKnowledgeModel": "business knowledge model",
                        "decisionService": "decision service", "import": "import"}[e.tag]
                name = e.attrs.get("name", "") or e.attrs.get("namespace", "")
                self.not_analysed.append(NotAnalysed(f"{what} {name!r}", s.reason, s.span))
        return _Builder(self, model_name, tables).build()

    def decision(self, e: Element) -> list[_Table]:
        name = e.attrs.get("name", "")
        logic = [c for c in e.children if c.tag in _LOGIC or c.tag == "decisionTable"]
        if not logic:
            raise _Skip("it has no decision logic", e.span)
        body = logic[0]
        if body.tag != "decisionTable":
            raise _Skip(f"its logic is {_LOGIC[body.tag]}", body.span)
        return [self.table(body, name, f"decision {name!r}", {}, True)]

    def bkm(self, e: Element) -> list[_Table]:
        name = e.attrs.get("name", "")
        logic = e.first("encapsulatedLogic")
        if logic is None:
            raise _Skip("it has no encapsulated logic", e.span)
        params = {p.attrs.get("name", ""): p.attrs.get("typeRef", "") for p in logic.all("formalParameter")}
        body = [c for c in logic.children if c.tag in _LOGIC or c.tag == "decisionTable"]
        if not body:
            raise _Skip("its function has no body", logic.span)
        if body[0].tag != "decisionTable":
            raise _Skip(f"its logic is {_LOGIC[body[0].tag]}", body[0].span)
        return [self.table(body[0], name, f"business knowledge model {name!r}", params, False)]

    def table(self, t: Element, name: str, what: str, params: dict[str, str], decision: bool) -> _Table:
        hit_text = t.attrs.get("hitPolicy", "UNIQUE")
        hit = HIT_POLICIES.get(hit_text) or (hit_text if hit_text in HIT_POLICIES.values() else None)
        if hit is None:
            raise self.error("dmn-structure", f"{what}: unknown hit policy {hit_text!r} (expected one of "
                            f"{', '.join(HIT_POLICIES)})", t.span)
        if "aggregation" in t.attrs:
            raise _Skip(f"hit policy COLLECT with the aggregation {t.attrs['aggregation']} (its result is a "
                        "number computed from the outputs, not an output of one rule)", t.span)
        if t.attrs.get("preferredOrientation", "Rule-as-Row") == "CrossTable":
            raise _Skip("a crosstab decision table", t.span)
        inputs = []
        for i in t.all("input"):
            ie = i.first("inputExpression")
            if ie is None:
                raise self.error("dmn-structure", f"{what}: an input without an <inputExpression>", i.span)
            iv = i.first("inputValues")
            inputs.append(_Input(i.attrs.get("label", ""), (ie.text_of() or "").strip(), i.span,
                                 ie.attrs.get("typeRef", ""), iv.text_of() if iv is not None else None))
        outputs = []
        for o in t.all("output"):
            ov = o.first("outputValues")
            values = self.output_values(ov) if ov is not None else ()
            de = o.first("defaultOutputEntry")
            default = self.literal(de) if de is not None else None
            outputs.append(_Output(o.attrs.get("name", "") or t.attrs.get("outputLabel", "") or name, values, default))
        if not outputs:
            raise self.error("dmn-structure", f"{what}: a decision table needs at least one <output>", t.span)
        rules = []
        for n, r in enumerate(t.all("rule"), 1):
            entries, outs = r.all("inputEntry"), r.all("outputEntry")
            if len(entries) != len(inputs) or len(outs) != len(outputs):
                raise self.error("dmn-structure", f"{what}, rule {n}: {len(entries)} input entries and {len(outs)} output "
                                f"entries for {len(inputs)} inputs and {len(outputs)} outputs", r.span)
            cells = []
            for k, cell in enumerate(entries):
                text = cell.text_of() or ""
                try:
                    cells.append((feel.parse_unary_tests(text), self.cell_span(cell)))
                except feel.Unsupported as u:
                    raise _Skip(f"rule {n}, input {k + 1} ({inputs[k].label or inputs[k].expr}): '{text.strip()}' is "
                                f"beyond simple unary tests: {u.message}", self.cell_span(cell)) from None
            desc = r.first("description")
            values = tuple(self.literal(o, f"rule {n}, output") for o in outs)
            for column, v, e in zip(outputs, values, outs, strict=True):
                if column.values and not any(feel.same(v, w) for w in column.values):
                    raise self.error("dmn-value", f"{what}, rule {n}, output {column.name!r}: {v.text} is not one of its "
                                     f"output values ({', '.join(w.text for w in column.values)})", self.cell_span(e))
            rules.append(_Rule(n, r.span, " ".join(desc.text.split()) if desc is not None else "", tuple(cells), values))
        if not rules:
            raise _Skip("the table has no rules", t.span)
        if hit == "P" and not all(o.values for o in outputs):
            raise _Skip("hit policy PRIORITY without output values, which give the priority", t.span)
        return _Table(name, what, t.span, hit, tuple(inputs), tuple(outputs), tuple(rules), params, decision)

    def literal(self, e: Element, where: str = "default output") -> feel.Literal:
        text = e.text_of() or ""
        try:
            return feel.parse_literal(text)
        except feel.Unsupported as u:
            raise _Skip(f"{where}: '{text.strip()}' is not a literal: {u.message}", self.cell_span(e)) from None

    def output_values(self, e: Element) -> tuple[feel.Literal, ...]:
        """An output's values: the outputs its rules may give, in priority order."""
        text = e.text_of() or ""
        try:
            tests = feel.parse_unary_tests(text)
        except feel.Unsupported as u:
            raise _Skip(f"output values '{text.strip()}': {u.message}", self.cell_span(e)) from None
        if tests.negated or any(not isinstance(t, feel.Comparison) or t.op != "=" for t in tests.tests):
            raise _Skip(f"output values '{text.strip()}' are not a list of literals", self.cell_span(e))
        return tuple(t.value for t in tests.tests if isinstance(t, feel.Comparison))

    def allowed(self, type_ref: str, seen: frozenset[str] = frozenset()) -> tuple[str, str | None, Span | None]:
        """A typeRef's base type and allowed values text, through item definitions."""
        base = type_ref.rpartition(":")[2] if type_ref.startswith("feel:") else type_ref
        item = self.item_defs.get(base)
        if item is None or base in seen:
            return base, None, None
        av = item.first("allowedValues")
        inner = item.text_of("typeRef") or ""
        if item.first("itemComponent") is not None:
            return "structure", None, item.span
        kind, nested, span = self.allowed(inner, seen | {base})
        if av is not None:
            return kind, av.text_of(), self.cell_span(av)
        return kind, nested, span


class _Builder:
    """Turns the tables read into the guideline's records."""

    def __init__(self, imp: _Importer, model: str, tables: list[_Table]):
        self.imp = imp
        self.file = imp.src.file
        self.model = model
        self.tables = tables
        self.vars: dict[str, _VarInfo] = {}
        self.dmn_names: dict[str, str] = {}
        self.step_ids: set[str] = set()
        self.defs: dict[str, str] = {}  # definition name -> condition text
        #: number inputs whose allowed values are more than their bounds: (variable, values, where)
        self.allowed_constraints: list[tuple[str, feel.UnaryTests, Span]] = []
        #: analysed single-hit table -> (its step id, its possible results, a condition text per result)
        self.results: dict[str, tuple[str, list[tuple[feel.Literal, ...]], list[str]]] = {}

    def skip(self, t: _Table, reason: str, span: Span) -> None:
        self.imp.not_analysed.append(NotAnalysed(t.what, reason, span))

    def build(self) -> Imported:
        by_name = {t.name: t for t in self.tables if t.decision}
        # The column sources: a variable, or another analysed table's result.
        plans: list[tuple[_Table, list[str | _Read]]] = []
        for t in self.tables:
            try:
                plans.append((t, [self.column(t, i, by_name) for i in t.inputs]))
            except _Skip as s:
                self.skip(t, s.reason, s.span)
        for t, cols in plans:
            for k, col in enumerate(cols):
                if isinstance(col, str):
                    self.note_literals(t, k, col)
        variables = self.variables()
        scope_vars = {n: v.type for n, v in variables.items()}
        bounds = {n: (v.min, v.max) for n, v in variables.items() if v.min is not None}
        steps: dict[str, Step] = {}
        recs: dict[str, Recommendation] = {}
        conflicts: list[Conflict] = []
        outputs: dict[str, tuple[str, tuple[tuple[str, feel.Literal], ...]]] = {}
        table_steps: dict[str, str] = {}
        texts: dict[str, tuple[_Table, list[str], str, list[tuple[feel.Literal, ...]]]] = {}
        for t, cols in self.ordered(plans):
            try:
                conds = [self.rule_text(t, r, cols, variables) for r in t.rules]
            except _Skip as s:
                self.skip(t, s.reason, s.span)
                continue
            sid = _unique(snake(t.name), self.step_ids)
            results = list(dict.fromkeys(r.outputs for r in t.rules))
            defaults = tuple(o.default for o in t.outputs)
            default: tuple[feel.Literal, ...] | None = None
            if all(d is not None for d in defaults):
                default = tuple(d for d in defaults if d is not None)
                if default not in results:
                    results.append(default)
            texts[t.name] = (t, conds, sid, results)
            if t.hit in "UAPF":
                self.results[t.name] = (sid, results, self.result_conditions(t, conds, results, default))
        defs = self.definitions(scope_vars, bounds)
        scope = X.Scope(scope_vars, bounds, {n: X.BOOL for n in defs})
        for name, (t, conds, sid, results) in texts.items():
            try:
                branches = self.branches(t, conds, sid, results, scope)
            except _Skip as s:
                self.skip(t, s.reason, s.span)
                continue
            table_steps[name] = sid
            for k, res in enumerate(results, 1):
                oid = f"{sid}_out{k}"
                shown = ", ".join(f"{o.name} = {v.text}" for o, v in zip(t.outputs, res, strict=True))
                first = next((r.span for r in t.rules if r.outputs == res), t.span)
                recs[oid] = Recommendation(oid, shown, shown, "output", "dmn", ("dmn",), "do", first, t.name)
                steps[oid] = Step(oid, "action", shown, first, recommend=(oid,))
                outputs[oid] = (t.name, tuple((o.name, v) for o, v in zip(t.outputs, res, strict=True)))
            default_k = next((k for k, res in enumerate(results, 1)
                              if all(o.default is not None for o in t.outputs)
                              and res == tuple(o.default for o in t.outputs)), None)
            steps[sid] = Step(sid, "decision", f"{t.name} (hit policy {_policy(t.hit)})", t.span, choice=_CHOICE[t.hit],
                              branches=branches, otherwise=f"{sid}_out{default_k}" if default_k else None,
                              otherwise_label="default output", why=f"{t.what}, {len(t.rules)} rules")
            if t.hit == "A" and len(results) > 1:
                conflicts.append(Conflict(f"{sid}_any", tuple(f"{sid}_out{k}" for k in range(1, len(results) + 1)),
                                          "hit policy ANY: rules that match together must give the same output", t.span))
        start = self.start(steps, table_steps)
        # inputs of tables found beyond the subset after their columns were read are no facts to ask
        used = set().union(*(X.variables_of(b.cond.expr, {n: d.cond.expr for n, d in defs.items()})
                             for s in steps.values() for b in s.branches))
        variables = {n: v for n, v in variables.items() if n in used}
        constraints = [Constraint(f"{n}_allowed", self.check(self.tests_text(f"allowed values of {n}", variables[n], a, sp),
                                                            scope, sp), "the allowed values of the DMN input", sp)
                       for n, a, sp in self.allowed_constraints if n in variables]
        g = Guideline(
            file=self.file, id=snake(self.model), title=self.model, version="DMN",
            description=f"DMN decision model {self.model!r}", sources={"dmn": Source("dmn", self.model)},
            categories={"output": Named("output", "Decision outputs")}, strengths={"dmn": Named("dmn", "DMN rule")},
            phases={}, variables=variables, constraints=constraints, definitions=defs, recommendations=recs,
            start=start, steps=steps, conflicts=conflicts, invariants=[],
            not_analysed=tuple(self.imp.not_analysed))
        order = wellformed.check(g, [], [], self.imp.c)
        self.imp.c.raise_if_any()
        return Imported(g.replace(order=order), {d: v for d, v in self.dmn_names.items() if v in variables},
                        {n: self.string_ids(n) for n in g.variables if g.variables[n].type.kind == "enum"},
                        outputs, table_steps)

    # -- columns and variables ------------------------------------------------------------

    def column(self, t: _Table, i: _Input, by_name: dict[str, _Table]) -> str | _Read:
        """Where a column's values come from: a variable, or an output of another decision
        table (``Name``, or ``Name.component`` of a table with several outputs); a decision
        that is not a table is read as an input."""
        name, _, component = i.expr.rpartition(".") if i.expr not in by_name else (i.expr, "", "")
        if name in by_name and i.expr not in t.params and by_name[name] is not t:
            up = by_name[name]
            outputs = [o.name for o in up.outputs]
            if up.hit not in "UAPF":
                raise _Skip(f"input '{i.expr}' reads the list output of {up.what} (hit policy {_policy(up.hit)}); "
                            "only the result of a single-hit table is read", i.span)
            if not component and len(outputs) == 1:
                return _Read(up, 0)
            if component in outputs:
                return _Read(up, outputs.index(component))
            raise _Skip(f"input '{i.expr}' reads {up.what}, whose outputs are {', '.join(outputs)}: name one of "
                        f"them ({name}.{outputs[0]})", i.span)
        if not _NAME.fullmatch(i.expr) and i.expr not in self.imp.types and i.expr not in t.params:
            raise _Skip(f"input expression '{i.expr}' is a FEEL expression, not the name of an input", i.span)
        return self.as_variable(t, i)

    def as_variable(self, t: _Table, i: _Input) -> str:
        dmn = f"{t.name}.{i.expr}" if i.expr in t.params else i.expr
        if dmn in self.dmn_names:
            name = self.dmn_names[dmn]
        else:
            base = snake(f"{t.name} {i.expr}") if i.expr in t.params else snake(i.expr)
            name = _unique(base, set(self.vars))
            self.dmn_names[dmn] = name
            self.vars[name] = _VarInfo(name, i.span)
        info = self.vars[name]
        type_ref = i.type_ref or t.params.get(i.expr, "") or self.imp.types.get(i.expr, "")
        kind, allowed, aspan = self.imp.allowed(type_ref)
        for ref in (t.params.get(i.expr, ""), self.imp.types.get(i.expr, "")):
            if allowed is None and ref:
                _, allowed, aspan = self.imp.allowed(ref)
        if i.allowed is not None:
            allowed, aspan = i.allowed, i.span
        kind = _TYPES.get(kind, "" if not kind else "?" + kind)
        if kind.startswith("?") or kind == "structure":
            raise _Skip(f"input '{i.expr}' has the type {type_ref!r}, which is not analysed (only numbers, strings "
                        "and booleans)", i.span)
        if kind and info.kind and kind != info.kind:
            raise _Skip(f"input '{i.expr}' is {kind} here but {info.kind} in another table", i.span)
        info.kind = info.kind or kind
        info.question = info.question or f"{i.label or i.expr}?"
        if allowed is not None and info.allowed is None:
            try:
                tests = feel.parse_allowed(allowed)
            except feel.Unsupported as u:
                raise _Skip(f"allowed values of '{i.expr}': {u.message}", aspan or i.span) from None
            if info.kind == "string" and not tests.any and (tests.negated or any(
                    not isinstance(t, feel.Comparison) or t.op != "=" for t in tests.tests)):
                raise _Skip(f"allowed values of '{i.expr}' are not a list of strings", aspan or i.span)
            info.allowed = None if tests.any else tests
            info.allowed_span = aspan or i.span
        return name

    def note_literals(self, t: _Table, k: int, var: str) -> None:
        info = self.vars[var]
        for r in t.rules:
            info.literals.extend(r.cells[k][0].literals())
        if not info.kind:  # no type given: the literals say it
            kinds = {lit.kind for lit in info.literals}
            info.kind = {"number": "number", "string": "string", "boolean": "boolean"}.get(
                kinds.pop() if len(kinds) == 1 else "", "")

    def string_ids(self, name: str) -> dict[str, str]:
        info = self.vars[name]
        values = [lit.value for lit in (info.allowed.literals() if info.allowed is not None else info.literals)
                  if lit.kind == "string"]
        taken = set(self.vars)  # a value must not read as the name of a variable
        return {str(v): _unique(_value_id(str(v)), taken) for v in dict.fromkeys(values)}

    def variables(self) -> dict[str, Variable]:
        out: dict[str, Variable] = {}
        for name, info in self.vars.items():
            kind = info.kind or "string"
            if kind == "boolean":
                out[name] = Variable(name, X.BOOL, info.question, info.span)
            elif kind in ("number", "int"):
                lo, hi = self.number_bounds(info)
                a = info.allowed
                if a is not None and (lo, hi) != (a.literals()[0].value, a.literals()[-1].value):
                    self.allowed_constraints.append((name, a, info.allowed_span))
                typ = X.INT if kind == "int" else X.DEC
                if kind == "int":
                    lo, hi = Fraction(lo.__ceil__()), Fraction(hi.__floor__())
                    lo_v: object = int(lo)
                    hi_v: object = int(hi)
                else:
                    lo_v, hi_v = lo, hi
                typical = Fraction(0) if lo <= 0 <= hi else lo
                out[name] = Variable(name, typ, info.question, info.span, "", lo_v, hi_v,
                                     typical=int(typical) if kind == "int" else typical)
            else:
                ids = self.string_ids(name)
                values = list(ids.values())
                if info.allowed is None:
                    values.append(_unique("other", set(values) | set(self.vars)))
                out[name] = Variable(name, X.Type("enum", tuple(values), name), info.question, info.span)
        return out

    def number_bounds(self, info: _VarInfo) -> tuple[Fraction, Fraction]:
        """The bounds of a number input: its allowed values when they are one closed range that
        holds every literal the cells test, else a bound beyond every literal (the allowed
        values then become a constraint, and a cell beyond them an unreachable rule)."""
        a = info.allowed
        if (a is not None and not a.negated and len(a.tests) == 1 and isinstance(a.tests[0], feel.Interval)
                and a.tests[0].low_closed and a.tests[0].high_closed):
            lo, hi = a.tests[0].low.value, a.tests[0].high.value
            if (isinstance(lo, Fraction) and isinstance(hi, Fraction)
                    and all(lo <= lit.value <= hi for lit in info.literals if isinstance(lit.value, Fraction))):
                return lo, hi
        nums = [abs(lit.value) for lit in info.literals + (a.literals() if a is not None else [])
                if isinstance(lit.value, Fraction)]
        bound = Fraction(NUMBER_BOUND)
        while nums and max(nums) * 10 >= bound:
            bound *= 1000
        return -bound, bound

    # -- rules as conditions ----------------------------------------------------------------

    def rule_text(self, t: _Table, r: _Rule, cols: list[str | _Read], variables: dict[str, Variable]) -> str:
        parts = []
        for (tests, span), col, inp in zip(r.cells, cols, t.inputs, strict=True):
            if tests.any:
                continue
            if isinstance(col, _Read):
                parts.append(self.chained(tests, col))
                continue
            parts.append(self.tests_text(f"{t.what}, rule {r.number}, input {inp.label or inp.expr!r}",
                                         variables[col], tests, span))
        return " and ".join(parts) or "true"

    def tests_text(self, where: str, var: Variable, tests: feel.UnaryTests, span: Span) -> str:
        """A cell (or allowed values) as a condition on ``var``; a list of strings is ``in``."""
        alts = [self.positive(where, var, p, span) for p in tests.tests]
        strings = [a.partition(" == ")[2] for a in alts if var.type.kind == "enum"]
        if len(alts) > 1 and len(strings) == len(alts):
            text = f"{var.name} in [{', '.join(strings)}]"
        else:
            text = alts[0] if len(alts) == 1 else "(" + " or ".join(alts) + ")"
        return f"not ({text})" if tests.negated else text

    def chained(self, tests: feel.UnaryTests, read: _Read) -> str:
        """A test of another table's result: the results it admits, as definitions."""
        up = read.table
        if up.name not in self.results:
            raise _Skip(f"it reads the output of {up.what}, which is not analysed", up.span)
        sid, results, _conds = self.results[up.name]
        names = []
        for k, res in enumerate(results, 1):
            if feel.admits(tests, res[read.output]):
                names.append(f"{sid}_gives_{k}")
                self.defs.setdefault(names[-1], "")
        return "(" + " or ".join(names) + ")" if names else "false"

    def positive(self, where: str, var: Variable, p: feel.Positive, span: Span) -> str:
        name, kind = var.name, var.type.kind
        lits = [p.value] if isinstance(p, feel.Comparison) else [p.low, p.high]
        want = {"bool": "boolean", "enum": "string"}.get(kind, "number")
        for lit in lits:
            if lit.kind != want:
                raise self.imp.error("dmn-type", f"{where}: expected a {want}, found {lit.text}", span)
        if kind == "bool":
            if not isinstance(p, feel.Comparison) or p.op != "=":
                raise _Skip(f"{where}: an ordering of booleans", span)
            return name if p.value.value else f"not {name}"
        if kind == "enum":
            if not isinstance(p, feel.Comparison) or p.op != "=":
                raise _Skip(f"{where}: an ordering of strings (only equality of strings is analysed)", span)
            ids = self.string_ids(name)
            if str(p.value.value) not in ids:
                raise self.imp.error("dmn-value", f"{where}: {p.value.text} is not one of the allowed values "
                                    f"({', '.join(_quote(s) for s in ids)})", span)
            return f"{name} == {ids[str(p.value.value)]}"
        if isinstance(p, feel.Comparison):
            assert isinstance(p.value.value, Fraction)
            return f"{name} {'==' if p.op == '=' else p.op} {_number(p.value.value)}"
        assert isinstance(p.low.value, Fraction) and isinstance(p.high.value, Fraction)
        return (f"({name} {'>=' if p.low_closed else '>'} {_number(p.low.value)} and "
                f"{name} {'<=' if p.high_closed else '<'} {_number(p.high.value)})")

    def result_conditions(self, t: _Table, conds: list[str], results: list[tuple[feel.Literal, ...]],
                          default: tuple[feel.Literal, ...] | None) -> list[str]:
        """For each possible result of a single-hit table, when the table gives it."""
        order = self.priority(t)
        out = []
        for res in results:
            alts = []
            for pos, i in enumerate(order):
                if t.rules[i].outputs != res:
                    continue
                before = [f"not ({conds[j]})" for j in order[:pos]] if t.hit in "PF" else []
                alts.append(" and ".join([f"({conds[i]})", *before]))
            if res == default:
                alts.append(" and ".join(f"not ({c})" for c in conds))
            out.append(" or ".join(f"({a})" for a in alts) or "false")
        return out

    def priority(self, t: _Table) -> list[int]:
        """Rule indices in the order a decision step tries them (PRIORITY: by output value)."""
        if t.hit != "P":
            return list(range(len(t.rules)))

        def rank(i: int) -> tuple[int, ...]:
            key = []
            for o, v in zip(t.outputs, t.rules[i].outputs, strict=True):
                found = [k for k, w in enumerate(o.values) if feel.same(v, w)]
                key.append(found[0] if found else len(o.values))
            return (*key, i)
        return sorted(range(len(t.rules)), key=rank)

    def definitions(self, scope_vars: dict[str, X.Type], bounds: dict[str, tuple[object, object]]) -> dict[str, Definition]:
        wanted = dict(self.defs)
        texts: dict[str, str] = {}
        for sid, results, conds in self.results.values():
            for k in range(1, len(results) + 1):
                if f"{sid}_gives_{k}" in wanted:
                    texts[f"{sid}_gives_{k}"] = conds[k - 1]
        # a result condition may itself read other results: check them in dependency order
        out: dict[str, Definition] = {}
        pending = dict(texts)
        while pending:
            progressed = False
            for name, text in list(pending.items()):
                uses = set(re.findall(r"[a-z][a-z0-9_]*_gives_\d+", text))
                if uses - set(out):
                    continue
                span = self.def_span(name)
                cond = self.check(text, X.Scope(scope_vars, bounds, {n: X.BOOL for n in out}), span)
                out[name] = Definition(name, cond, "the table gives this output", span)
                del pending[name]
                progressed = True
            if not progressed:
                name = next(iter(pending))
                raise self.imp.error("cycle", f"decision tables read each other's outputs in a circle ({name})",
                                    self.def_span(name))
        return out

    def def_span(self, name: str) -> Span:
        sid = name.rpartition("_gives_")[0]
        for t in self.tables:
            if self.results.get(t.name, ("",))[0] == sid:
                return t.span
        return Span(self.file, 1, 1)

    def check(self, text: str, scope: X.Scope, span: Span) -> Condition:
        try:
            checked = X.check_typed(X.parse(text), scope, lambda _o: span)
        except X.ExprError as err:
            raise self.imp.error(err.code, f"the condition built from the table is refused: {err.message} ({text})",
                                span) from None
        return Condition(text, checked.expr, span)

    def branches(self, t: _Table, conds: list[str], sid: str, results: list[tuple[feel.Literal, ...]],
                 scope: X.Scope) -> tuple[Branch, ...]:
        out = []
        for i in self.priority(t):
            r = t.rules[i]
            label = f"rule {r.number}" + (f": {r.description}" if r.description else "")
            cond = self.check(conds[i], scope, r.span)
            out.append(Branch(label, cond, f"{sid}_out{results.index(r.outputs) + 1}", r.span))
        return tuple(out)

    def ordered(self, plans: list[tuple[_Table, list[str | _Read]]]) -> list[tuple[_Table, list[str | _Read]]]:
        """Tables after the tables they read (a requirement graph is acyclic)."""
        done = {t.name for t in self.tables} - {t.name for t, _ in plans}
        out = []
        pending = list(plans)
        while pending:
            ready = [p for p in pending if all(not isinstance(c, _Read) or c.table.name in done for c in p[1])]
            if not ready:
                t = pending[0][0]
                raise self.imp.error("cycle", f"{t.what} reads a table that reads it back", t.span)
            for p in ready:
                out.append(p)
                done.add(p[0].name)
                pending.remove(p)
        return out

    def start(self, steps: dict[str, Step], tables: dict[str, str]) -> str:
        ids = list(tables.values())
        if len(ids) == 1:
            return ids[0]
        sid = _unique("tables", self.step_ids)
        if not ids:
            steps[sid] = Step(sid, "end", "No decision table is analysed", Span(self.file, 1, 1))
        else:
            steps[sid] = Step(sid, "fork", f"Decision tables of {self.model}", Span(self.file, 1, 1), tracks=tuple(ids))
        return sid


def _policy(hit: str) -> str:
    return next(k for k, v in HIT_POLICIES.items() if v == hit)


def _quote(s: str) -> str:
    return '"' + s + '"'

