"""Are two guidelines the same for every patient? Proved with Z3, never sampled.

They are equivalent when they admit the same valid patients and, for every valid patient,
apply exactly the same recommendations: what ``guideproof diff`` lists, asked here for one
patient only (``diff.first_difference``, the one home of the comparison).
"""
from __future__ import annotations

from typing import Any

from ..model.guideline import Guideline
from .diff import first_difference
from .findings import Verdict


def equivalent(a: Guideline, b: Guideline, timeout: float | None = 10.0) -> tuple[Verdict, dict[str, Any] | None]:
    """PROVED when no patient tells ``a`` and ``b`` apart; REFUTED with such a patient;
    UNKNOWN when the solver gives up."""
    return first_difference(a, b, timeout)
