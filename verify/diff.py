"""Which valid patients get different advice from two versions of a guideline, proved with Z3.

The *answer* a complete valid patient gets is the set of recommendations that apply to it
(``Encoding.applies`` for all patients at once, ``Trace.applies`` for one). Two versions,
OLD and NEW (each composed with the overlays it includes), are compared on every patient:

* **changed advice**: patients valid in both versions whose answers differ. They are
  listed as regions in the guideline's own terms (the generaliser of ``regions.py``), one
  *change* at a time: a change is the exact set of recommendations gained and lost, and a
  region of it is proved (Z3: ``unsat``) to hold only patients who gain and lose exactly
  those. The next change is sought outside the ones listed, until none is left.
* **valid in OLD only / in NEW only**: patients one version admits and the other does not
  (a bound, a value, a domain constraint or an optional fact changed). A variable only one
  version declares is not a question the other asks, so a patient is valid in the other
  version when *some* value of it would make it so (an existential over those variables).

*No behavioural change* is a proof: the solver answered ``unsat`` for a difference of each
kind. A solver *unknown* is said as such and never called a proof.

Aligning the versions (:func:`align`): ``--rename old=new`` maps OLD's recommendation and
variable ids to NEW's; OLD is restated in NEW's names (every condition rewritten, the
same encoder encodes it). A variable whose enum values or set members differ gets the
union of both lists in both versions (NEW's first, so NEW's values keep their indices),
and each version's domain keeps only its own values. A definition of OLD that differs from
NEW's definition of the same name is written ``old_NAME`` in regions. Patients are records
over the union of both versions' variables; each version reads its own.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import z3

from ..model import expr as X
from ..model.encode import Encoding
from ..model.errors import Diagnostic, InputError
from ..model.evaluate import AbsentValue, Patient, run, violated_constraints
from ..model.graph import predecessors, reachable
from ..model.guideline import Condition, Guideline, Step, Variable
from ..model.kinds import kind_of
from ..model.patient import coerce, format_value, to_plain
from ..model.record import Record
from .obligation import Context
from .findings import Verdict
from .regions import MAX_REGIONS, guard_atoms, list_regions, path_atoms, points
from .render import differences
from .solver import Prover, Result

DIFF_JSON_VERSION = 1
#: how a definition of OLD that NEW defines differently is named in regions (``old_crcl``; with a
#: number when that name is taken)
OLD_PREFIX = "old_"

End = Literal["proved", "complete", "limit", "unknown"]


class Change(Record):
    """One region of a listing: a condition in the guideline's terms, a patient in it (re-checked
    by the evaluator) and, for changed advice, the recommendations every valid patient in the
    region gains and loses (and nothing else changes for them)."""

    condition: str
    witness: dict[str, Any]
    gained: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()


class Listing(Record):
    """The regions of one kind of difference and how the listing ended: ``proved`` (no such
    patient: unsat), ``complete`` (the regions are exactly those patients), ``limit``
    (stopped at --max-regions with more left) or ``unknown`` (the solver gave up)."""

    regions: tuple[Change, ...]
    end: End
    reason: str = ""


class Aligned(Record):
    """Both versions in NEW's names, and the vocabulary regions are written in."""

    old: Guideline
    new: Guideline
    #: both versions' variables (union types) and definitions; no steps
    vocab: Guideline
    #: each version's own declarations (its own values, bounds and optionality), in NEW's names
    old_decl: dict[str, Variable]
    new_decl: dict[str, Variable]
    renamed_variables: dict[str, str]
    renamed_recommendations: dict[str, str]


class Diff(Record):
    old: Guideline  # as loaded
    new: Guideline
    aligned: Aligned
    only: str | None
    changed: Listing
    only_old: Listing
    only_new: Listing
    #: declarations that differ (variables, recommendations), for people
    notes: tuple[str, ...]

    @property
    def verdict(self) -> Literal["no-change", "changed", "unknown"]:
        listings = (self.changed, self.only_old, self.only_new)
        if any(x.regions for x in listings):
            return "changed"
        return "unknown" if any(x.end == "unknown" for x in listings) else "no-change"


# -- input --------------------------------------------------------------------------------------


def error(code: str, message: str) -> InputError:
    """An input error without a position (an option, not a file)."""
    return InputError([Diagnostic(code, message)])


def parse_renames(items: Iterable[str], old: Guideline, new: Guideline) -> tuple[dict[str, str], dict[str, str]]:
    """``--rename OLD=NEW`` options: (variables, recommendations), each OLD id -> NEW id."""
    maps: dict[str, dict[str, str]] = {"variable": {}, "recommendation": {}}
    spaces: dict[str, tuple[Mapping[str, object], Mapping[str, object]]] = {
        "variable": (old.variables, new.variables), "recommendation": (old.recommendations, new.recommendations)}
    for item in items:
        a, sep, b = (x.strip() for x in item.partition("="))
        if not sep or not a or not b:
            raise error("bad-rename", f"--rename {item!r}: expected OLD=NEW, an id of a variable or recommendation "
                                     "in the old version and its id in the new one")
        kinds = [k for k, (o, _) in spaces.items() if a in o]
        if not kinds:
            raise error("bad-rename", f"--rename {item!r}: {old.file} has no variable or recommendation {a!r}")
        hits = [k for k in kinds if b in spaces[k][1]]
        if not hits:
            raise error("bad-rename", f"--rename {item!r}: {new.file} has no {' or '.join(kinds)} {b!r}")
        for k in hits:
            if a in maps[k]:
                raise error("bad-rename", f"--rename {item!r}: {k} {a!r} is already renamed to {maps[k][a]!r}")
            maps[k][a] = b
    for k, (o, _) in spaces.items():
        seen: dict[str, str] = {}
        for n in o:
            m = maps[k].get(n, n)
            if m in seen:
                raise error("bad-rename", f"--rename: {k}s {seen[m]!r} and {n!r} of {old.file} would both be "
                                         f"called {m!r}")
            seen[m] = n
    return maps["variable"], maps["recommendation"]


def only_id(only: str | None, a: Aligned) -> str | None:
    """The recommendation of ``--only`` in NEW's ids (an OLD id that was renamed works too)."""
    if only is None:
        return None
    rid = a.renamed_recommendations.get(only, only)
    if rid not in a.new.recommendations and rid not in a.old.recommendations:
        raise error("unknown-recommendation", f"--only {only!r}: neither {a.new.file} nor {a.old.file} has a "
                                             f"recommendation {only!r}")
    return rid


# -- aligning the versions ----------------------------------------------------------------------


def align(old: Guideline, new: Guideline, variables: Mapping[str, str] | None = None,
          recommendations: Mapping[str, str] | None = None) -> Aligned:
    """Both versions in NEW's names with shared types (see the module doc); an input error
    when a shared variable changed its kind or unit (no patient is in both versions' terms)."""
    var_map, rec_map = dict(variables or {}), dict(recommendations or {})
    old_decl = {var_map.get(n, n): v.replace(name=var_map.get(n, n)) for n, v in old.variables.items()}
    new_decl = dict(new.variables)
    types: dict[str, X.Type] = {}
    for n, v in old_decl.items():
        w = new_decl.get(n)
        if w is None:
            types[n] = v.type.replace(name=n) if v.type.name else v.type
        elif v.type.kind != w.type.kind or v.type.unit != w.type.unit:
            raise InputError([Diagnostic(
                "incompatible-versions",
                f"variable {n!r} is {_kind(v.type)} in {old.file} ({v.span}) and {_kind(w.type)} here: the versions "
                "cannot be compared patient by patient (give the new variable another name)", w.span)])
        else:
            types[n] = w.type.replace(values=w.type.values + tuple(x for x in v.type.values if x not in w.type.values))
    for n, w in new_decl.items():
        types.setdefault(n, w.type)
    a = _restate(old, {n: var_map.get(n, n) for n in old.variables}, types, rec_map, new.definitions)
    b = _restate(new, {n: n for n in new.variables}, types, {}, None)
    vocab_vars = {n: v.replace(optional=v.optional or (n in a.variables and a.variables[n].optional))
                  for n, v in b.variables.items()}
    vocab_vars.update((n, v) for n, v in a.variables.items() if n not in vocab_vars)
    vocab_defs = {**b.definitions, **{n: d for n, d in a.definitions.items() if n not in b.definitions}}
    vocab = b.replace(variables=vocab_vars, definitions=vocab_defs, constraints=[], steps={}, order=(),
                      recommendations={}, conflicts=[], invariants=[], dispositions=())
    return Aligned(a, b, vocab, old_decl, new_decl, var_map, rec_map)


def _fresh(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``, ... when that is taken."""
    out, i = name, 1
    while out in taken:
        i += 1
        out = f"{name}_{i}"
    return out


def _kind(t: X.Type) -> str:
    return f"a duration in {t.unit}" if t.unit else X.describe_type(t)


def _restate(g: Guideline, names: Mapping[str, str], types: Mapping[str, X.Type], recs: Mapping[str, str],
             theirs: Mapping[str, Any] | None) -> Guideline:
    """``g`` with its variables renamed (``names``) and retyped (``types``, by new name), its
    recommendations renamed (``recs``), and, when ``theirs`` (the other version's definitions)
    is given, each definition that differs from theirs renamed ``old_NAME``."""
    by_type = {v.type: types[names[n]] for n, v in g.variables.items()}  # enum literals carry their variable's type
    defs: dict[str, str] = {}
    # names a definition of this version may not keep: the other version's definitions and
    # both versions' variables (regions are written over both versions' names at once)
    taken = set(types) | set(theirs or ()) | set(g.definitions)

    def var(v: X.Var) -> X.Var:
        n = names[v.name]
        return X.Var(n, types[n], v.span)

    def leaf(e: X.Expr) -> X.Expr:
        match e:
            case X.Var():
                return var(e)
            case X.Member(var=v) | X.Known(var=v):
                return e.replace(var=var(v))
            case X.EnumLit(type=t):
                return e.replace(type=by_type.get(t, t))
            case X.DefRef(name=n):
                return e.replace(name=defs[n])
            case X.Recommends(rec=r):
                return e.replace(rec=recs.get(r, r))
            case _:
                return e

    def cond(c: Condition) -> Condition:
        return c.replace(expr=X.rewrite(c.expr, leaf), unguarded=tuple((names[v], s, defs.get(d, d))
                                                                        for v, s, d in c.unguarded))

    definitions = {}
    for top in g.definitions:
        for d in g.expansion_order(top):  # the definitions it uses first: their new names are known
            if d in defs:
                continue
            mine = g.definitions[d]
            c = cond(mine.cond)
            other = None if theirs is None else theirs.get(d)
            same = other is None or (other.cond.expr == c.expr and other.cond.type == c.type)
            defs[d] = d if same and d not in types else _fresh(("new_" if theirs is None else OLD_PREFIX) + d, taken)
            taken.add(defs[d])
            definitions[defs[d]] = mine.replace(name=defs[d], cond=c)

    def rec(r: str) -> str:
        return recs.get(r, r)

    def step(s: Step) -> Step:
        return s.replace(branches=tuple(b.replace(cond=cond(b.cond)) for b in s.branches),
                         recommend=tuple(rec(r) for r in s.recommend))

    def safety(rules: Any) -> Any:
        return tuple(x.replace(cond=None if x.cond is None else cond(x.cond)) for x in rules)

    return g.replace(
        variables={names[n]: v.replace(name=names[n], type=types[names[n]]) for n, v in g.variables.items()},
        constraints=[c.replace(cond=cond(c.cond)) for c in g.constraints],
        definitions=definitions,
        recommendations={rec(r): x.replace(id=rec(r), contraindications=safety(x.contraindications),
                                           cautions=safety(x.cautions)) for r, x in g.recommendations.items()},
        steps={sid: step(s) for sid, s in g.steps.items()},
        conflicts=[c.replace(recs=tuple(rec(r) for r in c.recs)) for c in g.conflicts],
        invariants=[i.replace(cond=cond(i.cond)) for i in g.invariants],
        dispositions=tuple(rec(r) for r in g.dispositions))


def notes(a: Aligned) -> tuple[str, ...]:
    """The declarations that differ, for people (their effect on patients is in the listings)."""
    out = [f"renamed {k} {o!r} -> {n!r}" for k, m in (("variable", a.renamed_variables),
                                                      ("recommendation", a.renamed_recommendations)) for o, n in m.items()]
    for n in [*a.new_decl, *(n for n in a.old_decl if n not in a.new_decl)]:
        o, w = a.old_decl.get(n), a.new_decl.get(n)
        if o is None or w is None:
            out.append(f"variable {n}: only in {'NEW' if o is None else 'OLD'}")
            continue
        if (o.min, o.max) != (w.min, w.max):
            out.append(f"variable {n}: from {format_value(o.min)}..{format_value(o.max)} to "
                       f"{format_value(w.min)}..{format_value(w.max)}")
        if o.type.values != w.type.values:
            out.append(f"variable {n}: values [{', '.join(o.type.values)}] -> [{', '.join(w.type.values)}]")
        if o.optional != w.optional:
            out.append(f"variable {n}: {'optional' if o.optional else 'required'} -> "
                       f"{'optional' if w.optional else 'required'}")
    for r in [*a.new.recommendations, *(r for r in a.old.recommendations if r not in a.new.recommendations)]:
        if (r in a.old.recommendations) != (r in a.new.recommendations):
            out.append(f"recommendation {r}: only in {'NEW' if r in a.new.recommendations else 'OLD'}")
    return tuple(out)


# -- the comparison -----------------------------------------------------------------------------


class _Side:
    """One version: its restated guideline, encoding, domain (with its own values and
    required facts) and the evaluator's view of a patient."""

    def __init__(self, label: str, g: Guideline, decl: Mapping[str, Variable], vocab: Guideline, venc: Encoding):
        self.label, self.g, self.decl, self.vocab = label, g, decl, vocab
        self.enc = Encoding(g)
        # The value of a fact a patient does not have is read nowhere, so its bounds bind
        # only when it has one: versions that bound it differently still agree on a patient
        # without it.
        bounds = {name: n for n, v in g.variables.items() if n in venc.known
                  for name, _ in kind_of(v.type).declare(v)[1]}
        self.domain = [(name, z3.Implies(venc.known[bounds[name]], t) if name in bounds else t)
                       for name, t in self.enc.domain]
        for n, v in decl.items():
            for c in kind_of(v.type).within(v, vocab.variables[n].type):
                t = self.enc.term(c)
                self.domain.append((f"{label}: values of {n}", z3.Implies(venc.known[n], t) if n in venc.known else t))
            if not v.optional and n in venc.known:
                self.domain.append((f"{label}: {n} has a value", venc.known[n]))
        self._preds = predecessors(g.steps)

    def own(self, p: Patient) -> dict[str, Any]:
        return {n: p[n] for n in self.g.variables}

    def valid(self, p: Patient) -> bool:
        """The evaluator's view: every value within this version's own declaration, and
        every domain constraint holds."""
        for n, v in self.decl.items():
            value = p[n]
            raw = None if value is None else kind_of(self.vocab.variables[n].type).plain(self.vocab.variables[n], value)
            if coerce(v, raw)[1] is not None:
                return False
        try:
            return not violated_constraints(self.g, self.own(p))
        except AbsentValue:
            return False

    def applies(self, p: Patient) -> set[str]:
        return run(self.g, self.own(p)).applies

    def atoms(self, recs: Iterable[str]) -> list[X.Expr]:
        """The guard atoms of the decisions on every path to a step recommending ``recs``."""
        wanted = set(recs)
        steps = [s for s in self.g.order if wanted & set(self.g.steps[s].recommend)]
        return path_atoms(self.g, steps, lambda s: reachable([s], self._preds))


class _Context(Context):
    """The checks' context, whose witnesses are the closest to a typical patient without the
    tie-break that makes verify's region witnesses independent of the queries asked before
    them: a diff asks its queries in a fixed order, so its witnesses are reproducible
    anyway, and on a guideline with a nonlinear computed value (the anticoagulation
    guideline's creatinine clearance) that tie-break made one witness take minutes."""

    def witness(self, result: Result, parts: Sequence[tuple[str, z3.BoolRef]], plausible: bool,
                unique: bool = False) -> Patient:
        return super().witness(result, parts, plausible)


def _sides(a: Aligned) -> tuple[Encoding, _Side, _Side]:
    venc = Encoding(a.vocab)
    return venc, _Side("OLD", a.old, a.old_decl, a.vocab, venc), _Side("NEW", a.new, a.new_decl, a.vocab, venc)


def _all_recommendations(a: Aligned) -> list[str]:
    return [*a.new.recommendations, *(r for r in a.old.recommendations if r not in a.new.recommendations)]


def first_difference(old: Guideline, new: Guideline, timeout: float | None = 10.0,
                     rlimit: int | None = None) -> tuple[Verdict, dict[str, Any] | None]:
    """Are two versions the same for every patient? PROVED when Z3 finds no patient valid in
    one and not the other and none whose recommendations differ (unsat, each); REFUTED with
    such a patient (a solver model over both versions' variables, not re-checked or
    generalised: :func:`compare` does that); UNKNOWN when the solver gives up."""
    a = align(old, new)
    venc, sa, sb = _sides(a)
    questions = [(sa.domain + sb.domain, _differ(sa, sb, _all_recommendations(a))[1]),
                 (sa.domain, z3.Not(_valid_somehow(sb, sa))), (sb.domain, z3.Not(_valid_somehow(sa, sb)))]
    unknown = False
    for domain, term in questions:
        r = Prover(domain, timeout=timeout, rlimit=rlimit).check([("a difference", term)], want_core=False)
        if r.status == "sat":
            return Verdict.REFUTED, venc.patient(r.model)
        unknown |= r.status == "unknown"
    return (Verdict.UNKNOWN if unknown else Verdict.PROVED), None


def compare(old: Guideline, new: Guideline, renames: Sequence[str] = (), only: str | None = None,
            timeout: float | None = 10.0, rlimit: int | None = None, max_regions: int = MAX_REGIONS) -> Diff:
    """Every valid patient whose advice differs between ``old`` and ``new`` (see the module doc)."""
    var_map, rec_map = parse_renames(renames, old, new)
    a = align(old, new, var_map, rec_map)
    rid = only_id(only, a)
    venc, sa, sb = _sides(a)
    recs = [rid] if rid is not None else _all_recommendations(a)

    def prover(domain: list[tuple[str, z3.BoolRef]]) -> Context:
        return _Context(a.vocab, venc, Prover(domain, timeout=timeout, rlimit=rlimit), max_regions)

    changed = _changes(prover(sa.domain + sb.domain), sa, sb, recs, max_regions)
    only_old = _only(prover(sa.domain), sa, sb, max_regions)
    only_new = _only(prover(sb.domain), sb, sa, max_regions)
    return Diff(old, new, a, rid, changed, only_old, only_new, notes(a))


def _changes(ctx: Context, sa: _Side, sb: _Side, recs: list[str], limit: int) -> Listing:
    """Changed advice, one change (recommendations gained and lost) at a time."""
    pairs, differ = _differ(sa, sb, recs)

    def change(p: Patient) -> tuple[tuple[str, ...], tuple[str, ...]]:
        before, after = sa.applies(p), sb.applies(p)
        return tuple(r for r in recs if r in after and r not in before), tuple(r for r in recs if r in before and r not in after)

    def exactly(gained: Sequence[str], lost: Sequence[str]) -> z3.BoolRef:
        return z3.And([z3.And(z3.Not(x), y) if r in gained else z3.And(x, z3.Not(y)) if r in lost else x == y
                       for r, (x, y) in pairs.items()])

    out: list[Change] = []
    blocks: list[tuple[str, z3.BoolRef]] = []
    while True:
        parts = [("the answers differ", differ)] + blocks
        r = ctx.prover.check(parts, want_core=False)
        if r.status == "unsat":
            return Listing(tuple(out), "complete" if out else "proved")
        if r.status == "unknown":
            return Listing(tuple(out), "unknown", r.reason)
        if len(out) >= limit:
            return Listing(tuple(out), "limit")
        p = ctx.witness(r, parts, plausible=True)
        gained, lost = change(p)
        ctx.confirm(sa.valid(p) and sb.valid(p) and bool(gained or lost), f"diff: change {len(blocks) + 1}", p)

        def has(q: Patient, want: tuple[Any, Any] = (gained, lost)) -> bool:
            return sa.valid(q) and sb.valid(q) and change(q) == want

        what = f"gains {', '.join(gained) or 'nothing'} and loses {', '.join(lost) or 'nothing'}"
        term = exactly(gained, lost)
        atoms = list(dict.fromkeys(sa.atoms(gained + lost) + sb.atoms(gained + lost)))
        listing = list_regions(ctx, [(what, term)], atoms, p, has, f"diff: {what}", limit - len(out))
        out.extend(Change(x.condition, x.witness, gained, lost) for x in listing.regions)
        if listing.end != "complete":
            return Listing(tuple(out), "unknown" if listing.end == "unknown" else "limit")
        blocks.append((f"not: {what}", z3.Not(term)))


def _differ(sa: _Side, sb: _Side, recs: Sequence[str]) -> tuple[dict[str, tuple[Any, Any]], z3.BoolRef]:
    """For each recommendation whether it applies in OLD and in NEW (false where a version
    lacks it), and "some recommendation applies in one version and not the other"."""
    false = z3.BoolVal(False)
    pairs = {r: (sa.enc.applies.get(r, false), sb.enc.applies.get(r, false)) for r in recs}
    return pairs, z3.Or([x != y for x, y in pairs.values()])


def _valid_somehow(other: _Side, mine: _Side) -> z3.BoolRef:
    """``other``'s domain, its variables that ``mine`` does not declare quantified
    existentially: the patient is valid in ``other`` for some value of them."""
    theirs = [n for n in other.g.variables if n not in mine.g.variables]
    consts = [c for n in theirs for c in other.enc.constants(n)]
    if not consts:
        return z3.And([t for _, t in other.domain])
    own = frozenset(theirs)
    reads = [t for _, t in other.domain if (other.enc.support(t) or own) & own]
    rest = [t for _, t in other.domain if not (other.enc.support(t) or own) & own]
    return z3.And(z3.And(rest), z3.Exists(consts, z3.And(reads)))


def _only(ctx: Context, mine: _Side, other: _Side, limit: int) -> Listing:
    """Patients valid in ``mine`` and in no completion of ``other`` (the variables only
    ``other`` declares may take any value)."""
    parts = [(f"not valid in {other.label}", z3.Not(_valid_somehow(other, mine)))]
    r = ctx.prover.check(parts, want_core=False)
    if r.status == "unsat":
        return Listing((), "proved")
    if r.status == "unknown":
        return Listing((), "unknown", r.reason)
    p = ctx.witness(r, parts, plausible=True)

    def has(q: Patient) -> bool:  # the model's values of other's own variables are one completion
        return mine.valid(q) and not other.valid(q)

    ctx.confirm(has(p), f"diff: valid in {mine.label} only", p)
    g = ctx.g
    exprs = [c.cond.expr for c in mine.g.constraints + other.g.constraints]
    bounds = [e for n in mine.decl if n in other.decl for e in _bound_atoms(g, mine.decl[n], other.decl[n])]
    atoms = list(dict.fromkeys(bounds + guard_atoms(g, exprs)))
    listing = list_regions(ctx, parts, atoms, p, has, f"diff: valid in {mine.label} only", limit)
    end: End = "complete" if listing.end == "complete" else "limit" if listing.end == "limit" else "unknown"
    return Listing(tuple(Change(x.condition, mine.own(x.witness)) for x in listing.regions), end)


def _bound_atoms(g: Guideline, v: Variable, w: Variable) -> list[X.Expr]:
    """Tests of the bounds, values and optionality where two declarations of a variable
    differ (``age >= 16``, ``grade == mid``, ``known(x)``), built from the pinning atoms."""
    out: list[X.Expr] = []
    if v.optional != w.optional:
        out.extend(points(g, v.name, None))
    if (v.min, v.max) != (w.min, w.max):
        for x in dict.fromkeys(b for b in (v.min, w.min, v.max, w.max) if b is not None):
            for e in points(g, v.name, x):
                out.extend([X.Le(e.left, e.right), X.Le(e.right, e.left)] if isinstance(e, X.Eq) else [e])
    if v.type.values != w.type.values:  # the tests that say a value is one of each version's own
        wider = g.variables[v.name].type
        out.extend(guard_atoms(g, kind_of(wider).within(v, wider) + kind_of(wider).within(w, wider)))
    return out


# -- output -------------------------------------------------------------------------------------

#: the three listings: key in JSON, heading in text, what "none" means
SECTIONS = (("changed", "CHANGED ADVICE", "patients valid in both versions whose recommendations differ"),
            ("only_old", "VALID IN OLD ONLY", "patients OLD admits and NEW does not"),
            ("only_new", "VALID IN NEW ONLY", "patients NEW admits and OLD does not"))

ENDS = {
    "proved": "none (proved: Z3 found no such patient)",
    "complete": "complete: together they are exactly the {what}",
    "limit": "listing stopped after {n} (--max-regions): more such patients lie outside them",
    "unknown": "INCOMPLETE: the solver answered unknown ({reason}) before the listing ended",
}


def _listings(d: Diff) -> list[tuple[str, str, str, Listing]]:
    return [(key, head, what, getattr(d, key)) for key, head, what in SECTIONS]


def _rec_words(d: Diff, rid: str) -> str:
    rec = d.aligned.new.recommendations.get(rid) or d.aligned.old.recommendations[rid]
    return f"{rid} ({rec.short})"


def _version(g: Guideline) -> str:
    return f"{g.file} ({g.id} {g.version})"


def text(d: Diff) -> str:
    vocab = d.aligned.vocab
    out = [f"OLD: {_version(d.old)}", f"NEW: {_version(d.new)}"]
    if d.only is not None:
        out.append(f"compared: {_rec_words(d, d.only)} only")
    if d.notes:
        out.append("declarations that differ:")
        out.extend(f"  {n}" for n in d.notes)
    for _key, head, what, listing in _listings(d):
        n = len(listing.regions)
        out.append("")
        out.append(f"{head}: " + (ENDS[listing.end] if listing.end == "proved" else
                                   f"{n} region{'s' if n != 1 else ''}, "
                                   + ENDS[listing.end].format(n=n, what=what, reason=listing.reason)))
        for i, c in enumerate(listing.regions, 1):
            out.append(f"  {i}. {c.condition}")
            if _key == "changed":
                out.append(f"     gains: {', '.join(_rec_words(d, r) for r in c.gained) or 'nothing'}")
                out.append(f"     loses: {', '.join(_rec_words(d, r) for r in c.lost) or 'nothing'}")
            out.append(f"     witness (differs from a typical patient in: {differences(vocab, c.witness)})")
    out.append("")
    out.append(verdict_text(d))
    return "\n".join(out) + "\n"


def verdict_text(d: Diff) -> str:
    listings = (d.changed, d.only_old, d.only_new)
    if d.verdict == "changed":
        words = ("of changed advice", "of patients valid in OLD only", "of patients valid in NEW only")
        counts = ", ".join(f"{len(x.regions)} region{'s' if len(x.regions) != 1 else ''} {w}"
                           for w, x in zip(words, listings, strict=True) if x.regions)
        incomplete = any(x.end in ("limit", "unknown") for x in listings)
        return f"CHANGED: {counts}" + (" (listing incomplete)" if incomplete else "")
    if d.verdict == "unknown":
        return "INCONCLUSIVE: the solver answered unknown; no change was found, and none is proved absent"
    gets = "the same recommendations from both" if d.only is None else \
        f"recommendation {d.only!r} from both or from neither"
    return (f"PROVED: no behavioural change: every patient valid in either version is valid in both and gets "
            f"{gets} (Z3 found no difference: unsat)")


def _listing_json(d: Diff, key: str, listing: Listing) -> dict[str, Any]:
    vocab = d.aligned.vocab
    regions = []
    for c in listing.regions:
        r: dict[str, Any] = {"condition": c.condition, "witness": to_plain(vocab, c.witness)}
        if key == "changed":
            r.update(gained=list(c.gained), lost=list(c.lost))
        regions.append(r)
    return {"end": listing.end, "reason": listing.reason or None, "truncated": listing.end in ("limit", "unknown"),
            "regions": regions}


def as_json(d: Diff) -> str:
    a = d.aligned
    doc = {
        "version": DIFF_JSON_VERSION,
        "old": {"id": d.old.id, "title": d.old.title, "version": d.old.version, "file": d.old.file},
        "new": {"id": d.new.id, "title": d.new.title, "version": d.new.version, "file": d.new.file},
        "only": d.only,
        "renamed": {"variables": a.renamed_variables, "recommendations": a.renamed_recommendations},
        "declarations": list(d.notes),
        "verdict": d.verdict,
        **{key: _listing_json(d, key, listing) for key, _h, _w, listing in _listings(d)},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)
