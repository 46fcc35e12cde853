"""JSON Schemas (draft 2020-12) of the guideline language, overlays and patient files, and
of the JSON outputs (``answer``: query, complete and partial alike; ``verify``;
``diagnostics``: input errors; ``variables``; ``checks``), shipped with the package and printed by
``guideproof schema NAME``.

The guideline and overlay schemas are files (``schemas/*.json``); a patient file's schema
depends on the guideline (its variables and their types), so it is built from the loaded
guideline: an editor that knows it completes variable names and checks values.
"""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

from .model.guideline import Guideline, Variable
from .model.numbers import exact_text

#: schemas shipped as files: the inputs, then the JSON outputs (query's answer, verify's
#: report, input errors)
FILES = ("guideline", "overlay", "answer", "verify", "diagnostics", "variables", "checks")
#: built from other schemas: a history file (``query --history``; needs the guideline, like
#: a patient file) and the answer to it (``course``: the answer at every visit)
NAMES = (*FILES, "patient", "history", "course")
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema(name: str, g: Guideline | None = None) -> dict[str, Any]:
    """The schema ``name`` (one of :data:`NAMES`); ``patient`` needs the guideline."""
    if name in FILES:
        text = resources.files("guideproof").joinpath("schemas", f"{name}.schema.json").read_text(encoding="utf-8")
        doc: dict[str, Any] = json.loads(text)
        return doc
    if name == "patient" and g is not None:
        return patient_schema(g)
    if name == "history" and g is not None:
        return history_schema(g)
    if name == "course":
        return course_schema()
    raise ValueError(f"unknown schema {name!r}")


def history_schema(g: Guideline) -> dict[str, Any]:
    """A history file of ``g``: visits in increasing order of week, each with the facts it
    states (as in a patient file) and the recommendations of the visit before that were not
    carried out."""
    facts = patient_schema(g)
    facts.pop("$schema")
    return {
        "$schema": DIALECT,
        "title": f"history file for {g.title} ({g.id} {g.version})",
        "description": "The first visit states every fact; later visits state what changed. Facts not stated "
                       "carry over; clocks advance; what a visit recommended records its values at the next.",
        "type": "object",
        "required": ["visits"],
        "additionalProperties": False,
        "properties": {"visits": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["week"], "additionalProperties": False,
            "properties": {
                "week": {"type": "integer", "minimum": 0, "maximum": 100000},
                "facts": facts,
                "declined": {"type": "array", "items": {"enum": list(g.recommendations)}},
            }}}},
    }


def course_schema() -> dict[str, Any]:
    """``query --history --format json``: per visit its week, what changed and how, what
    starts, continues and stops, and the whole answer in query's JSON shape."""
    answer = schema("answer")
    answer.pop("$schema")
    answer.pop("$id", None)
    defs = answer.pop("$defs", {})  # its references ('#/$defs/...') resolve from the root
    return {
        "$defs": defs,
        "$schema": DIALECT,
        "$id": "guideproof:course",
        "title": "guideproof query --history --format json",
        "type": "object",
        "required": ["version", "guideline", "visits"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 2},
            "guideline": answer["properties"]["guideline"],
            "visits": {"type": "array", "items": {
                "type": "object",
                "required": ["week", "changes", "starts", "continues", "stops", "record_clashes", "answer"],
                "additionalProperties": False,
                "properties": {
                    "week": {"type": "integer", "minimum": 0},
                    "changes": {"type": "array", "items": {
                        "type": "object", "required": ["variable", "before", "now", "how"], "additionalProperties": False,
                        "properties": {"variable": {"type": "string"}, "before": {}, "now": {},
                                       "how": {"enum": ["stated", "time", "recorded", "recorded, then time"]}}}},
                    "starts": {"type": "array", "items": {"type": "string"}},
                    "continues": {"type": "array", "items": {"type": "string"}},
                    "stops": {"type": "array", "items": {
                        "type": "object", "required": ["id", "why"], "additionalProperties": False,
                        "properties": {"id": {"type": "string"}, "why": {"type": "string"}}}},
                    "record_clashes": {"type": "array", "items": {"type": "string"}},
                    "answer": answer,
                }}},
        },
    }


def patient_schema(g: Guideline) -> dict[str, Any]:
    """A patient file of ``g``: any subset of its variables, each with its own type."""
    return {
        "$schema": DIALECT,
        "title": f"patient file for {g.title} ({g.id} {g.version})",
        "description": "Any subset of the variables; unset ones are unknown. Decimals may be written as text "
                       "('1.25', '875/18') to stay exact.",
        "type": "object",
        "properties": {n: _variable(v) for n, v in g.variables.items()},
        "additionalProperties": False,
    }


def _variable(v: Variable) -> dict[str, Any]:
    kind = v.type.kind
    out: dict[str, Any]
    if kind == "bool":
        out = {"type": "boolean"}
    elif kind == "int":
        out = {"type": "integer", "minimum": int(v.min), "maximum": int(v.max)}
    elif kind == "duration":  # a whole number of its unit, or text with a unit ("14 days")
        out = {"oneOf": [{"type": "integer", "minimum": int(v.min), "maximum": int(v.max)},
                         {"type": "string", "pattern": r"^\s*-?[0-9]+\s*(day|days|week|weeks|month|months)\s*$"}]}
    elif kind == "decimal":
        out = {"oneOf": [{"type": "number", "minimum": float(v.min), "maximum": float(v.max)},
                         {"type": "string", "pattern": r"^-?(0|[1-9][0-9]*)(\.[0-9]+|/[1-9][0-9]*)?$"}],
               }
    elif kind == "enum":
        out = {"enum": list(v.type.values)}
    else:
        out = {"type": "array", "items": {"enum": list(v.type.values)}, "uniqueItems": True}
    if v.optional:
        out = {"anyOf": [out, {"type": "null"}]}
    words = [v.unit] if v.unit else []
    if v.min is not None:
        words.insert(0, f"{exact_text(v.min)}..{exact_text(v.max)}")
    if v.optional:
        words.append("optional: null or left out when there is no value")
    return {"description": v.question + (f" ({'; '.join(words)})" if words else ""), **out}
