"""Renderers for verify findings: text for people, versioned JSON for tools."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ..model.guideline import Guideline
from ..model.patient import format_value, to_plain, typical_value
from .findings import Finding, Verdict

VERIFY_JSON_VERSION = 1
#: the longest check name ("contraindications")
NAME_WIDTH = 17


def summary(findings: list[Finding]) -> dict[str, int]:
    c = Counter(f.verdict for f in findings)
    return {"total": len(findings), "proved": c[Verdict.PROVED], "refuted": c[Verdict.REFUTED],
            "unknown": c[Verdict.UNKNOWN], "warning": c[Verdict.WARNING]}


def _location(f: Finding) -> str:
    return f"{f.span}: " if f.span else ""


def differences(g: Guideline, witness: dict[str, Any]) -> str:
    """How a witness differs from a typical patient: ``age = 70, pain = severe``."""
    key = [f"{n} = {format_value(v)}" for n, v in witness.items() if v != typical_value(g.variables[n])]
    return ", ".join(key) or "nothing"


#: What the end of a region listing means, for people (see Finding.regions_end).
REGIONS_END = {
    "complete": "complete: together they are exactly the patients with this problem",
    "limit": "listing stopped after {n} (--max-findings): more patients with this problem lie outside them",
    "unknown": "INCOMPLETE: the solver answered unknown before the listing ended",
}


def regions_text(g: Guideline, f: Finding) -> list[str]:
    """The problem regions of a finding, one condition and one witness each."""
    if not f.regions_end:
        return []
    n = len(f.regions)
    out = [f"    problem regions ({n}, {REGIONS_END[f.regions_end].format(n=n)}):"]
    for i, r in enumerate(f.regions, 1):
        out.append(f"      {i}. {r.condition}")
        out.append(f"         witness (differs from a typical patient in: {differences(g, r.witness)})")
    return out


def finding_lines(g: Guideline, f: Finding) -> list[str]:
    """One finding that is not proved, as ``verify`` prints it: the located message, then the
    solver's reason, the unsat core, the witness patient, the paths and the problem regions."""
    level = "error" if f.verdict == Verdict.REFUTED else "warning"
    out = [f"{_location(f)}{level}[{f.code}]: {f.check}: {f.message}"]
    if f.verdict == Verdict.WARNING:
        out.append("    (a warning: the obligation holds and the exit code does not change)")
    if f.verdict == Verdict.UNKNOWN and f.code == "GP011":
        out.append("    beyond the analysable subset: nothing about it is proved (exit 3)")
    elif f.verdict == Verdict.UNKNOWN:
        out.append(f"    solver answered unknown ({f.reason}): not proved")
    if f.core:
        out.append("    unsatisfiable together:")
        out.extend(f"      - {c}" for c in f.core)
    if f.witness is not None and not f.course:
        out.append(f"    witness patient (differs from a typical patient in: {differences(g, f.witness)}):")
        out.extend(f"      {k}: {format_value(v)}" for k, v in to_plain(g, f.witness).items())
    if f.details:
        out.append("    course (visit by visit):" if f.course else "    paths:")
        out.extend(f"      {d}" for d in f.details)
    out.extend(regions_text(g, f))
    return out


def by_check(findings: list[Finding]) -> dict[tuple[str, str], Counter[Verdict]]:
    """The verdicts of each check (code, name), in the order the checks ran."""
    out: dict[tuple[str, str], Counter[Verdict]] = {}
    for f in findings:
        out.setdefault((f.code, f.check), Counter())[f.verdict] += 1
    return out


def verdict_line(findings: list[Finding]) -> str:
    """The closing line of ``verify``: PROVED, REFUTED or INCONCLUSIVE, with the counts."""
    s = summary(findings)
    if s["refuted"]:
        verdict = f"REFUTED: {s['refuted']} of {s['total']} obligations fail"
    elif s["unknown"]:
        skipped = sum(1 for f in findings if f.code == "GP011")
        verdict = (f"INCONCLUSIVE: {s['unknown']} of {s['total']} obligations not settled by the solver"
                   if not skipped else f"INCONCLUSIVE: {s['unknown']} of {s['total']} obligations not settled "
                   f"({skipped} NOT ANALYSED)")
    else:
        verdict = f"PROVED: all {s['total']} obligations hold"
        if s["warning"]:
            verdict += f", {s['warning']} with a warning"
    return verdict + (f" ({s['proved']} proved, {s['refuted']} refuted, {s['unknown']} unknown, "
                      f"{s['warning']} warning)" if s["refuted"] or s["unknown"] else "")


def text(g: Guideline, findings: list[Finding], verbose: bool = True) -> str:
    out: list[str] = []
    for f in findings:
        if f.verdict != Verdict.PROVED:
            out.extend(finding_lines(g, f))
            out.append("")
    out.append(f"{g.file}: {g.title}")
    out.append(f"{'check':<{NAME_WIDTH + 6}} {'obligations':>11} {'proved':>7} {'refuted':>8} {'unknown':>8} {'warning':>8}")
    for (code, name), c in by_check(findings).items():
        out.append(f"{code} {name:<{NAME_WIDTH}} {sum(c.values()):>11} {c[Verdict.PROVED]:>7} "
                   f"{c[Verdict.REFUTED]:>8} {c[Verdict.UNKNOWN]:>8} {c[Verdict.WARNING]:>8}")
    if verbose:
        out.append("")
        out.append("obligations:")
        for f in findings:
            out.append(f"  {f.verdict.value:<8} {f.code} {f.check:<{NAME_WIDTH}} {f.subject}")
    out.append("")
    out.append(verdict_line(findings))
    return "\n".join(out) + "\n"


def finding_json(g: Guideline, f: Finding, timings: bool = False) -> dict[str, Any]:
    """One obligation as JSON; its solver time only with ``timings`` (so the same input gives
    the same output)."""
    doc: dict[str, Any] = {
        "code": f.code,
        "check": f.check,
        "subject": f.subject,
        "verdict": f.verdict.value,
        "message": f.message,
        "location": None if f.span is None else {"file": f.span.file, "line": f.span.line, "column": f.span.column},
        "witness": None if f.witness is None else to_plain(g, f.witness),
        "rules": list(f.rules),
        "core": list(f.core),
        "reason": f.reason or None,
        "details": list(f.details),
        # every region of the problem set (refuted coverage, exclusivity and consistency
        # obligations, GP009 warnings); "truncated" when the listing is not the whole set
        "regions": [{"condition": r.condition, "witness": to_plain(g, r.witness)} for r in f.regions],
        "regions_end": f.regions_end or None,
        "truncated": f.regions_end in ("limit", "unknown"),
        # a temporal property's counterexample (GP012): the facts at each visit
        "course": [{"week": week, "facts": to_plain(g, facts)} for week, facts in f.course],
    }
    if timings:
        doc["seconds"] = round(f.seconds, 6)
    return doc


def as_doc(g: Guideline, findings: list[Finding], timings: bool = False) -> dict[str, Any]:
    return {
        "version": VERIFY_JSON_VERSION,
        "guideline": {"id": g.id, "title": g.title, "version": g.version, "file": g.file},
        "summary": summary(findings),
        "obligations": [finding_json(g, f, timings) for f in findings],
    }


def as_json(g: Guideline, findings: list[Finding], timings: bool = False) -> str:
    return json.dumps(as_doc(g, findings, timings), indent=2, ensure_ascii=False)
