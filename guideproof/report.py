"""The review report: one self-contained HTML file for the people who review a guideline.

It holds the guideline's identity and version, the verification summary and every
finding (the :class:`~guideproof.verify.findings.Finding` values ``verify`` returns), the
charts as inline SVG (rendered by Graphviz from :mod:`.diagrams.dot`: the overview, each phase and
the whole guideline) with pan, zoom and search, and the guideline as text: one article
per step, recommendation and phase. Clicking a box of a chart (or pressing Enter on it)
shows its article in a side panel: the recommendation's text, sources and section, its
origin (source or safety addition), the rows of the traceability document that name it,
the recorded decisions that shaped it (the ``why`` of the steps that lead to it, and the
decisions ``Dn`` the traceability document cites), and the proof obligations that mention
it. With a patient, the charts show the patient's path and the answer is included.

Nothing is fetched: the script and style (``assets/report.js`` and ``assets/report.css``,
package data) are inlined, and the output is deterministic (no dates, timings or random ids), so a committed
report regenerates byte for byte.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

from .model import expr as X
from .model.errors import Diagnostic, InputError
from .model.graph import edges_of
from .model.guideline import Guideline, Recommendation, SafetyRule, Step
from .model.record import Record
from .verify.findings import Finding, Verdict
from .verify.render import by_check, finding_lines, verdict_line
from .diagrams.dot import Highlight, overview_dot, phase_dot, to_dot
from .diagrams.render import render_bytes

#: ``**decision D1, D2**``, ``(decision D9)``: the decisions a text cites
_CITED = re.compile(r"\bdecisions?\s+(D\d+(?:\s*(?:,|and)\s*D\d+)*)", re.I)
_DECISION_ID = re.compile(r"D\d+")


# --------------------------------------------------------------------------- traceability


class TraceRow(Record):
    """One row of a Markdown table in the traceability document."""

    section: str  # the heading the table stands under
    headers: tuple[str, ...]
    cells: tuple[str, ...]

    def names(self) -> set[str]:
        """The ids the row names in backticks (``rec `x`; step `y` ``)."""
        return {m for c in self.cells for m in re.findall(r"`([^`\s]+)`", c)}

    def cited(self) -> list[str]:
        return cited_decisions(" ".join(self.cells))


class Traceability(Record):
    file: str
    rows: tuple[TraceRow, ...]
    #: decision id (``D1``) -> its row (the table whose rows are headed ``D1``, ``D2``, ...)
    decisions: dict[str, TraceRow]


def cited_decisions(text: str) -> list[str]:
    """The decision ids a text cites ("decision D1, D2", "decisions D3 and D4"), in order."""
    return list(dict.fromkeys(d for m in _CITED.finditer(text) for d in _DECISION_ID.findall(m.group(1))))


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def read_traceability(path: Path) -> Traceability:
    """Every Markdown table row of ``path`` with its headers and the heading above it; the rows
    of a table whose first column holds ``D1``, ``D2``, ... are the recorded decisions."""
    from .model.source import read_text

    lines = read_text(path, "traceability document").lines
    rows: list[TraceRow] = []
    decisions: dict[str, TraceRow] = {}
    section, headers = "", None
    for i, line in enumerate(lines):
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        if not line.lstrip().startswith("|"):
            headers = None
            continue
        if headers is None:
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if re.fullmatch(r"\s*\|?[\s:|-]*-[\s:|-]*", nxt):  # a header row, then |---|---|
                headers = tuple(_cells(line))
            continue
        cells = tuple(_cells(line))
        if set("".join(cells)) <= set(":- "):
            continue  # the separator row
        row = TraceRow(section, headers, cells)
        rows.append(row)
        if _DECISION_ID.fullmatch(cells[0]):
            decisions[cells[0]] = row
    if not rows:
        raise InputError([Diagnostic("bad-traceability", f"--traceability: {str(path)!r} holds no Markdown table "
                                                         "(a header row, a |---| row, then one row per statement)")])
    return Traceability(str(path), tuple(rows), decisions)


# --------------------------------------------------------------------------- charts


def _charts(g: Guideline, highlight: Highlight | None) -> list[tuple[str, str, str]]:
    """(key, title, DOT) of every chart: the overview, one per phase, the whole guideline."""
    out = [("overview", "Overview", overview_dot(g, highlight))]
    out.extend((f"phase-{p}", f"Phase: {n.title}", phase_dot(g, p, highlight)) for p, n in g.phases.items())
    out.append(("whole", "Whole guideline", to_dot(g, highlight)))
    return out


_NODE = re.compile(r'<g id="([^"]+)" class="node">\n<title>([^<]*)</title>')
_REC_LINK = re.compile(r'<a xlink:href="#([^"]+)" xlink:title="([^"]*)">')


def _target(g: Guideline, name: str) -> str | None:
    """The article a chart node shows: its step, the phase it stands for, or (a "continues
    in" box) the step it continues in."""
    for prefix, kind in (("step_", "step"), ("to_", "step")):
        if name.startswith(prefix) and name[len(prefix):] in g.steps:
            return f"{kind}-{name[len(prefix):]}"
    for prefix in ("phase_", "from_"):
        if name.startswith(prefix) and name[len(prefix):] in g.phases:
            return f"phase-{name[len(prefix):]}"
    return None


def inline_svg(g: Guideline, svg: str, key: str, title: str) -> str:
    """Graphviz's SVG made part of the page: no XML prolog or comments, ids prefixed with the
    chart's key (several charts share one document), sized by the page, and every step and
    recommendation made focusable and tied to its article (``data-ref``)."""
    svg = re.sub(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", "", svg, flags=re.S).strip()
    svg = re.sub(r'<svg width="[^"]*" height="[^"]*"',
                 f'<svg class="chart-svg" role="group" aria-label="{html.escape(title)}: chart (the same content as '
                 f'text is under &#8220;The guideline as text&#8221;)"', svg, count=1)
    svg = re.sub(r' id="([^"]+)"', lambda m: f' id="{key}-{m.group(1)}"', svg)

    def node(m: re.Match[str]) -> str:
        name = html.unescape(m.group(2))
        ref = _target(g, name)
        head = f'<g id="{m.group(1)}" class="node"'
        if ref is not None:
            label, words = _node_words(g, ref)
            head += (f' data-ref="{ref}" tabindex="0" role="button" aria-label="{html.escape(label)}"'
                     f' data-search="{html.escape(words)}"')
        return f"{head}>\n<title>{m.group(2)}</title>"

    def rec(m: re.Match[str]) -> str:
        rid = html.unescape(m.group(1))
        if rid not in g.recommendations:
            return m.group(0)
        label, words = _node_words(g, f"rec-{rid}")
        return (f'<a xlink:href="#rec-{html.escape(rid)}" xlink:title="{m.group(2)}" data-ref="rec-{html.escape(rid)}" '
                f'tabindex="0" role="button" aria-label="{html.escape(label)}" data-search="{html.escape(words)}">')

    svg = _NODE.sub(node, svg)
    svg = _REC_LINK.sub(rec, svg)
    return svg.replace(' class="edge">', ' class="edge" aria-hidden="true">')


def _node_words(g: Guideline, ref: str) -> tuple[str, str]:
    """The accessible name of a chart node, and the words search finds it by (lower case)."""
    kind, _, id_ = ref.partition("-")
    if kind == "rec":
        r = g.recommendations[id_]
        label = f"{'Avoid: ' if r.kind == 'avoid' else ''}{r.short}"
        words = f"{r.short} {r.text} {id_}"
    elif kind == "step":
        s = g.steps[id_]
        label = f"Step: {s.title}"
        words = f"{s.title} {id_}"
    else:
        label = f"Phase: {g.phases[id_].title}"
        words = f"{g.phases[id_].title} {id_}"
    return label, " ".join(words.lower().split())


# --------------------------------------------------------------------------- the page


def _e(text: object) -> str:
    return html.escape(str(text))


def _md(text: str) -> str:
    """A traceability cell's Markdown: `code` and **bold**, everything else as text."""
    out = _e(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)


_STATE = {
    "rec": {"certain": "applies to this patient", "possible": "may apply: depends on facts not given",
            "undecided": "not decided (the solver gave up)", "excluded": "does not apply to this patient"},
    "step": {"certain": "on this patient's path", "possible": "possibly on this patient's path",
             "undecided": "not decided (the solver gave up)", "excluded": "not on this patient's path"},
}


_CHOICE = {"first": "the first branch that applies, in order", "any": "every branch that applies",
           "single": "exactly one branch applies"}


class _Page:
    def __init__(self, g: Guideline, findings: Sequence[Finding], highlight: Highlight | None,
                 trace: Traceability | None):
        self.g, self.findings, self.h, self.trace = g, findings, highlight, trace
        self.mentions: dict[str, list[int]] = {}  # article ref -> indexes of the findings that mention it
        for i, f in enumerate(findings):
            for ref in sorted(self._refs_of(f)):
                self.mentions.setdefault(ref, []).append(i)

    def _refs_of(self, f: Finding) -> set[str]:
        """The steps and recommendations a finding is about: those it names, the recommendations
        an invariant mentions, the steps whose branches read a definition it is about."""
        g = self.g
        refs: set[str] = set()
        invariants = {inv.id: inv for inv in g.invariants}
        for rule in f.rules:
            if rule in g.recommendations:
                refs.add(f"rec-{rule}")
            if rule in g.steps:
                refs.add(f"step-{rule}")
            if f.code == "GP006" and rule in invariants:
                refs.update(f"rec-{r}" for r in X.recommendations_of(invariants[rule].cond.expr))
            if rule in g.definitions and f.code == "GP007":
                refs.update(f"step-{s.id}" for s in g.steps.values()
                            if any(rule in X.definitions_of(b.cond.expr) for b in s.branches))
        return refs

    # -- pieces --------------------------------------------------------------------

    def link(self, ref: str) -> str:
        kind, _, id_ = ref.partition("-")
        if kind == "rec":
            text = self.g.recommendations[id_].short
        elif kind == "step":
            text = self.g.steps[id_].title
        else:
            text = self.g.phases[id_].title
        return f'<a href="#{_e(ref)}" data-open="{_e(ref)}">{_e(text)}</a>'

    def sources(self, ids: Iterable[str]) -> str:
        items = []
        for sid in ids:
            s = self.g.sources.get(sid)
            if s is None:
                items.append(f"<li>{_e(sid)}</li>")
                continue
            extra = ", ".join(_e(x) for x in (s.publisher, s.year) if x)
            note = f" <span class=\"note\">{_e(s.note)}</span>" if s.note else ""
            items.append(f'<li><a href="#source-{_e(sid)}">{_e(sid)}</a>: {_e(s.title)}{f" ({extra})" if extra else ""}'
                         f"{note}</li>")
        return f'<ul class="sources">{"".join(items)}</ul>' if items else "<p>none</p>"

    def state(self, kind: str, key: str) -> str:
        if self.h is None:
            return ""
        st = self.h.state(f"{kind}:{key}")
        return f'<p class="state state-{st}"><strong>This patient:</strong> {_e(_STATE[kind][st])}</p>'

    def obligations(self, ref: str) -> str:
        idx = self.mentions.get(ref, [])
        if not idx:
            return "<h4>Proof obligations</h4><p>No obligation names it.</p>"
        items = []
        for i in idx:
            f = self.findings[i]
            items.append(f'<li><span class="verdict v-{f.verdict.value}">{_e(f.verdict.value)}</span> '
                         f'<a href="#finding-{i}">{_e(f.code)} {_e(f.check)}</a>: {_e(f.subject)}</li>')
        return f"<h4>Proof obligations that mention it ({len(idx)})</h4><ul class=\"obligations\">{''.join(items)}</ul>"

    def trace_rows(self, names: set[str], steps: Sequence[Step] = ()) -> tuple[str, list[str]]:
        """The traceability rows naming any of ``names`` (else, those naming one of ``steps``, the
        steps that recommend it), and the decisions they cite."""
        if self.trace is None:
            return "<h4>Traceability</h4><p>No traceability document given (<code>--traceability FILE</code>).</p>", []
        rows = [r for r in self.trace.rows if r.names() & names]
        out = [f"<h4>Traceability ({_e(self.trace.file)})</h4>"]
        if not rows and steps:
            rows = [r for r in self.trace.rows if r.names() & {s.id for s in steps}]
            if rows:
                out.append(f"<p>No row names it; the rows naming the step that recommends it "
                           f"({', '.join(self.link('step-' + s.id) for s in steps)}):</p>")
        cited = list(dict.fromkeys(d for r in rows for d in r.cited()))
        if not rows:
            return f"<h4>Traceability</h4><p>No row of {_e(self.trace.file)} names it.</p>", cited
        for r in rows:
            cells = "".join(f"<tr><th scope=\"row\">{_md(h)}</th><td>{_md(c)}</td></tr>"
                            for h, c in zip(r.headers, r.cells, strict=False) if c)
            out.append(f'<table class="trace"><caption>{_e(r.section)}</caption>{cells}</table>')
        return "".join(out), cited

    def decisions(self, whys: list[tuple[str, str]], cited: list[str]) -> str:
        """The recorded decisions: the authors' ``why`` on the steps that lead here, and the
        traceability document's decisions cited by its rows or by those texts."""
        cited = list(dict.fromkeys(cited + [d for _, w in whys for d in cited_decisions(w)]))
        items = [f"<li>{where}: {_e(why)}</li>" for where, why in whys]
        for d in cited:
            row = self.trace.decisions.get(d) if self.trace else None
            if row is None:
                items.append(f"<li><strong>{_e(d)}</strong> (not in the traceability document)</li>")
            else:
                items.append(f"<li><strong>{_e(d)}</strong>: " + "; ".join(
                    f"<em>{_md(h)}</em>: {_md(c)}" for h, c in zip(row.headers[1:], row.cells[1:], strict=False)) + "</li>")
        body = f"<ul class=\"decisions\">{''.join(items)}</ul>" if items else "<p>None recorded.</p>"
        return f"<h4>Decisions that shaped it</h4>{body}"

    def leads_to(self, sid: str) -> list[Step]:
        """The steps with an arrow to ``sid``."""
        return [s for s in self.g.steps.values() if any(e.target == sid for e in edges_of(s))]

    def whys(self, steps: Iterable[Step]) -> list[tuple[str, str]]:
        return [(f"step {self.link('step-' + s.id)}", s.why) for s in steps if s.why]

    # -- articles ------------------------------------------------------------------

    def rec_article(self, r: Recommendation) -> str:
        g = self.g
        steps = g.steps_recommending(r.id)
        badges = ('<span class="badge avoid">AVOID</span> ' if r.kind == "avoid" else "") + (
            '<span class="badge safety">SAFETY addition</span> ' if r.origin == "safety" else "")
        origin = ("a safety addition beyond the source guideline, with references of its own" if r.origin == "safety"
                  else "the source guideline")
        facts = [("Category", _e(g.categories[r.category].title)), ("Strength", _e(g.strengths[r.strength].title)),
                 ("Timing", _e(r.timing.text) if r.timing else "none given"), ("Section", _e(r.section)),
                 ("Origin", _e(origin)), ("Recommended at", ", ".join(self.link(f"step-{s.id}") for s in steps) or "no step")]
        if r.treatment:
            facts.append(("Treatment", _e(r.treatment) + (f": {_e(r.safety_review)}" if r.safety_review else "")))
        rows, cited = self.trace_rows({r.id}, steps)
        whys = self.whys(steps) + self.whys(x for s in steps for x in self.leads_to(s.id))
        parts = [
            f'<article id="rec-{_e(r.id)}" class="item rec" aria-labelledby="rec-{_e(r.id)}-h">',
            f'<h3 id="rec-{_e(r.id)}-h">{badges}{_e(r.short)}</h3>',
            f'<p class="id">recommendation <code>{_e(r.id)}</code></p>',
            self.state("rec", r.id),
            f'<p class="text">{_e(r.text)}</p>',
            f'<p class="note">{_e(r.note)}</p>' if r.note else "",
            "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>",
            f"<h4>Sources</h4>{self.sources(r.sources)}",
            self.rules("Contraindicated when", r.contraindications),
            self.rules("Cautions", r.cautions),
            rows,
            self.decisions(whys, cited),
            self.obligations(f"rec-{r.id}"),
            "</article>",
        ]
        return "\n".join(p for p in parts if p)

    def rules(self, title: str, rules: Sequence[SafetyRule]) -> str:
        if not rules:
            return ""
        items = "".join(f"<li>{f'<code>{_e(x.cond.text)}</code>: ' if x.cond else 'always: '}{_e(x.text)} "
                        f"<span class=\"refs\">(refs {_e(', '.join(x.sources))})</span></li>" for x in rules)
        return f"<h4>{title}</h4><ul>{items}</ul>"

    def step_article(self, s: Step) -> str:
        g = self.g
        what = {"decision": f"decision ({_CHOICE.get(s.choice, s.choice)})", "action": "action",
                "fork": "start of parallel tracks", "end": "end"}[s.kind]
        body = [f"<dl><dt>Kind</dt><dd>{_e(what)}</dd><dt>Phase</dt><dd>"
                f"{self.link('phase-' + s.phase) if s.phase in g.phases else 'none'}</dd></dl>"]
        if s.branches or s.otherwise:
            items = [f"<li>{i}. {_e(b.label)} <code>{_e(b.cond.text)}</code> &#8594; {self.link('step-' + b.target)}</li>"
                     for i, b in enumerate(s.branches, 1)]
            if s.otherwise:
                items.append(f"<li>{_e(s.otherwise_label)} &#8594; {self.link('step-' + s.otherwise)}</li>")
            body.append(f"<h4>Branches</h4><ol class=\"branches\">{''.join(items)}</ol>")
        if s.recommend:
            body.append("<h4>Recommends</h4><ul>" + "".join(f"<li>{self.link('rec-' + r)}</li>" for r in s.recommend) + "</ul>")
        nxt = ([s.next] if s.next else []) + list(s.tracks)
        if nxt:
            body.append("<h4>Then</h4><ul>" + "".join(f"<li>{self.link('step-' + t)}</li>" for t in nxt) + "</ul>")
        before = self.leads_to(s.id)
        if before:
            body.append("<h4>Reached from</h4><ul>" + "".join(f"<li>{self.link('step-' + x.id)}</li>" for x in before) + "</ul>")
        rows, cited = self.trace_rows({s.id})
        why = [("this step", s.why)] if s.why else []
        return "\n".join([
            f'<article id="step-{_e(s.id)}" class="item step" aria-labelledby="step-{_e(s.id)}-h">',
            f'<h3 id="step-{_e(s.id)}-h">{_e(s.title)}</h3>',
            f'<p class="id">step <code>{_e(s.id)}</code></p>',
            self.state("step", s.id),
            *body, rows, self.decisions(why + self.whys(before), cited), self.obligations(f"step-{s.id}"),
            "</article>"])

    def phase_article(self, pid: str, steps: list[Step]) -> str:
        items = "".join(f"<li>{self.link('step-' + s.id)}"
                        + (" &#8212; " + ", ".join(self.link("rec-" + r) for r in s.recommend) if s.recommend else "")
                        + "</li>" for s in steps)
        return (f'<article id="phase-{_e(pid)}" class="item phase" aria-labelledby="phase-{_e(pid)}-h">'
                f'<h3 id="phase-{_e(pid)}-h">Phase: {_e(self.g.phases[pid].title)}</h3>'
                f'<p class="id">phase <code>{_e(pid)}</code></p><h4>Steps</h4><ol>{items}</ol></article>')

    # -- sections ------------------------------------------------------------------

    def identity(self) -> str:
        g = self.g
        src = "".join(f'<li id="source-{_e(s.id)}"><strong>{_e(s.id)}</strong>: {_e(s.title)}'
                      + "".join(f", {_e(x)}" for x in (s.publisher, s.year) if x)
                      + (f" <span class=\"note\">{_e(s.note)}</span>" if s.note else "") + "</li>"
                      for s in g.sources.values())
        return (f'<dl class="identity"><dt>Guideline</dt><dd><code>{_e(g.id)}</code>, version {_e(g.version)}</dd>'
                f"<dt>File</dt><dd><code>{_e(g.file)}</code></dd><dt>Scope</dt><dd>{_e(g.description)}</dd>"
                f"<dt>Size</dt><dd>{len(g.steps)} steps, {len(g.recommendations)} recommendations, "
                f"{len(g.variables)} patient facts, {len(g.invariants)} invariants</dd></dl>"
                f'<details><summary>Sources ({len(g.sources)})</summary><ul class="sources">{src}</ul></details>')

    def verification(self) -> str:
        head = ("<tr><th scope=\"col\">check</th><th scope=\"col\">obligations</th><th scope=\"col\">proved</th>"
                "<th scope=\"col\">refuted</th><th scope=\"col\">unknown</th><th scope=\"col\">warning</th></tr>")
        rows = "".join(f"<tr><th scope=\"row\">{_e(code)} {_e(name)}</th><td>{sum(c.values())}</td>"
                       + "".join(f"<td>{c[v]}</td>" for v in (Verdict.PROVED, Verdict.REFUTED, Verdict.UNKNOWN, Verdict.WARNING))
                       + "</tr>" for (code, name), c in by_check(list(self.findings)).items())
        line = verdict_line(list(self.findings))
        status = "bad" if line.startswith(("REFUTED", "INCONCLUSIVE")) else "good"
        attention = [i for i, f in enumerate(self.findings) if f.verdict != Verdict.PROVED]
        notes = "".join(
            f'<article id="finding-{i}" class="finding v-{self.findings[i].verdict.value}">'
            f'<pre>{_e(chr(10).join(finding_lines(self.g, self.findings[i])))}</pre></article>' for i in attention)
        every = "".join(
            f'<tr{"" if i in attention else f" id=finding-{i}"}><td><span class="verdict v-{f.verdict.value}">'
            f"{_e(f.verdict.value)}</span></td><td>{_e(f.code)} {_e(f.check)}</td><td>{_e(f.subject)}</td>"
            f"<td>{_e(f.message)}</td></tr>" for i, f in enumerate(self.findings))
        return (f'<p class="verdict-line {status}"><strong>{_e(line)}</strong></p>'
                f"<table class=\"summary\"><caption>Obligations by check</caption>{head}{rows}</table>"
                f"<h3>Findings ({len(attention)} not simply proved)</h3>"
                + (notes or "<p>None: every obligation is proved.</p>")
                + f"<details><summary>Every obligation ({len(self.findings)})</summary>"
                  f"<table class=\"obligations\"><tr><th scope=\"col\">verdict</th><th scope=\"col\">check</th>"
                  f"<th scope=\"col\">subject</th><th scope=\"col\">statement</th></tr>{every}</table></details>")

    def outline(self) -> str:
        g = self.g
        order = list(g.order) + [s for s in g.steps if s not in g.position]
        by_phase: dict[str, list[Step]] = {}
        for sid in order:
            by_phase.setdefault(g.steps[sid].phase, []).append(g.steps[sid])
        out = []
        for pid, steps in by_phase.items():
            title = g.phases[pid].title if pid in g.phases else "Steps outside any phase"
            out.append(f"<section class=\"phase-outline\"><h3>{_e(title)}</h3>")
            if pid in g.phases:
                out.append(self.phase_article(pid, steps))
            out.extend(self.step_article(s) for s in steps)
            out.append("</section>")
        recs = [self.rec_article(r) for r in g.recommendations.values()]
        return ("<h3>Steps, phase by phase</h3>" + "\n".join(out)
                + f"<h3>Recommendations ({len(recs)})</h3>" + "\n".join(recs))


def build_report(g: Guideline, findings: Sequence[Finding], highlight: Highlight | None = None,
                 answer: str = "", trace: Traceability | None = None) -> str:
    """The review report of ``g`` as one HTML document (see the module doc). ``findings`` are
    what ``verify`` returned; ``highlight`` and ``answer`` a patient's path and answer text."""
    page = _Page(g, findings, highlight, trace)
    assets = resources.files(__package__).joinpath("assets")
    css = assets.joinpath("report.css").read_text(encoding="utf-8")
    js = assets.joinpath("report.js").read_text(encoding="utf-8")
    charts = _charts(g, highlight)
    options = "".join(f'<option value="{k}">{_e(t)}</option>' for k, t, _ in charts)
    figures = "".join(
        f'<div class="chart" id="chart-{k}" data-title="{_e(t)}"{"" if i == 0 else " hidden"}>'
        f'{inline_svg(g, render_bytes(dot, "svg").decode("utf-8"), k, t)}</div>'
        for i, (k, t, dot) in enumerate(charts))
    patient = ""
    if highlight is not None:
        patient = (f'<section id="patient" aria-labelledby="patient-h"><h2 id="patient-h">{_e(highlight.title)}</h2>'
                   "<p>The charts show this patient's path in blue; &#9658; marks what applies, grey what does not.</p>"
                   f'<pre class="answer">{_e(answer)}</pre></section>')
    from importlib.metadata import version

    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="guideproof {_e(version("guideproof"))}">
<title>Review: {_e(g.title)} (version {_e(g.version)})</title>
<style>
{css}</style>
</head>
<body>
<a class="skip" href="#outline">Skip to the guideline as text</a>
<header>
<h1>{_e(g.title)} <span class="version">version {_e(g.version)}</span></h1>
{page.identity()}
</header>
<main>
<section id="verification" aria-labelledby="verification-h">
<h2 id="verification-h">Verification</h2>
{page.verification()}
</section>
{patient}
<section id="charts" aria-labelledby="charts-h">
<h2 id="charts-h">Charts</h2>
<div class="toolbar" role="toolbar" aria-label="Chart controls">
<label>Chart <select id="chart-select">{options}</select></label>
<label>Search <input id="search" type="search" autocomplete="off" placeholder="a recommendation, a step, an id"
 aria-describedby="search-help" aria-controls="results"></label>
<button type="button" data-zoom="in" aria-label="Zoom in">+</button>
<button type="button" data-zoom="out" aria-label="Zoom out">&#8722;</button>
<button type="button" data-zoom="fit">Fit</button>
<span id="search-status" role="status" aria-live="polite"></span>
</div>
<p id="search-help" class="help">Drag to pan, wheel or +/&#8722; to zoom. Tab moves between boxes; Enter opens one.
In the search field, Enter goes to the next match (Shift+Enter: the previous one) and focuses it.</p>
<ul id="results" aria-label="Search results"></ul>
<div class="workspace">
<div class="viewport" id="viewport">{figures}</div>
<aside id="panel" aria-labelledby="panel-h" tabindex="-1">
<div class="panel-head"><h2 id="panel-h">Details</h2><button type="button" id="panel-close" aria-label="Close details">&#215;</button></div>
<div id="panel-body"><p>Select a box in the chart: click it, or Tab to it and press Enter.</p></div>
</aside>
</div>
</section>
<section id="outline" aria-labelledby="outline-h">
<h2 id="outline-h">The guideline as text</h2>
<p>Every phase, step and recommendation of the charts, with what the panel shows for it.</p>
{page.outline()}
</section>
</main>
<footer><p>Generated by guideproof {_e(version("guideproof"))} from <code>{_e(g.file)}</code>.
Decision support for professionals, not a substitute for clinical judgement.</p></footer>
<script>
{js}</script>
</body>
</html>
"""
