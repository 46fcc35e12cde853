"""The decision graph as Graphviz DOT text, drawn from the loaded model alone.

Three charts of one guideline, all read top to bottom in clinical order:

* the **whole chart** (:func:`to_dot`): every step, phases as clusters; for zooming in;
* the **overview** (:func:`overview_dot`): one box per phase listing its recommendations,
  and, drawn out in full, the decisions that choose the management pathway (the
  guideline's ``dispositions``) and every ``first`` decision, with the steps their branches
  lead to; sized to fit a landscape A3 page;
* one **phase chart** per phase (:func:`phase_dot`): the phase's steps in detail, with
  small "from" / "continues in" boxes where arrows enter from or leave to other phases.

The DOT text is built here as a string so that it is deterministic (steps in topological
order, edges in declaration order, stable ids) and every label is escaped in one place:

* labels are HTML-like (``label=<...>``): ``&``, ``<``, ``>``, ``"`` become entities,
  backslashes are doubled and newlines become ``<BR/>``, so guideline text can neither break the DOT
  syntax, nor trigger Graphviz's ``\\N``/``\\G`` substitutions, nor inject markup into the SVG;
* tooltips are quoted strings: backslashes are doubled (DOT would otherwise read ``\\N``,
  ``\\G`` and friends as escapes) and quotes escaped.

What the marks mean: each recommendation has a stripe in its category's colour (the
Okabe-Ito colour-blind-safe colours, every pair at least CIE76 20 apart); a recommendation
of the guideline's first (strongest) strength is bold, a weaker one regular with its
strength named; an *urgent* one (see :func:`is_urgent`) is larger and its box has a thick
border; a safety addition (``origin: safety``) ends with a "SAFETY" mark; machine
ids are shown only with ``ids=True``. The branches of a ``first`` decision are numbered and,
in the overview and the phase charts, drawn left to right in their order (see
:meth:`_Chart.ordered`). The legend explains exactly the marks a chart uses.

A patient's path can be highlighted: reached steps and fired branches drawn strong, the
recommendations that apply ticked, and everything not reached faded (grey text that still
reads at 4.5:1 or more). With partial facts a step can also be *possible* (reached in some
completions of the known facts) or *not decided* (the solver gave up on it: drawn grey and
dotted, never as possible).
"""
from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise

from ..model.guideline import Guideline, Recommendation, Step
from ..model.evaluate import Trace
from ..model.graph import Edge, edges_of, reachable

# Okabe & Ito's colour-blind-safe set, then black and a brown: used as stripes beside the
# text (never under it), so dark colours cost no contrast.
PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
           "#000000", "#8B4513"]
INK = "#1a1a1a"
BACKGROUND = "#ffffff"
AVOID_FILL, AVOID_INK = "#fbe3e3", "#a11d1d"
DECISION_FILL = "#fff3c4"
SAFETY_INK = "#4b2991"  # the SAFETY mark ending a safety addition's text (on white or AVOID_FILL)
SAFETY_MARK = "SAFETY"
_SAFETY_WORD = "\x00SAFETY"  # stands for the mark while the text is wrapped and escaped
FADED = "#666666"        # text of parts the patient does not reach: 5.7:1 on white
FADED_LINE = "#b8b8b8"   # their borders and arrows
PATH = "#1f5fbf"
UNDECIDED = "#6b6b6b"
REFERRAL = re.compile(r"\brefer", re.I)
URGENT_WORDS = re.compile(r"\b(immediate(ly)?|urgent(ly)?|emergency)\b", re.I)
WRAP = 30
NARROW, CROWDED = 16, 4  # a rank of more than CROWDED ordered targets is drawn NARROW (text wrapped at 16)
COLUMN = 5  # an overview phase box listing more recommendations sets them in two columns
SMALL = 12  # the smallest text in any chart (points)
FONT = 'fontname="Helvetica"'


def html(text: str) -> str:
    """Escape text for an HTML-like label (entities; newlines become line breaks).

    Backslashes are doubled: Graphviz expands ``\\G``, ``\\N`` and friends even inside
    HTML-like labels (after decoding entities, so ``&#92;`` would not help), and a doubled
    backslash is what it prints as one."""
    out = (text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
           .replace('"', "&quot;"))
    return "<BR/>".join(out.splitlines()) if "\n" in out else out


def quoted(text: str) -> str:
    """A DOT quoted string with no escape sequences left for Graphviz to interpret."""
    flat = " ".join(text.split())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lines(text: str, width: int = WRAP) -> str:
    return '<BR ALIGN="LEFT"/>'.join(html(x) for x in textwrap.wrap(" ".join(text.split()), width)) or " "


def _centred(text: str, width: int) -> str:
    return "<BR/>".join(html(x) for x in textwrap.wrap(" ".join(text.split()), width)) or " "


def _heading(title: str, ink: str, end: str = "<BR/>") -> str:
    """A phase title set above the step that enters the phase (overview), or nothing."""
    return f'<FONT POINT-SIZE="15" COLOR="{ink}"><B>{title}</B></FONT>{end}' if title else ""


def node_id(step_id: str) -> str:
    return f"step_{step_id}"


class Highlight:
    """Which parts of the chart a patient reaches.

    ``certain``/``possible``/``undecided`` hold namespaced keys (``step:ID``, ``edge:KEY``,
    ``rec:ID``), so a step that shares its id with a recommendation is not confused with it;
    anything in none of them is excluded (faded). For a complete patient ``possible``
    and ``undecided`` are empty.
    """

    @classmethod
    def of_trace(cls, trace: Trace, title: str = "") -> Highlight:
        """The path of one complete patient."""
        return cls({f"step:{s}" for s in trace.reached} | {f"edge:{k}" for k in trace.fired_keys()}
                   | {f"rec:{r}" for r in trace.applies}, title=title)

    def __init__(self, certain: set[str], possible: set[str] | None = None, title: str = "",
                 undecided: set[str] | None = None):
        self.certain = certain
        self.possible = possible or set()
        self.undecided = undecided or set()
        self.title = title

    def state(self, key: str) -> str:
        if key in self.certain:
            return "certain"
        if key in self.undecided:
            return "undecided"
        return "possible" if key in self.possible else "excluded"

    def best(self, keys: Iterable[str]) -> str:
        """The strongest state among ``keys`` (certain, then possible, undecided, excluded)."""
        states = {self.state(k) for k in keys}
        return next((s for s in ("certain", "possible", "undecided") if s in states), "excluded")


def category_colors(g: Guideline) -> dict[str, str]:
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(g.categories)}


def is_urgent(g: Guideline, r: Recommendation) -> bool:
    """A referral or management pathway to start at once: a disposition, or a recommendation
    that refers (its title or category says so), timed from week 0 with "immediate", "urgent"
    or "emergency" in its timing or title."""
    if r.kind != "do" or r.timing is None or r.timing.start_week not in (0, None):
        return False
    pathway = r.id in g.dispositions or REFERRAL.search(f"{r.short} {g.categories[r.category].title}")
    return bool(pathway and URGENT_WORDS.search(f"{r.timing.text} {r.short}"))


class _Chart:
    """What one chart draws, and the marks it used (the legend explains only those)."""

    def __init__(self, g: Guideline, highlight: Highlight | None, ids: bool):
        self.g = g
        self.h = highlight
        self.ids = ids
        self.colors = category_colors(g)
        self.strongest = next(iter(g.strengths), "")
        self.used: set[str] = set()  # marks used: category ids, "avoid", "safety", "urgent", ...
        self.narrow: set[str] = set()  # steps in a crowded rank, drawn narrow (set by ordered)

    def state(self, key: str) -> str:
        return self.h.state(key) if self.h else "certain"

    # -- recommendations -------------------------------------------------------------

    def rec_row(self, r: Recommendation, faded: bool, wrap: int = WRAP, brief: bool = False,
                narrow: bool = False) -> str:
        """One recommendation as a table row (see :meth:`rec_cells`)."""
        return f"<TR>{self.rec_cells(r, faded, wrap, brief, narrow)}</TR>"

    def rec_cells(self, r: Recommendation, faded: bool, wrap: int = WRAP, brief: bool = False,
                  narrow: bool = False) -> str:
        """One recommendation's two table cells: a category stripe, and its text (timing,
        strength and refs unless brief; the small print wrapped tighter when ``narrow``). A
        safety addition's text ends with the SAFETY mark."""
        state = self.state(f"rec:{r.id}")
        dim = faded or state == "excluded"
        avoid = r.kind == "avoid"
        urgent = is_urgent(self.g, r)
        strong = r.strength == self.strongest
        self.used.add(r.category)
        self.used.update(x for x, on in (("avoid", avoid), ("urgent", urgent), ("weaker", not strong),
                                         ("safety", r.origin == "safety")) if on)
        ink = FADED if dim else (AVOID_INK if avoid else INK)
        # The mark is markup, added after escaping: "applies" (certain) or "may apply" (possible).
        mark = {"certain": "&#9658; ", "possible": "? "}.get(state, "") if self.h is not None else ""
        safety = f" {_SAFETY_WORD}" if r.origin == "safety" else ""  # wrapped as one more word
        head = _lines(f"{'AVOID: ' if avoid else ''}{r.short}{safety}", wrap - 8 if urgent else wrap)
        head = head.replace(_SAFETY_WORD, f'<FONT COLOR="{FADED if dim else SAFETY_INK}"><B>{SAFETY_MARK}</B></FONT>')
        if strong or avoid:
            head = f"<B>{head}</B>"
        if urgent:
            head = f'<FONT POINT-SIZE="17">{head}</FONT>'
        small = wrap + 4 if narrow else wrap + 12  # the width of the small print
        timing = f'{_lines(r.timing.text, small)}<BR ALIGN="LEFT"/>' if r.timing else ""
        meta = []
        if not strong:
            meta.append(f"<I>{html(self.g.strengths[r.strength].title)}</I>")
        meta.append(_lines("refs " + ", ".join(r.sources), small) if narrow else "refs " + html(", ".join(r.sources)))
        if self.ids:
            meta.append(html(r.id))
        text = head
        if not brief:
            sep = '<BR ALIGN="LEFT"/>' if narrow else " · "
            text += f'<BR ALIGN="LEFT"/><FONT POINT-SIZE="{SMALL}">{timing}{sep.join(meta)}</FONT>'
        stripe = FADED_LINE if dim else (AVOID_INK if avoid else self.colors[r.category])
        bg = f' BGCOLOR="{AVOID_FILL}"' if avoid and not dim else ""
        tip = html(" ".join(f"{r.short}. {r.text} (refs {', '.join(r.sources)}; {r.section})".split()))
        return (f'<TD BGCOLOR="{stripe}" WIDTH="7"> </TD>'
                f'<TD ALIGN="LEFT" BALIGN="LEFT"{bg} HREF="#{html(r.id)}" TOOLTIP="{tip}">'
                f'<FONT COLOR="{ink}">{mark}{text}</FONT><BR ALIGN="LEFT"/></TD>')

    # -- steps -----------------------------------------------------------------------

    def node(self, step: Step, brief: bool = False, heading: str = "") -> str:
        """One step; ``heading`` (a phase title, escaped) is set above it in the overview. A step
        in a crowded rank (see :meth:`ordered`) is drawn narrow."""
        narrow = step.id in self.narrow
        g, h = self.g, self.h
        state = self.state(f"step:{step.id}")
        faded = state == "excluded"
        ink = FADED if faded else INK
        border = PATH if (h and state == "certain") else UNDECIDED if state == "undecided" else (
            FADED_LINE if faded else "#555555")
        width = 3.0 if (h and state == "certain") else 1.2
        style_extra = ",dashed" if (h and state == "possible") else ",dotted" if state == "undecided" else ""
        nid = node_id(step.id)
        tip = quoted(f"{step.id}: {step.title}" + (f" - {step.why}" if step.why else ""))
        idline = f'<BR/><FONT POINT-SIZE="{SMALL}">{html(step.id)}</FONT>' if self.ids else ""
        if step.kind == "decision":
            self.used.add("decision")
            hint = {"first": "first that applies, in order", "any": "all that apply", "single": "one applies"}[step.choice]
            label = (f'<FONT COLOR="{ink}">{_heading(heading, ink)}<B>{_centred(step.title, 26)}</B><BR/>'
                     f'<FONT POINT-SIZE="{SMALL}"><I>{hint}</I></FONT>{idline}</FONT>')
            fill = BACKGROUND if faded else DECISION_FILL
            return (f'{nid} [shape=box, style="rounded,filled{style_extra}", fillcolor="{fill}", color="{border}", '
                    f'penwidth={width}, margin="0.15,0.08", label=<{label}>, tooltip={tip}];')
        if step.kind == "fork":
            self.used.add("fork")
            fill, font = (BACKGROUND, FADED) if faded else ("#444444", "#ffffff")
            return (f'{nid} [shape=box, style="filled{style_extra}", fillcolor="{fill}", color="{border}", '
                    f'penwidth={width}, height=0.3, label=<<FONT COLOR="{font}">{_heading(heading, font)}'
                    f'{html(step.title)}{idline}</FONT>>, '
                    f'tooltip={tip}];')
        if step.kind == "end":
            return (f'{nid} [shape=oval, style="filled{style_extra}", fillcolor="{BACKGROUND if faded else "#eeeeee"}", '
                    f'color="{border}", penwidth={width}, label=<<FONT COLOR="{ink}">{_heading(heading, ink)}'
                    f'{html(step.title)}{idline}</FONT>>, '
                    f'tooltip={tip}];')
        recs = [g.recommendations[r] for r in step.recommend]
        if any(is_urgent(g, r) for r in recs) and not faded:
            width = max(width, 3.0)
            border = PATH if (h and state == "certain") else INK
        rows = [f'<TR><TD COLSPAN="2" ALIGN="LEFT">{_heading(heading, ink, "")}</TD></TR>'] if heading else []
        if self.ids or not (brief or (len(recs) == 1 and recs[0].short.lower() == step.title.lower())):
            rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT" BALIGN="LEFT"><FONT COLOR="{ink}" POINT-SIZE="{SMALL}">'
                        f'{_lines(step.title, NARROW + 4 if narrow else WRAP + 6)}{idline}</FONT></TD></TR>')
        rows.extend(self.rec_row(r, faded, wrap=NARROW if narrow else 22 if brief else WRAP, brief=brief, narrow=narrow)
                    for r in recs)
        label = f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="3">{"".join(rows)}</TABLE>'
        return (f'{nid} [shape=box, style="rounded,filled{style_extra}", fillcolor="{BACKGROUND}", color="{border}", '
                f'penwidth={width}, margin="0.06,0.04", label=<{label}>, tooltip={tip}];')

    # -- arrows ----------------------------------------------------------------------

    def edge(self, e: Edge, source: str | None = None, target: str | None = None) -> str:
        state = self.state(f"edge:{e.key}")
        step = self.g.steps[e.source]
        attrs = []
        if e.kind == "branch":
            number = f"{e.index + 1}. " if step.choice == "first" else ""
            attrs.append(f"label=<{_centred(number + e.label, 24)}>")
        elif e.kind == "otherwise":
            number = f"{len(step.branches) + 1}. " if step.choice == "first" else ""
            attrs.append(f"label=<<I>{_centred(number + step.otherwise_label, 24)}</I>>")
            attrs.append('style="dashed"')
            self.used.add("otherwise")
        attrs += self.edge_state(state)
        attrs.append(f"tooltip={quoted(e.key)}")
        return f'{source or node_id(e.source)} -> {target or node_id(e.target)} [{", ".join(attrs)}];'

    def edge_state(self, state: str) -> list[str]:
        if self.h is None:
            return []
        if state == "certain":
            return [f'color="{PATH}"', "penwidth=3", f'fontcolor="{PATH}"']
        if state == "possible":
            return [f'color="{PATH}"', 'style="dashed"']
        if state == "undecided":
            return [f'color="{UNDECIDED}"', f'fontcolor="{UNDECIDED}"', 'style="dotted"']
        return [f'color="{FADED_LINE}"', f'fontcolor="{FADED}"']

    def ordered(self, decisions: Iterable[str], name: Mapping[str, str],
                arrows: Iterable[tuple[str, str]]) -> list[tuple[set[str], str]]:
        """Keep each ``first`` decision's targets left to right in branch order: the DOT text
        for each rank of targets, with the nodes on it.

        ``name`` maps a step to the node that draws it (a stub for a step in another phase)
        and ``arrows`` are the arrows drawn between nodes. A decision's targets are put on one
        rank, joined in branch order by invisible arrows (Graphviz keeps an arrow within a
        rank pointing right). Decisions that share a target share that rank and all their
        orders hold at once; a pair whose order contradicts an earlier decision's is left
        out, and so is a decision with a target that leads to another (they cannot share a rank).
        """
        succ: dict[str, list[str]] = {}
        for a, b in arrows:
            succ.setdefault(a, []).append(b)
        groups: list[tuple[set[str], dict[str, list[str]]]] = []  # the nodes of one rank, their order
        for sid in decisions:
            step = self.g.steps[sid]
            if step.kind != "decision" or step.choice != "first":
                continue
            seq = list(dict.fromkeys(name[e.target] for e in edges_of(step) if e.target in name))
            joined = [grp for grp in groups if grp[0] & set(seq)]
            members = set(seq).union(*(grp[0] for grp in joined))
            if len(seq) < 2 or any(reachable([m], succ) & (members - {m}) for m in members):
                continue
            order: dict[str, list[str]] = {}
            for grp in joined:
                groups.remove(grp)
                for a, bs in grp[1].items():
                    order.setdefault(a, []).extend(bs)
            for a, b in pairwise(seq):
                if a not in reachable([b], order):
                    order.setdefault(a, []).append(b)
            groups.append((members, order))
        self.narrow.update(sid for sid, node in name.items() for members, _ in groups
                           if len(members) > CROWDED and node in members)
        return [(members, "{ rank=same; " + " ".join(f"{a} -> {b} [style=invis];" for a, bs in order.items()
                                                      for b in bs) + " }")
                for members, order in groups]

    # -- frame -----------------------------------------------------------------------

    def frame(self, name: str, subtitle: str, body: list[str], all_categories: bool = False) -> str:
        """The whole DOT text: a title block (title, subtitle, the patient, the legend) above ``body``.
        Built after the body, so that the legend explains exactly the marks the chart uses."""
        g = self.g
        title = f'<FONT POINT-SIZE="18"><B>{html(g.title)}</B></FONT> (version {html(g.version)})'
        if subtitle:
            title += f'<BR ALIGN="LEFT"/>{subtitle}'
        if self.h is not None and self.h.title:
            title += f'<BR ALIGN="LEFT"/><FONT COLOR="{PATH}"><B>{html(self.h.title)}</B></FONT>'
        label = (f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2"><TR><TD ALIGN="LEFT" BALIGN="LEFT">'
                 f'{title}<BR ALIGN="LEFT"/></TD></TR><TR><TD ALIGN="LEFT">{self.legend(all_categories)}</TD></TR></TABLE>')
        head = [
            "// Generated by guideproof from the guideline model; do not edit by hand.",
            f"digraph {quoted(name)} {{",
            "  graph [rankdir=TB, newrank=true, splines=spline, nodesep=0.3, ranksep=0.25,",
            f'         {FONT}, fontsize=14, charset="UTF-8", compound=true, outputorder=edgesfirst,',
            f"         label=<{label}>, labelloc=t, labeljust=l];",
            f'  node [{FONT}, fontsize=13, fontcolor="{INK}"];',
            f'  edge [{FONT}, fontsize={SMALL}, arrowsize=0.8, color="#555555"];',
        ]
        return "\n".join(head + body + ["}"]) + "\n"

    def legend(self, all_categories: bool = False) -> str:
        cats = [c for c in self.g.categories if all_categories or c in self.used]
        items = [f'<TD BGCOLOR="{self.colors[c]}" WIDTH="14"> </TD><TD ALIGN="LEFT">{html(self.g.categories[c].title)}</TD>'
                 for c in cats]
        strongest = self.g.strengths[self.strongest].title if self.strongest else ""
        marks = [
            ("weaker", "", f"<B>bold</B>: {html(strongest)}; regular: weaker (strength named)"),
            ("urgent", "", '<FONT POINT-SIZE="15"><B>large</B></FONT>, thick border: urgent'),
            ("avoid", f' BGCOLOR="{AVOID_FILL}"', f'<FONT COLOR="{AVOID_INK}"><B>AVOID</B>: do not do this</FONT>'),
            ("safety", "", f'<FONT COLOR="{SAFETY_INK}"><B>{SAFETY_MARK}</B></FONT> after an item: a safety addition, '
                           "beyond the source guideline, with its own references"),
            ("decision", f' BGCOLOR="{DECISION_FILL}"', "decision: conditions on the arrows"),
            ("fork", ' BGCOLOR="#444444"', "start of parallel tracks"),
            ("otherwise", "", "<I>dashed arrow</I>: otherwise"),
        ]
        items += [f'<TD{bg} WIDTH="14"> </TD><TD ALIGN="LEFT">{text}</TD>' for key, bg, text in marks if key in self.used]
        if self.h is not None:
            items.append(f'<TD BGCOLOR="{PATH}"> </TD><TD ALIGN="LEFT">this patient\'s path; &#9658; applies</TD>')
            if self.h.possible:
                items.append('<TD>?</TD><TD ALIGN="LEFT">dashed blue: depends on unknown facts</TD>')
            if self.h.undecided:
                items.append(f'<TD BORDER="1" COLOR="{UNDECIDED}" STYLE="dotted"> </TD>'
                             '<TD ALIGN="LEFT">grey dotted: not decided (the solver gave up)</TD>')
            items.append(f'<TD BGCOLOR="{FADED_LINE}"> </TD><TD ALIGN="LEFT"><FONT COLOR="{FADED}">grey: not reached</FONT></TD>')
        per_row = max(3, -(-len(items) // 3))  # at most three rows
        rows = ["<TR>" + "".join(items[i:i + per_row]) + "</TR>" for i in range(0, len(items), per_row)]
        table = (f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" CELLPADDING="3" COLOR="#bbbbbb">'
                 f'<TR><TD COLSPAN="{2 * per_row}" ALIGN="LEFT"><B>Legend</B></TD></TR>{"".join(rows)}</TABLE>')
        return f'<FONT POINT-SIZE="{SMALL}">{table}</FONT>'


def _order(g: Guideline) -> list[str]:
    return list(g.order) + [s for s in g.steps if s not in g.order]


def _phase_title(g: Guideline, phase: str) -> str:
    return g.phases[phase].title if phase in g.phases else "Steps"


def to_dot(g: Guideline, highlight: Highlight | None = None, ids: bool = False) -> str:
    """The whole chart: every step, phases as clusters."""
    c = _Chart(g, highlight, ids)
    order = _order(g)
    out: list[str] = []
    by_phase: dict[str, list[str]] = {}
    for sid in order:
        by_phase.setdefault(g.steps[sid].phase, []).append(sid)
    # Graphviz (2.43) does not keep this order inside clusters: the whole chart's branches may be out of order.
    ranks = c.ordered(order, {sid: node_id(sid) for sid in order},
                      [(node_id(e.source), node_id(e.target)) for sid in order for e in edges_of(g.steps[sid])])
    for phase, sids in by_phase.items():
        indent = "  "
        if phase:
            out.append(f"  subgraph cluster_{phase} {{")
            out.append(f'    graph [label=<<B>{html(g.phases[phase].title)}</B>>, style="rounded,filled", '
                       f'fillcolor="#f7f7f7", color="#c8c8c8", fontsize=15, labeljust=l];')
            indent = "    "
        out.extend(indent + c.node(g.steps[sid]) for sid in sids)
        if phase:
            out.append("  }")
    for sid in order:
        out.extend("  " + c.edge(e) for e in edges_of(g.steps[sid]))
    out.extend("  " + text for _, text in ranks)
    return c.frame(g.id, "", out, all_categories=True)


def phase_dot(g: Guideline, phase: str, highlight: Highlight | None = None, ids: bool = False) -> str:
    """One phase in detail; arrows from and to other phases end in small boxes naming them."""
    c = _Chart(g, highlight, ids)
    order = _order(g)
    mine = [s for s in order if g.steps[s].phase == phase]
    drawn = set(mine)
    stubs: dict[str, tuple[str, list[str]]] = {}  # stub -> label, keys of the steps it stands for
    name = {sid: node_id(sid) for sid in mine}  # step -> the node drawing it (a stub for another phase's)
    pairs: list[tuple[str, str]] = []
    arrows = []
    for sid in order:
        for e in edges_of(g.steps[sid]):
            if sid in drawn and e.target not in drawn:
                other = g.steps[e.target]
                name[e.target] = f"to_{e.target}"
                stubs[name[e.target]] = (f"continues in <B>{html(_phase_title(g, other.phase))}</B>:<BR/>"
                                         f"{_centred(other.title, 28)}", [f"step:{e.target}"])
            elif e.target in drawn and sid not in drawn:
                source = g.steps[sid]
                name[sid] = f"from_{source.phase or 'steps'}"
                label = f"from <B>{html(_phase_title(g, source.phase))}</B>"
                stubs.setdefault(name[sid], (label, []))[1].append(f"step:{sid}")
            elif sid not in drawn:
                continue
            pairs.append((name[sid], name[e.target]))
            arrows.append("  " + c.edge(e, *pairs[-1]))
    ranks = c.ordered(mine, name, pairs)  # first: it tells which steps are drawn narrow
    out = ["  " + c.node(g.steps[sid]) for sid in mine]
    out.extend(f"  {stub} {_stub(c, label, keys)}" for stub, (label, keys) in stubs.items())
    out.extend(arrows)
    out.extend("  " + text for _, text in ranks)
    return c.frame(f"{g.id}-{phase}", f'<FONT POINT-SIZE="16">Phase: <B>{html(_phase_title(g, phase))}</B></FONT>', out)


def _stub(c: _Chart, label: str, keys: list[str]) -> str:
    ink = FADED if (c.h is not None and c.h.best(keys) == "excluded") else "#333333"
    return (f'[shape=note, style="filled", fillcolor="#f2f2f2", color="#999999", fontsize=13, '
            f'label=<<FONT COLOR="{ink}">{label}</FONT>>];')


def overview_dot(g: Guideline, highlight: Highlight | None = None, ids: bool = False) -> str:
    """The phases as boxes listing their recommendations; drawn out, the decisions that choose a
    disposition (a management pathway) and every decision taken in priority order, with the
    steps their branches lead to, in branch order.

    No clusters: Graphviz (2.43) does not keep the left-to-right order of nodes inside a
    cluster. A phase's title heads its box and each drawn-out step entered from another
    phase. The phases with drawn-out steps are placed one under another (invisible arrows),
    so that their fans of branches do not sit side by side."""
    c = _Chart(g, highlight, ids)
    order = _order(g)
    disp = set(g.dispositions)
    pathways = [s for s in order if disp & set(g.steps[s].recommend)]
    routers = [s for s in order if g.steps[s].kind == "decision"
               and (g.steps[s].choice == "first" or any(e.target in pathways for e in edges_of(g.steps[s])))]
    own = set(pathways) | set(routers) | {e.target for s in routers for e in edges_of(g.steps[s])}

    def box(sid: str) -> str:
        return node_id(sid) if sid in own else f"phase_{g.steps[sid].phase or 'steps'}"

    seen: dict[tuple[str, str], list[Edge]] = {}  # arrows between boxes, merged
    arrows: list[str] = []
    entered: set[str] = {box(g.start)}  # boxes entered from another phase (or first)
    for sid in order:
        for e in edges_of(g.steps[sid]):
            a, b = box(sid), box(e.target)
            if a == b:
                continue
            if g.steps[sid].phase != g.steps[e.target].phase:
                entered.add(b)
            if sid in routers:
                arrows.append("  " + c.edge(e, source=a, target=b))
            else:
                seen.setdefault((a, b), []).append(e)
    for (a, b), edges in seen.items():
        state = c.h.best(f"edge:{e.key}" for e in edges) if c.h else "certain"
        attrs = c.edge_state(state) + [f"tooltip={quoted(', '.join(e.key for e in edges))}"]
        arrows.append(f"  {a} -> {b} [{', '.join(attrs)}];")
    drawn = list(seen) + [(box(s), box(e.target)) for s in routers for e in edges_of(g.steps[s])]
    ranks = c.ordered(routers, {sid: box(sid) for sid in order}, drawn)  # first: it tells which steps are narrow
    phases: dict[str, list[str]] = {}
    for sid in order:
        phases.setdefault(g.steps[sid].phase, []).append(sid)
    out: list[str] = []
    rows: dict[str, int] = {}  # phase box -> its number of lines (title and recommendations)
    blocks: list[set[str]] = []  # the boxes of each phase with drawn-out steps
    for phase, sids in phases.items():
        members = [s for s in sids if s in own]
        rest = [s for s in sids if s not in own]
        listed = len({r for s in rest for r in g.steps[s].recommend})
        rows[f"phase_{phase or 'steps'}"] = 1 + max(1, listed if listed <= COLUMN else (listed + 1) // 2)
        heading = html(_phase_title(g, phase))
        out.extend("  " + c.node(g.steps[s], brief=True, heading=heading if node_id(s) in entered else "")
                   for s in members)
        if rest:
            out.append("  " + _phase_box(c, phase, rest))
        if members:
            blocks.append({box(s) for s in sids})
    out.extend(arrows)
    out.extend("  " + text for _, text in ranks)
    out.extend(_stacked(drawn, rows))
    out.extend(_one_under_another(blocks, drawn))
    return c.frame(f"{g.id}-overview", '<FONT POINT-SIZE="16">Overview: the phases and the management pathways</FONT>', out,
)


def _one_under_another(blocks: list[set[str]], arrows: list[tuple[str, str]]) -> list[str]:
    """Invisible arrows from the last boxes of each block (those with no arrow to another box of
    the block) to the first boxes of the next (those no box of the block leads to)."""
    out: list[str] = []
    for upper, lower in pairwise(blocks):
        last = [b for b in sorted(upper) if not any(a == b and t in upper for a, t in arrows)]
        first = [b for b in sorted(lower) if not any(t == b and a in lower for a, t in arrows)]
        out.extend(f"  {a} -> {b} [style=invis];" for a in last for b in first)
    return out


def _stacked(arrows: list[tuple[str, str]], rows: dict[str, int]) -> list[str]:
    """Narrow the overview: phase boxes that lead nowhere and are entered from one place
    (parallel tracks, typically) are stacked into columns no taller than the tallest of them
    (first fit, tallest first), by invisible arrows."""
    sources: dict[str, set[str]] = {}
    for a, b in arrows:
        sources.setdefault(b, set()).add(a)
    leaves: dict[str, list[str]] = {}
    for box in rows:
        if box in sources and len(sources[box]) == 1 and not any(a == box for a, _ in arrows):
            leaves.setdefault(min(sources[box]), []).append(box)
    out: list[str] = []
    for group in leaves.values():
        columns: list[list[str]] = []
        tallest = max(rows[b] for b in group)
        for box in sorted(group, key=lambda b: -rows[b]):
            column = next((col for col in columns if sum(rows[b] for b in col) + rows[box] <= tallest), None)
            if column is None:
                columns.append([box])
            else:
                column.append(box)
        out.extend(f"  {col[i]} -> {col[i + 1]} [style=invis];" for col in columns for i in range(len(col) - 1))
    return out


def _phase_box(c: _Chart, phase: str, sids: Sequence[str]) -> str:
    g = c.g
    state = c.h.best(f"step:{s}" for s in sids) if c.h else "certain"
    faded = state == "excluded"
    recs = list(dict.fromkeys(r for s in sids for r in g.steps[s].recommend))
    ink = FADED if faded else INK
    rows = [f'<TR><TD COLSPAN="{2 if len(recs) <= COLUMN else 5}" ALIGN="LEFT"><FONT POINT-SIZE="15" COLOR="{ink}">'
            f'<B>{_lines(_phase_title(g, phase), 26)}</B></FONT></TD></TR>']
    if len(recs) <= COLUMN:
        rows.extend(c.rec_row(g.recommendations[r], faded, wrap=24, brief=True) for r in recs)
    else:  # two columns, read down the first then the second: a short box
        cells = [c.rec_cells(g.recommendations[r], faded, wrap=24, brief=True) for r in recs]
        half = (len(cells) + 1) // 2
        for i in range(half):
            pair = [cells[i]] + ([cells[i + half]] if i + half < len(cells) else [])
            rows.append("<TR>" + '<TD WIDTH="10"></TD>'.join(pair) + "</TR>")
    if not recs:
        rows.append(f'<TR><TD></TD><TD ALIGN="LEFT"><I>{len(sids)} steps</I></TD></TR>')
    border = PATH if (c.h and state == "certain") else FADED_LINE if faded else "#555555"
    width = 3.0 if (c.h and state == "certain") else 1.2
    style = ",dashed" if state == "possible" else ",dotted" if state == "undecided" else ""
    label = f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="2">{"".join(rows)}</TABLE>'
    return (f'phase_{phase or "steps"} [shape=box, style="rounded,filled{style}", fillcolor="{BACKGROUND}", '
            f'color="{border}", penwidth={width}, margin="0.06,0.04", label=<{label}>, '
            f'tooltip={quoted(_phase_title(g, phase))}];')
