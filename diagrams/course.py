"""The chart of a course of care (``flowchart --history``): one box per visit, top to
bottom in time, each saying which path the visit took and what it changed.

A box shows the visit's week and the time since the visit before; the facts that changed
(and how: stated at the visit, advanced by time, recorded by what was done); the decisions
whose branch the visit took, in the guideline's order (at the first visit every decision
reached, later only those whose branch changed, with the branch before and now); and the
recommendations that start, stop (with why) and continue, each behind its category's
colour stripe. The arrows between boxes carry the weeks between the visits.
"""
from __future__ import annotations

from collections.abc import Sequence

from ..model.course import VisitAnswer
from ..model.guideline import Guideline
from ..model.patient import format_value
from .dot import (AVOID_FILL, AVOID_INK, BACKGROUND, DECISION_FILL, FADED, FONT, INK, PATH, SMALL, _wrap,
                  category_colors, html, quoted)

WIDE = 52  # characters per line of text in a visit's box
PER_ROW = 3  # visits side by side


def _text(text: str, width: int = WIDE) -> str:
    return '<BR ALIGN="LEFT"/>'.join(html(x) for x in _wrap(text, width)) + '<BR ALIGN="LEFT"/>'


def _weeks(n: int) -> str:
    return f"{n} week{'s' if n != 1 else ''}"


def _taken(g: Guideline, v: VisitAnswer) -> dict[str, str]:
    """Each decision step the visit reached -> the branches it took, in the author's words."""
    out: dict[str, list[str]] = {}
    for e in v.answer.trace.fired:
        step = g.steps[e.source]
        if step.kind != "decision":
            continue
        out.setdefault(step.id, []).append(e.branch.label if e.branch is not None else step.otherwise_label)
    order = g.position
    return {s: "; ".join(labels) for s, labels in sorted(out.items(), key=lambda x: order.get(x[0], 0))}


def _rec_row(g: Guideline, colors: dict[str, str], rid: str, mark: str, why: str = "", faded: bool = False) -> str:
    r = g.recommendations[rid]
    ink = FADED if faded else AVOID_INK if r.kind == "avoid" else INK
    fill = f' BGCOLOR="{AVOID_FILL}"' if r.kind == "avoid" and not faded else ""
    text = ("AVOID: " if r.kind == "avoid" else "") + r.short + (f" ({why})" if why else "")
    body = _text(f"{mark} {text}")
    if not faded:
        body = f"<B>{body}</B>" if mark == "+" else body
    return (f'<TR><TD WIDTH="6" BGCOLOR="{colors[r.category]}"></TD>'
            f'<TD ALIGN="LEFT" BALIGN="LEFT"{fill}><FONT COLOR="{ink}">{body}</FONT></TD></TR>')


def course_dot(g: Guideline, course: Sequence[VisitAnswer], title: str = "") -> str:
    """DOT for a course: one box per visit, in order, joined by the time between them."""
    colors = category_colors(g)
    lines = ["digraph course {", f"  graph [rankdir=TB, nodesep=0.3, ranksep=0.35, {FONT}, fontsize={SMALL + 4}, "
             f'bgcolor="{BACKGROUND}", labelloc=t, labeljust=l, '
             f"label=<<B>{html(g.title)}</B><BR/>{html(title or 'A course of care')}: "
             f"{len(course)} visit{'s' if len(course) != 1 else ''}<BR/> >];",
             f"  node [{FONT}, fontsize={SMALL}, shape=plain];",
             f'  edge [{FONT}, fontsize={SMALL}, color="{INK}"];']
    # rows of PER_ROW visits, read left to right and then down, so a long course stays on a page
    for start in range(0, len(course), PER_ROW):
        lines.append("  { rank=same; " + " ".join(f"visit{i};" for i in range(start, min(start + PER_ROW, len(course))))
                     + " }")
    before: dict[str, str] = {}
    for i, v in enumerate(course):
        taken = _taken(g, v)
        rows = []
        gap = f" (+{_weeks(v.week - course[i - 1].week)})" if i else " (first visit)"
        rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT"><FONT POINT-SIZE="{SMALL + 4}"><B>Week {v.week}{html(gap)}'
                    f'</B></FONT></TD></TR>')
        if i and v.changes:
            words = "; ".join(f"{n} {format_value(a)} -> {format_value(b)}" + ("" if how == "stated" else f" ({how})")
                              for n, a, b, how in v.changes)
            rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT" BALIGN="LEFT">{_text("Changed: " + words)}</TD></TR>')
        path = [(s, label) for s, label in taken.items() if not i or before.get(s) != label]
        if path:
            rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT" BGCOLOR="{DECISION_FILL}"><I>'
                        f'{"Path" if not i else "Path changed"}</I></TD></TR>')
            for s, label in path:
                was = before.get(s)
                how = f"{was} -> {label}" if i and was else label if not i else f"(not reached) -> {label}"
                rows.append(f'<TR><TD></TD><TD ALIGN="LEFT" BALIGN="LEFT"><FONT COLOR="{PATH}">'
                            f'{_text(f"{g.steps[s].title}: {how}")}</FONT></TD></TR>')
        left = [(s, before[s]) for s in before if s not in taken]
        for s, was in left:
            rows.append(f'<TR><TD></TD><TD ALIGN="LEFT" BALIGN="LEFT"><FONT COLOR="{FADED}">'
                        f'{_text(f"{g.steps[s].title}: no longer reached (was {was})")}</FONT></TD></TR>')
        rows.extend(_rec_row(g, colors, r, "+") for r in v.starts)
        rows.extend(_rec_row(g, colors, r, "-", f"stops: {why}", faded=True) for r, why in v.stops)
        if v.continues:  # listed in the tooltip and by query --history; the box shows what changes
            rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT" BALIGN="LEFT"><FONT COLOR="{FADED}">'
                        f'{_text(f"= {len(v.continues)} continue unchanged")}</FONT></TD></TR>')
        label = f'<TABLE BORDER="1" COLOR="{PATH}" CELLBORDER="0" CELLSPACING="1" CELLPADDING="3" STYLE="ROUNDED">{"".join(rows)}</TABLE>'
        tip = f"week {v.week}" + ("; continues: " + "; ".join(g.recommendations[r].short for r in v.continues)
                                  if v.continues else "")
        lines.append(f"  visit{i} [label=<{label}>, tooltip={quoted(tip)}];")
        if i:
            gap_words = _weeks(v.week - course[i - 1].week)
            if i % PER_ROW == 0:  # a new row starts under the first box of the row above
                lines.append(f"  visit{i - PER_ROW} -> visit{i} [style=invis];")
            lines.append(f'  visit{i - 1} -> visit{i} [label=<{html("+" + gap_words)}>, color="{PATH}", penwidth=2'
                         + (", constraint=false" if i % PER_ROW == 0 else "") + "];")
        before = taken
    lines.append("}")
    return "\n".join(lines) + "\n"
