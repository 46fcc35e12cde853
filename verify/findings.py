"""Findings are values: checks return them, renderers print them."""
from __future__ import annotations

from enum import StrEnum
from typing import Any

from ..model.errors import Span
from ..model.record import Record


class Verdict(StrEnum):
    PROVED = "proved"  #: universal: the negation is unsat; existential: a witness exists and was re-checked
    REFUTED = "refuted"  #: a witness patient (or an unsat core, for existential properties) shows it fails
    UNKNOWN = "unknown"  #: the solver gave up (timeout, resource limit): never counted as proved
    #: holds, but with something a careful author should look at (a misleading overlap in a
    #: ``first`` decision, GP009); does not change verify's exit code
    WARNING = "warning"


class Region(Record):
    """One region of a refuted obligation's problem set: a conjunction of conditions in the
    guideline's own terms that Z3 proved lies inside the problem set, and a patient in it
    (re-checked by the evaluator)."""

    condition: str
    witness: dict[str, Any]


class Finding(Record):
    code: str  # stable check code, e.g. GP004
    check: str  # check name, e.g. reachability
    subject: str  # what the obligation is about, e.g. "step imaging_ct"
    verdict: Verdict
    message: str
    span: Span | None = None
    #: a patient record (variable -> value) that shows a refuted universal property
    witness: dict[str, Any] | None = None
    #: ids of the recommendations, steps or constraints involved
    rules: tuple[str, ...] = ()
    #: names from the unsat core that explain an unsatisfiable condition
    core: tuple[str, ...] = ()
    #: Z3's reason when the verdict is unknown
    reason: str = ""
    seconds: float = 0.0
    #: extra lines explaining the witness (paths taken), in the author's words
    details: tuple[str, ...] = ()
    #: every distinct region of the problem set, one witness each (the first region holds
    #: :attr:`witness`); empty when the obligation is not refuted or regions are not listed
    regions: tuple[Region, ...] = ()
    #: how the listing of :attr:`regions` ended: "complete" (their union is exactly the
    #: problem set), "limit" (stopped at --max-findings with more problem patients left) or
    #: "unknown" (the solver gave up: the listing is incomplete); "" when not listed
    regions_end: str = ""
    #: a temporal property's counterexample (GP012): (week, facts) per visit, the first
    #: visit's facts also in :attr:`witness`
    course: tuple[tuple[int, dict[str, Any]], ...] = ()


class InternalError(Exception):
    """guideproof disagrees with itself (e.g. a witness the evaluator rejects): a bug,
    never reported as a finding."""
