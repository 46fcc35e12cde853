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

from . import expr as X
from .guideline import Guideline
from .intervals import interval
from .patient import format_value


def divisor_problem(g: Guideline, divisor: X.Expr, timeout_ms: int = 10_000) -> str | None:
    """None when ``divisor`` is non-zero for every valid patient of ``g``; else why not."""
    lo, hi = interval(divisor, g)
    if (lo is not None and lo > 0) or (hi is not None and hi < 0):
        return None
    return _solve(g, divisor, timeout_ms)


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

