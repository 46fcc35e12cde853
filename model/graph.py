"""The decision graph: its edges (the meaning both back ends share) and the graph
algorithms every layer uses (reachability, cycles, topological order). One home: no other
module walks a successor map of its own.

An edge leaves a step and is *fired* when its step is reached and its guard selects it:

* decision ``single`` / ``any``: branch i fires when its guard holds;
* decision ``first``: branch i fires when its guard holds and no earlier guard does;
* ``otherwise`` fires when no guard holds;
* an action's ``next`` and a fork's tracks fire whenever their step is reached.

A step is reached when it is the start step or some edge into it fires; a recommendation
applies exactly when a step that recommends it is reached. ``evaluate.py`` implements this
by walking the graph for one patient; ``encode.py`` builds Z3 terms for all patients. They
are written independently and kept in agreement by a property-based test.
"""
from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping, Sequence
from functools import cached_property
from typing import Literal

from .guideline import Branch, Guideline, Step
from .record import Record

EdgeKind = Literal["branch", "otherwise", "next", "track"]
Successors = Mapping[str, Collection[str]]


class Edge(Record):
    source: str
    target: str
    kind: EdgeKind
    index: int  # branch or track index (0-based); 0 for next/otherwise
    branch: Branch | None = None

    @cached_property
    def key(self) -> str:
        """A stable identifier, e.g. ``red_flags#2`` (1-based branch number) or
        ``red_flags#otherwise`` (computed once per edge: the evaluator asks on every walk)."""
        if self.kind == "branch":
            return f"{self.source}#{self.index + 1}"
        if self.kind == "track":
            return f"{self.source}#track{self.index + 1}"
        return f"{self.source}#{self.kind}"

    @property
    def label(self) -> str:
        return self.branch.label if self.branch else ""


def edges_of(step: Step) -> tuple[Edge, ...]:
    """The edges leaving ``step``, in order: branches, otherwise, next, tracks. Built once per
    step (kept in the immutable step's instance dict, outside its fields, so equality,
    hashing and the loader's cache do not see it): the evaluator asks on every walk, and a
    fork of a few hundred tracks made each walk cost milliseconds."""
    hit: tuple[Edge, ...] | None = step.__dict__.get("_edges")
    if hit is None:
        hit = step.__dict__["_edges"] = tuple(_edges(step))
    return hit


def _edges(step: Step) -> list[Edge]:
    out = [Edge(step.id, b.target, "branch", i, b) for i, b in enumerate(step.branches)]
    if step.otherwise:
        out.append(Edge(step.id, step.otherwise, "otherwise", 0))
    if step.next:
        out.append(Edge(step.id, step.next, "next", 0))
    out.extend(Edge(step.id, t, "track", i) for i, t in enumerate(step.tracks))
    return out


def all_edges(g: Guideline) -> list[Edge]:
    return [e for sid in g.order for e in edges_of(g.steps[sid])]


def successors(steps: Mapping[str, Step]) -> dict[str, list[str]]:
    """Each step's successors that exist (dangling references are the loader's to report)."""
    return {n: [t for t in s.successors() if t in steps] for n, s in steps.items()}


def predecessors(steps: Mapping[str, Step]) -> dict[str, set[str]]:
    """Each step's predecessors (the reverse of :func:`successors`)."""
    preds: dict[str, set[str]] = {}
    for s in steps.values():
        for t in s.successors():
            preds.setdefault(t, set()).add(s.id)
    return preds


def reachable(starts: Sequence[str], succ: Successors) -> set[str]:
    """Every node reachable from ``starts`` (themselves included), iteratively."""
    seen = set(starts)
    todo = list(starts)
    while todo:
        for t in succ.get(todo.pop(), ()):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def cycles(succ: Successors) -> list[list[str]]:
    """One representative cycle per loop found by an iterative depth-first search, in a
    stable order (nodes in mapping order, successors in their listed order)."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = {n: WHITE for n in succ}
    found: list[list[str]] = []
    for root in succ:
        if color[root] != WHITE:
            continue
        stack: list[tuple[str, list[str]]] = [(root, list(succ[root]))]
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
                stack.append((nxt, list(succ[nxt])))
    return found


def topological(start: str, succ: Successors) -> list[str]:
    """Nodes reachable from ``start`` in an order where every node follows its predecessors.

    Kahn's algorithm, ties broken by mapping order so the result is deterministic."""
    reach = reachable([start], succ)
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


def dependency_order(uses: Mapping[str, Collection[str]]) -> list[str]:
    """The nodes of ``uses`` ordered so each comes after the nodes it uses (Kahn's algorithm,
    ties broken by mapping order); the members of a cycle, and what depends on them, come
    last in mapping order (a cycle is reported elsewhere). Uses of unknown nodes are ignored."""
    waiting = {n: {u for u in us if u in uses and u != n} for n, us in uses.items()}
    users: dict[str, list[str]] = {}
    for n, us in waiting.items():
        for u in us:
            users.setdefault(u, []).append(n)
    pos = {n: i for i, n in enumerate(uses)}
    ready = [(pos[n], n) for n, us in waiting.items() if not us]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        _, n = heapq.heappop(ready)
        out.append(n)
        for m in users.get(n, ()):
            waiting[m].discard(n)
            if not waiting[m]:
                heapq.heappush(ready, (pos[m], m))
    placed = set(out)
    return out + [n for n in uses if n not in placed]


def step_order(steps: Mapping[str, Step], start: str) -> tuple[str, ...]:
    """The steps reachable from ``start`` in topological order (for edited guidelines)."""
    return tuple(topological(start, successors(steps)))
