"""A query is never silent about a guideline that fails the patient: a decision with no
applicable branch and no 'otherwise', or several branches of a 'single' decision, or no
disposition at all, is named in the answer (text and JSON) and the exit code is 1."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import MINI, load_text
from guideproof.cli import cli
from guideproof.model.evaluate import GapOrOverlap, run

BASE = MINI.read_text()
TWO_WAY = ("      - {when: sick and old, goto: do_treat}\n      - {when: not (sick and old), goto: do_rest}\n")
PATIENT = ["--set", "sick=true", "--set", "stage=early", "--set", "levels=L1"]


def _variant(tmp_path, first: str, second: str, extra: str = "") -> str:
    text = BASE.replace(TWO_WAY, f"      - {{when: {first}, goto: do_treat}}\n      - {{when: {second}, goto: do_rest}}\n")
    assert text != BASE
    path = tmp_path / "g.yaml"
    path.write_text(text + extra)
    return str(path)


@pytest.mark.parametrize("age,expected", [
    (65, [GapOrOverlap("no-branch", "check")]),
    (64, []),
    (66, []),
])
def test_gap_is_named(age, expected):
    g = load_text(_variant_text(first="age < 65", second="age > 65"))
    assert run(g, {"age": age, "sick": True, "stage": "early", "levels": frozenset({"L1"})}).problems == expected


def _variant_text(first: str, second: str) -> str:
    return BASE.replace(TWO_WAY, f"      - {{when: {first}, goto: do_treat}}\n      - {{when: {second}, goto: do_rest}}\n")


def test_overlap_of_a_single_decision_names_both_branches():
    g = load_text(_variant_text("age <= 65", "age >= 65"))
    p = {"age": 65, "sick": False, "stage": "late", "levels": frozenset({"L2"})}
    assert run(g, p).problems == [GapOrOverlap("several-branches", "check", (1, 2))]
    assert run(g, {**p, "age": 70}).problems == []


def test_overlap_of_a_first_decision_is_not_a_problem():
    g = load_text(_variant_text("age <= 65", "age >= 65").replace("choice: single", "choice: first"))
    assert run(g, {"age": 65, "sick": False, "stage": "late", "levels": frozenset({"L2"})}).problems == []


def test_missing_disposition_is_named():
    g = load_text(BASE.replace("start: check\n", "dispositions: [treat]\nstart: check\n"))
    p = {"age": 40, "sick": False, "stage": "late", "levels": frozenset({"L2"})}
    assert run(g, p).problems == [GapOrOverlap("no-disposition")]
    assert run(g, {**p, "age": 70, "sick": True}).problems == []


def test_cli_text_and_json_name_the_gap_and_exit_1(tmp_path):
    path = _variant(tmp_path, "age < 65", "age > 65")
    r = CliRunner().invoke(cli, ["query", "-g", path, "--set", "age=65", *PATIENT])
    assert r.exit_code == 1, r.output
    assert "GUIDELINE PROBLEM" in r.stdout and "decision 'check' (Check): no branch applies" in r.stdout
    assert "guideline problem" in r.stderr
    r = CliRunner().invoke(cli, ["query", "-g", path, "--set", "age=65", *PATIENT, "--format", "json"])
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert [(x["kind"], x["step"]) for x in doc["guideline_problems"]] == [("no-branch", "check")]
    r = CliRunner().invoke(cli, ["query", "-g", path, "--set", "age=70", *PATIENT, "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["guideline_problems"] == []


def test_cli_overlap_exit_1(tmp_path):
    path = _variant(tmp_path, "age <= 65", "age >= 65")
    r = CliRunner().invoke(cli, ["query", "-g", path, "--set", "age=65", *PATIENT])
    assert r.exit_code == 1
    assert "branches 1. age <= 65; 2. age >= 65 all apply" in " ".join(r.stdout.split())
