"""Patient facts from an HL7 FHIR R4 bundle (``guideproof query --fhir BUNDLE.json``).

The bundle is validated with the ``fhir.resources`` library (its R4B models, which read
R4 resources of the kinds used here unchanged), imported only on this path. Values are then
read from the JSON itself with exact decimals (``json`` with ``parse_float=Decimal``), so a
creatinine of 229.84 umol/L is exactly 2.6 mg/dL. Each variable with a ``fhir:`` binding
gets a value, with the resource it came from, or stays unknown (with the reason); a bundle
that is not valid FHIR, a value in a unit no declared conversion covers, or two conflicting
values for one fact is an input error naming the file, the resource and the JSON path.

Rules (the binding's ``rule``):

* ``latest``: the Observation with a matching code, status final/amended/corrected, whose
  effective date is the latest within ``within`` days before the visit; two on that date
  with different values conflict. Older ones are stale (listed, not used).
* ``active``: a Condition (clinicalStatus active/recurrence/relapse) or a medication
  (MedicationStatement status active, MedicationRequest status active) with a matching code
  means true; one that is resolved/inactive/remission, refuted, or stopped/completed/
  not-taken/cancelled means false; both for one fact conflict. With neither, the binding's
  ``absent`` value, else unknown. A set variable collects the members whose codes are active.
* ``history``: a Condition with a matching code that is not refuted, whatever its clinical
  status (a past stroke is resolved), means true; the record never makes it false.
* ``age``: whole years from Patient.birthDate to the visit date.
* ``gender``: Patient.gender through the binding's ``map``; a gender not in it is unknown.
* ``since``: whole units of the duration variable from the latest matching onset
  (Condition.onsetDateTime, Procedure.performedDateTime or performedPeriod.start,
  ImagingStudy.started, Observation.effectiveDateTime) to the visit date.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .errors import Diagnostic, InputError
from .guideline import FhirBinding, Guideline, Variable
from .kinds import describe_value
from .loader import FHIR_SYSTEMS
from .numbers import exact_text
from .patient import coerce
from .source import read_text
from .units import convert, ucum

UCUM = "http://unitsofmeasure.org"
PRESENT = {"Condition": {"active", "recurrence", "relapse"}, "MedicationStatement": {"active"},
           "MedicationRequest": {"active"}}
ABSENT = {"Condition": {"inactive", "remission", "resolved"},
          "MedicationStatement": {"completed", "stopped", "not-taken"},
          "MedicationRequest": {"completed", "stopped", "cancelled"}}
FINAL = {"final", "amended", "corrected"}


class Fact:
    """A value read from the bundle and where it came from."""

    def __init__(self, value: Any, source: str, path: str, note: str = ""):
        self.value = value
        self.source = source  # "Observation/cr1", or "no matching resource" for an absent default
        self.path = path
        self.note = note


class FhirFacts:
    """What a bundle says about each bound variable: facts, and why the rest stay unknown."""

    def __init__(self, file: str, at: dt.date):
        self.file = file
        self.at = at
        self.facts: dict[str, Fact] = {}
        self.unknown: dict[str, str] = {}  # name -> why (no resource, stale, unmapped gender)


class _Entry:
    def __init__(self, index: int, resource: dict[str, Any]):
        self.index = index
        self.r = resource
        self.type = str(resource.get("resourceType", ""))
        self.ref = f"{self.type}/{resource.get('id', '(no id)')}"
        self.path = f"Bundle.entry[{index}].resource"


def fhir_error(code: str, file: str, where: str, ref: str, msg: str) -> InputError:
    """An input error about the bundle: the file, the JSON path, the resource and what is wrong."""
    head = f"{file}: {where}" + (f" ({ref})" if ref else "")
    return InputError([Diagnostic(code, f"{head}: {msg}")])


def load_bundle(path: str | os.PathLike[str]) -> tuple[str, list[_Entry]]:
    """The bundle's resources, validated as FHIR (exit 2 naming the JSON path otherwise)."""
    src = read_text(path, "FHIR bundle")
    try:
        data = json.loads(src.text, parse_float=Decimal, parse_constant=_no_constant)
        as_floats = json.loads(src.text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise InputError([Diagnostic("fhir-invalid", f"{src.file}:{e.lineno}:{e.colno}: not JSON: {e.msg}")]) from None
    except (ValueError, RecursionError) as e:
        raise InputError([Diagnostic("fhir-invalid", f"{src.file}: not JSON: {e}")]) from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        found = data.get("resourceType") if isinstance(data, dict) else describe_value(data)
        raise fhir_error("fhir-invalid", src.file, "Bundle.resourceType", "", f"expected a FHIR Bundle, found {found!r}")
    entries = data.get("entry", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise fhir_error("fhir-invalid", src.file, "Bundle.entry", "", "expected a list of entries (JSON objects)")
    _validate(src.file, data, as_floats)
    return src.file, [_Entry(i, e["resource"]) for i, e in enumerate(entries) if isinstance(e.get("resource"), dict)]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _validate(file: str, data: dict[str, Any], as_floats: Any) -> None:
    """Validate against the FHIR models (given the JSON read the usual way, with floats: the
    exact values are read from ``data``); the first problems are reported with their paths."""
    import pydantic
    from fhir.resources.R4B import get_fhir_model_class

    for i, e in enumerate(data.get("entry") or []):
        rtype = e["resource"].get("resourceType") if isinstance(e.get("resource"), dict) else None
        if rtype is not None:
            try:
                get_fhir_model_class(str(rtype))
            except (KeyError, ValueError):
                raise fhir_error("fhir-invalid", file, f"Bundle.entry[{i}].resource.resourceType", "",
                               f"{rtype!r} is not a FHIR resource type") from None
    bundle = get_fhir_model_class("Bundle")
    try:
        bundle.model_validate(as_floats)
    except pydantic.ValidationError as err:
        problems = []
        for x in err.errors()[:5]:
            path = "Bundle" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in x["loc"])
            ref = ""
            loc = x["loc"]
            if len(loc) > 2 and loc[0] == "entry" and isinstance(loc[1], int) and isinstance(data["entry"][loc[1]].get("resource"), dict):
                r = data["entry"][loc[1]]["resource"]
                ref = f"{r.get('resourceType')}/{r.get('id', '(no id)')}"
            problems.append(Diagnostic("fhir-invalid", f"{file}: {path}{f' ({ref})' if ref else ''}: not valid FHIR R4: {x['msg']}"))
        raise InputError(problems) from None


def _codings(concept: Any) -> list[tuple[str, str]]:
    if not isinstance(concept, dict):
        return []
    return [(str(c.get("system", "")), str(c.get("code", ""))) for c in concept.get("coding", []) if isinstance(c, dict)]


def _matches(codes: tuple[tuple[str, str], ...], found: list[tuple[str, str]]) -> bool:
    """A coding matches a code of the binding: exactly, or as a prefix for the hierarchical
    ICD-10 and ATC (``B01AA`` matches warfarin ``B01AA03``)."""
    prefix = {FHIR_SYSTEMS["icd10"], FHIR_SYSTEMS["icd10cm"], FHIR_SYSTEMS["atc"]}
    return any(s == fs and (fc == c or (s in prefix and fc.startswith(c))) for s, c in codes for fs, fc in found)


def _code_of(e: _Entry) -> list[tuple[str, str]]:
    if e.type in ("MedicationStatement", "MedicationRequest"):
        return _codings(e.r.get("medicationCodeableConcept"))
    if e.type == "ImagingStudy":
        return [c for s in e.r.get("procedureCode", []) for c in _codings(s)]
    return _codings(e.r.get("code"))


def _date(text: Any) -> dt.date | None:
    """The day of a FHIR date or dateTime; None for a partial date (year or month only)."""
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def read_facts(g: Guideline, path: str | os.PathLike[str], at: dt.date) -> FhirFacts:
    """The value of every bound variable the bundle holds, at the visit date ``at``."""
    file, entries = load_bundle(path)
    out = FhirFacts(file, at)
    problems: list[Diagnostic] = []
    for v in g.variables.values():
        if v.fhir is not None:
            try:
                _read_one(g, file, entries, v, v.fhir, at, out)
            except InputError as e:  # every problem of the bundle in one pass
                problems.extend(e.diagnostics)
    if problems:
        raise InputError(problems)
    return out


def _read_one(g: Guideline, file: str, entries: list[_Entry], v: Variable, b: FhirBinding, at: dt.date, out: FhirFacts) -> None:
    mine = [e for e in entries if e.type in b.resources]
    fact: Fact | None
    why = "no matching resource in the bundle"
    if b.rule in ("age", "gender"):
        fact, why = _patient(file, v, b, mine, at)
    elif b.rule == "latest":
        fact, why = _latest(file, v, b, mine, at)
    elif b.rule == "active":
        fact = _active(file, v, b, mine)
    elif b.rule == "history":
        fact = _history(b, mine)
    else:
        fact, why = _since(file, v, b, mine, at, g.unit_days[v.unit])
    if fact is None and b.absent is not None:
        fact = Fact(b.absent, "no matching resource", "", "the binding's 'absent' value")
    if fact is None:
        out.unknown[v.name] = why
        return
    value, problem = coerce(v, fact.value if not isinstance(fact.value, Fraction) else exact_text(fact.value))
    if problem:
        raise fhir_error("fhir-value", file, fact.path, fact.source, f"{v.name}: {problem[1]}")
    fact.value = value
    out.facts[v.name] = fact


def _patient(file: str, v: Variable, b: FhirBinding, mine: list[_Entry], at: dt.date) -> tuple[Fact | None, str]:
    if not mine:
        return None, "no Patient resource in the bundle"
    if len(mine) > 1:
        raise fhir_error("fhir-conflict", file, mine[1].path, mine[1].ref, f"a second Patient resource (the first is {mine[0].ref})")
    e = mine[0]
    if b.rule == "age":
        born = _date(e.r.get("birthDate"))
        if born is None:
            return None, f"{e.ref} has no full birthDate"
        if born > at:
            raise fhir_error("fhir-value", file, f"{e.path}.birthDate", e.ref, f"born {born}, after the visit date {at}")
        years = at.year - born.year - ((at.month, at.day) < (born.month, born.day))
        return Fact(years, e.ref, f"{e.path}.birthDate", f"born {born}"), ""
    gender = e.r.get("gender")
    mapping = dict(b.map)
    if gender not in mapping:
        return None, f"{e.ref} gender {gender!r} is not mapped"
    return Fact(mapping[gender], e.ref, f"{e.path}.gender", f"gender {gender}"), ""


def _latest(file: str, v: Variable, b: FhirBinding, mine: list[_Entry], at: dt.date) -> tuple[Fact | None, str]:
    found: list[tuple[dt.date, Fraction, _Entry, str, str]] = []
    stale: list[str] = []
    for e, q, qpath in _quantities(b, mine):
        day = _date(e.r.get("effectiveDateTime") or (e.r.get("effectivePeriod") or {}).get("start"))
        if day is None or day > at:
            continue
        if (at - day).days > b.within_days:
            stale.append(f"{e.ref} of {day}")
            continue
        if not isinstance(q, dict) or q.get("value") is None:
            raise fhir_error("fhir-value", file, qpath, e.ref, f"{v.name} needs a quantity value")
        if not isinstance(q["value"], (int, Decimal)) or isinstance(q["value"], bool):
            raise fhir_error("fhir-invalid", file, f"{qpath}.value", e.ref, f"a quantity's value is a JSON number, found {q['value']!r}")
        unit_path = f"{qpath}.{'code' if q.get('system') == UCUM and 'code' in q else 'unit'}"
        unit = str(q.get("code") if q.get("system") == UCUM and "code" in q else q.get("unit", ""))
        value = convert(Fraction(q["value"]), unit, b.unit, b.convert)
        if value is None:
            known = f" or another unit of {b.convert}" if b.convert else ""
            raise fhir_error("fhir-unit", file, unit_path, e.ref,
                           f"{v.name} is read in {b.unit}{known}; found {unit or 'no unit'!r}")
        note = f"{q['value']} {ucum(unit)} = {exact_text(value)} {b.unit}" if ucum(unit) != ucum(b.unit) else ""
        found.append((day, value, e, note, qpath))
    if not found:
        return None, (f"only stale observations (older than {exact_text(b.within_days)} days): {', '.join(stale)}" if stale
                      else "no matching observation in the bundle")
    last = max(d for d, *_ in found)
    latest = [x for x in found if x[0] == last]
    if len({x[1] for x in latest}) > 1:
        a, c = latest[0], next(x for x in latest if x[1] != latest[0][1])
        raise fhir_error("fhir-conflict", file, f"{c[4]}.value", c[2].ref,
                       f"{v.name}: two observations on {last} disagree: {exact_text(a[1])} ({a[2].ref}) and "
                       f"{exact_text(c[1])} {b.unit}")
    day, value, e, note, qpath = latest[0]
    return Fact(value, e.ref, qpath, ", ".join(filter(None, [f"of {day}", note]))), ""


def _quantities(b: FhirBinding, mine: list[_Entry]) -> list[tuple[_Entry, Any, str]]:
    """The final observations' quantities with a matching code: the observation's own value,
    or a component's (a blood pressure panel holds the systolic pressure as a component)."""
    out = []
    for e in mine:
        if e.r.get("status") not in FINAL:
            continue
        if _matches(b.codes, _code_of(e)):
            out.append((e, e.r.get("valueQuantity"), f"{e.path}.valueQuantity"))
            continue
        for i, comp in enumerate(e.r.get("component") or []):
            if isinstance(comp, dict) and _matches(b.codes, _codings(comp.get("code"))):
                out.append((e, comp.get("valueQuantity"), f"{e.path}.component[{i}].valueQuantity"))
    return out


def _status(e: _Entry) -> tuple[bool | None, str]:
    """Whether the resource says present (True) or absent (False), and the path saying it."""
    if e.type == "Condition":
        ver = {c for _, c in _codings(e.r.get("verificationStatus"))}
        if "entered-in-error" in ver:
            return None, ""
        if "refuted" in ver:
            return False, f"{e.path}.verificationStatus"
        clinical = {c for _, c in _codings(e.r.get("clinicalStatus"))}
        if clinical & PRESENT["Condition"]:
            return True, f"{e.path}.clinicalStatus"
        if clinical & ABSENT["Condition"]:
            return False, f"{e.path}.clinicalStatus"
        return None, ""
    status = e.r.get("status")
    if status in PRESENT.get(e.type, ()):
        return True, f"{e.path}.status"
    if status in ABSENT.get(e.type, ()):
        return False, f"{e.path}.status"
    return None, ""


def _active(file: str, v: Variable, b: FhirBinding, mine: list[_Entry]) -> Fact | None:
    if v.type.kind == "set":
        members, sources = [], []
        for member, codes in b.members:
            f = _present(file, v.name, codes, mine)
            if f is not None and f.value:
                members.append(member)
                sources.append(f.source)
        if not members:
            return None
        return Fact(sorted(members), ", ".join(dict.fromkeys(sources)), "", "")
    return _present(file, v.name, b.codes, mine)


def _history(b: FhirBinding, mine: list[_Entry]) -> Fact | None:
    """A history of a condition: any matching Condition not refuted (or entered in error),
    whatever its clinical status (a past stroke is resolved), makes it true. The record never
    makes it false: a history may be wider than the codes bound (unknown, or ``absent``)."""
    for e in mine:
        ver = {c for _, c in _codings(e.r.get("verificationStatus"))}
        if _matches(b.codes, _code_of(e)) and not ver & {"refuted", "entered-in-error"}:
            return Fact(True, e.ref, f"{e.path}.code", "recorded (any clinical status)")
    return None


def _present(file: str, name: str, codes: tuple[tuple[str, str], ...], mine: list[_Entry]) -> Fact | None:
    """A fact bound to several codes is their "or": true when a resource says one of them is
    present, false only when resources say every one is absent; one code said both present
    and absent is a conflict."""
    said: dict[tuple[str, str], dict[bool, tuple[_Entry, str]]] = {}
    for e in mine:
        found = _code_of(e)
        state, path = _status(e)
        if state is None:
            continue
        for code in codes:
            if _matches((code,), found):
                said.setdefault(code, {}).setdefault(state, (e, path))
    for states in said.values():
        if len(states) == 2:
            (yes, ypath), (no, npath) = states[True], states[False]
            raise fhir_error("fhir-conflict", file, npath, no.ref,
                           f"{name}: {no.ref} says it is absent ({npath}) but {yes.ref} says it is present ({ypath})")
    present = [states[True] for states in said.values() if True in states]
    if present:
        return Fact(True, present[0][0].ref, present[0][1], "")
    if codes and all(code in said for code in codes):
        refs = list(dict.fromkeys(states[False][0].ref for states in said.values()))
        return Fact(False, ", ".join(refs), said[codes[0]][False][1], "")
    return None


def _since(file: str, v: Variable, b: FhirBinding, mine: list[_Entry], at: dt.date,
           unit_days: Fraction) -> tuple[Fact | None, str]:
    best: tuple[dt.date, _Entry, str] | None = None
    for e in mine:
        if not _matches(b.codes, _code_of(e)):
            continue
        state, _ = _status(e) if e.type == "Condition" else (True, "")
        if state is False or (e.type == "Procedure" and e.r.get("status") != "completed"):
            continue
        for field in ("onsetDateTime", "performedDateTime", "started", "effectiveDateTime"):
            if field in e.r:
                day, path = _date(e.r[field]), f"{e.path}.{field}"
                break
        else:
            day, path = _date((e.r.get("performedPeriod") or {}).get("start")), f"{e.path}.performedPeriod.start"
        if day is None:
            continue
        if day > at:
            raise fhir_error("fhir-value", file, path, e.ref, f"{v.name}: the date {day} is after the visit date {at}")
        if best is None or day > best[0]:
            best = (day, e, path)
    if best is None:
        return None, "no matching resource with a date in the bundle"
    day, e, path = best
    days = (at - day).days
    amount = int(Fraction(days) / unit_days)
    return Fact(f"{amount}", e.ref, path, f"from {day}, {days} days before {at}"), ""
