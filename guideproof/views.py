"""Renderers for the query answer and the variables listing: values in, text out.

JSON shapes are versioned (``version``); text is for people. Nothing here prints or exits.
"""
from __future__ import annotations

import json
import textwrap
from typing import Any

from .model.guideline import Guideline, Recommendation
from .model.patient import type_words, to_plain
from .model.report import Answer, Applied

QUERY_JSON_VERSION = 1
VARIABLES_JSON_VERSION = 1
WIDTH = 92


def _timing(rec: Recommendation) -> dict[str, Any] | None:
    t = rec.timing
    return None if t is None else {"text": t.text, "start_week": t.start_week, "end_week": t.end_week}


def rec_json(g: Guideline, a: Applied) -> dict[str, Any]:
    r = a.rec
    return {
        "id": r.id,
        "kind": r.kind,
        "category": r.category,
        "short": r.short,
        "text": r.text,
        "strength": r.strength,
        "sources": list(r.sources),
        "section": r.section,
        "timing": _timing(r),
        "note": r.note or None,
        "because": [
            {"step": x.step, "branch": x.label, "condition": x.condition, "facts": dict(x.facts)}
            for x in a.reasons
        ],
    }


def guideline_json(g: Guideline) -> dict[str, Any]:
    return {"id": g.id, "title": g.title, "version": g.version}


def query_json(ans: Answer) -> str:
    g = ans.guideline
    doc = {
        "version": QUERY_JSON_VERSION,
        "guideline": guideline_json(g),
        "patient": to_plain(g, ans.patient),
        "pathway": [r.id for r in ans.pathway()],
        "recommendations": [rec_json(g, a) for a in ans.do()],
        "avoid": [rec_json(g, a) for a in ans.avoid()],
        "reassess": [{"id": r.id, "timing": _timing(r)} for r in ans.reassess()],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(" ".join(text.split()), WIDTH, initial_indent=indent, subsequent_indent=indent)


def _cite(g: Guideline, r: Recommendation) -> str:
    refs = ", ".join(r.sources)
    return f"{g.strengths[r.strength].title.lower()}; refs {refs}; section: {r.section}"


def _because(a: Applied, indent: str) -> list[str]:
    if not a.reasons:
        return [_wrap("Why: applies to every patient in scope.", indent)]
    lines = []
    for i, x in enumerate(a.reasons):
        facts = ", ".join(f"{n} = {v}" for n, v in x.facts)
        head = "Why: " if i == 0 else "     "
        lines.append(_wrap(f"{head}{x.label} [{facts}]", indent))
    return lines


def query_text(ans: Answer) -> str:
    g = ans.guideline
    out = [f"{g.title} (guideline {g.id} {g.version})", ""]
    path = ans.pathway()
    if path:
        out.append("Pathway: " + "; ".join(r.short for r in path))
        out.append("")
    for cid, items in ans.by_category():
        out.append(g.categories[cid].title.upper())
        for a in items:
            r = a.rec
            out.append(f"  * {r.short}  [{_cite(g, r)}]")
            out.append(_wrap(r.text, "      "))
            if r.timing:
                out.append(_wrap(f"When: {r.timing.text}", "      "))
            out.extend(_because(a, "      "))
        out.append("")
    if ans.avoid():
        out.append("AVOID")
        for a in ans.avoid():
            r = a.rec
            out.append(f"  x {r.short}  [{_cite(g, r)}]")
            out.append(_wrap(r.text, "      "))
        out.append("")
    re_ = ans.reassess()
    out.append("REASSESS")
    if re_:
        for r in re_:
            out.append(f"  > {r.timing.text}: {r.short}")
    else:
        out.append("  > no follow-up timing applies")
    return "\n".join(out).rstrip() + "\n"


def variables_text(g: Guideline) -> str:
    out = [f"Patient record for {g.title} ({len(g.variables)} variables)", ""]
    for v in g.variables.values():
        out.append(f"{v.name}  ({v.type.kind}: {type_words(v)})")
        out.append(_wrap(v.question, "    "))
    if g.constraints:
        out += ["", "Every patient must also satisfy:"]
        for c in g.constraints:
            out.append(f"  {c.id}: {c.cond.text}")
    return "\n".join(out) + "\n"


def variables_json(g: Guideline) -> str:
    doc = {
        "version": VARIABLES_JSON_VERSION,
        "guideline": guideline_json(g),
        "variables": [
            {"name": v.name, "type": v.type.kind, "question": v.question,
             "values": list(v.type.values) or None, "min": v.min, "max": v.max, "unit": v.unit or None}
            for v in g.variables.values()
        ],
        "constraints": [{"id": c.id, "holds": c.cond.text, "why": c.why} for c in g.constraints],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)
