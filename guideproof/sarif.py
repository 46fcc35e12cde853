"""SARIF 2.1.0 logs: verify's findings, and input errors, for code-scanning views and
pull-request annotations.

One run per guideline file. The rules are every code guideproof reports: the proof
obligations (GP001...) and the input-error codes, each with its description. A result is
written for every obligation that is not proved:

* refuted: kind ``fail``, level ``error``, with the witness patient and every problem
  region in its properties;
* a warning (GP009, GP010; the obligation holds): kind ``fail``, level ``warning``;
* unknown (the solver gave up): kind ``open`` ("could not be determined"), level ``none``
  as SARIF requires for that kind; the run's exit code (3) says the run failed.

Proved obligations are listed in the run's properties (code and subject each), so the log
states everything that was proved and about which patients (the valid patients of the
guideline, as for every verify result). Columns count Unicode code points
(``columnKind: unicodeCodePoints``), as guideproof's own positions do. An input error
becomes a run with one ``error`` result per diagnostic, at its file, line and column.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import __version__
from .model.errors import Diagnostic, Span
from .model.guideline import Guideline
from .model.patient import to_plain
from .verify.findings import Finding, Verdict
from .verify.render import summary

if TYPE_CHECKING:
    from .verify.diff import Diff

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

#: verdict -> (kind, level) of its result
_KIND_LEVEL = {Verdict.REFUTED: ("fail", "error"), Verdict.WARNING: ("fail", "warning"),
               Verdict.UNKNOWN: ("open", "none")}
#: checks whose findings are warnings by design
_WARNING_CODES = ("GP009", "GP010")


def _uri(file: str) -> str:
    """A file name as a URI reference: relative names stay relative (code-scanning views
    resolve them against the repository), absolute ones become ``file:`` URIs."""
    path = PurePath(file)
    if path.is_absolute():
        return Path(file).as_uri()
    return quote(path.as_posix(), safe="/")


def _location(span: Span) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": _uri(span.file)},
                                 "region": {"startLine": span.line, "startColumn": span.column}}}


@cache
def _rules() -> list[dict[str, Any]]:
    """Every check and input-error code as a SARIF rule (built once per process; never changed)."""
    from .model.codes import CODES
    from .verify.checks import CHECKS
    from .views import check_doc  # the checks' own descriptions

    rules = []
    for c in sorted(CHECKS, key=lambda c: c.code):
        text, _ = check_doc(c.__doc__ or "")
        first = text.split(". ")[0].rstrip(".") + "."
        rules.append({"id": c.code, "name": c.name,
                      "shortDescription": {"text": first}, "fullDescription": {"text": text},
                      "help": {"text": f"{text} `guideproof checks` shows a failing and a passing example."},
                      "defaultConfiguration": {"level": "warning" if c.code in _WARNING_CODES else "error"},
                      "properties": {"tags": ["proof-obligation"]}})
    for code in CODES.values():
        rules.append({"id": code.code, "name": code.code,
                      "shortDescription": {"text": code.meaning}, "fullDescription": {"text": code.meaning},
                      "help": {"text": f"{code.meaning} For example: {code.example}"},
                      "defaultConfiguration": {"level": "error"},
                      "properties": {"tags": ["input-error"]}})
    return rules


def _run(rules: list[dict[str, Any]], results: list[dict[str, Any]], exit_code: int,
         properties: dict[str, Any], artifacts: list[str]) -> dict[str, Any]:
    return {
        "tool": {"driver": {"name": "guideproof", "version": __version__, "semanticVersion": __version__,
                            "rules": rules}},
        "columnKind": "unicodeCodePoints",
        "artifacts": [{"location": {"uri": _uri(a)}} for a in artifacts],
        "invocations": [{"executionSuccessful": exit_code in (0, 1, 3), "exitCode": exit_code}],
        "results": results,
        "properties": properties,
    }


def _message(f: Finding) -> str:
    text = f.message
    if f.verdict == Verdict.UNKNOWN:
        text += f" (solver answered unknown: {f.reason or 'no reason given'}; not proved)"
    if f.regions:
        text += f" Problem regions: {len(f.regions)}" + (" (the listing is incomplete)"
                                                        if f.regions_end in ("limit", "unknown") else "") + "."
    return text


def _result(g: Guideline, f: Finding, index: dict[str, int], timings: bool) -> dict[str, Any]:
    kind, level = _KIND_LEVEL[f.verdict]
    props: dict[str, Any] = {"verdict": f.verdict.value, "check": f.check, "subject": f.subject}
    if f.witness is not None:
        props["witness"] = to_plain(g, f.witness)
    if f.regions_end:
        props["regions"] = [{"condition": r.condition, "witness": to_plain(g, r.witness)} for r in f.regions]
        props["regions_end"] = f.regions_end
    for name in ("rules", "core", "details"):
        if getattr(f, name):
            props[name] = list(getattr(f, name))
    if timings:
        props["seconds"] = round(f.seconds, 6)
    out: dict[str, Any] = {"ruleId": f.code, "ruleIndex": index[f.code], "kind": kind, "level": level,
                           "message": {"text": _message(f)},
                           "partialFingerprints": {"guideproofObligation/v1": f"{f.code}:{f.subject}"},
                           "properties": props}
    if f.span is not None:
        out["locations"] = [_location(f.span)]
    return out


def verify_run(g: Guideline, findings: list[Finding], exit_code: int, timings: bool = False) -> dict[str, Any]:
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = [_result(g, f, index, timings) for f in findings if f.verdict != Verdict.PROVED]
    props = {"guideline": {"id": g.id, "title": g.title, "version": g.version, "file": g.file},
             "summary": summary(findings),
             "scope": "every valid patient: every combination of the guideline's variables allowed by its "
                      "domains and constraints",
             "proved": [{"code": f.code, "subject": f.subject} for f in findings if f.verdict == Verdict.PROVED]}
    files = [g.file] + sorted({f.span.file for f in findings if f.span is not None} - {g.file})
    return _run(rules, results, exit_code, props, files)


def diagnostics_run(diagnostics: list[Diagnostic], exit_code: int) -> dict[str, Any]:
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for d in diagnostics:
        r: dict[str, Any] = {"ruleId": d.code, "kind": "fail", "level": "error" if d.severity == "error" else "warning",
                             "message": {"text": d.message}}
        if d.code in index:
            r["ruleIndex"] = index[d.code]
        if d.span is not None:
            r["locations"] = [_location(d.span)]
        results.append(r)
    files = sorted({d.span.file for d in diagnostics if d.span is not None})
    return _run(rules, results, exit_code, {"input_error": True}, files)


#: the kinds of difference ``diff`` lists, as rules
_DIFF_RULES = (
    ("GPDIFF1", "changed-advice", "changed", "Valid patients in both versions whose recommendations differ."),
    ("GPDIFF2", "valid-in-old-only", "only_old", "Patients the old version admits and the new one does not."),
    ("GPDIFF3", "valid-in-new-only", "only_new", "Patients the new version admits and the old one does not."),
)


def diff_run(d: Diff, exit_code: int) -> dict[str, Any]:
    """``guideproof diff`` as a SARIF run: each region a ``warning`` result (a reviewer decides
    whether the change is meant), located at a recommendation it changes in the new version
    (or the old one, for a recommendation only the old version has), with the region's
    condition, witness, gains and losses in its properties; a listing the solver could not
    finish is an ``open`` result."""
    vocab = d.aligned.vocab
    rules = [{"id": rid, "name": name, "shortDescription": {"text": text}, "fullDescription": {"text": text},
              "defaultConfiguration": {"level": "warning"}, "properties": {"tags": ["diff"]}}
             for rid, name, _key, text in _DIFF_RULES]
    results: list[dict[str, Any]] = []
    for index, (rid, _name, key, text) in enumerate(_DIFF_RULES):
        listing = getattr(d, key)
        for c in listing.regions:
            where = [d.aligned.new.recommendations.get(r) or d.aligned.old.recommendations.get(r)
                     for r in (*c.gained, *c.lost)]
            span = next((r.span for r in where if r is not None and r.span is not None), None)
            change = ""
            if key == "changed":
                change = (f" gains: {', '.join(c.gained) or 'nothing'}; loses: {', '.join(c.lost) or 'nothing'}.")
            r: dict[str, Any] = {"ruleId": rid, "ruleIndex": index, "kind": "fail", "level": "warning",
                                 "message": {"text": f"{text[:-1]}: {c.condition}.{change}"},
                                 "properties": {"condition": c.condition, "witness": to_plain(vocab, c.witness),
                                                "gained": list(c.gained), "lost": list(c.lost)}}
            if span is not None:
                r["locations"] = [_location(span)]
            results.append(r)
        if listing.end == "unknown":
            results.append({"ruleId": rid, "ruleIndex": index, "kind": "open", "level": "none",
                            "message": {"text": f"{text[:-1]}: the solver answered unknown ({listing.reason or 'no reason'}) "
                                                "before the listing ended; not proved either way."}})
    props = {"old": {"id": d.old.id, "version": d.old.version, "file": d.old.file},
             "new": {"id": d.new.id, "version": d.new.version, "file": d.new.file},
             "verdict": d.verdict, "only": d.only}
    return _run(rules, results, exit_code, props, [d.new.file])


def log(runs: list[dict[str, Any]]) -> str:
    return json.dumps({"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": runs},
                      indent=2, ensure_ascii=False) + "\n"
