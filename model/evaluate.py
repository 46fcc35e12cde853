"""Plain-Python semantics for one concrete patient (no solver).

A patient is a mapping from variable names to values: ``bool``, ``int``, an enum value
(``str``) or, for set variables, a ``frozenset`` of member names.
"""
from __future__ import annotations

from typing import AbstractSet, Any, Mapping, assert_never


from . import expr as X
from .guideline import Guideline
from .semantics import Edge, edges_of

Patient = Mapping[str, Any]


def eval_expr(e: X.Expr, p: Patient, g: Guideline, applies: set[str] | None = None) -> Any:
    """The value of ``e`` for patient ``p`` (definitions expanded through ``g``)."""
    match e:
        case X.BoolLit(value=v) | X.IntLit(value=v):
            return v
        case X.EnumLit(value=v):
            return v
        case X.Var(name=n):
            return p[n]
        case X.Not(arg=a):
            return not eval_expr(a, p, g, applies)
        case X.And(args=xs):
            return all(eval_expr(a, p, g, applies) for a in xs)
        case X.Or(args=xs):
            return any(eval_expr(a, p, g, applies) for a in xs)
        case X.Eq(left=l, right=r):
            return eval_expr(l, p, g, applies) == eval_expr(r, p, g, applies)
        case X.Lt(left=l, right=r):
            return eval_expr(l, p, g, applies) < eval_expr(r, p, g, applies)
        case X.Le(left=l, right=r):
            return eval_expr(l, p, g, applies) <= eval_expr(r, p, g, applies)
        case X.Add(left=l, right=r):
            return eval_expr(l, p, g, applies) + eval_expr(r, p, g, applies)
        case X.Sub(left=l, right=r):
            return eval_expr(l, p, g, applies) - eval_expr(r, p, g, applies)
        case X.Member(element=el, var=v):
            return el in p[v.name]
        case X.DefRef(name=n):
            return eval_expr(g.definitions[n].cond.expr, p, g, applies)
        case X.Recommends(rec=r):
            if applies is None:
                raise ValueError("recommends() needs the evaluated recommendations")
            return r in applies
        case _:
            assert_never(e)


class Trace:
    """What the guideline does for one patient."""

    def __init__(self) -> None:
        self.reached: set[str] = set()
        self.fired: list[Edge] = []
        self.applies: set[str] = set()
        self._keys: set[str] = set()

    def fired_keys(self) -> set[str]:
        return self._keys


def run(g: Guideline, p: Patient, within: AbstractSet[str] | None = None) -> Trace:
    """Walk the decision graph from the start step for patient ``p``.

    With ``within`` (a set of step ids closed under predecessors, such as the steps on the
    paths to one step), only those steps are walked: the trace is then part of the full one
    (every step, edge and recommendation in it is in the full trace too) and exact for the
    steps in ``within`` and the edges leaving them."""
    t = Trace()
    todo = [g.start]
    t.reached.add(g.start)
    while todo:
        step = g.steps[todo.pop()]
        for edge in fired_edges(g, step, p):
            t.fired.append(edge)
            t._keys.add(edge.key)
            if edge.target not in t.reached:
                t.reached.add(edge.target)
                if within is None or edge.target in within:
                    todo.append(edge.target)
                else:
                    t.applies.update(g.steps[edge.target].recommend)
        t.applies.update(step.recommend)
    return t


def fired_edges(g: Guideline, step, p: Patient) -> list[Edge]:
    edges = edges_of(step)
    if step.kind != "decision":
        return edges
    out: list[Edge] = []
    any_true = False
    for e in edges:
        if e.kind == "branch":
            if eval_expr(e.branch.cond.expr, p, g):
                if step.choice == "first" and any_true:
                    continue
                any_true = True
                out.append(e)
        elif e.kind == "otherwise" and not any_true:
            out.append(e)
    return out


def violated_constraints(g: Guideline, p: Patient) -> list[str]:
    """Ids of the domain constraints patient ``p`` breaks (bounds are checked on input)."""
    return [c.id for c in g.constraints if not eval_expr(c.cond.expr, p, g)]
