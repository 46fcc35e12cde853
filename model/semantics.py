"""The decision graph's edges: the one structural description both back ends walk.

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


from .guideline import Branch, Guideline, Step
from .record import Record


class Edge(Record):
    source: str
    target: str
    kind: str  # branch, otherwise, next, track
    index: int  # branch or track index (0-based); 0 for next/otherwise
    branch: Branch | None = None

    @property
    def key(self) -> str:
        """A stable identifier, e.g. ``red_flags#2`` (1-based branch number) or ``red_flags#otherwise``."""
        if self.kind == "branch":
            return f"{self.source}#{self.index + 1}"
        if self.kind == "track":
            return f"{self.source}#track{self.index + 1}"
        return f"{self.source}#{self.kind}"

    @property
    def label(self) -> str:
        return self.branch.label if self.branch else ""


def edges_of(step: Step) -> list[Edge]:
    out = [Edge(step.id, b.target, "branch", i, b) for i, b in enumerate(step.branches)]
    if step.otherwise:
        out.append(Edge(step.id, step.otherwise, "otherwise", 0))
    if step.next:
        out.append(Edge(step.id, step.next, "next", 0))
    out.extend(Edge(step.id, t, "track", i) for i, t in enumerate(step.tracks))
    return out


def all_edges(g: Guideline) -> list[Edge]:
    return [e for sid in g.order for e in edges_of(g.steps[sid])]
