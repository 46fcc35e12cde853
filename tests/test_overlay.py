"""Safety overlays: a base guideline includes an overlay that adds sources, variables,
definitions, invariants and, through 'amend', contraindications and cautions of base
recommendations. GP008 proves no patient is recommended anything while it is
contraindicated; the answer prints the cautions that apply; provenance is kept."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from guideproof.cli import cli
from guideproof.model.errors import InputError
from guideproof.model.loader import load_guideline
from guideproof.verify.checks import verify
from guideproof.verify.findings import Verdict

OVERLAY = FIXTURES / "overlay"
BASE = OVERLAY / "base.yaml"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _copy(tmp_path: Path, base: str | None = None, overlay: str | None = None) -> Path:
    for f in OVERLAY.iterdir():
        shutil.copy(f, tmp_path / f.name)
    if base is not None:
        (tmp_path / "base.yaml").write_text(base)
    if overlay is not None:
        (tmp_path / "safety.yaml").write_text(overlay)
    return tmp_path / "base.yaml"


def test_overlay_content_is_merged_with_its_provenance():
    g = load_guideline(BASE)
    assert "on_anticoagulant" in g.variables and g.variables["egfr"].optional
    assert g.definitions["low_kidney_function"].origin == "safety"
    assert g.definitions["old"].origin == "source"
    inv = {i.id: i for i in g.invariants}
    assert inv["no_treat_on_anticoagulant"].origin == "safety" and inv["no_treat_on_anticoagulant"].sources == ("2",)
    assert inv["i"].origin == "source"
    treat = g.recommendations["treat"]
    assert treat.origin == "source"  # amended, still the source's advice
    (ci,) = treat.contraindications
    assert ci.cond is not None and ci.cond.text == "on_anticoagulant" and ci.sources == ("2",)
    assert ci.span.file.endswith("safety.yaml") and ci.span.line == 15
    assert [c.text for c in treat.cautions] == ["Halve the dose.", "Take with food."]


def test_literal_base_with_overlay_is_refuted_where_unsafe():
    bad = [f for f in verify(load_guideline(BASE)) if f.verdict != Verdict.PROVED]
    assert sorted((f.code, f.subject) for f in bad) == [
        ("GP006", "invariant no_treat_on_anticoagulant"), ("GP008", "contraindication treat#1")]
    gp8 = next(f for f in bad if f.code == "GP008")
    assert gp8.witness["on_anticoagulant"] is True and gp8.witness["sick"] is True
    assert "contraindicated (on_anticoagulant)" in gp8.message
    r = invoke("verify", str(BASE), "--brief")
    assert r.exit_code == 1 and "safety.yaml:15:11: error[GP008]" in r.output


def test_adjusted_base_with_overlay_is_proved(tmp_path):
    base = BASE.read_text().replace("{when: sick and old, goto: do_treat}",
                                    "{when: sick and old and not on_anticoagulant, goto: do_treat}").replace(
        "{when: not (sick and old), goto: do_rest}", "{when: not (sick and old and not on_anticoagulant), goto: do_rest}").replace(
        "holds: sick and old implies recommends(treat)", "holds: sick and old and not on_anticoagulant implies recommends(treat)")
    path = _copy(tmp_path, base=base)
    assert [f for f in verify(load_guideline(path)) if f.verdict != Verdict.PROVED] == []
    r = invoke("query", "-g", str(path), "-s", "age=80", "-s", "sick=true", "-s", "stage=early", "-s", "levels=L1",
               "-s", "on_anticoagulant=false", "-s", "egfr=20")
    assert r.exit_code == 0, r.output
    assert "  ! Treat: Halve the dose. [refs 2]\n  ! Treat: Take with food. [refs 2]" in r.output
    explained = invoke("query", "-g", str(path), "-s", "age=80", "-s", "sick=true", "-s", "stage=early", "-s", "levels=L1",
                       "-s", "on_anticoagulant=false", "-s", "egfr=20", "--explain").output
    assert "Caution: Halve the dose. [refs 2]" in explained and "Caution: Take with food. [refs 2]" in explained
    r = invoke("query", "-g", str(path), "-s", "age=80", "-s", "sick=true", "-s", "stage=early", "-s", "levels=L1",
               "-s", "on_anticoagulant=false", "--format", "json")
    (treat,) = [x for x in json.loads(r.output)["recommendations"] if x["id"] == "treat"]
    assert treat["cautions"] == [{"text": "Take with food.", "sources": ["2"]}]  # no eGFR: the kidney caution does not apply
    assert treat["origin"] == "source"


@pytest.mark.parametrize("edit,code,where", [
    (("variables:\n", "variables:\n  sick: {type: bool, question: 'Again?'}\n"), "duplicate-id", "safety.yaml:7:3"),
    (("    treat:\n", "    treet:\n"), "unknown-reference", "safety.yaml:13:5"),
    (("amend:\n", "steps:\n  x: {kind: end, title: X}\namend:\n"), "unknown-key", "safety.yaml:11:1"),
    (("overlay: {origin: safety,", "overlay: {origin: folklore,"), "wrong-type", "safety.yaml:3:19"),
    (("why: Label threshold., sources: [2]}", "why: Label threshold.}"), "missing-citation", "safety.yaml:10:25"),
    (("sources: [2]}\n      cautions", "sources: [9]}\n      cautions"), "unknown-reference", "safety.yaml:15:89"),
])
def test_overlay_errors_point_into_the_overlay(tmp_path, edit, code, where):
    text = (OVERLAY / "safety.yaml").read_text()
    assert text.count(edit[0]) == 1
    path = _copy(tmp_path, overlay=text.replace(*edit))
    with pytest.raises(InputError) as info:
        load_guideline(path)
    rendered = str(info.value)
    assert f"error[{code}]" in rendered and where in rendered, rendered


def test_amend_cannot_replace_a_field(tmp_path):
    text = (OVERLAY / "safety.yaml").read_text().replace("    treat:\n", "    treat:\n      note: Changed.\n")
    base = BASE.read_text().replace("category: care, strength: strong, sources: [1], section: S}\n  rest",
                                    "category: care, strength: strong, sources: [1], section: S, note: N}\n  rest")
    path = _copy(tmp_path, base=base, overlay=text)
    with pytest.raises(InputError) as info:
        load_guideline(path)
    assert "amend.recommendations.treat.note: the recommendation already has it" in str(info.value)


def test_missing_overlay_is_located(tmp_path):
    path = _copy(tmp_path, base=BASE.read_text().replace("include: [safety.yaml]", "include: [nowhere.yaml]"))
    r = invoke("verify", str(path))
    assert r.exit_code == 2 and "base.yaml:19:11: error[include-unreadable]" in r.output


def test_overlay_syntax_error_points_into_the_overlay(tmp_path):
    path = _copy(tmp_path, overlay=(OVERLAY / "safety.yaml").read_text().replace("variables:\n", "variables: [\n"))
    r = invoke("verify", str(path))
    assert r.exit_code == 2 and "safety.yaml:" in r.output and "yaml-syntax" in r.output


def test_safety_addition_needs_a_citation(tmp_path):
    base = BASE.read_text().replace("  - {id: c, between: [treat, rest], why: W.}",
                                    "  - {id: c, between: [treat, rest], why: W.}").replace(
        "invariants:\n  - {id: i,", "invariants:\n  - {id: j, holds: true, why: W., origin: safety}\n  - {id: i,")
    path = _copy(tmp_path, base=base)
    with pytest.raises(InputError) as info:
        load_guideline(path)
    assert "invariant j: a safety addition cites at least one source" in str(info.value)


@pytest.mark.slow
def test_drug_without_safety_review_is_a_warning(tmp_path):
    """GP010: a drug or procedure that declares no contraindication or caution is a warning
    (exit 0), until the author adds rules or acknowledges the review."""
    base = BASE.read_text().replace("section: S}\n  rest: {short: Rest,",
                                    "section: S, treatment: drug}\n  rest: {treatment: procedure, short: Rest,", 1)
    assert "treatment: drug" in base
    path = _copy(tmp_path, base=base)
    g = load_guideline(path)
    assert (g.recommendations["treat"].treatment, g.recommendations["rest"].treatment) == ("drug", "procedure")
    gp10 = {f.subject: f for f in verify(g) if f.code == "GP010"}
    assert gp10["safety review treat"].verdict == Verdict.PROVED  # the overlay's contraindication and cautions
    assert gp10["safety review rest"].verdict == Verdict.WARNING
    assert "procedure 'rest' (Rest) declares no contraindication or caution" in gp10["safety review rest"].message
    reviewed = _copy(tmp_path, base=base.replace("  rest: {treatment: procedure,",
                                                 "  rest: {treatment: procedure, safety_review: Rest has no contraindication.,"))
    gp10 = {f.subject: f for f in verify(load_guideline(reviewed)) if f.code == "GP010"}
    assert gp10["safety review rest"].verdict == Verdict.PROVED
    assert "reviewed: Rest has no contraindication." in gp10["safety review rest"].message


@pytest.mark.slow
def test_shipped_guideline_has_no_safety_review_warning():
    """Every drug and procedure of the shipped guideline declares its contraindications or
    cautions (issue 10): verify proves all and warns about nothing."""
    r = invoke("verify", "--brief", "--timeout", "120")  # nonlinear clearance queries: generous on a busy machine
    assert r.exit_code == 0, r.output
    assert "warning[" not in r.output and "error[" not in r.output
    (row,) = [line.split() for line in r.output.splitlines() if line.startswith("GP010")]
    assert row[3:] == [row[3], row[3], "0", "0", "0"] and int(row[3]) >= 18, row  # obligations = proved, none warned
    assert "PROVED: all" in r.output and "with a warning" not in r.output
