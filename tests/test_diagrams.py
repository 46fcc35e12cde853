"""Flowcharts: drawn from the model, deterministic, escaped, highlighted for a patient."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from guideproof.cli import cli
from guideproof.diagrams import dot as charts
from guideproof.diagrams.dot import FADED, FADED_LINE, PATH, Highlight, node_id, overview_dot, phase_dot, to_dot
from guideproof.guideline import EXAMPLES, SHIPPED
from guideproof.model.evaluate import run
from guideproof.model.patient import load_patient_file
from guideproof.model.graph import all_edges
from conftest import FIXTURES, GOLDEN, MINI, UNUSABLE, assert_output_refused, check_golden, load_text, unusable_output

COMMITTED_DOT = SHIPPED.parent.parent / "diagrams" / "l1_l2_compression_fracture.dot"


def invoke(*args, **kw):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, **kw)


def test_shipped_dot_matches_committed_chart(shipped):
    # The committed chart is the golden: `make diagrams` regenerates it.
    assert to_dot(shipped) == COMMITTED_DOT.read_text()


def test_mini_dot_golden(mini):
    check_golden(GOLDEN / "mini.dot", to_dot(mini))


@pytest.mark.slow
def test_deterministic_across_processes():
    """Set and dict iteration order may change with the hash seed between processes; the
    chart must not (plain and with a patient's highlighting)."""
    code = ("import sys; from guideproof.model.loader import load_guideline; "
            "from guideproof.guideline import SHIPPED, EXAMPLES; "
            "from guideproof.model.patient import load_patient_file; "
            "from guideproof.model.evaluate import run; "
            "from guideproof.diagrams.dot import Highlight, to_dot; "
            "g = load_guideline(SHIPPED); t = run(g, load_patient_file(g, EXAMPLES / 'neurological_deficit.yaml').values); "
            "sys.stdout.write(to_dot(g) + to_dot(g, Highlight.of_trace(t, 'x')))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(outs) == 1


def test_every_step_edge_and_recommendation_is_drawn(shipped):
    dot = to_dot(shipped)
    for sid in shipped.steps:
        assert re.search(rf"^\s*{node_id(sid)} \[", dot, re.M), sid
    for e in all_edges(shipped):
        assert f"{node_id(e.source)} -> {node_id(e.target)} [" in dot and f'tooltip="{e.key}"' in dot, e.key
    for rid in shipped.recommendations:
        assert f'HREF="#{rid}"' in dot and rid in dot, rid
    for cat in shipped.categories.values():
        assert cat.title in dot  # the legend names every category


def test_no_machine_paths(shipped):
    assert "/work/" not in to_dot(shipped) and "/root" not in to_dot(shipped)


HOSTILE = 'He said "hi" & <b>bold</b> {braces} back\\slash \\N \\G }; evil [label="x"]; {'


def _hostile_guideline():
    text = (FIXTURES / "mini.yaml").read_text()
    text = text.replace("title: Mini", "title: " + _yaml_str(HOSTILE))
    text = text.replace("text: Treat it.", "text: " + _yaml_str(HOSTILE + "\nline two"))
    text = text.replace("{short: Rest,", "{short: " + _yaml_str("Rest <i>&</i> \"x\"") + ",")
    text = text.replace("title: Check", "title: " + _yaml_str("Check \\ </TD> ]]> -->"))
    text = text.replace("{when: sick and old, goto: do_treat}",
                        "{when: sick and old, label: " + _yaml_str("sick & \"old\" > 65 <script>") + ", goto: do_treat}")
    return load_text(text)


def _yaml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def test_hostile_labels_are_escaped():
    g = _hostile_guideline()
    dot = to_dot(g)
    assert "<script>" not in dot and "<b>bold</b>" not in dot
    assert "&lt;script&gt;" in dot and "&amp;" in dot
    assert not re.search(r"^\s*evil \[", dot, re.M)  # no injected node statement
    # Graphviz parses it and produces well-formed SVG with the same nodes and edges.
    svg = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, check=True).stdout
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    titles = [t.text for t in root.iterfind(".//s:g[@class='node']/s:title", ns)]
    assert sorted(titles) == sorted(node_id(s) for s in g.steps)
    edges = root.findall(".//s:g[@class='edge']", ns)
    assert len(edges) == len(all_edges(g))
    assert not root.findall(".//s:script", ns)
    text = " ".join("".join(root.itertext()).replace("\xa0", " ").split())
    assert 'sick & "old" > 65 <script>' in text
    # The title survives exactly: no \N or \G substitution, no markup.
    assert " ".join(HOSTILE.split()) in text


def _highlight(g, example):
    p = load_patient_file(g, EXAMPLES / example).values
    t = run(g, p)
    return t, to_dot(g, Highlight.of_trace(t, title="x"))


def _node_line(dot, sid):
    return next(l for l in dot.splitlines() if re.match(rf"\s*{node_id(sid)} \[", l))


@pytest.mark.parametrize("example", ["neurological_deficit.yaml", "failed_conservative_3_months.yaml"])
def test_highlight_follows_the_patient(shipped, example):
    trace, dot = _highlight(shipped, example)
    for sid in shipped.steps:
        line = _node_line(dot, sid)
        if sid in trace.reached:
            assert f'color="{PATH}"' in line and "penwidth=3.0" in line, sid
        else:
            assert f'color="{FADED_LINE}"' in line, sid
    for e in all_edges(shipped):
        line = next(l for l in dot.splitlines() if f'tooltip="{e.key}"' in l)
        assert (f'color="{PATH}"' in line) == (e.key in trace.fired_keys()), e.key
    applied = set(re.findall(r'HREF="#(\w+)"[^>]*><FONT COLOR="[^"]+">(?:<B>)?&#9658;', dot))
    assert applied == trace.applies


def test_two_pathways_differ(shipped):
    a = _highlight(shipped, "neurological_deficit.yaml")[1]
    b = _highlight(shipped, "failed_conservative_3_months.yaml")[1]
    assert f'color="{PATH}"' in _node_line(a, "surgical_referral")
    assert f'color="{FADED_LINE}"' in _node_line(b, "surgical_referral")
    assert f'color="{PATH}"' in _node_line(b, "late_augmentation")


def test_render_real_svg(tmp_path):
    out = tmp_path / "chart.svg"
    r = invoke("flowchart", "-o", str(out))
    assert r.exit_code == 0, r.output
    root = ET.fromstring(out.read_bytes())
    assert root.tag.endswith("svg")
    assert "Adults with lumbar L1-L2 compression fractures" in "".join(root.itertext())


def test_flowchart_with_patient_cli(tmp_path):
    out = tmp_path / "path.dot"
    r = invoke("flowchart", "-p", str(EXAMPLES / "neurological_deficit.yaml"), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "Path of neurological_deficit.yaml" in out.read_text()


def test_dot_output_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    r = invoke("flowchart", "-o", str(tmp_path / "c.dot"))
    assert r.exit_code == 0 and (tmp_path / "c.dot").read_text().startswith("// Generated by guideproof")
    r = invoke("flowchart", "-o", str(tmp_path / "c.svg"))
    assert r.exit_code == 2
    assert "error[graphviz-missing]" in r.output and "'graphviz'" in r.output
    assert not (tmp_path / "c.svg").exists()


def test_bad_extension(tmp_path):
    r = invoke("flowchart", "-o", str(tmp_path / "chart.gif"))
    assert r.exit_code == 2 and "error[bad-output]" in r.output


def test_failed_render_leaves_existing_file_intact(tmp_path, monkeypatch):
    out = tmp_path / "c.svg"
    out.write_text("previous chart")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert invoke("flowchart", "-o", str(out)).exit_code == 2
    assert out.read_text() == "previous chart"


def test_highlight_keys_are_namespaced():
    """A step that shares its id with a recommendation is highlighted by its own state:
    the recommendation applying does not make the step look reached."""
    text = MINI.read_text().replace("  do_treat: {kind: action, title: Treat, recommend: [treat]}",
                                    "  treat: {kind: action, title: Treat, recommend: [treat]}") \
        .replace("goto: do_treat}", "goto: treat}")
    g = load_text(text)
    patient = {"age": 70, "sick": True, "stage": "early", "levels": frozenset({"L1"})}
    h = Highlight({"rec:treat"}, title="x")  # the recommendation applies; the step is not marked
    dot = to_dot(g, h)
    assert f'color="{FADED_LINE}"' in _node_line(dot, "treat")
    assert h.state("step:treat") == "excluded" and h.state("rec:treat") == "certain"
    full = Highlight.of_trace(run(g, patient), title="x")
    assert {"step:treat", "rec:treat", "edge:check#1"} <= full.certain


# -- readability: colours, contrast, order, emphasis, page fit ------------------------------


def _linear(c):
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(hexcolor):
    return [_linear(int(hexcolor[i:i + 2], 16) / 255) for i in (1, 3, 5)]


def lab(hexcolor):
    """sRGB (D65) to CIE L*a*b*."""
    r, g, b = _rgb(hexcolor)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    f = [t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def delta_e(a, b):
    return sum((p - q) ** 2 for p, q in zip(lab(a), lab(b), strict=True)) ** 0.5


def contrast(ink, background):
    """WCAG 2 contrast ratio."""
    def lum(c):
        r, g, b = _rgb(c)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    hi, lo = sorted((lum(ink), lum(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_colour_formulas():
    # Reference values: white L*=100, black L*=0; black on white is 21:1; the old pair #cfe8f3 /
    # #d4e5f7 was 4.7 apart.
    assert lab("#ffffff")[0] == pytest.approx(100, abs=0.01) and lab("#000000")[0] == pytest.approx(0, abs=0.01)
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert delta_e("#cfe8f3", "#d4e5f7") == pytest.approx(4.7, abs=0.1)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["l1_l2_compression_fracture.yaml", "af_anticoagulation.yaml"])
def test_category_colours_are_far_apart(name):
    from guideproof.model.loader import load_guideline

    colours = list(charts.category_colors(load_guideline(SHIPPED.parent / name)).values())
    assert len(set(colours)) == len(colours)
    for i, a in enumerate(colours):
        for b in colours[i + 1:]:
            assert delta_e(a, b) >= 20, (a, b, delta_e(a, b))


def test_text_contrast():
    pairs = [(charts.INK, charts.BACKGROUND), (charts.FADED, charts.BACKGROUND), (charts.INK, charts.DECISION_FILL),
             (charts.AVOID_INK, charts.AVOID_FILL), (charts.SAFETY_INK, charts.BACKGROUND),
             (charts.SAFETY_INK, charts.AVOID_FILL),
             (charts.UNDECIDED, charts.BACKGROUND), (charts.PATH, charts.BACKGROUND), ("#333333", "#f2f2f2")]
    for ink, bg in pairs:
        assert contrast(ink, bg) >= 4.5, (ink, bg, contrast(ink, bg))


def test_faded_parts_use_only_the_readable_grey(shipped):
    """Every text colour inside a not-reached node is the faded grey, on white."""
    trace, dot = _highlight(shipped, "neurological_deficit.yaml")
    for sid in set(shipped.steps) - trace.reached:
        line = _node_line(dot, sid)
        inks = set(re.findall(r'<FONT COLOR="(#\w+)"', line))
        assert inks <= {FADED}, (sid, inks)
        assert re.search(r'fillcolor="#ffffff"', line), sid
        assert not (set(re.findall(r'<TD[^>]*ALIGN="LEFT"[^>]*BGCOLOR="(#\w+)"', line)) - {"#ffffff"}), sid


def _plain_x(dot_text):
    out = subprocess.run(["dot", "-Tplain"], input=dot_text, capture_output=True, text=True, check=True).stdout
    return {f[1]: float(f[2]) for f in (l.split() for l in out.splitlines()) if f and f[0] == "node"}


def _first_decisions(g):
    return [s for s in g.steps.values() if s.kind == "decision" and s.choice == "first"]


def _shipped_guidelines():
    from guideproof.model.loader import load_guideline

    return {name: load_guideline(SHIPPED.parent / f"{name}.yaml") for name in SHIPPED_NAMES}


SHIPPED_NAMES = ("l1_l2_compression_fracture", "af_anticoagulation")


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_ordered_branches_are_drawn_left_to_right(name):
    """In the whole chart and in the phase charts, the targets of an ordered decision are drawn
    left to right in branch order (1, 2, ..., otherwise), as Graphviz lays them out; in a phase
    chart that draws the decision as one box with a row per branch (its fan shares a crowded
    rank), the rows' numbers read top to bottom instead."""
    g = _shipped_guidelines()[name]
    decisions = _first_decisions(g)
    assert decisions  # both shipped guidelines have ordered decisions
    tables = 0
    for s in decisions:
        targets = [e.target for e in all_edges(g) if e.source == s.id]
        charts_ = {"whole": to_dot(g)} | ({"phase": phase_dot(g, s.phase)} if s.phase else {})
        for kind, dot in charts_.items():
            x = _plain_x(dot)  # a target in another phase is a "continues in" (or "via") box in a phase chart
            xs = [x.get(node_id(t), x.get(f"to_{t}", x.get(f"via_{t}"))) for t in targets]
            if kind == "phase" and all(v is None for v in xs) and 'PORT="b0"' in _node_line(dot, s.id):
                assert _row_numbers(_svg(dot), s.id) == list(range(1, len(s.branches) + 2)), s.id
                tables += 1
                continue
            assert None not in xs and xs == sorted(xs), (kind, s.id, xs)
    assert tables == (name == "af_anticoagulation")  # the edoxaban dose, beside two other dose decisions


def _svg(dot_text):
    return ET.fromstring(subprocess.run(["dot", "-Tsvg"], input=dot_text.encode(), capture_output=True,
                                        check=True).stdout)


SVG = "{http://www.w3.org/2000/svg}"


def _row_numbers(root, step_id):
    """The numbers ("1. ", "2. ", ...) that start texts of a step's node, read top to bottom."""
    nodes = {n.findtext(f"{SVG}title"): n for n in root.iter(f"{SVG}g") if n.get("class") == "node"}
    numbered = [(float(t.get("y")), int(m.group(1))) for t in nodes[node_id(step_id)].iter(f"{SVG}text")
                if (m := re.match(r"(\d+)\. ", t.text or ""))]
    return [n for _, n in sorted(numbered)]


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_overview_draws_ordered_branches_as_rows_in_order(name):
    """In the overview an ordered decision is one box with a row per branch: in the rendered SVG
    the rows' numbers 1, 2, ..., otherwise read top to bottom, each once."""
    g = _shipped_guidelines()[name]
    root = _svg(overview_dot(g))
    for s in _first_decisions(g):
        assert _row_numbers(root, s.id) == list(range(1, len(s.branches) + 2)), s.id


PT = 72  # points per inch
A3_LANDSCAPE = (1134, 785)  # points: 420 x 297 mm less 10 mm margins
A4_LANDSCAPE = (785, 539)  # points: 297 x 210 mm less 10 mm margins
README_PX = 1000  # about the width of a README on GitHub, in CSS pixels (0.75 pt each)
OVERVIEW_WIDTH = 1100  # points: the overview of each shipped guideline is at most this wide


def _size(dot_text):
    out = subprocess.run(["dot", "-Tplain"], input=dot_text, capture_output=True, text=True, check=True).stdout
    return tuple(float(v) * PT for v in out.split()[2:4])


def _smallest(dot_text):
    return min(float(v) for v in re.findall(r'(?:fontsize=|POINT-SIZE=")([\d.]+)', dot_text))


def _fitted_smallest_text(dot_text, page=A3_LANDSCAPE):
    """The smallest text of the chart, in points, once scaled down (never up) to fit ``page``."""
    width, height = _size(dot_text)
    return _smallest(dot_text) * min(1.0, page[0] / width, page[1] / height)


def _readme_text(dot_text, px=README_PX):
    """The smallest text, in points, of the chart shown at ``px`` CSS pixels wide (1 px = 0.75 pt)."""
    return _smallest(dot_text) * min(1.0, px * 0.75 / _size(dot_text)[0])


def _svg_fitted_text(root, page=A3_LANDSCAPE):
    """From a rendered SVG: its size (its width and height, in points), and its smallest text
    (in points) once the chart is scaled down (never up) to fit ``page``."""
    width, height = (float(root.get(k).removesuffix("pt")) for k in ("width", "height"))
    smallest = min(float(t.get("font-size")) for t in root.iter(f"{SVG}text"))
    return (width, height), smallest * min(1.0, page[0] / width, page[1] / height)


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_every_phase_chart_fits_a3_with_8pt_text(name):
    """Every phase chart of each shipped guideline, as rendered to SVG, fits a landscape A3
    page with all text at 8 pt or more (the smallest text is 12 pt: a chart may be about 1.5
    times the page in each direction)."""
    g = _shipped_guidelines()[name]
    fitted = {p: _svg_fitted_text(_svg(phase_dot(g, p))) for p in g.phases}
    assert fitted and all(text >= 8 for _, text in fitted.values()), fitted


@pytest.mark.slow
def test_shipped_overview_and_phase_charts_fit_a3_with_8pt_text(shipped):
    """Says so: the shipped guideline. Fitted to a landscape A3 page, no text is below 8 pt."""
    for dot in [overview_dot(shipped)] + [phase_dot(shipped, p) for p in shipped.phases]:
        assert _fitted_smallest_text(dot) >= 8


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_overviews_fit_a3_and_a_readme(name):
    """Each shipped guideline's overview fits a landscape A3 page with all text at 8 pt or more,
    and is at most OVERVIEW_WIDTH points wide, so that shown at a README's width no text is
    below 8 pt (a test that fails when the overview grows wider)."""
    dot = overview_dot(_shipped_guidelines()[name])
    assert _fitted_smallest_text(dot) >= 8
    assert _size(dot)[0] <= OVERVIEW_WIDTH
    assert _readme_text(dot) >= 8


@pytest.mark.slow
def test_fit_check_can_fail(shipped):
    assert _fitted_smallest_text(to_dot(shipped)) < 8  # the whole chart is for zooming, not for paper
    assert _svg_fitted_text(_svg(to_dot(shipped)))[1] < 8
    assert _readme_text(to_dot(shipped)) < 8 and _size(to_dot(shipped))[0] > OVERVIEW_WIDTH


@pytest.mark.slow
def test_machine_ids_only_with_ids(shipped, tmp_path):
    rid = "mri_whole_spine_with_and_without_contrast"
    for ids in (False, True):
        svg = subprocess.run(["dot", "-Tsvg"], input=to_dot(shipped, ids=ids).encode(), capture_output=True,
                             check=True).stdout
        text = " ".join(t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text"))
        assert (rid in text) == ids and ("initial_assessment" in text) == ids
    r = invoke("flowchart", "--ids", "--phase", "imaging", "-o", str(tmp_path / "c.dot"))
    assert r.exit_code == 0 and f"· {rid}</FONT>" in (tmp_path / "c.dot").read_text()


def test_emphasis_follows_urgency_and_strength(shipped):
    """Says so: the shipped guideline's immediate surgical referral is large and bold; its
    'consider' recommendations are regular weight with their strength named."""
    dot = phase_dot(shipped, "disposition")
    urgent = _node_line(dot, "surgical_referral")
    assert '<FONT POINT-SIZE="17"><B>' in urgent and "penwidth=3.0" in urgent
    weak = _node_line(dot, "early_augmentation")
    assert "<B>Consider augmentation" not in weak and "<I>Consider</I>" in weak
    assert charts.is_urgent(shipped, shipped.recommendations["urgent_surgical_referral"])
    assert not any(charts.is_urgent(shipped, r) for r in shipped.recommendations.values()
                   if r.id != "urgent_surgical_referral")


def test_safety_additions_have_a_mark_and_a_legend_entry():
    text = MINI.read_text().replace("rest: {short: Rest, text: Rest., category: care, strength: strong, sources: [1], section: S}",
                                    "rest: {short: Rest, text: Rest., category: care, strength: strong, sources: [1], "
                                    "section: S, origin: safety}")
    g = load_text(text)
    assert g.recommendations["rest"].origin == "safety"
    dot = to_dot(g)
    mark = f'<FONT COLOR="{charts.SAFETY_INK}"><B>SAFETY</B></FONT>'
    assert f"Rest {mark}</B>" in _node_line(dot, "do_rest")  # after the item's text, not a row of its own
    assert "SAFETY" not in _node_line(dot, "do_treat")
    assert f"{mark} after an item: a safety addition, beyond the source guideline" in dot  # the legend
    assert "SAFETY" not in to_dot(load_text(MINI.read_text()))


def test_phase_chart_shows_one_phase_with_its_neighbours(shipped):
    dot = phase_dot(shipped, "imaging")
    drawn = set(re.findall(r"^\s*step_(\w+) \[", dot, re.M))
    assert drawn == {s for s, step in shipped.steps.items() if step.phase == "imaging"}
    assert re.search(r"^\s*from_assessment \[.*from <B>Immediate assessment</B>", dot, re.M)


@pytest.mark.slow
def test_crowded_phase_chart_draws_a_step_between_and_decisions_as_rows():
    """The anticoagulant dose phase: the fork that starts the dose tracks belongs to no phase;
    entered from this phase and leading back into it, it is one "via" box, with the tracks
    below it. The dose decisions, whose fans would share one crowded rank, are boxes with a row
    per branch, every recommendation still drawn, and the rows' arrows merged (all lead to the
    end)."""
    g = _shipped_guidelines()["af_anticoagulation"]
    dot = phase_dot(g, "dosing")
    assert re.search(r'^\s*via_doac_doses \[.*via <B>Steps</B>:<BR/>Dose of each DOAC by label', dot, re.M)
    assert "step_renal_check -> via_doac_doses [" in dot and "via_doac_doses -> step_apixaban_dose [" in dot
    assert "from_steps -> step_apixaban_dose" not in dot and "to_doac_doses" not in dot
    for sid in ("apixaban_dose", "rivaroxaban_dose", "edoxaban_dose"):
        assert 'PORT="b0"' in _node_line(dot, sid) and f"{node_id(sid)} -> to_done [" in dot, sid
    drawn = set(re.findall(r"^\s*step_(\w+) \[", dot, re.M))
    assert "apixaban_low" not in drawn and {"renal_check", "no_encoded_dose", "lab_monitoring"} <= drawn
    recs = {r for step in g.steps.values() if step.phase == "dosing" for r in step.recommend}
    assert all(f'HREF="#{r}"' in dot for r in recs)


def test_overview_names_every_phase_and_disposition(shipped):
    dot = overview_dot(shipped)
    for phase in shipped.phases.values():
        assert f"<B>{phase.title}</B>" in dot, phase.id
    for rid in shipped.dispositions:
        assert f'HREF="#{rid}"' in dot, rid


def test_mini_without_phases_has_an_overview(mini, tmp_path):
    assert "phase_steps [" in overview_dot(mini)
    r = invoke("flowchart", "-g", str(MINI), "--phase", "x", "-o", str(tmp_path / "c.dot"))
    assert r.exit_code == 2 and "error[unknown-phase]" in r.output and "declares no phases" in r.output
    r = invoke("flowchart", "--overview", "--phase", "imaging", "-o", str(tmp_path / "c.dot"))
    assert r.exit_code == 2 and not (tmp_path / "c.dot").exists()


@pytest.mark.slow
def test_title_names_every_set_override(tmp_path):
    out = tmp_path / "c.dot"
    r = invoke("flowchart", "--overview", "-p", str(EXAMPLES / "neurological_deficit.yaml"), "--set", "age=70",
               "--set", "symptoms_changed=false", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "Path of neurological_deficit.yaml with age=70, symptoms_changed=false" in out.read_text()
    r = invoke("flowchart", "--phase", "imaging", "--set", "age=70", "-o", str(out))
    assert r.exit_code in (0, 3), r.output
    assert "the patient given by --set: age=70" in out.read_text()


def test_committed_overview_and_phase_charts_match(shipped):
    folder = COMMITTED_DOT.parent
    assert (folder / "l1_l2_compression_fracture-overview.dot").read_text() == overview_dot(shipped)
    for p in shipped.phases:
        assert (folder / f"l1_l2_compression_fracture-phase-{p}.dot").read_text() == phase_dot(shipped, p), p


# -- written files ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("where", UNUSABLE)
def test_unusable_chart_paths_name_the_path(tmp_path, monkeypatch, where):
    out = unusable_output(tmp_path, monkeypatch, where, "c.svg")
    r = invoke("flowchart", "--overview", "-o", str(out))
    assert_output_refused(r.output, r.exit_code, tmp_path, out, where)


def test_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def refuse(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    out = tmp_path / "c.dot"
    r = invoke("flowchart", "--phase", "imaging", "-o", str(out))
    assert r.exit_code == 2 and f"cannot write '{out}': Permission denied" in r.output, r.output
    assert ".tmp" not in r.output and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["dot", "svg"])
def test_charts_get_the_umask_mode(tmp_path, fmt):
    import stat

    old = os.umask(0o022)
    try:
        out = tmp_path / f"c.{fmt}"
        assert invoke("flowchart", "--overview", "-o", str(out)).exit_code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
    finally:
        os.umask(old)
    assert [f.name for f in tmp_path.iterdir()] == [f"c.{fmt}"]
