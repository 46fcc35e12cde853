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


def text(g: Guideline, findings: list[Finding], verbose: bool = True) -> str:
    out: list[str] = []
    for f in findings:
        if f.verdict == Verdict.PROVED:
            continue
        level = "error" if f.verdict == Verdict.REFUTED else "warning"
        out.append(f"{_location(f)}{level}[{f.code}]: {f.check}: {f.message}")
        if f.verdict == Verdict.WARNING:
            out.append("    (a warning: the obligation holds and the exit code does not change)")
        if f.verdict == Verdict.UNKNOWN:
            out.append(f"    solver answered unknown ({f.reason}): not proved")
        if f.core:
            out.append("    unsatisfiable together:")
            out.extend(f"      - {c}" for c in f.core)
        if f.witness is not None:
            out.append(f"    witness patient (differs from a typical patient in: {differences(g, f.witness)}):")
            out.extend(f"      {k}: {format_value(v)}" for k, v in to_plain(g, f.witness).items())
        if f.details:
            out.append("    paths:")
            out.extend(f"      {d}" for d in f.details)
        out.extend(regions_text(g, f))
        out.append("")
    by_check: dict[tuple[str, str], Counter[Verdict]] = {}
    for f in findings:
        by_check.setdefault((f.code, f.check), Counter())[f.verdict] += 1
    out.append(f"{g.file}: {g.title}")
    out.append(f"{'check':<{NAME_WIDTH + 6}} {'obligations':>11} {'proved':>7} {'refuted':>8} {'unknown':>8} {'warning':>8}")
    for (code, name), c in by_check.items():
        out.append(f"{code} {name:<{NAME_WIDTH}} {sum(c.values()):>11} {c[Verdict.PROVED]:>7} "
                   f"{c[Verdict.REFUTED]:>8} {c[Verdict.UNKNOWN]:>8} {c[Verdict.WARNING]:>8}")
    s = summary(findings)
    if verbose:
        out.append("")
        out.append("obligations:")
        for f in findings:
            out.append(f"  {f.verdict.value:<8} {f.code} {f.check:<{NAME_WIDTH}} {f.subject}")
    out.append("")
    if s["refuted"]:
        verdict = f"REFUTED: {s['refuted']} of {s['total']} obligations fail"
    elif s["unknown"]:
        verdict = f"INCONCLUSIVE: {s['unknown']} of {s['total']} obligations not settled by the solver"
    else:
        verdict = f"PROVED: all {s['total']} obligations hold"
        if s["warning"]:
            verdict += f", {s['warning']} with a warning"
    out.append(verdict + (f" ({s['proved']} proved, {s['refuted']} refuted, {s['unknown']} unknown, "
                          f"{s['warning']} warning)" if s["refuted"] or s["unknown"] else ""))
    return "\n".join(out) + "\n"


def finding_json(g: Guideline, f: Finding) -> dict[str, Any]:
    return {
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
        "seconds": round(f.seconds, 6),
        # every region of the problem set (refuted coverage, exclusivity and consistency
        # obligations, GP009 warnings); "truncated" when the listing is not the whole set
        "regions": [{"condition": r.condition, "witness": to_plain(g, r.witness)} for r in f.regions],
        "regions_end": f.regions_end or None,
        "truncated": f.regions_end in ("limit", "unknown"),
    }


def as_json(g: Guideline, findings: list[Finding]) -> str:
    doc = {
        "version": VERIFY_JSON_VERSION,
        "guideline": {"id": g.id, "title": g.title, "version": g.version, "file": g.file},
        "summary": summary(findings),
        "obligations": [finding_json(g, f) for f in findings],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)
