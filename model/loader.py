"""YAML nodes -> :class:`Guideline`, reporting every problem in one pass.

The schema is written out as small functions, one per section, so each error names the
field and points at the author's own text. Checks that need the whole document (names,
references, cycles, unreferenced steps) run after every section has been read, on whatever
parts were valid, so one typo does not hide the next.
"""
from __future__ import annotations

import heapq
import os
import re
from typing import Any, Callable

from . import expr as X
from .errors import Collector, InputError, Span
from .guideline import (Branch, Condition, Conflict, Constraint, Definition, Guideline,
                        Invariant, Named, Recommendation, Source, Step, Timing, Variable)
from .source import SourceText, YMap, YNode, YScalar, YSeq, parse_yaml, plain, read_text

LANGUAGE_VERSION = 1
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_VALUE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

TOP_KEYS = {
    "guideproof": True, "guideline": True, "sources": True, "categories": True,
    "strengths": True, "phases": False, "variables": True, "constraints": False,
    "definitions": False, "recommendations": True, "dispositions": False, "start": True,
    "steps": True, "conflicts": False, "invariants": False,
}


def load_guideline(path: str | os.PathLike) -> Guideline:
    """Read and check a guideline file; raises :class:`InputError` with every problem."""
    src = read_text(path, "guideline")
    return load_guideline_text(src)


def load_guideline_text(src: SourceText) -> Guideline:
    root = parse_yaml(src)
    return _Loader(src).load(root)


def describe(node: YNode | None) -> str:
    if node is None:
        return "nothing"
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    v = node.value
    if v is None:
        return "an empty value"
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if isinstance(v, int):
        return f"the number {v}"
    if isinstance(v, float):
        return f"the number {v}"
    return f"the text {v!r}" if len(v) < 40 else "a text"


class _Loader:
    def __init__(self, src: SourceText):
        self.src = src
        self.c: Collector = src.collector()
        self.root_span = Span(src.file, 1, 1)

    # -- generic shape helpers ------------------------------------------------------------

    def err(self, code: str, msg: str, span: Span | None) -> None:
        self.c.error(code, msg, span)

    def mapping(self, node: YNode | None, where: str) -> YMap | None:
        if isinstance(node, YMap):
            return node
        self.err("wrong-type", f"{where}: expected a mapping, found {describe(node)}", getattr(node, "span", None))
        return None

    def seq(self, node: YNode | None, where: str) -> YSeq | None:
        if isinstance(node, YSeq):
            return node
        self.err("wrong-type", f"{where}: expected a list, found {describe(node)}", getattr(node, "span", None))
        return None

    def fields(self, node: YMap, allowed: dict[str, bool], where: str) -> dict[str, YNode]:
        """Check keys against ``allowed`` (name -> required); return the present ones."""
        out: dict[str, YNode] = {}
        for k, v in node.items:
            name = str(k.value)
            if name not in allowed:
                import difflib  # only on the error path: it is slow to import

                close = difflib.get_close_matches(name, list(allowed), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(sorted(allowed))}"
                self.err("unknown-key", f"{where}: unknown key {name!r}{hint}", k.span)
                continue
            out[name] = v
        for name, required in allowed.items():
            if required and name not in out:
                self.err("missing-key", f"{where}: missing required key {name!r}", node.span)
        return out

    def text(self, node: YNode | None, where: str, allow_empty: bool = False) -> str | None:
        if isinstance(node, YScalar) and isinstance(node.value, str) and (allow_empty or node.value.strip()):
            return node.value.strip()
        if isinstance(node, YScalar) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return str(node.value)
        self.err("wrong-type", f"{where}: expected text, found {describe(node)}", getattr(node, "span", self.root_span))
        return None

    def integer(self, node: YNode | None, where: str) -> int | None:
        if isinstance(node, YScalar) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.value
        self.err("wrong-type", f"{where}: expected a whole number, found {describe(node)}", getattr(node, "span", self.root_span))
        return None

    def ident(self, node: YNode | None, where: str, pattern: re.Pattern = _ID) -> str | None:
        if isinstance(node, YScalar) and isinstance(node.value, str) and pattern.match(node.value):
            return node.value
        if isinstance(node, YScalar) and isinstance(node.value, str):
            self.err("bad-name", f"{where}: {node.value!r} is not a valid name (lower-case letters, digits and '_', starting with a letter)", node.span)
            return None
        self.err("wrong-type", f"{where}: expected a name, found {describe(node)}", getattr(node, "span", self.root_span))
        return None

    def names(self, node: YNode | None, where: str, pattern: re.Pattern = _ID) -> list[tuple[str, Span]]:
        s = self.seq(node, where)
        if s is None:
            return []
        out = []
        for item in s.items:
            n = self.ident(item, where, pattern)
            if n is not None:
                out.append((n, item.span))
        return out

    def keyed(self, node: YNode | None, where: str) -> list[tuple[str, YScalar, YNode]]:
        """A mapping of id -> body (ids checked)."""
        m = self.mapping(node, where)
        if m is None:
            return []
        out = []
        for k, v in m.items:
            name = self.ident(k, f"{where} id")
            if name is not None:
                out.append((name, k, v))
        return out

    # -- the document ---------------------------------------------------------------------

    def load(self, root: YNode | None) -> Guideline:
        if root is None:
            self.err("wrong-type", "the guideline file is empty; expected a mapping with 'guideproof', 'guideline', 'variables', ...", self.root_span)
            self.c.raise_if_any()
        top = self.mapping(root, "guideline file")
        if top is None:
            self.c.raise_if_any()
        assert top is not None
        f = self.fields(top, TOP_KEYS, "top level")
        self.top = top

        if "guideproof" in f:
            v = self.integer(f["guideproof"], "guideproof (language version)")
            if v is not None and v != LANGUAGE_VERSION:
                self.err("unsupported-version", f"language version {v} is not supported (this is version {LANGUAGE_VERSION})", f["guideproof"].span)

        meta = self.meta(f.get("guideline"))
        self.sources = self.read_sources(f.get("sources"))
        self.categories = self.read_named(f.get("categories"), "categories")
        self.strengths = self.read_named(f.get("strengths"), "strengths")
        self.phases = self.read_named(f.get("phases"), "phases") if "phases" in f else {}
        self.variables = self.read_variables(f.get("variables"))
        self.var_types = {n: v.type for n, v in self.variables.items()}
        self.bounds = {n: (v.min, v.max) for n, v in self.variables.items() if v.min is not None}
        self.def_names = self.definition_names(f.get("definitions"))
        self.rec_nodes = self.keyed(f.get("recommendations"), "recommendations")
        self.rec_ids = {n for n, _, _ in self.rec_nodes}
        self.name_clashes()

        constraints = self.read_constraints(f.get("constraints"))
        definitions = self.read_definitions(f.get("definitions"))
        recs = self.read_recommendations()
        steps = self.read_steps(f.get("steps"))
        start = self.ident(f.get("start"), "start") if "start" in f else None
        conflicts = self.read_conflicts(f.get("conflicts"))
        invariants = self.read_invariants(f.get("invariants"))
        dispositions = tuple(self.rec_refs(f.get("dispositions"), "dispositions")) if "dispositions" in f else ()
        dispositions_span = top.key("dispositions").span if "dispositions" in f else None

        order = self.graph_checks(start, steps, f.get("start"), recs)
        self.c.raise_if_any()
        assert meta is not None and start is not None
        return Guideline(
            file=self.src.file, id=meta[0], title=meta[1], version=meta[2], description=meta[3],
            sources=self.sources, categories=self.categories, strengths=self.strengths,
            phases=self.phases, variables=self.variables, constraints=constraints,
            definitions=definitions, recommendations=recs, start=start, steps=steps,
            conflicts=conflicts, invariants=invariants, dispositions=dispositions,
            dispositions_span=dispositions_span, order=tuple(order),
        )

    def meta(self, node: YNode | None):
        m = self.mapping(node, "guideline")
        if m is None:
            return None
        f = self.fields(m, {"id": True, "title": True, "version": True, "description": False}, "guideline")
        gid = self.text(f.get("id"), "guideline.id") if "id" in f else None
        title = self.text(f.get("title"), "guideline.title") if "title" in f else None
        version = self.text(f.get("version"), "guideline.version") if "version" in f else None
        desc = self.text(f["description"], "guideline.description") if "description" in f else ""
        if gid is None or title is None or version is None:
            return None
        return gid, title, version, desc or ""

    def read_sources(self, node: YNode | None) -> dict[str, Source]:
        out: dict[str, Source] = {}
        m = self.mapping(node, "sources")
        if m is None:
            return out
        for k, v in m.items:
            sid = str(k.value)
            body = self.mapping(v, f"sources.{sid}")
            if body is None:
                continue
            f = self.fields(body, {"title": True, "publisher": False, "year": False, "note": False}, f"sources.{sid}")
            title = self.text(f.get("title"), f"sources.{sid}.title") if "title" in f else None
            year = self.integer(f["year"], f"sources.{sid}.year") if "year" in f else None
            pub = self.text(f["publisher"], f"sources.{sid}.publisher") if "publisher" in f else ""
            note = self.text(f["note"], f"sources.{sid}.note") if "note" in f else ""
            out[sid] = Source(sid, title or "", pub or "", year, note or "")
        return out

    def read_named(self, node: YNode | None, where: str) -> dict[str, Named]:
        out: dict[str, Named] = {}
        for name, key, body in self.keyed(node, where):
            if isinstance(body, YScalar):
                title = self.text(body, f"{where}.{name}")
                out[name] = Named(name, title or name)
                continue
            m = self.mapping(body, f"{where}.{name}")
            if m is None:
                continue
            f = self.fields(m, {"title": True, "description": False}, f"{where}.{name}")
            title = self.text(f.get("title"), f"{where}.{name}.title") if "title" in f else None
            desc = self.text(f["description"], f"{where}.{name}.description") if "description" in f else ""
            out[name] = Named(name, title or name, desc or "")
        return out

    # -- variables ------------------------------------------------------------------------

    def read_variables(self, node: YNode | None) -> dict[str, Variable]:
        out: dict[str, Variable] = {}
        for name, key, body in self.keyed(node, "variables"):
            where = f"variables.{name}"
            m = self.mapping(body, where)
            if m is None:
                continue
            tnode = m.get("type")
            tname = tnode.value if isinstance(tnode, YScalar) else None
            allowed = {"type": True, "question": True, "typical": False}
            if tname == "int":
                allowed |= {"min": True, "max": True, "unit": True}
            elif tname in ("enum", "set"):
                allowed |= {"values": True}
            f = self.fields(m, allowed, where)
            question = self.text(f.get("question"), f"{where}.question") if "question" in f else None
            if tnode is None:
                continue
            if tname not in ("bool", "int", "enum", "set"):
                self.err("wrong-type", f"{where}.type: expected one of bool, int, enum, set, found {describe(tnode)}", tnode.span)
                continue
            if tname == "bool":
                out[name] = self.typical(Variable(name, X.BOOL, question or "", key.span), f.get("typical"), where)
            elif tname == "int":
                lo = self.integer(f["min"], f"{where}.min") if "min" in f else None
                hi = self.integer(f["max"], f"{where}.max") if "max" in f else None
                unit = self.text(f["unit"], f"{where}.unit") if "unit" in f else None
                if lo is None or hi is None:
                    continue
                if lo > hi:
                    self.err("bad-domain", f"{where}: min {lo} is greater than max {hi}", f["min"].span)
                    continue
                out[name] = self.typical(Variable(name, X.INT, question or "", key.span, unit or "", lo, hi),
                                         f.get("typical"), where)
            else:
                values = self.names(f.get("values"), f"{where}.values", _VALUE) if "values" in f else []
                seen: set[str] = set()
                for v, sp in values:
                    if v in seen:
                        self.err("duplicate-value", f"{where}.values: {v!r} is listed twice", sp)
                    seen.add(v)
                if not values:
                    if "values" in f:
                        self.err("bad-domain", f"{where}.values: an {tname} needs at least one value", f["values"].span)
                    continue
                var = Variable(name, X.Type(tname, tuple(dict.fromkeys(v for v, _ in values)), name), question or "", key.span)
                out[name] = self.typical(var, f.get("typical"), where)
        return out

    def typical(self, var: Variable, node: YNode | None, where: str) -> Variable:
        """Attach the optional ``typical`` value (checked like a patient value)."""
        if node is None:
            return var
        from .patient import coerce

        value, problem = coerce(var, plain(node))
        if problem:
            self.err(problem[0], f"{where}.typical: {problem[1]}", node.span)
            return var
        return var.replace(typical=value)

    def definition_names(self, node: YNode | None) -> set[str]:
        if node is None:
            return set()
        m = node if isinstance(node, YMap) else None
        return {str(k.value) for k, _ in m.items} if m else set()

    def name_clashes(self) -> None:
        """A name must mean one thing: a variable, a definition, or an enum value."""
        for name, var in self.variables.items():
            if name in self.def_names:
                self.err("duplicate-name", f"{name!r} is both a variable and a definition", var.span)
        for var in self.variables.values():
            if var.type.kind == "enum":
                for v in var.type.values:
                    if v in self.variables or v in self.def_names:
                        self.err("ambiguous-name", f"value {v!r} of {var.name} is also the name of a variable or definition", var.span)

    # -- conditions -----------------------------------------------------------------------

    def condition(self, node: YNode | None, where: str, allow_recommends: bool = False) -> Condition | None:
        if not isinstance(node, YScalar) or isinstance(node.value, (float,)) or node.value is None:
            self.err("wrong-type", f"{where}: expected a condition, found {describe(node)}", getattr(node, "span", self.root_span))
            return None
        text = "true" if node.value is True else "false" if node.value is False else str(node.value)
        scope = X.Scope(self.var_types, self.bounds, self.def_names, self.rec_ids, allow_recommends)
        span_at: Callable[[int], Span] = node.span_at if isinstance(node.value, str) else (lambda _o: node.span)
        try:
            tree = X.parse(text)
            e = X.check(tree, scope, span_at)
        except X.ExprError as err:
            self.err(err.code, f"{where}: {err.message}", span_at(err.offset))
            return None
        return Condition(" ".join(text.split()), e, node.span)

    def read_constraints(self, node: YNode | None) -> list[Constraint]:
        out: list[Constraint] = []
        if node is None:
            return out
        s = self.seq(node, "constraints")
        if s is None:
            return out
        ids: dict[str, Span] = {}
        for i, item in enumerate(s.items):
            where = f"constraints[{i + 1}]"
            m = self.mapping(item, where)
            if m is None:
                continue
            f = self.fields(m, {"id": True, "holds": True, "why": True}, where)
            cid = self.ident(f["id"], f"{where}.id") if "id" in f else None
            if cid and cid in ids:
                self.err("duplicate-id", f"{where}: constraint id {cid!r} is used twice", f["id"].span)
            cond = self.condition(f["holds"], f"constraint {cid or i + 1}") if "holds" in f else None
            why = self.text(f["why"], f"{where}.why") if "why" in f else None
            if cid and cond:
                ids[cid] = f["id"].span
                out.append(Constraint(cid, cond, why or "", m.span))
        return out

    def read_definitions(self, node: YNode | None) -> dict[str, Definition]:
        out: dict[str, Definition] = {}
        if node is None:
            return out
        for name, key, body in self.keyed(node, "definitions"):
            where = f"definitions.{name}"
            if isinstance(body, YScalar):
                cond, why = self.condition(body, where), ""
            else:
                m = self.mapping(body, where)
                if m is None:
                    continue
                f = self.fields(m, {"when": True, "why": False}, where)
                cond = self.condition(f["when"], where) if "when" in f else None
                why = (self.text(f["why"], f"{where}.why") or "") if "why" in f else ""
            if cond:
                out[name] = Definition(name, cond, why, key.span)
        # Definitions may use each other, but not in a circle.
        deps = {n: X.definitions_of(d.cond.expr) for n, d in out.items()}
        for cyc in _cycles(deps):
            d = out[cyc[0]]
            self.err("cycle", f"definitions refer to each other in a circle: {' -> '.join(cyc + [cyc[0]])}", d.span)
        return out

    # -- recommendations ------------------------------------------------------------------

    def rec_refs(self, node: YNode | None, where: str) -> list[str]:
        out = []
        for n, sp in self.names(node, where):
            if n not in self.rec_ids:
                self.err("unknown-reference", f"{where}: unknown recommendation {n!r}{suggest(n, self.rec_ids)}", sp)
            else:
                out.append(n)
        return out

    def read_recommendations(self) -> dict[str, Recommendation]:
        out: dict[str, Recommendation] = {}
        allowed = {"text": True, "short": True, "category": True, "strength": True, "sources": True,
                   "kind": False, "timing": False, "note": False, "section": True}
        for name, key, body in self.rec_nodes:
            where = f"recommendations.{name}"
            m = self.mapping(body, where)
            if m is None:
                continue
            f = self.fields(m, allowed, where)
            text = self.text(f["text"], f"{where}.text") if "text" in f else None
            short = self.text(f["short"], f"{where}.short") if "short" in f else None
            cat = self.choice(f.get("category"), self.categories, f"{where}.category")
            strength = self.choice(f.get("strength"), self.strengths, f"{where}.strength")
            kind = "do"
            if "kind" in f:
                k = f["kind"]
                if isinstance(k, YScalar) and k.value in ("do", "avoid"):
                    kind = k.value
                else:
                    self.err("wrong-type", f"{where}.kind: expected 'do' or 'avoid', found {describe(k)}", k.span)
            srcs: list[str] = []
            if "sources" in f:
                s = self.seq(f["sources"], f"{where}.sources")
                if s is not None:
                    if not s.items:
                        self.err("missing-citation", f"{where}.sources: every recommendation cites at least one source", s.span)
                    for item in s.items:
                        sid = str(item.value) if isinstance(item, YScalar) else None
                        if sid is None or sid not in self.sources:
                            self.err("unknown-reference", f"{where}.sources: unknown source {describe(item)} (declared: {', '.join(self.sources)})", item.span)
                        else:
                            srcs.append(sid)
            timing = self.timing(f["timing"], f"{where}.timing") if "timing" in f else None
            note = (self.text(f["note"], f"{where}.note") or "") if "note" in f else ""
            section = self.text(f["section"], f"{where}.section") if "section" in f else None
            if text and short and cat and strength and srcs and section:
                out[name] = Recommendation(name, text, short, cat, strength, tuple(srcs), kind, key.span,
                                           section, timing, note)
        return out

    def choice(self, node: YNode | None, options: dict[str, Named], where: str) -> str | None:
        if node is None:
            return None
        if isinstance(node, YScalar) and node.value in options:
            return node.value
        self.err("unknown-reference", f"{where}: expected one of {', '.join(options)}, found {describe(node)}", node.span)
        return None

    def timing(self, node: YNode, where: str) -> Timing | None:
        m = self.mapping(node, where)
        if m is None:
            return None
        f = self.fields(m, {"text": True, "start_week": False, "end_week": False}, where)
        text = self.text(f["text"], f"{where}.text") if "text" in f else None
        start = self.integer(f["start_week"], f"{where}.start_week") if "start_week" in f else None
        end = self.integer(f["end_week"], f"{where}.end_week") if "end_week" in f else None
        if start is not None and end is not None and start > end:
            self.err("bad-domain", f"{where}: start_week {start} is after end_week {end}", f["start_week"].span)
        return Timing(text, start, end) if text else None

    # -- steps ----------------------------------------------------------------------------

    def read_steps(self, node: YNode | None) -> dict[str, Step]:
        out: dict[str, Step] = {}
        self.step_refs: list[tuple[str, str, Span]] = []  # (from, to, span)
        for name, key, body in self.keyed(node, "steps"):
            where = f"steps.{name}"
            m = self.mapping(body, where)
            if m is None:
                continue
            knode = m.get("kind")
            kind = knode.value if isinstance(knode, YScalar) else None
            common = {"kind": True, "title": True, "phase": False, "why": False}
            if kind == "decision":
                allowed = common | {"choice": True, "branches": True, "otherwise": False, "otherwise_label": False}
            elif kind == "action":
                allowed = common | {"recommend": True, "next": False}
            elif kind == "fork":
                allowed = common | {"tracks": True}
            elif kind == "end":
                allowed = common
            else:
                if knode is None:
                    self.err("missing-key", f"{where}: missing required key 'kind'", m.span)
                else:
                    self.err("wrong-type", f"{where}.kind: expected decision, action, fork or end, found {describe(knode)}", knode.span)
                continue
            f = self.fields(m, allowed, where)
            title = self.text(f["title"], f"{where}.title") if "title" in f else None
            phase = ""
            if "phase" in f:
                phase = self.choice(f["phase"], self.phases, f"{where}.phase") or ""
            why = (self.text(f["why"], f"{where}.why") or "") if "why" in f else ""
            step: Step | None = None
            if kind == "decision":
                step = self.decision(name, f, where, title or "", phase, why, key.span)
            elif kind == "action":
                recs = self.rec_refs(f.get("recommend"), f"{where}.recommend") if "recommend" in f else []
                if "recommend" in f and isinstance(f["recommend"], YSeq) and not f["recommend"].items:
                    self.err("wrong-type", f"{where}.recommend: an action recommends at least one thing", f["recommend"].span)
                nxt = self.target(name, f["next"], f"{where}.next") if "next" in f else None
                step = Step(name, "action", title or "", key.span, phase, recommend=tuple(recs), next=nxt, why=why)
            elif kind == "fork":
                tracks = []
                for t, sp in self.names(f.get("tracks"), f"{where}.tracks") if "tracks" in f else []:
                    self.step_refs.append((name, t, sp))
                    tracks.append(t)
                if "tracks" in f and len(tracks) < 2 and isinstance(f["tracks"], YSeq):
                    self.err("wrong-type", f"{where}.tracks: a fork needs at least two tracks", f["tracks"].span)
                step = Step(name, "fork", title or "", key.span, phase, tracks=tuple(tracks), why=why)
            elif kind == "end":
                step = Step(name, "end", title or "", key.span, phase, why=why)
            if step is not None and title:
                out[name] = step
        return out

    def target(self, frm: str, node: YNode, where: str) -> str | None:
        t = self.ident(node, where)
        if t is not None:
            self.step_refs.append((frm, t, node.span))
        return t

    def decision(self, name, f, where, title, phase, why, span) -> Step | None:
        choice = None
        if "choice" in f:
            c = f["choice"]
            if isinstance(c, YScalar) and c.value in ("single", "first", "any"):
                choice = c.value
            else:
                self.err("wrong-type", f"{where}.choice: expected single, first or any, found {describe(c)}", c.span)
        branches: list[Branch] = []
        s = self.seq(f.get("branches"), f"{where}.branches") if "branches" in f else None
        if s is not None and not s.items:
            self.err("wrong-type", f"{where}.branches: a decision needs at least one branch", s.span)
        for i, item in enumerate(s.items if s else ()):
            bw = f"{where}.branches[{i + 1}]"
            m = self.mapping(item, bw)
            if m is None:
                continue
            bf = self.fields(m, {"when": True, "label": False, "goto": True}, bw)
            cond = self.condition(bf["when"], bw) if "when" in bf else None
            label = (self.text(bf["label"], f"{bw}.label") or "") if "label" in bf else ""
            tgt = self.target(name, bf["goto"], f"{bw}.goto") if "goto" in bf else None
            if cond and tgt:
                branches.append(Branch(label or cond.text, cond, tgt, m.span))
        otherwise = self.target(name, f["otherwise"], f"{where}.otherwise") if "otherwise" in f else None
        olabel = (self.text(f["otherwise_label"], f"{where}.otherwise_label") or "otherwise") if "otherwise_label" in f else "otherwise"
        if choice is None:
            return None
        return Step(name, "decision", title, span, phase, choice, tuple(branches), otherwise, olabel, why=why)

    # -- conflicts, invariants ------------------------------------------------------------

    def read_conflicts(self, node: YNode | None) -> list[Conflict]:
        out: list[Conflict] = []
        if node is None:
            return out
        s = self.seq(node, "conflicts")
        for i, item in enumerate(s.items if s else ()):
            where = f"conflicts[{i + 1}]"
            m = self.mapping(item, where)
            if m is None:
                continue
            f = self.fields(m, {"id": True, "between": True, "why": True}, where)
            cid = self.ident(f["id"], f"{where}.id") if "id" in f else None
            recs = self.rec_refs(f.get("between"), f"{where}.between") if "between" in f else []
            if "between" in f and isinstance(f["between"], YSeq) and len(f["between"].items) < 2:
                self.err("wrong-type", f"{where}.between: a conflict names at least two recommendations", f["between"].span)
            why = self.text(f["why"], f"{where}.why") if "why" in f else None
            if cid and len(recs) >= 2:
                out.append(Conflict(cid, tuple(recs), why or "", m.span))
        return out

    def read_invariants(self, node: YNode | None) -> list[Invariant]:
        out: list[Invariant] = []
        if node is None:
            return out
        s = self.seq(node, "invariants")
        for i, item in enumerate(s.items if s else ()):
            where = f"invariants[{i + 1}]"
            m = self.mapping(item, where)
            if m is None:
                continue
            f = self.fields(m, {"id": True, "holds": True, "why": True}, where)
            iid = self.ident(f["id"], f"{where}.id") if "id" in f else None
            cond = self.condition(f["holds"], f"invariant {iid or i + 1}", allow_recommends=True) if "holds" in f else None
            why = self.text(f["why"], f"{where}.why") if "why" in f else None
            if iid and cond:
                out.append(Invariant(iid, cond, why or "", m.span))
        return out

    # -- whole-graph checks ---------------------------------------------------------------

    def graph_checks(self, start, steps: dict[str, Step], start_node, recs) -> list[str]:
        dangling = False
        declared = self.all_step_keys()
        for frm, to, sp in self.step_refs:
            if to not in steps and to in declared:
                continue  # the step itself had errors, already reported
            if to not in steps:
                dangling = True
                self.err("unknown-reference", f"steps.{frm}: no step named {to!r}{suggest(to, steps)}", sp)
            elif to == start:
                self.err("cycle", f"steps.{frm}: goes back to the start step {to!r}", sp)
        if start is not None and start not in steps:
            if start not in declared:
                self.err("unknown-reference", f"start: no step named {start!r}{suggest(start, steps)}", start_node.span)
            return []
        if start is None:
            return []
        succ = {n: [t for t in s.successors() if t in steps] for n, s in steps.items()}
        for cyc in _cycles(succ):
            self.err("cycle", f"the decision graph loops: {' -> '.join(cyc + [cyc[0]])}", steps[cyc[0]].span)
        seen = {start}
        todo = [start]
        while todo:
            for t in succ[todo.pop()]:
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        for n, s in steps.items():
            if n not in seen and not dangling:  # a dangling reference already explains it
                self.err("unreferenced-step", f"step {n!r} cannot be reached from the start step {start!r}", s.span)
        used = {r for s in steps.values() for r in s.recommend}
        for rid, r in recs.items():
            if rid not in used:
                self.err("unreferenced-recommendation", f"recommendation {rid!r} is not recommended by any step", r.span)
        return _topological(start, succ) if not self.c.diagnostics else []

    def all_step_keys(self) -> set[str]:
        node = self.top.get("steps")
        return {str(k.value) for k, _ in node.items} if isinstance(node, YMap) else set()


def suggest(name: str, names) -> str:
    import difflib  # only on the error path: it is slow to import

    close = difflib.get_close_matches(name, list(names), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _cycles(succ: dict[str, list[str] | set[str]]) -> list[list[str]]:
    """One representative cycle per strongly connected loop (iterative DFS, stable order)."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = {n: WHITE for n in succ}
    found: list[list[str]] = []
    for root in succ:
        if color[root] != WHITE:
            continue
        stack: list[tuple[str, list[str]]] = [(root, sorted(succ[root]) if isinstance(succ[root], set) else list(succ[root]))]
        path = [root]
        color[root] = GREY
        while stack:
            node, rest = stack[-1]
            if not rest:
                stack.pop()
                path.pop()
                color[node] = BLACK
                continue
            nxt = rest.pop(0)
            if nxt not in color:
                continue
            if color[nxt] == GREY:
                found.append(path[path.index(nxt):])
            elif color[nxt] == WHITE:
                color[nxt] = GREY
                path.append(nxt)
                s = succ[nxt]
                stack.append((nxt, sorted(s) if isinstance(s, set) else list(s)))
    return found


def step_order(steps: dict[str, Step], start: str) -> tuple[str, ...]:
    """The steps reachable from ``start`` in topological order (for edited guidelines)."""
    succ = {n: [t for t in s.successors() if t in steps] for n, s in steps.items()}
    return tuple(_topological(start, succ))


def _topological(start: str, succ: dict[str, list[str]]) -> list[str]:
    """Steps reachable from ``start`` in an order where every step follows its predecessors.

    Kahn's algorithm, ties broken by declaration order so the result is deterministic.
    """
    reach = {start}
    todo = [start]
    while todo:
        for t in succ[todo.pop()]:
            if t not in reach:
                reach.add(t)
                todo.append(t)
    indeg = {n: 0 for n in reach}
    for n in reach:
        for t in succ[n]:
            indeg[t] += 1
    pos = {n: i for i, n in enumerate(succ)}
    ready = [(pos[n], n) for n in reach if indeg[n] == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        _, n = heapq.heappop(ready)
        out.append(n)
        for t in succ[n]:
            indeg[t] -= 1
            if indeg[t] == 0:
                heapq.heappush(ready, (pos[t], t))
    return out
