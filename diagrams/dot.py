"""The decision graph as Graphviz DOT text, drawn from the loaded model alone.

Three charts of one guideline, all read top to bottom in clinical order:

* the **whole chart** (:func:`to_dot`): every step, each phase's title above the steps where
  it is entered; for zooming in;
* the **overview** (:func:`overview_dot`): one box per phase listing its recommendations,
  and, drawn out, the decisions that choose the management pathway (the guideline's
  ``dispositions``) and every ``first`` decision, each as one box with a row per branch
  (see :meth:`_Chart.table`); narrow enough for a README and a landscape A3 page;
* one **phase chart** per phase (:func:`phase_dot`): the phase's steps in detail, with
  small "from" / "continues in" boxes where arrows enter from or leave to other phases (and a
  "via" box for a step outside the phase between two of its steps); decisions whose fans
  would crowd one rank side by side are drawn as boxes with a row per branch, as in the
  overview, so that the chart fits a landscape A3 page.

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
ids are shown only with ``ids=True``. The branches of a ``first`` decision are numbered and
drawn in their order: left to right (see :meth:`_Chart.ordered`), or top to bottom as the
rows of an overview's decision. The legend explains exactly the marks a chart uses.

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
COLUMN = 5  # an overview phase box listing more recommendations may set them in two columns
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


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters; a longer word is never broken ("Immediat e")."""
    return textwrap.wrap(" ".join(text.split()), width, break_long_words=False, break_on_hyphens=False)


def _lines(text: str, width: int = WRAP) -> str:
    return '<BR ALIGN="LEFT"/>'.join(html(x) for x in _wrap(text, width)) or " "


def _centred(text: str, width: int) -> str:
    return "<BR/>".join(html(x) for x in _wrap(text, width)) or " "


def _heading(title: str, ink: str, end: str = "<BR/>") -> str:
    """A phase title set above the step that enters the phase (overview), or nothing."""
    return f'<FONT POINT-SIZE="15" COLOR="{ink}"><B>{title}</B></FONT>{end}' if title else ""


def node_id(step_id: str) -> str:
    return f"step_{step_id}"


def _step_tip(step: Step) -> str:
    return quoted(f"{step.id}: {step.title}" + (f" - {step.why}" if step.why else ""))


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
                  narrow: bool = False, span: int = 1) -> str:
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
                f'<TD{f" COLSPAN={chr(34)}{span}{chr(34)}" if span > 1 else ""} ALIGN="LEFT" BALIGN="LEFT"{bg} '
                f'HREF="#{html(r.id)}" TOOLTIP="{tip}">'
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
        border, width, style_extra = self.outline(state)
        nid = node_id(step.id)
        tip = _step_tip(step)
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

    def table(self, step: Step, folded: set[str], heading: str = "", brief: bool = True) -> str:
        """A decision drawn as one box: the decision, then a row per branch, top to bottom in
        branch order (numbered when ordered): its condition, and what it leads to: a step in
        ``folded`` as its recommendations (in two columns when a branch leads to more than
        two), any other as its title. A row's arrows leave from its right end (port
        ``b<index>``, or ``other`` for otherwise). ``heading``: as in :meth:`node`; ``brief``:
        the recommendations without timing, strength and refs (see :meth:`rec_cells`)."""
        g, h = self.g, self.h
        state = self.state(f"step:{step.id}")
        faded = state == "excluded"
        ink = FADED if faded else INK
        self.used.add("table")
        hint = {"first": "first that applies, in order", "any": "all that apply", "single": "one applies"}[step.choice]
        edges = edges_of(step)
        pairs = any(len(g.steps[e.target].recommend) > 2 for e in edges if e.target in folded)
        width = 4 if pairs else 2  # the cells a branch's recommendations take in a row
        rows = [f'<TR><TD COLSPAN="{width + 2}" BGCOLOR="{BACKGROUND if faded else DECISION_FILL}" ALIGN="CENTER">'
                f'<FONT COLOR="{ink}">{_heading(heading, ink)}<B>{_centred(step.title, 34)}</B><BR/>'
                f'<FONT POINT-SIZE="{SMALL}"><I>{hint}</I></FONT></FONT></TD></TR>']
        for e in edges:
            number = (e.index + 1 if e.kind == "branch" else len(step.branches) + 1) if step.choice == "first" else 0
            text = _lines(f"{f'{number}. ' if number else ''}{e.label if e.kind == 'branch' else step.otherwise_label}",
                          WRAP - 4)
            if e.kind == "otherwise":
                text = f"<I>{text}</I>"
            edge = self.state(f"edge:{e.key}")
            cond_ink = PATH if (h and edge == "certain") else UNDECIDED if edge == "undecided" else (
                FADED if edge == "excluded" else INK)
            if h and edge == "certain":
                text = f"<B>{text}</B>"
            target = g.steps[e.target]
            tstate = self.state(f"step:{target.id}")
            recs = target.recommend if target.id in folded else ()
            if target.id not in folded or not recs:
                tink = FADED if tstate == "excluded" else INK
                title = _lines(target.title, WRAP - 6) if target.id not in folded else " "
                lines = [f'<TD COLSPAN="{width}" ALIGN="LEFT" BALIGN="LEFT"><FONT COLOR="{tink}">'
                         f'{"&#8594; " if target.id not in folded else ""}{title}</FONT><BR ALIGN="LEFT"/></TD>']
            else:
                per_line = 2 if pairs and len(recs) > 2 else 1
                lines = []
                for i in range(0, len(recs), per_line):
                    chunk = recs[i:i + per_line]
                    lines.append("".join(
                        self.rec_cells(g.recommendations[r], tstate == "excluded", wrap=WRAP - 8 if pairs else WRAP + 2,
                                       brief=brief, span=width - 1 - 2 * (len(chunk) - 1) if j == len(chunk) - 1 else 1)
                        for j, r in enumerate(chunk)))
            span = f' ROWSPAN="{len(lines)}"' if len(lines) > 1 else ""
            port = f"b{e.index}" if e.kind == "branch" else "other"
            rows.append("<HR/>")
            rows.append(f'<TR><TD{span} ALIGN="LEFT" VALIGN="TOP" BALIGN="LEFT"><FONT COLOR="{cond_ink}" '
                        f'POINT-SIZE="{SMALL}">{text}</FONT><BR ALIGN="LEFT"/></TD>{lines[0]}'
                        f'<TD{span} PORT="{port}" WIDTH="2"></TD></TR>')
            rows.extend(f"<TR>{line}</TR>" for line in lines[1:])
        border, pen, style_extra = self.outline(state)
        if not faded and any(is_urgent(g, g.recommendations[r]) for e in edges if e.target in folded
                             for r in g.steps[e.target].recommend):  # as a step with an urgent one
            pen = max(pen, 3.0)
            border = PATH if (h and state == "certain") else INK
        label = f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="1">{"".join(rows)}</TABLE>'
        return (f'{node_id(step.id)} [shape=box, style="rounded,filled{style_extra}", fillcolor="{BACKGROUND}", '
                f'color="{border}", penwidth={pen}, margin="0.04,0.04", label=<{label}>, tooltip={_step_tip(step)}];')

    def outline(self, state: str) -> tuple[str, float, str]:
        """A box's border colour, width and extra style for its highlight ``state``."""
        h = self.h
        border = PATH if (h and state == "certain") else UNDECIDED if state == "undecided" else (
            FADED_LINE if state == "excluded" else "#555555")
        width = 3.0 if (h and state == "certain") else 1.2
        style_extra = ",dashed" if (h and state == "possible") else ",dotted" if state == "undecided" else ""
        return border, width, style_extra

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

    def frame(self, name: str, subtitle: str, body: list[str], all_categories: bool = False,
              spacing: str = "nodesep=0.3, ranksep=0.25") -> str:
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
            f"  graph [rankdir=TB, newrank=true, splines=spline, {spacing},",
            f'         {FONT}, fontsize=14, charset="UTF-8", compound=true, outputorder=edgesfirst,',
            f"         label=<{label}>, labelloc=t, labeljust=l];",
            f'  node [{FONT}, fontsize=13, fontcolor="{INK}"];',
            f'  edge [{FONT}, fontsize={SMALL}, arrowsize=0.8, color="#555555"];',
        ]
        return "\n".join(head + body + ["}"]) + "\n"

    def legend(self, all_categories: bool = False) -> str:
        cats = [c for c in self.g.categories if all_categories or c in self.used]
        swatch = 'WIDTH="14" HEIGHT="14" FIXEDSIZE="TRUE"></TD>'
        colours = [f'<TD BGCOLOR="{self.colors[c]}" {swatch}<TD ALIGN="LEFT">{html(self.g.categories[c].title)}</TD>'
                   for c in cats]
        strongest = self.g.strengths[self.strongest].title if self.strongest else ""
        marks = [
            ("weaker", "", f"<B>bold</B>: {html(strongest)}; regular: weaker (strength named)"),
            ("urgent", "", '<FONT POINT-SIZE="15"><B>large</B></FONT>, thick border: urgent'),
            ("avoid", f' BGCOLOR="{AVOID_FILL}"', f'<FONT COLOR="{AVOID_INK}"><B>AVOID</B>: do not do this</FONT>'),
            ("safety", "", f'<FONT COLOR="{SAFETY_INK}"><B>{SAFETY_MARK}</B></FONT> after an item: a safety addition, '
                           'beyond the source guideline,<BR ALIGN="LEFT"/>with its own references'),
            ("decision", f' BGCOLOR="{DECISION_FILL}"', "decision: conditions on the arrows"),
            ("table", f' BGCOLOR="{DECISION_FILL}"', "decision: a row per condition, and what it leads to"),
            ("fork", ' BGCOLOR="#444444"', "start of parallel tracks"),
            ("otherwise", "", "<I>dashed arrow</I>: otherwise"),
        ]
        items = [f'<TD{bg} {swatch}<TD ALIGN="LEFT" BALIGN="LEFT">{text}</TD>' for key, bg, text in marks if key in self.used]
        if self.h is not None:
            items.append(f'<TD BGCOLOR="{PATH}"> </TD><TD ALIGN="LEFT">this patient\'s path; &#9658; applies</TD>')
            if self.h.possible:
                items.append('<TD>?</TD><TD ALIGN="LEFT">dashed blue: depends on unknown facts</TD>')
            if self.h.undecided:
                items.append(f'<TD BORDER="1" COLOR="{UNDECIDED}" STYLE="dotted"> </TD>'
                             '<TD ALIGN="LEFT">grey dotted: not decided (the solver gave up)</TD>')
            items.append(f'<TD BGCOLOR="{FADED_LINE}"> </TD><TD ALIGN="LEFT"><FONT COLOR="{FADED}">grey: not reached</FONT></TD>')
        # The colours two to a row, beside the marks one to a row: the marks' long explanations do not
        # widen the colours' columns, and the legend stays about as narrow as a chart for a README.
        rows = max(-(-len(colours) // 2), len(items))
        empty = "<TD></TD><TD></TD>"
        grid = "".join("<TR>" + "".join(colours[2 * i:2 * i + 2]) + empty * (2 - len(colours[2 * i:2 * i + 2]))
                       + (items[i] if i < len(items) else empty) + "</TR>" for i in range(rows))
        table = (f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2" COLOR="#bbbbbb">'
                 f'<TR><TD COLSPAN="6" ALIGN="LEFT"><B>Legend</B></TD></TR>{grid}</TABLE>')
        return f'<FONT POINT-SIZE="{SMALL}">{table}</FONT>'


def _order(g: Guideline) -> list[str]:
    return list(g.order) + [s for s in g.steps if s not in g.position]


def _phase_title(g: Guideline, phase: str) -> str:
    return g.phases[phase].title if phase in g.phases else "Steps"


def to_dot(g: Guideline, highlight: Highlight | None = None, ids: bool = False) -> str:
    """The whole chart: every step; a phase's title heads each step where the phase is entered.

    No clusters: Graphviz (2.43) does not keep the left-to-right order of nodes inside a
    cluster (nor, without ``newrank``, the ranks of a cluster whose nodes share a rank group),
    so ordered branches could not be drawn in their order."""
    c = _Chart(g, highlight, ids)
    order = _order(g)
    arrows = [(sid, e) for sid in order for e in edges_of(g.steps[sid])]
    entered = {g.start} | {e.target for sid, e in arrows if g.steps[sid].phase != g.steps[e.target].phase}
    ranks = c.ordered(order, {sid: node_id(sid) for sid in order},
                      [(node_id(e.source), node_id(e.target)) for _, e in arrows])
    out = ["  " + c.node(g.steps[sid], heading=html(_phase_title(g, g.steps[sid].phase))
                         if sid in entered and g.steps[sid].phase else "") for sid in order]
    out.extend("  " + c.edge(e) for _, e in arrows)
    out.extend("  " + text for _, text in ranks)
    return c.frame(g.id, "", out, all_categories=True)


def phase_dot(g: Guideline, phase: str, highlight: Highlight | None = None, ids: bool = False) -> str:
    """One phase in detail; arrows from and to other phases end in small boxes naming them.

    A step of another phase (or of none) that this phase leads to and that leads back into it
    (a fork starting parallel tracks here, typically) is one box, "via" its phase, with
    arrows in and out: what follows it is drawn below it. A decision whose targets are on a
    crowded rank and are steps only it leads to is drawn as one box with a row per branch
    (see :func:`_tables`)."""
    c = _Chart(g, highlight, ids)
    order = _order(g)
    mine = [s for s in order if g.steps[s].phase == phase]
    drawn = set(mine)
    into: dict[str, set[str]] = {}  # step -> the steps with an arrow to it
    for sid in order:
        for e in edges_of(g.steps[sid]):
            into.setdefault(e.target, set()).add(sid)
    via = [s for s in order if s not in drawn and into.get(s, set()) & drawn
           and any(e.target in drawn for e in edges_of(g.steps[s]))]
    stubs: dict[str, tuple[str, list[str]]] = {}  # stub -> label, keys of the steps it stands for
    name = {sid: node_id(sid) for sid in mine}  # step -> the node drawing it (a stub for another phase's)
    for sid in via:
        other = g.steps[sid]
        name[sid] = f"via_{sid}"
        stubs[name[sid]] = (f"via <B>{html(_phase_title(g, other.phase))}</B>:<BR/>{_centred(other.title, 28)}",
                            [f"step:{sid}"])
    inside = drawn | set(via)
    links: list[Edge] = []  # the arrows drawn, between the nodes name gives
    for sid in order:
        for e in edges_of(g.steps[sid]):
            if e.target not in drawn and (sid not in inside or sid in via):
                continue  # where a "via" box is entered from or leads elsewhere: told in other charts
            if e.target not in inside:
                other = g.steps[e.target]
                name[e.target] = f"to_{e.target}"
                stubs[name[e.target]] = (f"continues in <B>{html(_phase_title(g, other.phase))}</B>:<BR/>"
                                         f"{_centred(other.title, 28)}", [f"step:{e.target}"])
            elif sid not in inside:
                source = g.steps[sid]
                name[sid] = f"from_{source.phase or 'steps'}"
                label = f"from <B>{html(_phase_title(g, source.phase))}</B>"
                stubs.setdefault(name[sid], (label, []))[1].append(f"step:{sid}")
            links.append(e)
    tables = _tables(g, mine, into, [(name[e.source], name[e.target]) for e in links])
    folded = {e.target for t in tables for e in edges_of(g.steps[t])}
    pairs: list[tuple[str, str]] = []
    arrows: list[str] = []
    rows: dict[str, list[tuple[str, Edge]]] = {}  # table -> (row port, arrow) for the arrows leaving its rows
    for e in links:
        if e.source in folded:
            continue  # leaves its table's row (below)
        if e.source not in tables:
            pairs.append((name[e.source], name[e.target]))
            arrows.append("  " + c.edge(e, *pairs[-1]))
            continue
        row = f"b{e.index}" if e.kind == "branch" else "other"
        rows.setdefault(e.source, []).extend((row, f) for f in (edges_of(g.steps[e.target]) if e.target in folded else [e]))
    for table, leaving in rows.items():
        ends = list(dict.fromkeys(name[f.target] for _, f in leaving))
        if len(ends) == 1:  # every row leads to the same place: one arrow, from the box
            state = c.h.best(f"edge:{f.key}" for _, f in leaving) if c.h else "certain"
            attrs = c.edge_state(state) + [f"tooltip={quoted(', '.join(f.key for _, f in leaving))}"]
            pairs.append((name[table], ends[0]))
            arrows.append(f"  {name[table]} -> {ends[0]} [{', '.join(attrs)}];")
            continue
        for row, f in leaving:
            attrs = c.edge_state(c.state(f"edge:{f.key}")) + [f"tooltip={quoted(f.key)}"]
            pairs.append((name[table], name[f.target]))
            arrows.append(f"  {name[table]}:{row}:e -> {name[f.target]} [{', '.join(attrs)}];")
    ranks = c.ordered([s for s in mine if s not in tables], name, pairs)  # first: it tells which steps are drawn narrow
    out = ["  " + (c.table(g.steps[sid], folded, brief=False) if sid in tables else c.node(g.steps[sid]))
           for sid in mine if sid not in folded]
    out.extend(f"  {stub} {_stub(c, label, keys)}" for stub, (label, keys) in stubs.items())
    out.extend(arrows)
    out.extend("  " + text for _, text in ranks)
    return c.frame(f"{g.id}-{phase}", f'<FONT POINT-SIZE="16">Phase: <B>{html(_phase_title(g, phase))}</B></FONT>', out)


def _ranks(arrows: Sequence[tuple[str, str]]) -> dict[str, int]:
    """About the rank Graphviz gives each node: the length of the longest path of ``arrows``
    that leads to it."""
    succ: dict[str, list[str]] = {}
    indegree: dict[str, int] = {}
    for a, b in arrows:
        succ.setdefault(a, []).append(b)
        indegree[b] = indegree.get(b, 0) + 1
        indegree.setdefault(a, 0)
    rank = dict.fromkeys(indegree, 0)
    ready = [n for n, d in indegree.items() if d == 0]
    while ready:  # in topological order (a cycle's nodes keep the rank reached so far)
        a = ready.pop()
        for b in succ.get(a, []):
            rank[b] = max(rank[b], rank[a] + 1)
            indegree[b] -= 1
            if indegree[b] == 0:
                ready.append(b)
    return rank


def _tables(g: Guideline, mine: Sequence[str], into: Mapping[str, set[str]],
            arrows: Sequence[tuple[str, str]]) -> list[str]:
    """The decisions of a phase chart to draw as one box with a row per branch (as in the
    overview, :meth:`_Chart.table`): those whose targets are all actions of the phase that only
    this decision leads to, when one of those targets is on a rank of more than CROWDED nodes
    where the branches of other decisions end too (``arrows``: the chart's arrows between node
    names, each step's node named by node_id). Fans of several decisions side by side would make
    the chart too wide for a page; as rows, each takes about the width of one branch. (One
    decision's crowded fan stays drawn out, its targets narrow: see :meth:`_Chart.ordered`.)"""
    rank = _ranks(arrows)
    crowd: dict[int, int] = {}
    fans: dict[int, set[str]] = {}  # rank -> the decisions with a branch ending on it
    for r in rank.values():
        crowd[r] = crowd.get(r, 0) + 1
    for sid in mine:
        if g.steps[sid].kind == "decision":
            for e in edges_of(g.steps[sid]):
                fans.setdefault(rank.get(node_id(e.target), -1), set()).add(sid)
    tables = []
    for sid in mine:
        step = g.steps[sid]
        targets = [e.target for e in edges_of(step)]
        if step.kind == "decision" and all(t in mine and g.steps[t].kind == "action" and into.get(t) == {sid}
                                           for t in targets) \
                and any(crowd.get(r, 0) > CROWDED and len(fans[r]) > 1
                        for r in {rank.get(node_id(t), -1) for t in targets}):
            tables.append(sid)
    return tables


def _stub(c: _Chart, label: str, keys: list[str]) -> str:
    ink = FADED if (c.h is not None and c.h.best(keys) == "excluded") else "#333333"
    return (f'[shape=note, style="filled", fillcolor="#f2f2f2", color="#999999", fontsize=13, '
            f'label=<<FONT COLOR="{ink}">{label}</FONT>>];')


def overview_dot(g: Guideline, highlight: Highlight | None = None, ids: bool = False) -> str:
    """The phases as boxes listing their recommendations; drawn out, the decisions that choose a
    disposition (a management pathway) and every decision taken in priority order.

    Each drawn-out decision is one box: the decision, then one row per branch, top to bottom in
    branch order, with its condition and what it leads to: the recommendations of a step only
    such decisions lead to (the step is drawn in the row), else the step's title and an arrow
    from the row. No fans of branches side by side, so the chart stays narrow enough for a
    page or a README. A phase's title heads its box and each drawn-out decision entered from
    another phase; the blocks of each phase with drawn-out decisions are placed one under
    another (invisible arrows). A step without a phase (in a guideline with phases) is drawn
    on its own."""
    c = _Chart(g, highlight, ids)
    order = _order(g)
    disp = set(g.dispositions)
    into: dict[str, set[str]] = {}  # step -> the steps with an arrow to it
    for sid in order:
        for e in edges_of(g.steps[sid]):
            into.setdefault(e.target, set()).add(sid)
    tables = [s for s in order if g.steps[s].kind == "decision"
              and (g.steps[s].choice == "first" or any(disp & set(g.steps[e.target].recommend)
                                                       for e in edges_of(g.steps[s])))]
    folded = {e.target for s in tables for e in edges_of(g.steps[s])
              if g.steps[e.target].kind == "action" and into[e.target] <= set(tables)}
    alone = {s for s in order if g.phases and not g.steps[s].phase} - folded
    ends = {s for s in alone if g.steps[s].kind == "end"}  # an end without a phase: not drawn
    own = set(tables) | alone

    def box(sid: str) -> str:
        return node_id(sid) if sid in own else f"phase_{g.steps[sid].phase or 'steps'}"

    ports: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (table, port) -> (box, edge state) arrows
    seen: dict[tuple[str, str], list[Edge]] = {}  # other arrows between boxes, merged
    entered: set[str] = {box(g.start)}  # boxes entered from another phase (or first)
    for sid in order:
        for e in edges_of(g.steps[sid]):
            if e.target in ends:
                continue
            if g.steps[sid].phase != g.steps[e.target].phase and e.target not in folded:
                entered.add(box(e.target))
            if sid in folded:
                continue  # leaves its tables' rows (below)
            if sid in tables:
                port = (node_id(sid), f"b{e.index}" if e.kind == "branch" else "other")
                outs = [(f.key, f.target) for f in edges_of(g.steps[e.target]) if f.target not in ends] \
                    if e.target in folded else [(e.key, e.target)]
                ports.setdefault(port, []).extend((box(t), k) for k, t in outs)
            elif box(sid) != box(e.target):
                seen.setdefault((box(sid), box(e.target)), []).append(e)
    arrows: list[str] = []
    drawn: list[tuple[str, str]] = []
    for (a, b), edges in seen.items():
        state = c.h.best(f"edge:{e.key}" for e in edges) if c.h else "certain"
        attrs = c.edge_state(state) + [f"tooltip={quoted(', '.join(e.key for e in edges))}"]
        arrows.append(f"  {a} -> {b} [{', '.join(attrs)}];")
        drawn.append((a, b))
    for (table, row), targets in ports.items():
        merged: dict[str, list[str]] = {}
        for b, key in targets:
            merged.setdefault(b, []).append(key)
        for b, keys in merged.items():
            state = c.h.best(f"edge:{k}" for k in keys) if c.h else "certain"
            attrs = c.edge_state(state) + [f"tooltip={quoted(', '.join(keys))}"]
            arrows.append(f"  {table}:{row}:e -> {b} [{', '.join(attrs)}];")
            drawn.append((table, b))
    phases: dict[str, list[str]] = {}
    for sid in order:
        phases.setdefault(g.steps[sid].phase, []).append(sid)

    def sources(name: str) -> set[str]:
        return {a for a, b in drawn if b == name}

    def lines(table: str) -> int:  # about how many recommendations tall a table is (a row's condition: one)
        return 2 + sum(1 + (len(g.steps[e.target].recommend) if e.target in folded else 1)
                       for e in edges_of(g.steps[table]))

    out: list[str] = []
    blocks: list[set[str]] = []  # the boxes of each phase with drawn-out decisions
    block_phases: list[str] = []
    rows: set[str] = set()  # the phase boxes
    for phase, sids in phases.items():
        members = [s for s in sids if s in own and s not in ends]
        rest = [s for s in sids if s not in own and s not in folded]
        heading = html(_phase_title(g, phase)) if phase else ""
        out.extend("  " + (c.table(g.steps[s], folded, heading if node_id(s) in entered else "") if s in tables else
                           c.node(g.steps[s], brief=True, heading=heading if node_id(s) in entered else ""))
                   for s in members)
        if rest:
            name = f"phase_{phase or 'steps'}"
            recs = {r for s in rest for r in g.steps[s].recommend}
            # Two columns for a long list, unless a table entered from the same places (so drawn
            # beside it) is as tall: then one column costs no height, and is narrower.
            beside = [t for t in tables if sources(node_id(t)) == sources(name)]
            two = len(recs) > COLUMN and not any(lines(t) >= 1 + len(recs) for t in beside)
            out.append("  " + _phase_box(c, phase, rest, two))
            rows.add(f"phase_{phase or 'steps'}")
        if phase and any(s in tables for s in members):
            blocks.append({box(s) for s in sids if s not in folded})
            block_phases.append(phase)
    out.extend(arrows)
    # The phases after the last one with drawn-out decisions, as boxes entered from one place that
    # lead nowhere (parallel tracks, typically).
    later = list(g.phases)[max((list(g.phases).index(p) for p in block_phases), default=len(g.phases)) + 1:]
    tracks = [f"phase_{p}" for p in later if f"phase_{p}" in rows and f"phase_{p}" not in {a for a, _ in drawn}
              and len({a for a, b in drawn if b == f"phase_{p}"}) == 1]
    placed = _one_under_another(blocks, drawn) + _last(blocks, tracks, drawn)
    out.extend(f"  {a} -> {b} [style=invis];" for a, b in placed)
    out.extend(_in_order(drawn, {b for _, b in placed}))
    return c.frame(f"{g.id}-overview", '<FONT POINT-SIZE="16">Overview: the phases and the management pathways</FONT>', out,
                   spacing="nodesep=0.2, ranksep=0.15")


def _tops(block: set[str], arrows: list[tuple[str, str]]) -> list[str]:
    """The first boxes of a block: those no box of the block leads to."""
    return [b for b in sorted(block) if not any(t == b and a in block for a, t in arrows)]


def _one_under_another(blocks: list[set[str]], arrows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Invisible arrows from the first boxes of each block to the first boxes of the next: the
    next block starts one rank lower, beside the rest of this one."""
    return [(a, b) for upper, lower in pairwise(blocks) for a in _tops(upper, arrows) for b in _tops(lower, arrows)]


def _last(blocks: list[set[str]], boxes: list[str], arrows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Invisible arrows from the last boxes of the last block (those that lead nowhere) to
    ``boxes`` (the phases after it): the last phases are read last, at the bottom."""
    if not blocks:
        return []
    ends = [b for b in sorted(blocks[-1]) if not any(a == b for a, _ in arrows)]
    return [(a, b) for a in ends for b in boxes]


def _in_order(arrows: list[tuple[str, str]], placed: set[str]) -> list[str]:
    """Keep the boxes a box leads to left to right in the order of its arrows (the tracks of a
    fork, typically): those not ``placed`` under another box by an invisible arrow, and only
    when none leads to another, are put on one rank joined by invisible arrows."""
    succ: dict[str, list[str]] = {}
    for a, b in arrows:
        succ.setdefault(a, []).append(b)
    out: list[str] = []
    taken: set[str] = set()
    for bs in succ.values():
        row = [b for b in dict.fromkeys(bs) if b not in placed and b not in taken]
        if len(row) < 2 or any(reachable([b], succ) & (set(row) - {b}) for b in row):
            continue
        taken.update(row)
        out.append("  { rank=same; " + " ".join(f"{x} -> {y} [style=invis];" for x, y in pairwise(row)) + " }")
    return out


def _phase_box(c: _Chart, phase: str, sids: Sequence[str], two: bool) -> str:
    """A phase's box listing its recommendations, in two columns when ``two``."""
    g = c.g
    state = c.h.best(f"step:{s}" for s in sids) if c.h else "certain"
    faded = state == "excluded"
    recs = list(dict.fromkeys(r for s in sids for r in g.steps[s].recommend))
    ink = FADED if faded else INK
    rows = [f'<TR><TD COLSPAN="{5 if two else 2}" ALIGN="LEFT"><FONT POINT-SIZE="15" COLOR="{ink}">'
            f'<B>{_lines(_phase_title(g, phase), 26)}</B></FONT></TD></TR>']
    if not two:  # as wide as the title (15 pt bold) at least, so that the colour stripes are not stretched
        wide = max([24] + [len(line) * 5 // 4 for line in _wrap(_phase_title(g, phase), 26)])
        rows.extend(c.rec_row(g.recommendations[r], faded, wrap=wide, brief=True) for r in recs)
    else:  # two columns, read down the first then the second: a short box
        cells = [c.rec_cells(g.recommendations[r], faded, wrap=20, brief=True) for r in recs]
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
