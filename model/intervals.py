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
