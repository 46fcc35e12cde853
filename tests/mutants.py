"""Fault injection: small edits of a loaded guideline (mutants), made on the model values.

Each operator returns a new Guideline; the original is never changed (records are
immutable). Step order is recomputed, so a mutant may leave steps unreachable, which the
reachability check must then find.

:func:`sweep` enumerates every single-edit mutant of the shipped guideline's decision
graph, definitions, constraints and conflicts, grouped in operator families: the slips a
careful author makes (a dropped conjunct, ``<`` for ``<=``, a recommendation under the wrong
step, two branches pointing at each other's targets, ...). :func:`classify` decides each
one: killed by ``verify``, killed by a clinical scenario (a realistic patient whose advice
the source states), proved equivalent by Z3, or survived. ``python tests/mutants.py``
(``make mutants``) prints the kill rate per family.
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from guideproof.model import expr as X
from guideproof.model.guideline import Condition, Conflict, Constraint, Guideline
from guideproof.model.graph import step_order
from guideproof.model.record import Record


def _relink(g: Guideline, steps) -> Guideline:
    return g.replace(steps=steps, order=step_order(steps, g.start))


def _with_step(g: Guideline, sid: str, **changes) -> Guideline:
    steps = dict(g.steps)
    steps[sid] = g.steps[sid].replace(**changes)
    return _relink(g, steps)


def _with_branches(g: Guideline, sid: str, branches) -> Guideline:
    return _with_step(g, sid, branches=tuple(branches))


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
        case X.DurLit(amount=a, unit=u, days=d) if a:  # one more of its unit: 9 weeks for 8 weeks
            return X.DurLit(a + delta, u, d / a * (a + delta), e.span)
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
    tracks = list(g.steps[sid].tracks)
    del tracks[i]
    return _with_step(g, sid, tracks=tuple(tracks))


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
    """The first sweep's operators (kept for comparison): dropped, negated and shifted
    guards, deleted and duplicated branches, deleted tracks, shifted and negated
    definitions. Yields (name, mutant)."""
    for _, name, m in _first_sweep(g):
        yield name, m


def _first_sweep(g: Guideline) -> Iterator[tuple[str, str, Guideline]]:
    for sid in g.order:
        step = g.steps[sid]
        for i, b in enumerate(step.branches):
            yield "drop guard", f"drop guard {sid}#{i + 1}", drop_guard(g, sid, i)
            yield "negate guard", f"negate guard {sid}#{i + 1}", negate_guard(g, sid, i)
            if has_int(b.cond.expr):
                yield "shift guard", f"shift {sid}#{i + 1} +1", shift_guard(g, sid, i, +1)
                yield "shift guard", f"shift {sid}#{i + 1} -1", shift_guard(g, sid, i, -1)
            yield "delete branch", f"delete branch {sid}#{i + 1}", delete_branch(g, sid, i)
            yield "duplicate branch", f"duplicate branch {sid}#{i + 1}", duplicate_branch(g, sid, i)
        for i, t in enumerate(step.tracks):
            yield "delete track", f"delete track {sid}->{t}", delete_track(g, sid, i)
    for name, d in g.definitions.items():
        if has_int(d.cond.expr):
            yield "shift definition", f"shift definition {name} +1", shift_definition(g, name, +1)
            yield "shift definition", f"shift definition {name} -1", shift_definition(g, name, -1)
        if not d.computed:  # a computed value is a number: there is nothing to negate
            yield "negate definition", f"negate definition {name}", set_definition(g, name, X.Not(d.cond.expr))


# -- edits inside one condition ------------------------------------------------------------

def _children(e: X.Expr) -> tuple[X.Expr, ...]:
    match e:
        case X.Not(arg=a):
            return (a,)
        case X.And(args=xs) | X.Or(args=xs):
            return xs
        case X.Eq() | X.Lt() | X.Le() | X.Add() | X.Sub():
            return (e.left, e.right)
        case _:
            return ()


def _rebuild(e: X.Expr, kids: list[X.Expr]) -> X.Expr:
    match e:
        case X.Not():
            return e.replace(arg=kids[0])
        case X.And() | X.Or():
            return e.replace(args=tuple(kids))
        case _:
            return e.replace(left=kids[0], right=kids[1])


def _is_condition(e: X.Expr) -> bool:
    """A boolean atom: what a slip can negate without touching its neighbours."""
    return isinstance(e, (X.Eq, X.Lt, X.Le, X.Member, X.Known)) or (
        isinstance(e, X.DefRef) and e.type == X.BOOL) or (  # a computed value is a number
        isinstance(e, X.Var) and e.type.kind == "bool")


def _join(kind, args: list[X.Expr], like: X.Expr) -> X.Expr:
    return args[0] if len(args) == 1 else kind(tuple(args), like.span)


def _uses(g: Guideline, name: str) -> set[str]:
    """The definitions ``name`` refers to, directly or through other definitions."""
    out: set[str] = set()
    todo = [name]
    while todo:
        for d in X.definitions_of(g.definitions[todo.pop()].cond.expr):
            if d not in out:
                out.add(d)
                todo.append(d)
    return out


def _local_edits(g: Guideline, e: X.Expr, under_not: bool, inside: str | None) -> Iterator[tuple[str, str, X.Expr]]:
    """(family, description, replacement) for every single edit at node ``e`` itself;
    ``inside`` names the definition being edited (its users cannot replace a reference:
    the loader refuses cyclic definitions)."""
    s = X.show
    if isinstance(e, (X.And, X.Or)):
        fam = "drop conjunct" if isinstance(e, X.And) else "drop disjunct"
        for i, a in enumerate(e.args):
            yield fam, f"without '{s(a)}'", _join(type(e), [x for j, x in enumerate(e.args) if j != i], e)
        other = X.Or if isinstance(e, X.And) else X.And
        yield "and/or swapped", f"'{s(e)}' with {'or' if other is X.Or else 'and'}", other(e.args, e.span)
    if isinstance(e, X.Not):
        yield "negate condition", f"'{s(e)}' without its 'not'", e.arg
    elif _is_condition(e) and not under_not:
        yield "negate condition", f"'{s(e)}' negated", X.Not(e, e.span)
    if isinstance(e, X.Lt):
        yield "off-by-one: < vs <=", f"'{s(e)}' made inclusive", X.Le(e.left, e.right, e.span)
    if isinstance(e, X.Le):
        yield "off-by-one: < vs <=", f"'{s(e)}' made strict", X.Lt(e.left, e.right, e.span)
    if isinstance(e, X.IntLit):
        for d in (+1, -1):
            yield "off-by-one: constant ±1", f"{e.value} -> {e.value + d}", X.IntLit(e.value + d, e.span)
    if isinstance(e, X.DurLit) and e.amount:
        for d in (+1, -1):
            yield ("off-by-one: constant ±1", f"{X.show(e)} -> {X.show(shift_ints(e, d))}", shift_ints(e, d))
    if isinstance(e, X.Var):
        v = g.variables[e.name]
        for o in g.variables.values():
            if o.name != v.name and o.type == v.type and o.unit == v.unit:
                yield "replace variable", f"{v.name} -> {o.name}", X.Var(o.name, o.type, e.span)
    if isinstance(e, X.EnumLit):
        for val in e.type.values:
            if val != e.value:
                yield "replace value", f"{e.value} -> {val}", X.EnumLit(val, e.type, e.span)
    if isinstance(e, X.Member):
        for val in e.var.type.values:
            if val != e.element:
                yield "replace value", f"{e.element} -> {val} in {e.var.name}", X.Member(val, e.var, e.span)
    if isinstance(e, X.DefRef):
        for name, d in g.definitions.items():
            if d.cond.type != e.type:  # a condition by a condition, a number by a number
                continue
            if name != e.name and (inside is None or (name != inside and inside not in _uses(g, name))):
                yield "replace definition", f"{e.name} -> {name}", X.DefRef(name, e.span, d.cond.type)


def expr_edits(g: Guideline, e: X.Expr, inside: str | None = None,
               under_not: bool = False) -> Iterator[tuple[str, str, X.Expr]]:
    """Every single edit anywhere inside ``e`` (the condition of definition ``inside``, if
    any): (family, description, edited expression)."""
    yield from _local_edits(g, e, under_not, inside)
    kids = _children(e)
    for i, k in enumerate(kids):
        for fam, desc, new in expr_edits(g, k, inside, isinstance(e, X.Not)):
            yield fam, desc, _rebuild(e, [new if j == i else x for j, x in enumerate(kids)])


# -- structural edits ---------------------------------------------------------------------

def _condition_edits(g: Guideline) -> Iterator[tuple[str, str, Guideline]]:
    for sid in g.order:
        for i, b in enumerate(g.steps[sid].branches):
            for fam, desc, new in expr_edits(g, b.cond.expr):
                yield fam, f"{sid}#{i + 1}: {desc}", set_guard(g, sid, i, lambda e, new=new: new)
    for name, d in g.definitions.items():
        for fam, desc, new in expr_edits(g, d.cond.expr, inside=name):
            yield fam, f"definition {name}: {desc}", set_definition(g, name, new)


def _targets(step) -> list[str]:
    out = [b.target for b in step.branches] + ([step.otherwise] if step.otherwise else [])
    return list(dict.fromkeys(out))


def _graph_edits(g: Guideline) -> Iterator[tuple[str, str, Guideline]]:
    choices = ("single", "first", "any")
    actions = [g.steps[s] for s in g.order if g.steps[s].kind == "action"]
    for sid in g.order:
        step = g.steps[sid]
        if step.kind == "decision":
            bs = list(step.branches)
            for c in choices:
                if c != step.choice:
                    yield "change choice", f"{sid}: {step.choice} -> {c}", _with_step(g, sid, choice=c)
            if step.choice == "first":
                for i in range(len(bs)):
                    for j in range(i + 1, len(bs)):
                        yield "swap branch order", f"{sid}: #{i + 1} <-> #{j + 1}", swap_branches(g, sid, i, j)
            # Edges by index; the last one is 'otherwise' when there is one.
            ends = [b.target for b in bs] + ([step.otherwise] if step.otherwise else [])
            for i in range(len(ends)):
                for j in range(i + 1, len(ends)):
                    if ends[i] != ends[j]:
                        swapped = list(ends)
                        swapped[i], swapped[j] = ends[j], ends[i]
                        yield "swap branch targets", f"{sid}: #{i + 1} <-> #{j + 1}", _retarget(g, sid, swapped)
            for i, b in enumerate(bs):
                for t in _targets(step):
                    if t != b.target:
                        yield "retarget branch", f"{sid}#{i + 1} -> {t}", _retarget(g, sid, [t if k == i else x for k, x in enumerate(ends)])
            if step.otherwise:
                for t in _targets(step):
                    if t != step.otherwise:
                        yield "retarget otherwise", f"{sid}#otherwise -> {t}", _with_step(g, sid, otherwise=t)
                yield "delete otherwise", f"{sid}#otherwise", _with_step(g, sid, otherwise=None)
        if step.kind == "action":
            if step.next:
                yield "remove next", f"{sid} -> {step.next}", _with_step(g, sid, next=None)
            for r in step.recommend:
                rest = tuple(x for x in step.recommend if x != r)
                yield "drop recommendation", f"{r} from {sid}", _with_step(g, sid, recommend=rest)
                for other in actions:
                    if other.id != sid and r not in other.recommend:
                        steps = dict(g.steps)
                        steps[sid] = step.replace(recommend=rest)
                        steps[other.id] = other.replace(recommend=other.recommend + (r,))
                        yield "move recommendation", f"{r}: {sid} -> {other.id}", _relink(g, steps)


def _retarget(g: Guideline, sid: str, ends: list[str]) -> Guideline:
    step = g.steps[sid]
    bs = tuple(b.replace(target=t) for b, t in zip(step.branches, ends, strict=False))  # ends may carry one more: the otherwise target
    return _with_step(g, sid, branches=bs, otherwise=ends[len(bs)] if step.otherwise else None)


def _spec_edits(g: Guideline) -> Iterator[tuple[str, str, Guideline]]:
    for i, c in enumerate(g.constraints):
        yield "delete constraint", c.id, g.replace(constraints=g.constraints[:i] + g.constraints[i + 1:])
    for i, c in enumerate(g.conflicts):
        yield "delete conflict", c.id, g.replace(conflicts=g.conflicts[:i] + g.conflicts[i + 1:])


#: the first sweep's operator families (kept, and reported first, for comparison)
FIRST_SWEEP = ("drop guard", "negate guard", "shift guard", "delete branch", "duplicate branch",
               "delete track", "shift definition", "negate definition")


class Mutant(Record):
    family: str
    name: str
    g: Guideline


def _key(g: Guideline):
    return (tuple(g.steps.items()), tuple(g.definitions.items()), tuple(g.constraints), tuple(g.conflicts))


#: every operator family, in report order: the first sweep's, then the ones added later
FAMILIES = FIRST_SWEEP + (
    "negate condition", "drop conjunct", "drop disjunct", "and/or swapped", "off-by-one: < vs <=",
    "off-by-one: constant ±1", "replace variable", "replace value", "replace definition",
    "change choice", "swap branch order", "swap branch targets", "retarget branch",
    "retarget otherwise", "delete otherwise", "remove next", "drop recommendation",
    "move recommendation", "delete constraint", "delete conflict")


def sweep(g: Guideline, generated: Counter | None = None) -> list[Mutant]:
    """Every single-edit mutant, each distinct guideline once (under the first family that
    produces it) and never the original itself. ``generated`` counts, per family, the
    mutants made before duplicates were dropped."""
    seen = {_key(g)}
    out = []
    for source in (_first_sweep, _condition_edits, _graph_edits, _spec_edits):
        for fam, name, m in source(g):
            if generated is not None:
                generated[fam] += 1
            k = _key(m)
            if k not in seen:
                seen.add(k)
                out.append(Mutant(fam, name, m))
    return out


# -- deciding each mutant -------------------------------------------------------------------

KILLED, SCENARIO, EQUIVALENT, SURVIVED, UNDECIDED = "killed", "scenario", "equivalent", "survived", "undecided"


class Outcome(Record):
    mutant: Mutant
    status: str  # one of the five above
    #: refuted check codes, the failing scenario, or the patient who tells the mutant apart
    detail: object = None


class _NoWitnessPolish:
    """While active, refuted obligations keep the solver's first witness instead of the
    plausible one (a MaxSAT search toward the typical patient). The sweep asks only *whether*
    verify refutes something; every witness is still re-checked by the evaluator."""

    def __enter__(self):
        from guideproof.verify.solver import Prover

        self._saved = Prover.plausible
        Prover.plausible = lambda self, parts, prefer, distance, fallback, tiebreak=None: fallback
        return self

    def __exit__(self, *exc):
        from guideproof.verify.solver import Prover

        Prover.plausible = self._saved


#: verify's checks in two rounds: the universal ones (one solver call each) kill nine
#: mutants in ten; the rest (reachability, redundancy, vacuity) run only when needed.
#: the checks verify runs on a mutant, cheapest first; a later stage runs only when the
#: earlier ones refuted nothing (the temporal properties, GP012, unroll the whole guideline
#: per visit, so they come last)
STAGES = ({"GP001", "GP002", "GP003", "GP006", "GP008"}, {"GP004", "GP005", "GP007"}, {"GP012"})


def classify(g: Guideline, m: Mutant) -> Outcome:
    """Killed by verify (something refuted), else by a clinical scenario, else proved
    equivalent to ``g`` by Z3 (same valid patients, same advice for each), else survived
    with a patient who gets different advice."""
    from guideproof.verify.checks import verify
    from guideproof.verify.equivalence import equivalent
    from guideproof.verify.findings import Verdict
    from test_scenarios import all_problems

    from guideproof.model.evaluate import AbsentValue

    try:
        with _NoWitnessPolish():
            for only in STAGES:
                refuted = sorted({f.code for f in verify(m.g, only=only) if f.verdict == Verdict.REFUTED})
                if refuted:
                    return Outcome(m, KILLED, tuple(refuted))
    except AbsentValue as e:
        # The edit removed a known(...) guard: written in YAML, this mutant is refused by the
        # loader (unguarded-optional), whose check guarantees no such read ever happens.
        return Outcome(m, KILLED, (f"unguarded-optional {e}",))

    problems = all_problems(m.g)
    if problems:
        return Outcome(m, SCENARIO, problems[0])
    verdict, patient = equivalent(g, m.g)
    if verdict == Verdict.PROVED:
        return Outcome(m, EQUIVALENT)
    if verdict == Verdict.UNKNOWN:
        return Outcome(m, UNDECIDED)
    return Outcome(m, SURVIVED, patient)


_WORKER: dict = {}


def _start_worker(path: str, expected: int) -> None:
    """A worker process builds the same sweep once (cheaper than shipping the mutants)."""
    from guideproof.model.loader import load_guideline

    g = load_guideline(path)
    ms = sweep(g)
    if len(ms) != expected:
        raise RuntimeError(f"the worker's sweep has {len(ms)} mutants, the parent's {expected}")
    _WORKER.update(g=g, mutants=ms)


def _classify_some(indices: list[int]) -> list[tuple[int, str, object]]:
    g, ms = _WORKER["g"], _WORKER["mutants"]
    return [(i, o.status, o.detail) for i in indices for o in [classify(g, ms[i])]]


def workers() -> int:
    """Processes for the sweep: the cores this process may use, at most four."""
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def classify_all(g: Guideline, mutants: list[Mutant], processes: int | None = None) -> list[Outcome]:
    """:func:`classify` every mutant of ``sweep(g)``, spread over ``processes`` (fresh
    interpreters, so no solver state is shared); the outcomes do not depend on the split."""
    processes = workers() if processes is None else processes
    if processes <= 1:
        return [classify(g, m) for m in mutants]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = [list(range(k, len(mutants), processes * 4)) for k in range(processes * 4)]
    status: dict[int, tuple[str, object]] = {}
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker, initargs=(g.file, len(mutants))) as pool:
        for part in pool.map(_classify_some, chunks):
            status.update((i, (st, detail)) for i, st, detail in part)
    return [Outcome(m, *status[i]) for i, m in enumerate(mutants)]


def table(outcomes: list[Outcome]) -> str:
    """Kill rate per operator family: killed (by verify or a scenario) over non-equivalent."""
    fams = [f for f in FAMILIES if any(o.mutant.family == f for o in outcomes)]
    count = Counter((o.mutant.family, o.status) for o in outcomes)
    head = f"{'family':<26} {'mutants':>7} {'verify':>7} {'scenario':>8} {'equiv':>6} {'survived':>8} {'kill rate':>9}"
    lines = [head, "-" * len(head)]

    def row(label, c):
        total = sum(c[s] for s in (KILLED, SCENARIO, EQUIVALENT, SURVIVED, UNDECIDED))
        live = total - c[EQUIVALENT]
        rate = f"{(c[KILLED] + c[SCENARIO]) / live:.1%}" if live else "-"
        return (f"{label:<26} {total:>7} {c[KILLED]:>7} {c[SCENARIO]:>8} {c[EQUIVALENT]:>6} "
                f"{c[SURVIVED] + c[UNDECIDED]:>8} {rate:>9}")
    for f in fams:
        lines.append(row(f, Counter({s: count[(f, s)] for s in (KILLED, SCENARIO, EQUIVALENT, SURVIVED, UNDECIDED)})))
    lines.append("-" * len(head))
    lines.append(row("all", Counter(o.status for o in outcomes)))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    import time

    from guideproof.guideline import SHIPPED
    from guideproof.model.loader import load_guideline

    g = load_guideline(argv[0] if argv else SHIPPED)
    t = time.perf_counter()
    outcomes = classify_all(g, sweep(g))
    print(table(outcomes))
    print(f"\n{len(outcomes)} mutants in {time.perf_counter() - t:.0f} s")
    bad = [o for o in outcomes if o.status in (SURVIVED, UNDECIDED)]
    for o in bad:
        print(f"{o.status}: {o.mutant.family}: {o.mutant.name}\n    {o.detail}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main(sys.argv[1:]))
