"""Fault injection: small edits of a loaded guideline (mutants), made on the model values.

Each operator returns a new Guideline; the original is never changed (records are
immutable). Step order is recomputed, so a mutant may leave steps unreachable, which the
reachability check must then find.
"""
from __future__ import annotations

from typing import Callable

from guideproof.model import expr as X
from guideproof.model.guideline import Condition, Conflict, Constraint, Guideline
from guideproof.model.graph import step_order


def _relink(g: Guideline, steps) -> Guideline:
    return g.replace(steps=steps, order=step_order(steps, g.start))


def _with_branches(g: Guideline, sid: str, branches) -> Guideline:
    steps = dict(g.steps)
    steps[sid] = g.steps[sid].replace(branches=tuple(branches))
    return _relink(g, steps)


def _cond(expr: X.Expr, like: Condition) -> Condition:
    return Condition(X.show(expr), expr, like.span)


def set_guard(g: Guideline, sid: str, i: int, f: Callable[[X.Expr], X.Expr]) -> Guideline:
    bs = list(g.steps[sid].branches)
    bs[i] = bs[i].replace(cond=_cond(f(bs[i].cond.expr), bs[i].cond))
    return _with_branches(g, sid, bs)


def drop_guard(g, sid, i):
    return set_guard(g, sid, i, lambda e: X.BoolLit(True))


def negate_guard(g, sid, i):
    return set_guard(g, sid, i, lambda e: X.Not(e))


def shift_ints(e: X.Expr, delta: int) -> X.Expr:
    """Every integer literal moved by ``delta`` (a threshold moved by one)."""
    match e:
        case X.IntLit(value=v):
            return X.IntLit(v + delta, e.span)
        case X.Not(arg=a):
            return X.Not(shift_ints(a, delta), e.span)
        case X.And(args=xs):
            return X.And(tuple(shift_ints(a, delta) for a in xs), e.span)
        case X.Or(args=xs):
            return X.Or(tuple(shift_ints(a, delta) for a in xs), e.span)
        case X.Eq() | X.Lt() | X.Le() | X.Add() | X.Sub():
            return type(e)(shift_ints(e.left, delta), shift_ints(e.right, delta), e.span)
        case _:
            return e


def has_int(e: X.Expr) -> bool:
    return shift_ints(e, 1) != e


def shift_guard(g, sid, i, delta):
    return set_guard(g, sid, i, lambda e: shift_ints(e, delta))


def shift_definition(g: Guideline, name: str, delta: int) -> Guideline:
    defs = dict(g.definitions)
    d = defs[name]
    defs[name] = d.replace(cond=_cond(shift_ints(d.cond.expr, delta), d.cond))
    return g.replace(definitions=defs)


def set_definition(g: Guideline, name: str, expr: X.Expr) -> Guideline:
    defs = dict(g.definitions)
    defs[name] = defs[name].replace(cond=_cond(expr, defs[name].cond))
    return g.replace(definitions=defs)


def delete_branch(g, sid, i):
    bs = list(g.steps[sid].branches)
    del bs[i]
    return _with_branches(g, sid, bs)


def duplicate_branch(g, sid, i):
    bs = list(g.steps[sid].branches)
    bs.insert(i + 1, bs[i])
    return _with_branches(g, sid, bs)


def swap_branches(g, sid, i, j):
    bs = list(g.steps[sid].branches)
    bs[i], bs[j] = bs[j], bs[i]
    return _with_branches(g, sid, bs)


def delete_track(g, sid, i):
    steps = dict(g.steps)
    tracks = list(steps[sid].tracks)
    del tracks[i]
    steps[sid] = steps[sid].replace(tracks=tuple(tracks))
    return _relink(g, steps)


def add_conflict(g, a, b):
    span = g.conflicts[0].span if g.conflicts else g.recommendations[a].span
    return g.replace(conflicts=g.conflicts + [Conflict(f"injected_{a}_{b}", (a, b), "injected", span)])


def add_constraint(g, cid: str, expr: X.Expr):
    span = g.constraints[0].span
    return g.replace(constraints=g.constraints + [Constraint(cid, Condition(X.show(expr), expr, span), "injected", span)])


def contradict_constraint(g, cid):
    c = next(c for c in g.constraints if c.id == cid)
    return add_constraint(g, f"not_{cid}", X.Not(c.cond.expr))


def systematic(g: Guideline):
    """Every single-edit mutant of the decision graph and the definitions: (name, mutant)."""
    for sid in g.order:
        step = g.steps[sid]
        for i, b in enumerate(step.branches):
            yield f"drop guard {sid}#{i + 1}", drop_guard(g, sid, i)
            yield f"negate guard {sid}#{i + 1}", negate_guard(g, sid, i)
            if has_int(b.cond.expr):
                yield f"shift {sid}#{i + 1} +1", shift_guard(g, sid, i, +1)
                yield f"shift {sid}#{i + 1} -1", shift_guard(g, sid, i, -1)
            yield f"delete branch {sid}#{i + 1}", delete_branch(g, sid, i)
            yield f"duplicate branch {sid}#{i + 1}", duplicate_branch(g, sid, i)
        for i, t in enumerate(step.tracks):
            yield f"delete track {sid}->{t}", delete_track(g, sid, i)
    for name, d in g.definitions.items():
        if has_int(d.cond.expr):
            yield f"shift definition {name} +1", shift_definition(g, name, +1)
            yield f"shift definition {name} -1", shift_definition(g, name, -1)
        yield f"negate definition {name}", set_definition(g, name, X.Not(d.cond.expr))
