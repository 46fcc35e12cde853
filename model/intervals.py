"""Interval arithmetic over a guideline's declared bounds: sound bounds (not always tight)
of a numeric expression, with no solver. Used to prove most divisors non-zero when a
guideline loads (``divisors.py``) and to find divisors of one sign, whose quotients the
encoding compares multiplied out (``encode.py``)."""
from __future__ import annotations

from fractions import Fraction

from . import expr as X
from .guideline import Guideline

Bound = Fraction | None  # None: unbounded on that side
Interval = tuple[Bound, Bound]
_ANY: Interval = (None, None)


def interval(e: X.Expr, g: Guideline, memo: dict[str, Interval] | None = None) -> Interval:
    """Bounds of a numeric expression over the declared variable bounds (sound, not tight)."""
    memo = {} if memo is None else memo

    def iv(x: X.Expr) -> Interval:
        return interval(x, g, memo)

    match e:
        case X.IntLit(value=v) | X.DecLit(value=v) | X.DurLit(days=v):
            return Fraction(v), Fraction(v)
        case X.InDays(arg=X.Var(name=n), days=scale):
            var = g.variables[n]
            return Fraction(var.min) * scale, Fraction(var.max) * scale
        case X.Var(name=n):
            var = g.variables[n]
            if var.type in X.NUMERIC:
                return Fraction(var.min), Fraction(var.max)
            return _ANY
        case X.DefRef(name=n):
            if n not in memo:
                memo[n] = _ANY  # a circle (reported elsewhere) stays unbounded
                memo[n] = iv(g.definitions[n].cond.expr)
            return memo[n]
        case X.Add(left=l, right=r):
            (a, b), (c, d) = iv(l), iv(r)
            return _add(a, c), _add(b, d)
        case X.Sub(left=l, right=r):
            (a, b), (c, d) = iv(l), iv(r)
            return _add(a, _neg(d)), _add(b, _neg(c))
        case X.Mul(left=l, right=r):
            return _mul(iv(l), iv(r))
        case X.Div(left=l, right=r):
            c, d = iv(r)
            if c is not None and d is not None and (c > 0 or d < 0):
                return _mul(iv(l), (1 / d, 1 / c))
            return _ANY
        case X.Min(args=xs) | X.Max(args=xs):
            ivs = [iv(a) for a in xs]
            pick = min if isinstance(e, X.Min) else max
            los, his = [i[0] for i in ivs], [i[1] for i in ivs]
            if isinstance(e, X.Min):
                lo = None if None in los else pick(x for x in los if x is not None)
                hi = pick((x for x in his if x is not None), default=None)
            else:
                lo = pick((x for x in los if x is not None), default=None)
                hi = None if None in his else pick(x for x in his if x is not None)
            return lo, hi
        case X.Abs(arg=a):
            lo, hi = iv(a)
            if lo is not None and lo >= 0:
                return lo, hi
            if hi is not None and hi <= 0:
                return _neg(hi), _neg(lo)
            return Fraction(0), (None if lo is None or hi is None else max(-lo, hi))
        case X.Ite(then=t, other=o):
            (a, b), (c, d) = iv(t), iv(o)
            return (None if a is None or c is None else min(a, c)), (None if b is None or d is None else max(b, d))
        case X.Count(args=xs):
            return Fraction(0), Fraction(len(xs))
        case _:
            return _ANY


def _neg(x: Bound) -> Bound:
    return None if x is None else -x


def _add(x: Bound, y: Bound) -> Bound:
    return None if x is None or y is None else x + y


def _mul(p: Interval, q: Interval) -> Interval:
    if None in p or None in q:
        return _ANY
    products = [a * b for a in p for b in q]  # type: ignore[operator]
    return min(products), max(products)


# -- the values of one variable a condition allows ------------------------------------------

#: A piece of the number line: (low, low included, high, high included); None: unbounded.
Piece = tuple[Bound, bool, Bound, bool]


def values_allowed(e: X.Expr, name: str) -> list[Piece] | None:
    """The values of the numeric variable ``name`` for which condition ``e`` holds, as
    sorted disjoint pieces of the number line, when ``e`` reads no other variable (its
    comparisons with numbers, combined with and, or, not); None when it is not of that
    form. Over the reals: a containment or a disjointness found here holds for whole
    numbers too (the converse need not)."""
    match e:
        case X.BoolLit(value=v):
            return [(None, False, None, False)] if v else []
        case X.Not(arg=a):
            inner = values_allowed(a, name)
            return None if inner is None else complement(inner)
        case X.And(args=xs) | X.Or(args=xs):
            out: list[Piece] | None = None
            for x in xs:
                part = values_allowed(x, name)
                if part is None:
                    return None
                out = part if out is None else intersect(out, part) if isinstance(e, X.And) else \
                    complement(intersect(complement(out), complement(part)))
            return out if out is not None else []
        case X.Eq(left=left, right=right) | X.Lt(left=left, right=right) | X.Le(left=left, right=right):
            lc, rc = _number(left), _number(right)
            if _is(left, name) and rc is not None:
                c, var_left = rc, True
            elif _is(right, name) and lc is not None:
                c, var_left = lc, False
            else:
                return None
            if isinstance(e, X.Eq):
                return [(c, True, c, True)]
            closed = isinstance(e, X.Le)
            return [(None, False, c, closed)] if var_left else [(c, closed, None, False)]
        case _:
            return None


def _is(e: X.Expr, name: str) -> bool:
    return isinstance(e, X.Var) and e.name == name and e.type.kind in ("int", "decimal")


def _number(e: X.Expr) -> Fraction | None:
    if isinstance(e, (X.IntLit, X.DecLit)):
        return Fraction(e.value)
    return None


def _nonempty(p: Piece) -> bool:
    lo, lo_in, hi, hi_in = p
    return lo is None or hi is None or lo < hi or (lo == hi and lo_in and hi_in)


def complement(ps: list[Piece]) -> list[Piece]:
    """The rest of the number line (``ps`` sorted and disjoint; so is the result)."""
    out: list[Piece] = []
    lo: Bound = None
    lo_in = False
    for a, a_in, b, b_in in ps:
        if a is not None:
            gap = (lo, lo_in, a, not a_in)
            if _nonempty(gap):
                out.append(gap)
        if b is None:
            return out
        lo, lo_in = b, not b_in
    out.append((lo, lo_in, None, False))
    return out


def intersect(ps: list[Piece], qs: list[Piece]) -> list[Piece]:
    """The values in both (each sorted and disjoint; so is the result)."""
    out: list[Piece] = []
    for a, a_in, b, b_in in ps:
        for c, c_in, d, d_in in qs:
            if a is None or (c is not None and c > a):
                lo, lo_in = c, c_in
            elif c is None or a > c:
                lo, lo_in = a, a_in
            else:
                lo, lo_in = a, a_in and c_in
            if b is None or (d is not None and d < b):
                hi, hi_in = d, d_in
            elif d is None or b < d:
                hi, hi_in = b, b_in
            else:
                hi, hi_in = b, b_in and d_in
            if _nonempty((lo, lo_in, hi, hi_in)):
                out.append((lo, lo_in, hi, hi_in))
    out.sort(key=lambda p: (p[0] is not None, p[0] if p[0] is not None else 0, not p[1]))
    return out
