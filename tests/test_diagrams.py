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
from guideproof.diagrams.dot import FADED, PATH, Highlight, node_id, to_dot
from guideproof.guideline import EXAMPLES, SHIPPED
from guideproof.model.evaluate import run
from guideproof.model.patient import load_patient_file
from guideproof.model.graph import all_edges
from conftest import FIXTURES, GOLDEN, MINI, check_golden, load_text

COMMITTED_DOT = SHIPPED.parent.parent / "diagrams" / "l1_l2_compression_fracture.dot"


def invoke(*args, **kw):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, **kw)


def test_shipped_dot_matches_committed_chart(shipped):
    # The committed chart is the golden: `make diagrams` regenerates it.
    assert to_dot(shipped) == COMMITTED_DOT.read_text()


def test_mini_dot_golden(mini):
    check_golden(GOLDEN / "mini.dot", to_dot(mini))


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
    assert sorted(titles) == sorted([node_id(s) for s in g.steps] + ["legend"])
    edges = root.findall(".//s:g[@class='edge']", ns)
    assert len(edges) == len(all_edges(g))  # the invisible legend anchor is not drawn
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
            assert f'color="{PATH}"' in line and "penwidth=2.6" in line, sid
        else:
            assert f'color="{FADED}"' in line, sid
    for e in all_edges(shipped):
        line = next(l for l in dot.splitlines() if f'tooltip="{e.key}"' in l)
        assert (f'color="{PATH}"' in line) == (e.key in trace.fired_keys()), e.key
    applied = set(re.findall(r'HREF="#(\w+)"[^>]*><FONT COLOR="[^"]+">(?:<B>)?&#9658;', dot))
    assert applied == trace.applies


def test_two_pathways_differ(shipped):
    a = _highlight(shipped, "neurological_deficit.yaml")[1]
    b = _highlight(shipped, "failed_conservative_3_months.yaml")[1]
    assert f'color="{PATH}"' in _node_line(a, "surgical_referral")
    assert f'color="{FADED}"' in _node_line(b, "surgical_referral")
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
    assert f'color="{FADED}"' in _node_line(dot, "treat")
    assert h.state("step:treat") == "excluded" and h.state("rec:treat") == "certain"
    full = Highlight.of_trace(run(g, patient), title="x")
    assert {"step:treat", "rec:treat", "edge:check#1"} <= full.certain
