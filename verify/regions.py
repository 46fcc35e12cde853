"""Every problem, not one example: the regions of a refuted obligation's problem set.

A refuted universal obligation (a coverage gap, an overlap at a ``single`` decision, two
conflicting recommendations) has a *problem set*: the valid patients its negation admits.
One witness shows that the set is not empty; the regions show all of it, each as a
conjunction of conditions in the guideline's own terms with one witness patient.

Method (``list_regions``):

1. Take a witness patient of the problem (already confirmed by the evaluator).
2. Build the *cube*: every guard atom (the atomic comparisons and tests in the guards of
   the decisions involved and of the decisions on the paths to them, definitions
   expanded), each as a literal true at the witness.
3. Generalise: the cube must imply the problem (``domain and cube and not problem`` is
   unsatisfiable). An unsat core of that query keeps only the literals involved; then
   literals are dropped greedily, one query each, while the query stays unsatisfiable, so
   no literal of the region can be dropped. If even the whole cube does not imply the
   problem (the problem turns on a fact no guard atom names), the witness's own values
   (``age == 72``) are added as further literals and the same generalisation applies.
4. Block the region (assert its negation) and ask for a problem patient outside every
   region found so far; repeat until there is none (the listing is complete: the union of
   the regions is exactly the problem set), the limit is reached (the listing says so), or
   the solver answers unknown (the listing says it is incomplete).

Soundness: a region is listed only when Z3 answered ``unsat`` for ``region and not
problem``; every witness is a solver model re-checked by the evaluator, which must agree
that it has the problem and lies outside the earlier regions, or :class:`InternalError`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from fractions import Fraction
from typing import Any, Protocol

import z3

from ..model import expr as X
from ..model.encode import Encoding
from ..model.evaluate import AbsentValue, Patient, eval_expr
from ..model.guideline import Guideline
from ..model.kinds import kind_of
from .findings import InternalError, Region
from .solver import Prover, Result



class Context(Protocol):
    """What the listing needs of the checks' context (``checks.Context``)."""

    g: Guideline
    enc: Encoding
    prover: Prover

    def witness(self, result: Result, parts: Sequence[tuple[str, z3.BoolRef]], plausible: bool,
                unique: bool = False) -> Patient: ...

    def confirm(self, ok: bool, what: str, patient: Patient) -> None: ...

    def ancestors(self, *sids: str) -> AbstractSet[str]: ...

#: Regions listed per refuted obligation unless ``--max-findings`` says otherwise.
MAX_REGIONS = 20

#: A literal: a guard atom and the truth value it has throughout the region.
Literal = tuple[X.Expr, bool]


def guard_atoms(g: Guideline, exprs: Iterable[X.Expr]) -> list[X.Expr]:
    """The atoms of ``exprs`` in order of first appearance: boolean variables, comparisons,
    set membership and ``at least`` tests (with the tests inside them), through the
    conditions that named definitions stand for. A comparison is one atom whatever it
    compares, computed values included."""
    out: dict[X.Expr, None] = {}
    seen: set[str] = set()
    todo = list(reversed(list(exprs)))
    while todo:  # an explicit stack: chains of definitions may be of any depth
        e = todo.pop()
        match e:
            case X.BoolLit():
                continue
            case X.Not() | X.And() | X.Or() | X.Ite():
                todo.extend(reversed(X.children(e)))
            case X.DefRef(name=n) if not g.definitions[n].computed:
                if n not in seen:
                    seen.add(n)
                    todo.append(g.definitions[n].cond.expr)
            case X.AtLeast():
                out.setdefault(e, None)
                todo.extend(reversed(X.children(e)))
            case _:
                out.setdefault(e, None)
    return list(out)


def names_read(g: Guideline, e: X.Expr) -> set[str]:
    """The patient variables ``e`` reads by name, through the conditions that named
    definitions stand for but not into computed values (``crcl > 95`` reads no variable
    here: it cannot be changed on its own)."""
    out: set[str] = set()
    seen: set[str] = set()
    todo = [e]
    while todo:
        x = todo.pop()
        match x:
            case X.Var(name=n) | X.Member(var=X.Var(name=n)):
                out.add(n)
            case X.DefRef(name=n):
                if n not in seen and not g.definitions[n].computed:
                    seen.add(n)
                    todo.append(g.definitions[n].cond.expr)
            case _:
                todo.extend(X.children(x))
    return out


def decision_atoms(ctx: Context, steps: Sequence[str]) -> list[X.Expr]:
    """The guard atoms of the decisions ``steps`` and of every decision on a path to them:
    the decisions' own first, then the others in the guideline's order."""
    return path_atoms(ctx.g, steps, ctx.ancestors)


def path_atoms(g: Guideline, steps: Sequence[str], ancestors: Callable[[str], AbstractSet[str]]) -> list[X.Expr]:
    """:func:`decision_atoms` for any guideline: ``ancestors(s)`` is ``s`` and every step on
    a path from the start to it."""
    own = [g.steps[s] for s in steps]
    before: set[str] = set()
    for s in steps:
        before |= ancestors(s)
    path = [g.steps[s] for s in g.in_order(before.difference(steps))]
    return guard_atoms(g, (b.cond.expr for st in own + path if st.kind == "decision" for b in st.branches))


def _side(e: X.Expr) -> str:
    return f"({X.show(e)})" if isinstance(e, X.Ite) else X.show(e)


def _is_number(e: X.Expr) -> bool:
    return isinstance(e, (X.IntLit, X.DecLit, X.DurLit))


def optional_read(g: Guideline, atom: X.Expr) -> list[str]:
    """The optional variables ``atom`` reads (through definitions), in declaration order: a
    literal over it holds only for patients who have those values (``known(x) and ...``),
    so a region never speaks of a value a patient lacks. ``known(x)`` itself reads none."""
    if isinstance(atom, X.Known):
        return []
    read = X.variables_of(atom, g.definition_exprs())
    return [n for n in g.optional if n in read]


def truth(g: Guideline, atom: X.Expr, patient: Patient) -> bool | None:
    """The atom's value for ``patient``; None when it reads an optional fact the patient
    lacks (no literal over it holds for this patient)."""
    try:
        return bool(eval_expr(atom, patient, g))
    except AbsentValue:
        return None


def points(g: Guideline, name: str, value: Any) -> list[X.Expr]:
    """Atoms that pin variable ``name`` to ``value`` (the fallback when the guard atoms do
    not decide a problem): ``known(x)`` for an optional fact, a duration with its unit."""
    v = g.variables[name]
    var = X.Var(v.name, v.type)
    if value is None:
        return [X.Known(var)]
    pinned: list[X.Expr]
    if v.type.kind == "duration":
        days = g.unit_days[v.unit]
        amount = Fraction(value)
        pinned = [X.Eq(X.InDays(var, days), X.DurLit(amount, v.unit, amount * days))]
    else:
        pinned = kind_of(v.type).point(v, value)
    return ([X.Known(var)] if v.optional else []) + pinned


def literal_text(atom: X.Expr, truth: bool) -> str:
    """A literal as condition text the guideline language reads back: comparisons keep the
    variable on the left (``age >= 65``, not ``not 65 > age``); false tests read ``!=``,
    ``not in`` or ``not``."""
    match atom:
        case X.Lt(left=lhs, right=rhs) | X.Le(left=lhs, right=rhs):
            strict = isinstance(atom, X.Lt)
            op = ("<" if strict else "<=") if truth else (">=" if strict else ">")
            if _is_number(lhs) and not _is_number(rhs):
                lhs, rhs = rhs, lhs
                op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
            return f"{_side(lhs)} {op} {_side(rhs)}"
        case X.Eq(left=lhs, right=rhs):
            if _is_number(lhs) and not _is_number(rhs):
                lhs, rhs = rhs, lhs
            return f"{_side(lhs)} {'==' if truth else '!='} {_side(rhs)}"
        case X.Var(name=n):
            return n if truth else f"not {n}"
        case X.Known():
            return X.show(atom) if truth else f"not {X.show(atom)}"
        case X.Member():
            return X.show(atom if truth else X.Not(atom))
        case _:
            return X.show(atom) if truth else f"not ({X.show(atom)})"


def region_text(literals: Sequence[Literal], g: Guideline) -> str:
    """The region as condition text, each literal over an optional value preceded by the
    ``known`` test it implies (once per variable)."""
    said = {a.var.name for a, t in literals if isinstance(a, X.Known) and t}
    parts = []
    for a, t in literals:
        for n in optional_read(g, a):
            if n not in said:
                said.add(n)
                parts.append(f"known({n})")
        parts.append(literal_text(a, t))
    return " and ".join(parts) or "true"


class Listing:
    """The regions found, and how the listing ended (see :attr:`Finding.regions_end`)."""

    def __init__(self) -> None:
        self.regions: list[Region] = []
        self.literals: list[list[Literal]] = []
        self.end = "complete"


def list_regions(ctx: Context, problem: Sequence[tuple[str, z3.BoolRef]], atoms: Sequence[X.Expr],
                 first: Patient, has_problem: Callable[[Patient], bool], what: str, limit: int) -> Listing:
    """Every region of the problem set ``problem`` (tracked parts, their conjunction), the
    first around ``first``; at most ``limit`` of them."""
    g, enc = ctx.g, ctx.enc
    negated = z3.Not(z3.And([t for _, t in problem]))
    terms: dict[X.Expr, z3.BoolRef] = {}

    def term(a: X.Expr) -> z3.BoolRef:
        if a not in terms:
            terms[a] = enc.term(a)
        return terms[a]

    guards: dict[X.Expr, list[z3.BoolRef]] = {}  # atom -> known(...) of the optional facts it reads

    def lit(a: X.Expr, value: bool) -> z3.BoolRef:
        t = term(a) if value else z3.Not(term(a))
        if a not in guards:
            guards[a] = [enc.known[n] for n in optional_read(g, a)]
        return z3.And(*guards[a], t) if guards[a] else t

    defs = g.definition_exprs()
    position = g.variable_position  # literals are shown in the variables' order
    out = Listing()
    blocks: list[tuple[str, z3.BoolRef]] = []
    patient = first
    while True:
        region = _region(ctx, patient, atoms, lit, negated)
        if region is None:
            out.end = "unknown"
            return out
        region.sort(key=lambda c: min((position[v] for v in X.variables_of(c[0], defs)), default=len(position)))
        out.literals.append(region)
        out.regions.append(Region(region_text(region, g), {n: patient[n] for n in g.variables}))
        blocks.append((f"outside region {len(blocks) + 1}", z3.Not(z3.And([lit(a, t) for a, t in region]))))
        parts = list(problem) + blocks
        r = ctx.prover.check(parts, want_core=False)
        if r.status == "unsat":
            return out
        if r.status == "unknown":
            out.end = "unknown"
            return out
        if len(out.regions) >= limit:
            out.end = "limit"  # a problem patient outside every listed region exists
            return out
        patient = ctx.witness(r, parts, plausible=True, unique=True)
        inside = [i + 1 for i, lits in enumerate(out.literals)
                  if all(truth(g, a, patient) is t for a, t in lits)]
        ctx.confirm(has_problem(patient) and not inside, f"{what} region {len(out.regions) + 1}", patient)


def _region(ctx: Context, patient: Patient, atoms: Sequence[X.Expr],
            lit: Callable[[X.Expr, bool], z3.BoolRef], negated: z3.BoolRef) -> list[Literal] | None:
    """The region around ``patient``: its cube over ``atoms`` generalised (None when the
    solver answers unknown before any region is proved)."""
    g = ctx.g
    cube = [(a, t) for a in atoms if (t := truth(g, a, patient)) is not None]
    found = _generalise(ctx, cube, lit, negated)
    if found == "sat":  # the guard atoms do not decide the problem: add the witness's values
        pinned = [(a, bool(eval_expr(a, patient, g))) for n in g.variables for a in points(g, n, patient[n])]
        found = _generalise(ctx, cube + [p for p in pinned if p[0] not in atoms], lit, negated)
        if found == "sat":
            raise InternalError(f"the witness's own values do not imply its problem: {dict(patient)}")
    return found if isinstance(found, list) else None


def _generalise(ctx: Context, cube: list[Literal], lit: Callable[[X.Expr, bool], z3.BoolRef],
                negated: z3.BoolRef) -> list[Literal] | str:
    """The smallest-by-deletion subset of ``cube`` that still implies the problem, in the
    cube's order; "sat" when the cube itself does not, "unknown" when that is not settled."""
    parts = [(f"literal {i}", lit(a, t)) for i, (a, t) in enumerate(cube)] + [("problem", negated)]
    # The core comes from a fresh solver (the prover's tracked re-check), never from the
    # incremental one, whose answers depend on what it was asked before: the same guideline
    # gives the same regions whatever ran earlier.
    r = ctx.prover.check(parts)
    if r.status != "unsat":
        return r.status
    core = set(r.core)
    keep = [c for i, c in enumerate(cube) if f"literal {i}" in core]
    # Greedy deletion, last literals first: atoms of the decision itself come first in the
    # cube, so a region keeps them and drops path conditions and point values when it can.
    for c in reversed(list(keep)):
        trial = [k for k in keep if k is not c]
        r = ctx.prover.check([("literal", lit(a, t)) for a, t in trial] + [("problem", negated)], want_core=False)
        if r.status == "unsat":
            keep = trial
        # sat: the literal is needed; unknown: kept (the region stays proved, if smaller)
    return _enum_values(ctx, keep, lit, negated)


def _enum_values(ctx: Context, region: list[Literal], lit: Callable[[X.Expr, bool], z3.BoolRef],
                 negated: z3.BoolRef) -> list[Literal]:
    """``grade == low`` for ``grade != mid and grade != high`` (the same patients), proved
    again by the solver before it replaces them."""
    out = list(region)
    ruled_out: dict[str, list[Literal]] = {}
    for a, t in region:
        if not t and isinstance(a, X.Eq) and isinstance(a.left, X.Var) and isinstance(a.right, X.EnumLit):
            ruled_out.setdefault(a.left.name, []).append((a, t))
    for name, lits in ruled_out.items():
        var = ctx.g.variables[name]
        left = [v for v in var.type.values if all(a.right.value != v for a, _ in lits if isinstance(a, X.Eq)
                                                  and isinstance(a.right, X.EnumLit))]
        if len(left) != 1 or len(lits) < 2:
            continue
        eq: Literal = (X.Eq(X.Var(name, var.type), X.EnumLit(left[0], var.type)), True)
        trial = [eq if c == lits[0] else c for c in out if c == lits[0] or c not in lits]
        r = ctx.prover.check([("literal", lit(a, t)) for a, t in trial] + [("problem", negated)], want_core=False)
        if r.status == "unsat":
            out = trial
    return out

