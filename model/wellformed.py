"""What a guideline must satisfy as a whole, whatever format it was written in.

A reader (the YAML loader today) builds the records and lists what the author *declared*
(:class:`Decl`: an id with its position) and what the author *referred to* (:class:`Ref`:
a step, recommendation, source, category, strength or phase named somewhere). This module
checks the whole: ids used twice, a name meaning two things, references to nothing (with
a "did you mean"), definitions in a circle, a decision graph that loops, goes back to its
start or has steps or recommendations nothing reaches. It returns the steps in topological
order. Every problem goes to the collector, so one pass reports them all.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Literal

from . import expr as X
from .errors import Collector, Span, did_you_mean
from .graph import cycles, reachable, successors, topological
from .guideline import Guideline
from .record import Record

RefKind = Literal["step", "recommendation", "source", "category", "strength", "phase"]


class Ref(Record):
    """A name the author used to refer to something declared elsewhere."""

    kind: RefKind
    name: str
    span: Span | None
    where: str
    #: for step references: the step the edge leaves ("" for the start)
    owner: str = ""


class Decl(Record):
    """An id the author declared (for ids that the format itself cannot keep unique)."""

    kind: str  # "constraint", "conflict", "invariant", ...
    name: str
    span: Span | None


def check(g: Guideline, refs: list[Ref], decls: list[Decl], col: Collector,
          declared: Mapping[str, set[str]] | None = None) -> tuple[str, ...]:
    """Report every whole-guideline problem of ``g`` to ``col``; return the step order.

    ``declared`` maps a kind of reference to the ids the author wrote, including those
    whose own errors kept them out of ``g`` (a reference to one is not reported again)."""
    _duplicates(decls, col)
    _name_clashes(g, col)
    dangling = _references(g, refs, col, declared or {})
    _definition_cycles(g, col)
    order = _graph(g, refs, col, dangling)
    if order:  # the graph itself is sound: its paths are known even if other parts are not
        _path_guards(g, order, col)
    return order if not col.diagnostics else ()


def _duplicates(decls: list[Decl], col: Collector) -> None:
    first: dict[tuple[str, str], Decl] = {}
    for d in decls:
        key = (d.kind, d.name)
        if key in first:
            where = first[key].span
            col.error("duplicate-id", f"{d.kind} id {d.name!r} is used twice"
                      + (f" (first at line {where.line})" if where else ""), d.span)
        else:
            first[key] = d


def _name_clashes(g: Guideline, col: Collector) -> None:
    """A name must mean one thing: a variable, a definition, or an enum value."""
    for name, var in g.variables.items():
        if name in g.definitions:
            col.error("duplicate-name", f"{name!r} is both a variable and a definition", var.span)
    for var in g.variables.values():
        if var.type.kind == "enum":
            for v in var.type.values:
                if v in g.variables or v in g.definitions:
                    col.error("ambiguous-name", f"value {v!r} of {var.name} is also the name of a variable or definition", var.span)


def _references(g: Guideline, refs: list[Ref], col: Collector, declared: Mapping[str, set[str]]) -> bool:
    """Report references to undeclared things; true when a step reference dangles."""
    targets: dict[str, Collection[str]] = {
        "step": set(g.steps), "recommendation": g.recommendations, "source": g.sources,
        "category": g.categories, "strength": g.strengths, "phase": g.phases,
    }
    dangling = False
    for r in refs:
        known = targets[r.kind]
        if r.name in known or r.name in declared.get(r.kind, ()):
            continue  # declared: if it is missing from g, its own errors were reported
        if r.kind == "step":
            dangling = True
            col.error("unknown-reference", f"{r.where}: no step named {r.name!r}{did_you_mean(r.name, known)}", r.span)
        elif r.kind in ("recommendation",):
            col.error("unknown-reference", f"{r.where}: unknown recommendation {r.name!r}{did_you_mean(r.name, known)}", r.span)
        else:
            listing = ", ".join(known) or "none"
            col.error("unknown-reference", f"{r.where}: unknown {r.kind} {r.name!r}{did_you_mean(r.name, known)} (declared: {listing})", r.span)
    return dangling


def _definition_cycles(g: Guideline, col: Collector) -> None:
    """Definitions may use each other, but not in a circle."""
    deps = {n: sorted(X.definitions_of(d.cond.expr)) for n, d in g.definitions.items()}
    for cyc in cycles(deps):
        col.error("cycle", f"definitions refer to each other in a circle: {' -> '.join(cyc + [cyc[0]])}",
                  g.definitions[cyc[0]].span)


def _graph(g: Guideline, refs: list[Ref], col: Collector, dangling: bool) -> tuple[str, ...]:
    steps, start = g.steps, g.start
    before = len(col.diagnostics)
    for r in refs:
        if r.kind == "step" and r.owner and r.name == start:
            col.error("cycle", f"steps.{r.owner}: goes back to the start step {start!r}", r.span)
    if start not in steps:
        return ()
    succ = successors(steps)
    for cyc in cycles(succ):
        col.error("cycle", f"the decision graph loops: {' -> '.join(cyc + [cyc[0]])}", steps[cyc[0]].span)
    seen = reachable([start], succ)
    if not dangling:  # a dangling reference already explains an unreached step
        for n, s in steps.items():
            if n not in seen:
                col.error("unreferenced-step", f"step {n!r} cannot be reached from the start step {start!r}", s.span)
    used = {r for s in steps.values() for r in s.recommend}
    for rid, rec in g.recommendations.items():
        if rid not in used:
            col.error("unreferenced-recommendation", f"recommendation {rid!r} is not recommended by any step", rec.span)
    # the step order, when the graph itself is sound (the caller drops it if anything else is wrong)
    whole = not dangling and all(t in steps for s in steps.values() for t in s.successors())
    return tuple(topological(start, succ)) if whole and len(col.diagnostics) == before else ()


def _path_guards(g: Guideline, order: tuple[str, ...], col: Collector) -> None:
    """A decision branch may read an optional variable that its own condition does not
    guard when every path to its step has established ``known`` of it: a branch whose
    guard says so (``known(x) and ...``), an earlier branch of a ``first`` decision whose
    failure says so (``not known(x)``), or an ``otherwise`` after branches that say so when
    false. ``known_at`` is the intersection over the edges into a step."""
    def_known: dict[str, X.KnownWhen] = {}
    for name in g.definitions:
        for d in g.expansion_order(name):
            if d not in def_known:
                def_known[d] = X.known_when(g.definitions[d].cond.expr, def_known)
    known_at: dict[str, frozenset[str]] = {g.start: frozenset()}
    for sid in order:
        step = g.steps[sid]
        here = known_at.get(sid, frozenset())
        if step.kind != "decision":
            for t in step.successors():
                known_at[t] = known_at[t] & here if t in known_at else here
            continue
        for i, b in enumerate(step.branches):
            for name, span, via in b.cond.unguarded:
                if name not in here:
                    col.error("unguarded-optional", f"steps.{sid}.branches[{i + 1}].when: "
                              + X.unguarded_message(name, via, " on some path to this decision"), span)
        tells = [X.known_when(b.cond.expr, def_known) for b in step.branches]
        failed: frozenset[str] = frozenset()  # what the earlier branches' failure tells
        for b, (pos, neg) in zip(step.branches, tells, strict=True):
            into = here | pos | (failed if step.choice == "first" else frozenset())
            known_at[b.target] = known_at[b.target] & into if b.target in known_at else into
            failed = failed | neg
        if step.otherwise:
            into = here | failed
            t = step.otherwise
            known_at[t] = known_at[t] & into if t in known_at else into
