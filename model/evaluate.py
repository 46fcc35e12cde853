"""Plain-Python semantics for one concrete patient (no solver).

A patient is a mapping from variable names to values: ``bool``, ``int``, a ``Fraction``
for a decimal, an enum value (``str``) or, for set variables, a ``frozenset`` of member
names; ``None`` for an optional variable with no value.
"""
from __future__ import annotations

from collections.abc import Container, Mapping, Sequence, Set
from fractions import Fraction
from typing import Any, Literal, assert_never


from . import expr as X
from .guideline import Guideline, Step
from .graph import Edge, edges_of
from .record import Record

Patient = Mapping[str, Any]


class AbsentValue(LookupError):
    """A read of an optional variable that has no value. The loader proves every read is
    guarded by ``known``, so the walk of a guideline never meets one; it marks a part of an
    expression that was never meant to be evaluated for this patient (an explanation
    skips it)."""


class _Unset:
    """A definition that reads an optional fact this patient does not have. Definitions are
    evaluated bottom-up before the one that uses them, so such a definition (a computed
    value inside a guarded one, ``known(x) and crcl < 30``) is only an error where it is
    actually read."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def eval_expr(e: X.Expr, p: Patient, g: Guideline, applies: set[str] | None = None,
              _defs: dict[str, Any] | None = None) -> Any:
    """The value of ``e`` for patient ``p`` (definitions expanded through ``g``).

    A definition is evaluated once per call, after the definitions it uses (``_defs`` holds
    their values), so neither a long chain of definitions nor one used many times over costs
    more than evaluating each definition once.
    """
    defs: dict[str, Any] = {} if _defs is None else _defs  # shared by the whole expression

    def ev(x: X.Expr) -> Any:
        return eval_expr(x, p, g, applies, defs)

    match e:
        case X.BoolLit(value=v) | X.IntLit(value=v) | X.DecLit(value=v):
            return v
        case X.DurLit(days=days):
            return days
        case X.InDays(arg=a, days=scale):
            return ev(a) * scale
        case X.EnumLit(value=v):
            return v
        case X.Var(name=n):
            value = p[n]
            if value is None:
                raise AbsentValue(n)
            return value
        case X.Not(arg=a):
            return not ev(a)
        case X.And(args=xs):
            return all(ev(a) for a in xs)
        case X.Or(args=xs):
            return any(ev(a) for a in xs)
        case X.Eq(left=l, right=r):
            return ev(l) == ev(r)
        case X.Lt(left=l, right=r):
            return ev(l) < ev(r)
        case X.Le(left=l, right=r):
            return ev(l) <= ev(r)
        case X.Add(left=l, right=r):
            return ev(l) + ev(r)
        case X.Sub(left=l, right=r):
            return ev(l) - ev(r)
        case X.Mul(left=l, right=r):
            return ev(l) * ev(r)
        case X.Div(left=l, right=r):
            return Fraction(ev(l)) / Fraction(ev(r))  # exact; divisors are proved non-zero
        case X.Min(args=xs):
            return min(ev(a) for a in xs)
        case X.Max(args=xs):
            return max(ev(a) for a in xs)
        case X.Abs(arg=a):
            return abs(ev(a))
        case X.Ite(cond=c, then=t, other=o):
            return ev(t) if ev(c) else ev(o)
        case X.Count(args=xs):
            return sum(1 for a in xs if ev(a))
        case X.AtLeast(k=k, args=xs):
            return sum(1 for a in xs if ev(a)) >= k
        case X.Member(element=el, var=v):
            members = p[v.name]
            if members is None:
                raise AbsentValue(v.name)
            return el in members
        case X.Known(var=v):
            return p[v.name] is not None
        case X.DefRef(name=n):
            if n not in defs:
                for d in g.expansion_order(n):  # n last; everything it uses before it
                    if d not in defs:
                        try:
                            defs[d] = ev(g.definitions[d].cond.expr)
                        except AbsentValue as gap:  # raised only where it is read
                            defs[d] = _Unset(gap.args[0])
            value = defs[n]
            if isinstance(value, _Unset):
                raise AbsentValue(value.name)
            return value
        case X.Recommends(rec=r):
            if applies is None:
                raise ValueError("recommends() needs the evaluated recommendations")
            return r in applies
        case _:
            assert_never(e)


class GapOrOverlap(Record):
    """A place where the guideline itself fails this patient (what ``verify`` would refute):
    ``no-branch``: a decision with no ``otherwise`` where no branch holds; ``several-branches``:
    a ``single`` decision where more than one branch holds (``branches``: 1-based numbers);
    ``no-disposition``: none of the guideline's dispositions applies."""

    kind: Literal["no-branch", "several-branches", "no-disposition"]
    step: str = ""
    branches: tuple[int, ...] = ()


class Trace:
    """What the guideline does for one patient."""

    def __init__(self) -> None:
        self.reached: set[str] = set()
        self.fired: list[Edge] = []
        self.applies: set[str] = set()
        self._keys: set[str] = set()
        self.problems: list[GapOrOverlap] = []

    def fired_keys(self) -> set[str]:
        return self._keys


def run(g: Guideline, p: Patient, within: Set[str] | None = None, exact: Container[str] | None = None) -> Trace:
    """Walk the decision graph from the start step for patient ``p``.

    With ``within`` (a set of step ids closed under predecessors, such as the steps on the
    paths to one step), only those steps are walked: the trace is then part of the full one
    (every step, edge and recommendation in it is in the full trace too) and exact for the
    steps in ``within`` and the edges leaving them. With ``exact`` too (steps of ``within``),
    it is exact for those steps, the edges leaving them and the recommendations of the steps
    they lead to; of the other steps' edges only those into ``within`` are recorded (a fork
    into a few hundred parts of a guideline then costs a walk of one part, not of its
    hundreds of tracks)."""
    t = Trace()
    todo = [g.start]
    t.reached.add(g.start)
    while todo:
        step = g.steps[todo.pop()]
        fired = fired_edges(g, step, p)
        if step.kind == "decision":
            taken = tuple(e.index + 1 for e in fired if e.kind == "branch")
            if not fired:
                t.problems.append(GapOrOverlap("no-branch", step.id))
            elif step.choice == "single" and len(taken) > 1:
                t.problems.append(GapOrOverlap("several-branches", step.id, taken))
        reached = t.reached
        # a step outside ``exact``: only its edges into the walked steps are recorded
        into = within if exact is not None and within is not None and step.id not in exact else None
        for edge in fired:
            target = edge.target
            if into is not None and target not in into:
                continue
            t.fired.append(edge)
            t._keys.add(edge.key)
            if target not in reached:
                reached.add(target)
                if within is None or target in within:
                    todo.append(target)
                else:
                    t.applies.update(g.steps[target].recommend)
        t.applies.update(step.recommend)
    if g.dispositions and not t.applies.intersection(g.dispositions):
        t.problems.append(GapOrOverlap("no-disposition"))
    if len(t.problems) > 1:  # in the guideline's order (built only when there is one to sort)
        pos = g.position
        t.problems.sort(key=lambda x: pos.get(x.step, len(pos)))
    return t


def fired_edges(g: Guideline, step: Step, p: Patient) -> Sequence[Edge]:
    edges = edges_of(step)
    if step.kind != "decision":
        return edges
    out: list[Edge] = []
    any_true = False
    for e in edges:
        if e.branch is not None:
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
