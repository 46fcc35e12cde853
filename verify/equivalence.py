"""Are two guidelines the same for every patient? Proved with Z3, never sampled.

Both guidelines must declare the same patient variables (same names and types). They are
equivalent when they admit the same valid patients and, for every valid patient, apply
exactly the same recommendations. Z3 constants are identified by name, so the two
encodings share their patient variables.
"""
from __future__ import annotations

from typing import Any

import z3

from ..model.encode import Encoding
from ..model.guideline import Guideline
from .findings import Verdict
from .solver import Prover


def equivalent(a: Guideline, b: Guideline, timeout: float | None = 10.0) -> tuple[Verdict, dict[str, Any] | None]:
    """PROVED when no patient tells ``a`` and ``b`` apart; REFUTED with such a patient;
    UNKNOWN when the solver gives up."""
    if {n: v.type for n, v in a.variables.items()} != {n: v.type for n, v in b.variables.items()}:
        raise ValueError("the guidelines declare different patient variables")
    ea, eb = Encoding(a), Encoding(b)
    recs = sorted(set(a.recommendations) | set(b.recommendations))
    false = z3.BoolVal(False)
    differ = z3.Or([ea.applies.get(r, false) != eb.applies.get(r, false) for r in recs])
    bounds = [(n, t) for n, t in ea.domain if n.startswith(("bounds", "values"))]
    prover = Prover(bounds, timeout=timeout)
    va, vb = ea.valid(), eb.valid()
    r = prover.check([("patients differ", z3.Or(va != vb, z3.And(va, differ)))], want_core=False)
    if r.status == "unsat":
        return Verdict.PROVED, None
    if r.status == "unknown":
        return Verdict.UNKNOWN, None
    return Verdict.REFUTED, ea.patient(r.model)
