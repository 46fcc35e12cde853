"""Renderers for the query answer and the variables listing: values in, text out.

JSON shapes are versioned (``version``); text is for people. Nothing here prints or exits.
"""
from __future__ import annotations

import json
from fractions import Fraction
import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .model.evaluate import GapOrOverlap
from .model.guideline import Definition, Guideline, Recommendation
from .model.numbers import exact_text
from .model.patient import format_value, type_words, to_plain
from .model.report import Answer, Applied

if TYPE_CHECKING:  # the query path never imports the solver layer at run time
    from .model.errors import Diagnostic
    from .model.fhir import FhirFacts
    from .model.patient import PatientInput
    from .model.course import VisitAnswer
    from .verify.partial import PartialAnswer, RecStatus

#: version 2: one shape for complete and partial answers (``complete`` says which)
QUERY_JSON_VERSION = 2
VARIABLES_JSON_VERSION = 1
WIDTH = 92


def _timing(rec: Recommendation) -> dict[str, Any] | None:
    t = rec.timing
    return None if t is None else {"text": t.text, "start_week": t.start_week, "end_week": t.end_week}


def _rec_fields(r: Recommendation) -> dict[str, Any]:
    """What every JSON answer says about a recommendation itself."""
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
        "origin": r.origin,
    }


DIAGNOSTICS_JSON_VERSION = 1


def diagnostics_doc(diagnostics: list[Diagnostic]) -> dict[str, Any]:
    """Input errors as JSON (``--format json`` on bad input: stdout is never left empty)."""
    return {"version": DIAGNOSTICS_JSON_VERSION, "kind": "input-error",
            "diagnostics": [{"code": d.code, "severity": d.severity, "message": d.message,
                             "location": None if d.span is None else
                             {"file": d.span.file, "line": d.span.line, "column": d.span.column},
                             "excerpt": d.excerpt} for d in diagnostics]}


def json_text(doc: dict[str, Any]) -> str:
    """JSON text of an answer. Exact numbers stay exact: an integer is a JSON number, a
    decimal is its exact text (``"1.25"``, or ``"1/3"`` when no decimal is exact: a JSON
    number would go through binary floating point in most readers); sets are sorted lists."""
    return json.dumps(doc, indent=2, ensure_ascii=False, default=_json_value)


def _json_value(x: Any) -> Any:
    if isinstance(x, Fraction):
        return exact_text(x)
    if isinstance(x, (set, frozenset)):
        return sorted(x)
    raise TypeError(f"{type(x).__name__} is not JSON serialisable")


def rec_json(g: Guideline, a: Applied) -> dict[str, Any]:
    """A recommendation of a complete answer: it applies, for the reasons given."""
    return _rec_item(a.rec, "applies",
                     cautions=[{"text": c.text, "sources": list(c.sources)} for c in a.cautions],
                     because=[{"step": x.step, "branch": x.label, "condition": x.condition,
                               "facts": {n: sorted(v) if isinstance(v, frozenset) else v for n, v in x.facts}}
                              for x in a.reasons])


def _rec_item(r: Recommendation, status: str, cautions: list[dict[str, Any]] | None = None,
              because: list[dict[str, Any]] | None = None, hinges: tuple[str, ...] = (),
              unproved: tuple[str, ...] = (), example: dict[str, Any] | None = None,
              counterexample: dict[str, Any] | None = None) -> dict[str, Any]:
    """One recommendation in an answer, complete or partial alike: the recommendation itself,
    its status (``applies``; for a partial answer also ``depends``, ``never`` or ``unknown``),
    the cautions and reasons that hold (complete answers), and what it hinges on (partial)."""
    return {**_rec_fields(r), "status": status, "cautions": cautions or [], "because": because or [],
            "hinges_on": list(hinges), "hinges_unproved": list(unproved),
            "example_when_applies": example, "example_when_not": counterexample}


def guideline_json(g: Guideline) -> dict[str, Any]:
    return {"id": g.id, "title": g.title, "version": g.version}


def _answer_doc(g: Guideline, complete: bool, patient: dict[str, Any], **parts: Any) -> str:
    """The one JSON shape of ``query``'s answer: every key present in both kinds of answer,
    empty where it does not apply (a complete answer has nothing unknown to ask; a partial
    one has no single pathway)."""
    doc = {"version": QUERY_JSON_VERSION, "complete": complete, "guideline": guideline_json(g), "patient": patient,
           "unknown": [], "computed": [], "pathway": [], "recommendations": [], "avoid": [], "reassess": [],
           "ask_next": [], "not_needed": [], "guideline_problems": [], "solver_calls": 0}
    assert set(parts) <= set(doc), sorted(set(parts) - set(doc))
    doc.update(parts)
    return json_text(doc)


def query_json(ans: Answer) -> str:
    g = ans.guideline
    return _answer_doc(
        g, True, to_plain(g, ans.patient),
        computed=[{"name": d.name, "value": v, "shown": format_value(v), "unit": d.unit or None,
                   "formula": d.cond.text} for d, v in ans.computed()],
        pathway=[r.id for r in ans.pathway()],
        recommendations=[rec_json(g, a) for a in ans.do()],
        avoid=[rec_json(g, a) for a in ans.avoid()],
        reassess=[{"id": r.id, "timing": _timing(r)} for r in ans.reassess()],
        guideline_problems=[{"kind": x.kind, "step": x.step or None, "branches": list(x.branches),
                             "message": problem_text(ans.guideline, x)} for x in ans.trace.problems])


def problem_text(g: Guideline, x: GapOrOverlap) -> str:
    """One sentence for a place where the guideline fails this patient."""
    if x.kind == "no-disposition":
        names = ", ".join(g.recommendations[r].short for r in g.dispositions)
        return f"none of the guideline's dispositions applies ({names}): the answer below is incomplete"
    step = g.steps[x.step]
    if x.kind == "no-branch":
        return (f"decision {x.step!r} ({step.title}): no branch applies to this patient and there is no "
                "'otherwise', so everything after it is missing from the answer")
    labels = "; ".join(f"{i}. {step.branches[i - 1].label}" for i in x.branches)
    return (f"decision {x.step!r} ({step.title}) allows one branch, but branches {labels} all apply: "
            "the answer follows every one of them")


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(" ".join(text.split()), WIDTH, initial_indent=indent, subsequent_indent=indent)


def _cite(g: Guideline, r: Recommendation, section: bool = True) -> str:
    """How strong, from where (the source's section with ``section``), and whether it is a
    safety addition."""
    where = f"; section: {r.section}" if section else ""
    origin = "; safety addition" if r.origin == "safety" else ""
    return f"{g.strengths[r.strength].title.lower()}; refs {', '.join(r.sources)}{where}{origin}"


def _computed(d: Definition, value: Any, formula: bool) -> str:
    unit = f" {d.unit}" if d.unit and value is not None else ""
    return f"{d.name} = {format_value(value)}{unit}" + (f"   ({d.cond.text})" if formula else "")


def _follow_up(ans: Answer) -> list[str]:
    items = ans.reassess()
    return [f"  > {r.timing.text if r.timing else ''}: {r.short}" for r in items] or ["  > no follow-up timing applies"]


def _cautions(a: Applied, indent: str) -> list[str]:
    return [_wrap(f"Caution: {c.text} [refs {', '.join(c.sources)}]", indent) for c in a.cautions]


def _because(a: Applied, indent: str) -> list[str]:
    if not a.reasons:
        return [_wrap("Why: applies to every patient in scope.", indent)]
    lines = []
    for i, x in enumerate(a.reasons):
        facts = ", ".join(f"{n} = {format_value(v)}" for n, v in x.facts)
        head = "Why: " if i == 0 else "     "
        lines.append(_wrap(f"{head}{x.label} [{facts}]", indent))
    return lines


def query_text(ans: Answer, explain: bool = False) -> str:
    """The clinician's answer. By default one screen: the pathway, then what to do now, what
    to avoid, the cautions that apply and the follow-up, one line per item with its timing,
    strength and references. ``explain`` gives the full texts and, for each item, the
    decisions that led to it with the facts that decided them."""
    if explain:
        return _explained(ans)
    g = ans.guideline
    out = [f"{g.title} (guideline {g.id} {g.version})"]
    out.extend(_problems(ans))
    if g.dispositions:
        path = ans.pathway()
        out.append("Pathway: " + ("; ".join(r.short for r in path) if path else "none of the dispositions applies"))
    out.extend(_computed(d, v, formula=False) for d, v in ans.computed())
    follow = {r.id for r in ans.reassess()}
    now = [a for _, items in ans.by_category() for a in items if a.rec.id not in follow]
    out += ["", "DO NOW"] + [f"  * {_line(g, a.rec)}" for a in now]
    if ans.avoid():
        out += ["", "AVOID"] + [f"  x {_line(g, a.rec)}" for a in ans.avoid()]
    cautions = [(a, c) for a in ans.applied for c in a.cautions]
    if cautions:
        out += ["", "CAUTIONS"] + [f"  ! {a.rec.short}: {c.text} [refs {', '.join(c.sources)}]" for a, c in cautions]
    out += ["", "FOLLOW-UP"] + _follow_up(ans)
    out += ["", "(--explain: full texts and the facts behind each item; --format json: everything)"]
    return "\n".join(out) + "\n"


def _line(g: Guideline, r: Recommendation) -> str:
    """One item on one line: what, when, how strong, from where."""
    when = f" -- {r.timing.text}" if r.timing else ""
    note = "; note in --explain" if r.note else ""
    return f"{r.short}{when} [{_cite(g, r, section=False)}{note}]"


def _problems(ans: Answer) -> list[str]:
    if not ans.trace.problems:
        return []
    g = ans.guideline
    return (["GUIDELINE PROBLEM: this guideline does not handle this patient soundly (run 'guideproof verify')"]
            + [_wrap(f"! {problem_text(g, x)}", "  ") for x in ans.trace.problems])


def _explained(ans: Answer) -> str:
    g = ans.guideline
    out = [f"{g.title} (guideline {g.id} {g.version})", ""]
    problems = _problems(ans)
    if problems:
        out += problems + [""]
    computed = ans.computed()
    if computed:
        out.extend(_computed(d, v, formula=True) for d, v in computed)
        out.append("")
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
            if r.note:
                out.append(_wrap(f"Note: {r.note}", "      "))
            if r.timing:
                out.append(_wrap(f"When: {r.timing.text}", "      "))
            out.extend(_cautions(a, "      "))
            out.extend(_because(a, "      "))
        out.append("")
    if ans.avoid():
        out.append("AVOID")
        for a in ans.avoid():
            r = a.rec
            out.append(f"  x {r.short}  [{_cite(g, r)}]")
            out.append(_wrap(r.text, "      "))
            out.extend(_because(a, "      "))
        out.append("")
    out += ["REASSESS"] + _follow_up(ans)
    return "\n".join(out).rstrip() + "\n"


def variables_text(g: Guideline) -> str:
    out = [f"Patient record for {g.title} ({len(g.variables)} variables)", ""]
    for v in g.variables.values():
        out.append(f"{v.name}  ({v.type.kind}: {type_words(v)}{'; optional: may have no value' if v.optional else ''}"
                   f"{f'; from the {v.source}' if v.source else ''})")
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
             "values": list(v.type.values) or None, "min": v.min, "max": v.max, "unit": v.unit or None,
             "optional": v.optional, "source": v.source}
            for v in g.variables.values()
        ],
        "constraints": [{"id": c.id, "holds": c.cond.text, "why": c.why} for c in g.constraints],
    }
    return json_text(doc)


# -- partial answers --------------------------------------------------------------------------



def _facts(g: Guideline, values: dict[str, Any], names: Iterable[str]) -> str:
    return ", ".join(f"{n} = {format_value(values[n])}" for n in names if n in values)


def partial_json(ans: PartialAnswer) -> str:
    g = ans.guideline
    items: dict[str, list[dict[str, Any]]] = {"do": [], "avoid": []}
    for rid, st in ans.recs.items():
        r = g.recommendations[rid]
        items[r.kind].append(_rec_item(r, st.status, hinges=st.hinges, unproved=st.unproved,
                                       example=to_plain(g, st.example) if st.example else None,
                                       counterexample=to_plain(g, st.counterexample) if st.counterexample else None))
    return _answer_doc(
        g, False, to_plain(g, ans.known), unknown=list(ans.unknown),
        recommendations=items["do"], avoid=items["avoid"],
        ask_next=[{"variable": v, "undecided": n, "question": g.variables[v].question,
                   "type": type_words(g.variables[v]), "source": g.variables[v].source,
                   "after": [{"variable": u, "value": b} for u, b in ans.premises.get(v, ())]}
                  for v, n in ans.ask_next],
        not_needed=list(ans.not_needed), solver_calls=ans.calls)


def partial_text(ans: PartialAnswer) -> str:
    g = ans.guideline

    def by(status: str) -> list[RecStatus]:
        return [ans.recs[r] for r in g.recommendations if ans.recs[r].status == status]

    out = [f"{g.title} (guideline {g.id} {g.version})",
           f"Known: {len(ans.known)} of {len(g.variables)} facts. Unknown: {', '.join(ans.unknown)}.", ""]
    applies = [s for s in by("applies") if g.recommendations[s.id].kind == "do"]
    out.append("APPLIES WHATEVER THE UNKNOWN FACTS ARE")
    for cid in g.categories:
        items = [s for s in applies if g.recommendations[s.id].category == cid]
        for s in items:
            r = g.recommendations[s.id]
            out.append(f"  * {r.short}  [{g.categories[cid].title.lower()}; {_cite(g, r)}]")
            if r.timing:
                out.append(_wrap(f"When: {r.timing.text}", "      "))
    if not applies:
        out.append("  (nothing yet)")
    out.append("")
    depends = by("depends")
    if depends:
        out.append("DEPENDS ON UNKNOWN FACTS")
        for s in depends:
            r = g.recommendations[s.id]
            tag = "AVOID: " if r.kind == "avoid" else ""
            out.append(f"  ? {tag}{r.short}  [refs {', '.join(r.sources)}]")
            out.append(_wrap(f"hinges on: {', '.join(s.hinges)}", "      "))
            if s.unproved:
                out.append(_wrap("kept because the solver could not tell whether it is needed: "
                                 + ", ".join(s.unproved), "      "))
            if s.example:
                out.append(_wrap(f"applies for example when: {_facts(g, s.example, s.hinges)}", "      "))
        out.append("")
    unknown = by("unknown")
    if unknown:
        out.append("NOT DECIDED (the solver gave up within its time limit)")
        out.extend(f"  ! {g.recommendations[s.id].short}" for s in unknown)
        out.append("")
    avoid = [s for s in by("applies") if g.recommendations[s.id].kind == "avoid"]
    if avoid:
        out.append("AVOID")
        out.extend(f"  x {g.recommendations[s.id].short}  [{_cite(g, g.recommendations[s.id])}]" for s in avoid)
        out.append("")
    never = by("does_not_apply")
    if never:
        out.append("DOES NOT APPLY, WHATEVER THE UNKNOWN FACTS ARE")
        out.append(_wrap(", ".join(g.recommendations[s.id].short for s in never), "  "))
        out.append("")
    if ans.ask_next:
        out.append("ASK NEXT (history, examination, laboratory, imaging; within each, ranked by how many "
                   "undecided recommendations hinge on them)")
        for i, (v, n) in enumerate(ans.ask_next, 1):
            var = g.variables[v]
            once = ", ".join(f"{u} = {format_value(b)}" for u, b in ans.premises.get(v, ()))
            after = f"; asked once {once}" if once else ""
            where = f"{var.source}; " if var.source else ""
            out.append(f"  {i}. {v} ({type_words(var)}): {var.question}  [{where}{n} undecided{after}]")
    if ans.not_needed:
        out.append("")
        out.append(_wrap("NOT NEEDED (once the facts to ask next are known, these cannot change any "
                         "recommendation): " + ", ".join(ans.not_needed), ""))
    return "\n".join(out).rstrip() + "\n"


# -- codes ------------------------------------------------------------------------------------

def check_doc(doc: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """A check's docstring as (summary, [(heading, example lines)]): the text before its
    first example, then each example's heading ('Failing', 'Passing: ...') and code lines,
    without reStructuredText markup."""
    import inspect

    body = inspect.cleandoc(doc).partition(": ")[2]
    summary, parts = [], []
    lines = body.splitlines()
    i = 0
    while i < len(lines) and not lines[i].startswith(("Failing", "Passing")):
        summary.append(lines[i])
        i += 1
    while i < len(lines):
        head = [lines[i].replace("::", ":").replace("``", "'")]
        i += 1
        while i < len(lines) and lines[i].strip() and not lines[i].startswith(" "):  # the heading goes on
            head.append(lines[i].replace("``", "'"))
            i += 1
        block: list[str] = []
        while i < len(lines) and not lines[i].startswith(("Failing", "Passing")):
            if lines[i].strip():
                block.append(lines[i][4:] if lines[i].startswith("    ") else lines[i].strip())
            i += 1
        parts.append((" ".join(head), block))
    text = " ".join(" ".join(summary).split()).replace("``", "'")
    return text[:1].upper() + text[1:], parts


def checks_text() -> str:
    from .model.codes import CODES
    from .verify.checks import CHECKS

    out = ["PROOF OBLIGATIONS (guideproof verify)", ""]
    for c in sorted(CHECKS, key=lambda c: c.code):
        summary, parts = check_doc(c.__doc__ or "")
        out.append(f"{c.code} {c.name}")
        out.append(_wrap(summary, "    "))
        for head, block in parts:
            out.append(_wrap(head, "    "))
            out.extend(f"        {line}" for line in block)
        out.append("")
    out += ["INPUT ERRORS (exit 2: file:line:col: error[code]: message)", ""]
    for code in CODES.values():
        out.append(f"{code.code}")
        out.append(_wrap(code.meaning, "    "))
        out.append(_wrap(f"e.g. {code.example}", "    "))
    return "\n".join(out) + "\n"


def checks_json() -> str:
    from .model.codes import CODES
    from .verify.checks import CHECKS

    obligations = []
    for c in sorted(CHECKS, key=lambda c: c.code):
        summary, parts = check_doc(c.__doc__ or "")
        obligations.append({"code": c.code, "name": c.name, "summary": summary,
                            "examples": [{"heading": h, "lines": b} for h, b in parts]})
    return json_text({"version": 1, "obligations": obligations,
                  "input_errors": [{"code": x.code, "meaning": x.meaning, "example": x.example} for x in CODES.values()]})


# -- where the facts came from (query --fhir) ---------------------------------------------------

def provenance(g: Guideline, p: PatientInput, record: FhirFacts) -> dict[str, Any]:
    """Each variable's value and source: the record (resource and JSON path), the patient
    file, --set or an interactive answer; and the variables still unknown, with why."""
    facts = []
    for name in g.variables:
        if name not in p.values:
            continue
        origin = p.origin.get(name, "")
        fact = record.facts.get(name)
        entry: dict[str, Any] = {"variable": name, "value": format_value(p.values[name])}
        if fact is not None and origin == fact.source:
            entry.update({"from": "fhir", "resource": fact.source, "path": fact.path or None, "note": fact.note or None})
        elif origin == "--set":
            entry["from"] = "set"
        elif origin == "answer":
            entry["from"] = "answer"
        elif origin == "left out (optional)":
            entry["from"] = "no value (optional, left out)"
        else:
            entry.update({"from": "patient file", "at": origin})
            if fact is not None:
                entry["overrides"] = f"{fact.source}: {format_value(fact.value)}"
        facts.append(entry)
    unknown = [{"variable": n, "why": record.unknown.get(n) or ("the guideline does not bind it to the record"
                                                                if g.variables[n].fhir is None else "")}
               for n in g.variables if n not in p.values]
    return {"bundle": record.file, "visit_date": record.at.isoformat(), "facts": facts, "unknown": unknown}


def with_provenance(text: str, fmt: str, g: Guideline, p: PatientInput, record: FhirFacts) -> str:
    """The answer with where each fact came from: a ``provenance`` key in JSON, a FACTS
    section at the end of the text."""
    doc = provenance(g, p, record)
    if fmt == "json":
        return json_text({**json.loads(text), "provenance": doc})
    out = [text.rstrip("\n"), "", f"FACTS (record {doc['bundle']}, visit date {doc['visit_date']})"]
    for f in doc["facts"]:
        if f["from"] == "fhir":
            where = f"{f['resource']}" + (f", {f['path']}" if f["path"] else "") + (f"; {f['note']}" if f["note"] else "")
        elif f["from"] == "patient file":
            where = f"patient file {f['at']}" + (f" (overrides {f['overrides']})" if "overrides" in f else "")
        else:
            where = f["from"]
        out.append(textwrap.fill(f"{f['variable']} = {f['value']}  <- {where}", WIDTH, initial_indent="  ",
                                 subsequent_indent="      "))
    if doc["unknown"]:
        out.append("  still unknown (asked above when needed):")
        out.extend(_wrap(f"? {u['variable']}: {u['why']}", "    ") for u in doc["unknown"])
    return "\n".join(out) + "\n"


# -- a course of visits (query --history) -------------------------------------------------

HOW_CHANGED = {"stated": "", "time": " (time)", "recorded": " (recorded)", "recorded, then time": " (recorded, then time)"}


def course_text(g: Guideline, course: list[VisitAnswer]) -> str:
    """A course visit by visit: what changed since the visit before (and how: stated at the
    visit, advanced by time, recorded by what was done), then what starts, continues and
    stops, and why it stops."""
    out = [f"{g.title} (guideline {g.id} {g.version}): a course of {len(course)} visit{'s' if len(course) != 1 else ''}"]
    for i, v in enumerate(course):
        out.append("")
        if i == 0:
            out.append(f"WEEK {v.week} (first visit)")
        else:
            gap = v.week - course[i - 1].week
            out.append(f"WEEK {v.week} (+{gap} week{'s' if gap != 1 else ''})")
            changed = "; ".join(f"{n} {format_value(a)} -> {format_value(b)}{HOW_CHANGED[how]}" for n, a, b, how in v.changes)
            out.append(_wrap(f"changed: {changed or 'nothing'}", "  "))
        out.extend(_problems(v.answer))
        out.extend(_wrap(f"! GUIDELINE PROBLEM: {c} (the first was kept; run 'guideproof verify')", "  ") for c in v.clashes)
        if g.dispositions:
            path = v.answer.pathway()
            out.append("  Pathway: " + ("; ".join(r.short for r in path) if path else "none of the dispositions applies"))
        recs = g.recommendations
        word = "start" if i == 0 else "starts"
        out.extend(f"  + {word}: {_line(g, recs[r])}" for r in v.starts)
        if v.continues:
            out.append(_wrap(f"= continues ({len(v.continues)}): " + "; ".join(recs[r].short for r in v.continues), "    ")
                       .replace("    = continues", "  = continues", 1))
        out.extend(_wrap(f"- stops: {recs[r].short} -- {why}", "    ").replace("    - stops", "  - stops", 1)
                   for r, why in v.stops)
    return "\n".join(out) + "\n"


def course_json(g: Guideline, course: list[VisitAnswer]) -> str:
    """A course as JSON: per visit its week, the changes, what starts, continues and stops,
    and the whole answer in ``query``'s JSON shape."""
    return json_text({
        "version": QUERY_JSON_VERSION, "guideline": guideline_json(g),
        "visits": [{
            "week": v.week,
            "changes": [{"variable": n, "before": to_plain(g, {n: a})[n], "now": to_plain(g, {n: b})[n], "how": how}
                        for n, a, b, how in v.changes],
            "starts": list(v.starts), "continues": list(v.continues),
            "stops": [{"id": r, "why": why} for r, why in v.stops],
            "record_clashes": list(v.clashes),
            "answer": json.loads(query_json(v.answer)),
        } for v in course]})
