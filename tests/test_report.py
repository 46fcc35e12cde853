"""The review report (`guideproof report`): self-contained, deterministic, built from the
model and verify's findings; the file handling of every other output. Its behaviour in a
browser is tested in test_report_browser.py."""
from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from guideproof.cli import cli
from guideproof.report import build_report, cited_decisions, read_traceability
from guideproof.guideline import EXAMPLES, SHIPPED
from guideproof.model.errors import InputError
from guideproof.verify.checks import verify
from guideproof.verify.render import finding_lines
from conftest import FIXTURES, UNUSABLE, assert_output_refused, unusable_output

#: every test here renders a review report (the module's first takes about 12 s): the slow tier
pytestmark = pytest.mark.slow

ROOT = SHIPPED.parent.parent
TRACE = ROOT / "docs" / "traceability.md"
COMMITTED = ROOT / "diagrams" / "l1_l2_compression_fracture-review.html"


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def findings(shipped):
    return verify(shipped)


@pytest.fixture(scope="module")
def page(shipped, findings):
    return build_report(shipped, findings, trace=read_traceability(TRACE))


class _Refs(HTMLParser):
    """Every attribute that makes a browser fetch or follow something, and the tags."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "formaction", "poster", "data", "srcset", "background"):
                self.refs.append((tag, name, value or ""))


def _article(page: str, ref: str) -> str:
    m = re.search(rf'<article id="{re.escape(ref)}".*?</article>', page, re.S)
    assert m, ref
    return m.group(0)


# -- self-contained --------------------------------------------------------------------------


def test_report_fetches_nothing(page):
    parser = _Refs()
    parser.feed(page)
    assert parser.refs, "the parser found no links at all"
    external = [r for r in parser.refs if not r[2].startswith("#")]
    assert external == [], external[:5]
    tags = {t for t, _ in parser.tags}
    assert "link" not in tags and "iframe" not in tags and "img" not in tags and "object" not in tags
    scripts = [a for t, a in parser.tags if t == "script"]
    assert len(scripts) == 1 and "src" not in scripts[0]
    # No fetch from CSS or script either: no url(...) but fragment ones, no @import, no fetch/XHR.
    assert not re.search(r"url\(\s*['\"]?(?!#)", page)
    assert "@import" not in page and "fetch(" not in page and "XMLHttpRequest" not in page
    # The only URLs left are XML namespace names, which are never fetched.
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


def test_committed_report_regenerates_byte_identically(tmp_path):
    """`make diagrams` writes it and `make diagrams-check` compares it; here in a process with
    another hash seed, so set and dict order cannot leak into it."""
    out = tmp_path / "review.html"
    subprocess.run([sys.executable, "-m", "guideproof", "report", "--guideline", "guideline/l1_l2_compression_fracture.yaml",
                    "--traceability", "docs/traceability.md", "-o", str(out)],
                   cwd=ROOT, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "7"})
    assert out.read_bytes() == COMMITTED.read_bytes(), "the committed review report is stale: run 'make diagrams'"


def test_no_dates_timings_or_machine_paths():
    page = COMMITTED.read_text()  # written as the README says: from the repository, relative paths
    assert "<code>guideline/l1_l2_compression_fracture.yaml</code>" in page and "(docs/traceability.md)" in page
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", page.replace("2026-06-01", ""))  # no generation date
    assert " ms" not in page and "seconds" not in page.lower()
    for leak in (str(ROOT), os.path.expanduser("~"), "/tmp/"):
        assert leak not in page


# -- content ---------------------------------------------------------------------------------


def test_identity_and_verification_summary(shipped, findings, page):
    assert f"<title>Review: {shipped.title} (version {shipped.version})</title>" in page
    assert f"<code>{shipped.id}</code>, version {shipped.version}" in page
    n = len(findings)
    assert f"PROVED: all {n} obligations hold" in page and f"Every obligation ({n})" in page
    for i, f in enumerate(findings):  # every obligation is listed, with its anchor
        assert f'id=finding-{i}>' in page or f'id="finding-{i}"' in page, f.subject
    # every drug and procedure has had its safety review: no warning to show (a warning's
    # article is tested on a fixture below)
    assert not [f for f in findings if f.verdict.value == "warning"]


def test_a_warning_is_shown_in_full(tmp_path):
    """A GP010 warning (a procedure with no safety review) is printed in the page as verify prints it."""
    from html import escape

    from guideproof.model.loader import load_guideline

    overlay = FIXTURES / "overlay"
    for f in overlay.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    base = tmp_path / "base.yaml"
    text = base.read_text().replace("  rest: {short: Rest,", "  rest: {treatment: procedure, short: Rest,", 1)
    assert "treatment: procedure" in text
    base.write_text(text)
    g = load_guideline(base)
    found = verify(g)
    page = build_report(g, found)
    warnings = [(i, f) for i, f in enumerate(found) if f.verdict.value == "warning"]
    assert [f.subject for _, f in warnings] == ["safety review rest"]
    for i, f in warnings:  # in full, as verify prints it
        assert escape("\n".join(finding_lines(g, f))) in _article(page, f"finding-{i}")


def test_every_step_and_recommendation_has_a_box_and_an_article(shipped, page):
    whole = page[page.index('id="chart-whole"'):]
    whole = whole[:whole.index("</svg>")]
    for sid in shipped.steps:
        assert f'data-ref="step-{sid}" tabindex="0" role="button"' in whole, sid
        _article(page, f"step-{sid}")
    for rid, r in shipped.recommendations.items():
        assert f'data-ref="rec-{rid}" tabindex="0" role="button"' in whole, rid
        assert f"<p class=\"text\">{r.text.replace('&', '&amp;').replace(chr(39), '&#x27;').replace(chr(34), '&quot;')}</p>" \
            in _article(page, f"rec-{rid}"), rid
    for pid in shipped.phases:
        _article(page, f"phase-{pid}")
    # Chart ids are unique across the charts of the page.
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_recommendation_article_has_sources_trace_decisions_and_obligations(page):
    a = _article(page, "rec-paracetamol_first")
    assert "Regular paracetamol first" in a and "SAFETY addition" in a and "a safety addition beyond the source" in a
    assert "S39</a>: Paracetamol 500 mg tablets SmPC" in a and "Initial Pain Management (First 4 Weeks)" in a
    assert "SAFE-PARA-01" in a  # its row of the safety table
    assert "<code>weight_kg &lt; 50</code>" in a  # a caution with its condition
    assert "paracetamol_first_for_pain" in a and 'class="verdict v-proved">proved' in a  # the invariant naming it
    b = _article(page, "rec-conservative_care_first")
    # Its traceability row cites decisions D1 and D2, shown with their text.
    assert "<strong>D1</strong>" in b and "priority-ordered" in b and "<strong>D2</strong>" in b
    assert "GP001 consistency" in b  # the conflicts it is in


def test_step_article_has_branches_and_recorded_decisions(shipped, page):
    a = _article(page, "step-imaging_needed")
    step = shipped.steps["imaging_needed"]
    assert len(re.findall(r"<li>\d+\. ", a)) == len(step.branches)
    assert "<strong>D9</strong>" in a  # cited by its why text and its traceability row
    assert "GP004 reachability" in a


def test_traceability_reader(tmp_path):
    t = read_traceability(TRACE)
    assert sorted(t.decisions, key=lambda d: int(d[1:])) == [f"D{i}" for i in range(1, 13)]
    assert t.decisions["D5"].cells[-1].startswith("65 years")
    row = next(r for r in t.rows if r.cells[0] == "1")
    assert {"conservative_care_first", "disposition"} <= row.names() and row.cited() == ["D1", "D2"]
    assert cited_decisions("see decisions D3 and D4, decision D9") == ["D3", "D4", "D9"]
    plain = tmp_path / "notes.md"
    plain.write_text("# Notes\n\nNo table here | at all.\n")
    with pytest.raises(InputError, match="holds no Markdown table"):
        read_traceability(plain)


def test_without_traceability_the_panel_says_how_to_add_it(shipped, findings):
    page = build_report(shipped, findings)
    assert "No traceability document given (<code>--traceability FILE</code>)" in _article(page, "rec-paracetamol_first")


def test_hostile_text_is_escaped(tmp_path):
    text = (FIXTURES / "mini.yaml").read_text().replace("text: Treat it.", 'text: "<script>alert(1)</script> & \\"x\\""')
    g = tmp_path / "g.yaml"
    g.write_text(text)
    out = tmp_path / "r.html"
    assert invoke("report", "-g", str(g), "-o", str(out)).exit_code == 0
    page = out.read_text()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;" in page
    assert page.count("<script>") == 1


# -- the command -----------------------------------------------------------------------------


def test_patient_path_and_answer(tmp_path):
    out = tmp_path / "r.html"
    patient = EXAMPLES / "on_anticoagulant.yaml"
    r = invoke("report", "-p", str(patient), "--set", "age=80", "-o", str(out))
    assert r.exit_code == 0, r.output
    page = out.read_text()
    answer = invoke("query", "-p", str(patient), "--set", "age=80").stdout
    from html import escape

    assert f'<pre class="answer">{escape(answer.rstrip(chr(10)))}' in page
    assert "Path of on_anticoagulant.yaml with age=80" in page
    assert "applies to this patient" in _article(page, "rec-opioid_breakthrough_no_nsaid")
    assert "does not apply to this patient" in _article(page, "rec-breakthrough_analgesia")
    assert "&#9658;" in page  # the charts mark what applies


def test_partial_patient_shows_what_depends_on_the_unknowns(tmp_path):
    out = tmp_path / "r.html"
    r = invoke("report", "--set", "age=72", "-o", str(out))
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert "<h2 id=\"patient-h\">Possible paths of the patient given by --set: age=72 (" in page
    assert "may apply: depends on facts not given" in _article(page, "rec-mri_whole_spine_with_and_without_contrast")
    assert "DEPENDS ON UNKNOWN FACTS" in page  # the partial answer, as query prints it


def test_refuted_guideline_still_gets_a_report_and_exit_1(tmp_path):
    out = tmp_path / "r.html"
    r = invoke("report", "-g", str(FIXTURES / "table12.yaml"), "-o", str(out))
    assert r.exit_code == 1 and "wrote HTML review report" in r.output
    page = out.read_text()
    assert "REFUTED: 2 of" in page and "error[GP002]" in page and "witness" in page
    # The decision's panel lists both refuted obligations, linked to their full text.
    table = _article(page, "step-table")
    assert table.count('class="verdict v-refuted">refuted</span>') == 2
    for code in ("GP002", "GP003"):
        i = re.search(rf'<a href="#finding-(\d+)">{code} ', table).group(1)
        assert f"error[{code}]" in _article(page, f"finding-{i}")


@pytest.mark.parametrize("where", UNUSABLE)
def test_unusable_output_paths_exit_2(tmp_path, monkeypatch, where):
    out = unusable_output(tmp_path, monkeypatch, where, "r.html")
    r = invoke("report", "-o", str(out))
    assert_output_refused(r.output, r.exit_code, tmp_path, out, where)


@pytest.mark.parametrize("which", ["guideline", "patient", "traceability"])
def test_never_overwrites_an_input(tmp_path, which):
    g, p, t = tmp_path / "g.yaml", tmp_path / "p.yaml", tmp_path / "t.md"
    g.write_text((FIXTURES / "mini.yaml").read_text())
    p.write_text("sick: true\nold: true\n")
    t.write_text("| a | b |\n|---|---|\n| `x` | y |\n")
    before = {x: x.read_bytes() for x in (g, p, t)}
    out = {"guideline": g, "patient": p, "traceability": t}[which]
    r = invoke("report", "-g", str(g), "-p", str(p), "--traceability", str(t), "-o", str(out))
    assert r.exit_code == 2 and "error[output-is-input]" in r.output, r.output
    assert {x: x.read_bytes() for x in (g, p, t)} == before


def test_bad_traceability_files_exit_2(tmp_path):
    out = tmp_path / "r.html"
    r = invoke("report", "--traceability", str(tmp_path / "missing.md"), "-o", str(out))
    assert r.exit_code == 2 and "does not exist" in r.output and "Traceback" not in r.output
    (tmp_path / "plain.md").write_text("just text\n")
    r = invoke("report", "--traceability", str(tmp_path / "plain.md"), "-o", str(out))
    assert r.exit_code == 2 and "error[bad-traceability]" in r.output
    (tmp_path / "bin.md").write_bytes(b"\x89PNG\x00\x01")
    r = invoke("report", "--traceability", str(tmp_path / "bin.md"), "-o", str(out))
    assert r.exit_code == 2 and "binary" in r.output
    assert not out.exists()


def test_report_gets_the_umask_mode_and_replaces_atomically(tmp_path):
    out = tmp_path / "r.html"
    old = os.umask(0o027)
    try:
        assert invoke("report", "-g", str(FIXTURES / "mini.yaml"), "-o", str(out)).exit_code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o640
        out.chmod(0o600)  # a replaced file keeps its mode
        assert invoke("report", "-g", str(FIXTURES / "mini.yaml"), "-o", str(out)).exit_code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    finally:
        os.umask(old)
    assert [f.name for f in tmp_path.iterdir()] == ["r.html"]


def test_assets_are_package_data():
    """The script and style are read through importlib.resources and listed as package data,
    so they land in the wheel."""
    import tomllib

    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = conf["tool"]["setuptools"]["package-data"]["guideproof"]
    assert {"assets/*.css", "assets/*.js"} <= set(data)
    for name in ("report.css", "report.js"):
        assert (ROOT / "guideproof" / "assets" / name).is_file()
