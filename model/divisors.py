"""Every divisor must be non-zero for every valid patient: proved when the guideline loads.

First by interval arithmetic over the declared bounds (cheap, no solver: most divisors are
a positive quantity such as a weight or a creatinine level); when the bounds alone allow
zero, Z3 decides with the domain constraints, and a patient for whom the divisor is zero is
given in the message. Z3 is imported only then, so the query path stays solver-free for
guidelines whose divisors are bounded away from zero.

A divisor is checked for all valid patients, even inside ``if ... then ... else``: the
rule is simple to state and to check, and a formula never divides by zero anywhere.
"""
from __future__ import annotations

from fractions import Fraction

from . import expr as X
from .guideline import Guideline
from .patient import format_value

Bound = Fraction | None  # None: unbounded on that side
Interval = tuple[Bound, Bound]
_ANY: Interval = (None, None)


def divisor_problem(g: Guideline, divisor: X.Expr, timeout_ms: int = 10_000) -> str | None:
    """None when ``divisor`` is non-zero for every valid patient of ``g``; else why not."""
    lo, hi = interval(divisor, g)
    if (lo is not None and lo > 0) or (hi is not None and hi < 0):
        return None
    return _solve(g, divisor, timeout_ms)


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


def _solve(g: Guideline, divisor: X.Expr, timeout_ms: int) -> str | None:
    import z3

    from .encode import Encoding

    enc = Encoding(g)
    s = z3.Solver()
    s.set("timeout", timeout_ms)
    s.set("random_seed", 0)
    for _, term in enc.domain:
        s.add(term)
    s.add(enc.term(divisor) == 0)
    status = s.check()
    if status == z3.unsat:
        return None
    text = X.show(divisor)
    if status == z3.sat:
        patient = enc.patient(s.model())
        names = sorted(X.variables_of(divisor, g.definition_exprs()))
        facts = ", ".join(f"{n} = {format_value(patient[n])}" for n in names) or "any valid patient"
        return f"the divisor {text} is zero for a valid patient ({facts}); bound it away from zero or add a constraint"
    return f"could not prove the divisor {text} is never zero (the solver answered unknown: {s.reason_unknown()})"

