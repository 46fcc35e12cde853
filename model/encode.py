"""Z3 semantics for every patient at once: the same meaning as ``evaluate.py``, as terms.

Encoding choices (each keeps witnesses easy to read back):

* each variable as its kind's adapter declares it (``kinds.py``): bool -> ``Bool``; int ->
  ``Int`` and decimal -> ``Real``, bounded by the declared min/max; enum -> ``Int`` holding
  the value's index (bounded), which keeps enums in linear arithmetic; set -> one ``Bool``
  per possible member, named ``var.member``. An optional variable also has a Bool
  ``known(var)``; when it is false the value terms are unconstrained (beyond their bounds)
  and the patient's value is None.

Bounds and the author's domain constraints are returned separately (:attr:`domain`) so a
check can track each one for unsat cores.

Every term handed out (variables, set members, :meth:`term` results, and the ``reached``,
``fired`` and ``applies`` terms) is registered with its *support*, the names of the
variables it reads, built alongside the term from the same parts. The prover uses supports
to leave domain constraints on unrelated variables out of a query (see ``verify/solver.py``).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction
import operator
from typing import Any, assert_never

import z3

from . import expr as X
from .graph import edges_of
from .guideline import Guideline
from .intervals import Interval, interval
from .kinds import kind_of, model_value

# Z3 would otherwise catch Ctrl-C during a check and answer "unknown", so an interrupted run
# would carry on with an inconclusive verdict; the CLI interrupts checks itself
# (guideproof/interrupts.py) and exits 130.
z3.set_param("ctrl_c", False)


def _connective(make: Any, args: Sequence[Any]) -> z3.BoolRef:
    arr = (z3.Ast * len(args))(*[a.as_ast() for a in args])
    ctx = args[0].ctx
    return z3.BoolRef(make(ctx.ref(), len(args), arr), ctx)


def all_of(args: Sequence[Any]) -> z3.BoolRef:
    """``z3.And(args)`` (the same term) for Bool terms, without the Python layer's sort
    checks on every argument: building the terms of a large guideline and of its
    obligations spent more time in those checks than the solver spent answering."""
    if not args or not all(isinstance(a, z3.BoolRef) for a in args):
        return z3.And(list(args))
    return _connective(z3.Z3_mk_and, args)


def any_of(args: Sequence[Any]) -> z3.BoolRef:
    """``z3.Or(args)`` (the same term) for Bool terms; see :func:`all_of`."""
    if not args or not all(isinstance(a, z3.BoolRef) for a in args):
        return z3.Or(list(args))
    return _connective(z3.Z3_mk_or, args)


def not_term(a: Any) -> z3.BoolRef:
    """``z3.Not(a)`` (the same term) for a Bool term; see :func:`all_of`."""
    if not isinstance(a, z3.BoolRef):
        return z3.Not(a)
    return z3.BoolRef(z3.Z3_mk_not(a.ctx.ref(), a.as_ast()), a.ctx)


class Encoding:
    def __init__(self, g: Guideline):
        self.g = g
        self.vars: dict[str, Any] = {}
        self.members: dict[str, dict[str, z3.BoolRef]] = {}
        #: Z3 AST id -> (the term, names of the variables it reads); the term is kept so that
        #: its id is never reused for another term while this encoding lives
        self._support: dict[int, tuple[Any, frozenset[str]]] = {}
        #: (name, term) for every bound and domain constraint, in declaration order
        self.domain: list[tuple[str, z3.BoolRef]] = []
        #: optional variable -> the Bool that says it has a value (its value terms are then
        #: meaningful; without one they are unconstrained, and no guarded read sees them)
        self.known: dict[str, z3.BoolRef] = {}
        for v in g.variables.values():
            term, bounds = kind_of(v.type).declare(v)
            if isinstance(term, dict):  # a set: one Bool per member
                self.members[v.name] = term
            else:
                self.vars[v.name] = term
            self.domain.extend(bounds)
            own = frozenset((v.name,))
            for t in term.values() if isinstance(term, dict) else [term]:
                self._register(t, own)
            if v.optional:
                self._register(self.known.setdefault(v.name, z3.Bool(f"known({v.name})")), own)
        self._domain_by_var: dict[str, list[z3.BoolRef]] | None = None
        self._defs: dict[str, z3.BoolRef] = {}
        self._intervals: dict[str, Interval] = {}
        self._def_support: dict[str, frozenset[str]] = {}
        for c in g.constraints:
            self.domain.append((f"constraint {c.id}", self.term(c.cond.expr)))
        self.reached: dict[str, z3.BoolRef] = {}
        self.fired: dict[str, z3.BoolRef] = {}  # edge key -> term
        self._reached_support: dict[str, frozenset[str]] = {}
        self._encode_graph()
        for sid in g.steps:  # steps no path leads to (only in edited guidelines) are never reached
            self.reached.setdefault(sid, z3.BoolVal(False))
            self._reached_support.setdefault(sid, frozenset())
        by_rec: dict[str, list[str]] = {r: [] for r in g.recommendations}
        for sid, step in g.steps.items():
            for r in step.recommend:
                by_rec[r].append(sid)
        self.applies: dict[str, z3.BoolRef] = {}
        self._applies_support: dict[str, frozenset[str]] = {}
        for r, sids in by_rec.items():
            t = self.applies[r] = any_of([self.reached[s] for s in sids]) if sids else z3.BoolVal(False)
            self._applies_support[r] = self._register(t, _union(self._reached_support[s] for s in sids))

    def _register(self, t: Any, support: frozenset[str]) -> frozenset[str]:
        self._support[t.get_id()] = (t, support)
        return support

    def support(self, t: z3.ExprRef) -> frozenset[str] | None:
        """The variables ``t`` reads, when every leaf of it is known to this encoding (a
        constant from elsewhere, such as a renamed copy, gives None: unknown).

        Walked through Z3's C API on raw pointers: the Python layer builds a wrapper, with
        its reference counting and sort checks, for every subterm it hands out, and asking
        which components each query reads spent more time in those than in the walk."""
        ctx = t.ctx.ref()
        memo: dict[int, frozenset[str] | None] = {}
        registered = self._support

        def walk(a: Any) -> frozenset[str] | None:
            i = z3.Z3_get_ast_id(ctx, a)
            hit = registered.get(i)
            if hit is not None:
                return hit[1]
            if i in memo:
                return memo[i]
            out: frozenset[str] | None
            kind = z3.Z3_get_ast_kind(ctx, a)
            if kind == z3.Z3_NUMERAL_AST:
                out = frozenset()
            elif kind != z3.Z3_APP_AST:
                out = None  # a quantifier or bound variable: not made here
            else:
                n = z3.Z3_get_app_num_args(ctx, a)
                if n == 0:  # a constant: a literal, or a variable this encoding did not make
                    uninterpreted = z3.Z3_get_decl_kind(ctx, z3.Z3_get_app_decl(ctx, a)) == z3.Z3_OP_UNINTERPRETED
                    out = None if uninterpreted else frozenset()
                else:
                    parts = [walk(z3.Z3_get_app_arg(ctx, a, k)) for k in range(n)]
                    out = None if any(p is None for p in parts) else _union(p for p in parts if p is not None)
            memo[i] = out
            return out

        return walk(t.as_ast())

    def valid(self) -> z3.BoolRef:
        """All bounds and domain constraints together."""
        return z3.And([t for _, t in self.domain])

    def term(self, e: X.Expr) -> Any:
        """The Z3 term for ``e`` (registered with its support)."""
        t = self._term(e)
        self._register(t, self.expr_support(e))
        return t

    def expr_support(self, e: X.Expr) -> frozenset[str]:
        """The variables ``e`` reads, through definitions and ``recommends``."""
        match e:
            case X.Var(name=n) | X.Member(var=X.Var(name=n)) | X.Known(var=X.Var(name=n)):
                return frozenset((n,))
            case X.DefRef(name=n):
                if n not in self._def_support:
                    for d in self.g.expansion_order(n):  # bottom-up: a long chain never recurses deeply
                        if d not in self._def_support:
                            self._def_support[d] = self.expr_support(self.g.definitions[d].cond.expr)
                return self._def_support[n]
            case X.Recommends(rec=r):
                return self._applies_support[r]
            case _:
                return _union(self.expr_support(a) for a in X.children(e))

    def _term(self, e: X.Expr) -> Any:
        match e:
            case X.BoolLit(value=v):
                return z3.BoolVal(v)
            case X.IntLit(value=v):
                return z3.IntVal(v)
            case X.DecLit(value=v):
                return z3.RealVal(f"{v.numerator}/{v.denominator}")
            case X.DurLit(days=v):
                return _number(v)
            case X.InDays(arg=a, days=scale):
                return self._term(a) * _number(scale)
            case X.EnumLit(value=v, type=t):
                return z3.IntVal(t.values.index(v))
            case X.Var(name=n):
                return self.vars[n]
            case X.Not(arg=a):
                return not_term(self._term(a))
            case X.And(args=xs):
                return all_of([self._term(a) for a in xs])
            case X.Or(args=xs):
                return any_of([self._term(a) for a in xs])
            case X.Eq(left=l, right=r):
                return self._compare(l, r, operator.eq)
            case X.Lt(left=l, right=r):
                return self._compare(l, r, operator.lt)
            case X.Le(left=l, right=r):
                return self._compare(l, r, operator.le)
            case X.Add(left=l, right=r):
                return self._term(l) + self._term(r)
            case X.Sub(left=l, right=r):
                return self._term(l) - self._term(r)
            case X.Mul(left=l, right=r):
                return self._term(l) * self._term(r)
            case X.Div(left=l, right=r):
                return _real(self._term(l)) / _real(self._term(r))
            case X.Min(args=xs):
                return _fold([self._term(a) for a in xs], lambda a, b: z3.If(a <= b, a, b))
            case X.Max(args=xs):
                return _fold([self._term(a) for a in xs], lambda a, b: z3.If(a >= b, a, b))
            case X.Abs(arg=a):
                t = self._term(a)
                return z3.If(t >= 0, t, -t)
            case X.Ite(cond=c, then=t, other=o):
                return z3.If(self._term(c), self._term(t), self._term(o))
            case X.Count(args=xs):
                return z3.Sum([z3.If(self._term(a), 1, 0) for a in xs])
            case X.AtLeast(k=k, args=xs):
                return z3.Sum([z3.If(self._term(a), 1, 0) for a in xs]) >= k
            case X.Member(element=el, var=v):
                return self.members[v.name][el]
            case X.DefRef(name=n):
                if n not in self._defs:
                    # bottom-up, as the evaluator: a long chain of definitions never recurses deeply
                    for d in self.g.expansion_order(n):
                        if d not in self._defs:
                            self._defs[d] = self._term(self.g.definitions[d].cond.expr)
                return self._defs[n]
            case X.Recommends(rec=r):
                return self.applies[r]
            case X.Known(var=v):
                return self.known[v.name]
            case _:
                assert_never(e)

    def _compare(self, left: X.Expr, right: X.Expr, op: Any) -> Any:
        """``left op right``, with a quotient whose divisor has one sign over the bounds
        multiplied out: ``n / d < c`` is ``n < c * d`` when every valid ``d`` is positive
        (the order turns when it is negative). The same truth for every valid patient, since
        the bounds are in every query's domain; but no division for the solver to reason
        about, and with a constant ``c`` the comparison stays linear in ``d``. A ratio such
        as a creatinine clearance is thus compared as the product it stands for."""
        a, b = self._ratio(left), self._ratio(right)
        if a is None and b is None:
            return op(self._term(left), self._term(right))
        (ln, ld, ls), (rn, rd, rs) = a or (left, None, 1), b or (right, None, 1)
        lt, rt = self._term(ln), self._term(rn)
        if rd is not None:
            lt = lt * self._term(rd)
        if ld is not None:
            rt = rt * self._term(ld)
        return op(rt, lt) if ls * rs < 0 and op is not operator.eq else op(lt, rt)

    def _ratio(self, e: X.Expr) -> tuple[X.Expr, X.Expr, int] | None:
        """(numerator, divisor, sign of the divisor) when ``e`` is, through definitions, a
        quotient whose divisor has one sign for every value within the bounds; a quotient
        times a factor (``a / b * c``) and a quotient divided again (``a / b / c``) are
        quotients too."""
        while isinstance(e, X.DefRef):
            e = self.g.definitions[e.name].cond.expr
        match e:
            case X.Div(left=top, right=bottom):
                sign = self._sign(bottom)
                if sign == 0:
                    return None
                inner = self._ratio(top)
                if inner is None:
                    return top, bottom, sign
                n, d, s = inner
                return n, X.Mul(d, bottom), s * sign
            case X.Mul(left=a, right=b):
                for q, factor in ((a, b), (b, a)):
                    inner = self._ratio(q)
                    if inner is not None:
                        n, d, s = inner
                        return X.Mul(n, factor), d, s
        return None

    def _sign(self, e: X.Expr) -> int:
        """1 or -1 when ``e`` has that sign for every value within the bounds, else 0."""
        lo, hi = interval(e, self.g, self._intervals)
        return 1 if lo is not None and lo > 0 else -1 if hi is not None and hi < 0 else 0

    def _encode_graph(self) -> None:
        g = self.g
        incoming: dict[str, list[z3.BoolRef]] = {s: [] for s in g.order}
        into: dict[str, list[frozenset[str]]] = {s: [] for s in g.order}
        for sid in g.order:
            step = g.steps[sid]
            here = z3.BoolVal(True) if sid == g.start else any_of(incoming[sid]) if incoming[sid] else z3.BoolVal(False)
            self.reached[sid] = here
            here_support = self._reached_support[sid] = self._register(here, _union(into[sid]))
            earlier: list[z3.BoolRef] = []
            # Conservatively, every edge of a decision reads every guard of it.
            guards_support = _union(self.expr_support(e.branch.cond.expr) for e in edges_of(step) if e.branch)
            for e in edges_of(step):
                if e.branch is not None:
                    c = self.term(e.branch.cond.expr)
                    guard = all_of([c, not_term(any_of(earlier))]) if step.choice == "first" and earlier else c
                    earlier.append(c)
                elif e.kind == "otherwise":
                    guard = not_term(any_of(earlier)) if earlier else z3.BoolVal(True)
                else:
                    guard = z3.BoolVal(True)
                self.fired[e.key] = all_of([here, guard])
                into[e.target].append(self._register(self.fired[e.key], here_support | guards_support))
                incoming[e.target].append(self.fired[e.key])

    def domain_reading(self, name: str) -> list[z3.BoolRef]:
        """The domain entries that read variable ``name`` (those of unknown support too),
        worked out once for all variables."""
        if self._domain_by_var is None:
            by_var: dict[str, list[z3.BoolRef]] = {}
            unknown: list[z3.BoolRef] = []
            for _, t in self.domain:
                sup = self.support(t)
                if sup is None:
                    unknown.append(t)
                for v in sup or ():
                    by_var.setdefault(v, []).append(t)
            self._domain_by_var = {v: by_var.get(v, []) + unknown for v in self.g.variables}
        return self._domain_by_var[name]

    def copy_of(self, name: str, tag: str) -> Any:
        """A fresh copy of variable ``name``'s term (one per member for a set), named
        ``name~tag`` and registered as reading ``name``, so that queries about a patient
        and a copy of it that differs in ``name`` alone still see only the domain
        components they read."""
        orig = self.term_of(name)
        own = frozenset((name,))
        if isinstance(orig, dict):
            members = {el: z3.Bool(f"{name}.{el}~{tag}") for el in orig}
            for t in members.values():
                self._register(t, own)
            return members
        copy = z3.Const(f"{name}~{tag}", orig.sort())
        self._register(copy, own)
        return copy

    def term_of(self, name: str) -> Any:
        """The Z3 term of a variable (a member map for a set)."""
        return self.members[name] if name in self.members else self.vars[name]

    def constants(self, name: str) -> list[Any]:
        """Every Z3 constant that stands for variable ``name``: its value (one Bool per
        member for a set, in declaration order) and, for an optional variable, whether it
        has one. Two patients agree on the variable when they agree on all of these (for an
        optional variable without a value, agreeing on the unread value too loses no pair
        that matters: no guarded read sees it). A copy of the variable renames each."""
        term = self.term_of(name)
        out = list(term.values()) if isinstance(term, dict) else [term]
        if name in self.known:
            out.append(self.known[name])
        return out

    def patient(self, model: z3.ModelRef, names: Iterable[str] | None = None) -> dict[str, Any]:
        """Read a patient record (the evaluator's and the patient file's format) off a model;
        with ``names``, only those variables (in declaration order)."""
        wanted = self.g.variables.values() if names is None else \
            [self.g.variables[n] for n in sorted(names, key=self.g.variable_position.__getitem__)]
        return {v.name: None if v.name in self.known and model_value(model, self.known[v.name]) is not True
                else kind_of(v.type).read(v, self.term_of(v.name), model) for v in wanted}

    def fix(self, name: str, value: Any) -> z3.BoolRef:
        """The constraint ``variable == value`` for a known fact (``None``: an optional
        variable with no value)."""
        v = self.g.variables[name]
        if name in self.known:
            if value is None:
                return z3.Not(self.known[name])
            return z3.And(self.known[name], kind_of(v.type).fix(v, self.term_of(name), value))
        return kind_of(v.type).fix(v, self.term_of(name), value)


def _union(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    """The union of ``sets``, sharing the largest one when it already holds all the others
    (supports along a chain of steps are mostly equal, so they are stored once)."""
    items = list(sets)
    if not items:
        return frozenset()
    big = max(items, key=len)
    if all(x is big or x <= big for x in items):
        return big
    return frozenset().union(*items)


def _number(v: Fraction) -> Any:
    """An exact constant: an Int when whole (durations in whole days stay integer), else a Real."""
    return z3.IntVal(int(v)) if v.denominator == 1 else z3.RealVal(f"{v.numerator}/{v.denominator}")


def _real(t: Any) -> Any:
    """An arithmetic term as a real (division is exact, never integer division)."""
    return z3.ToReal(t) if z3.is_int(t) else t


def _fold(terms: list[Any], pick: Any) -> Any:
    out = terms[0]
    for t in terms[1:]:
        out = pick(out, t)
    return out
