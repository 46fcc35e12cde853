"""The command line, through click's CliRunner and through the installed console script."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from guideproof.cli import cli
from guideproof.guideline import EXAMPLES
from guideproof.model.evaluate import run
from guideproof.model.patient import load_patient_file
from conftest import MINI

UNCOMPLICATED = str(EXAMPLES / "uncomplicated_acute.yaml")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_query_text():
    r = invoke("query", "--patient", UNCOMPLICATED)
    assert r.exit_code == 0, r.output
    out = r.output
    assert out.splitlines()[1] == "Pathway: Conservative care for at least 3 months"
    # One screen: do now (in the categories' clinical order), avoid, follow-up; one line each.
    order = [out.index(h) for h in ("DO NOW", "Neurological exam", "MRI spine", "calcitonin", "Calcium >=",
                                    "AVOID", "CAUTIONS", "FOLLOW-UP", "(--explain")]
    assert order == sorted(order)
    assert ("  * Consider calcitonin injection (first 4 weeks only) -- Weeks 0-4 after the fracture is identified "
            "[consider; refs 1, 2, 3, S26, S27, S28; safety addition]\n") in out
    assert "  ! Consider calcitonin injection (first 4 weeks only): Injection only, for at most 4 weeks" in out
    assert "> At 4-6 weeks after the fracture is identified: Reassess at 4-6 weeks" in out
    assert "Why:" not in out and len(out.splitlines()) <= 40


def test_query_explain():
    r = invoke("query", "--patient", UNCOMPLICATED, "--explain")
    assert r.exit_code == 0, r.output
    out = r.output
    # Categories in clinical order, then avoid, then when to reassess.
    order = [out.index(h) for h in ("ASSESSMENT", "IMAGING", "INTERVENTION", "ANALGESIA", "BONE HEALTH", "FOLLOW-UP", "AVOID", "REASSESS")]
    assert order == sorted(order)
    # The opioid caution gives each decisive branch that led to it, the age one last, with its fact.
    caution = out[out.index("* Caution with opioids"):out.index("* Regular laxative")]
    assert caution.rstrip().endswith("\n      65 or older [age = 72]")
    assert "refs 1, 2, 3" in out


@pytest.mark.parametrize("patient", sorted((Path(__file__).resolve().parent.parent / "guideline" / "examples").rglob("*.yaml")),
                         ids=lambda p: p.stem)
@pytest.mark.slow
def test_default_answer_fits_one_screen(patient):
    """Every example patient's default answer fits 40 lines (the full reasons are one option away)."""
    g = "guideline/af_anticoagulation.yaml" if patient.parent.name == "af" else "guideline/l1_l2_compression_fracture.yaml"
    r = invoke("query", "-g", g, "-p", str(patient))
    assert r.exit_code == 0, r.output
    assert len(r.output.splitlines()) <= 40, r.output


def test_query_json_matches_evaluator(shipped):
    r = invoke("query", "--patient", UNCOMPLICATED, "--format", "json")
    assert r.exit_code == 0
    doc = json.loads(r.output)
    assert doc["version"] == 2 and doc["complete"] is True
    p = load_patient_file(shipped, UNCOMPLICATED).values
    applies = run(shipped, p).applies
    ids = {x["id"] for x in doc["recommendations"]} | {x["id"] for x in doc["avoid"]}
    assert ids == applies
    assert doc["pathway"] == ["conservative_care_first"]
    calc = next(x for x in doc["recommendations"] if x["id"] == "calcitonin_first_4_weeks")
    assert calc["timing"] == {"text": "Weeks 0-4 after the fracture is identified", "start_week": 0, "end_week": 4}
    assert calc["sources"] == ["1", "2", "3", "S26", "S27", "S28"]  # with the safety sources
    assert calc["because"][0]["facts"] == {"weeks_since_fracture": 2, "pain": "moderate"}
    assert all(x["kind"] == "avoid" for x in doc["avoid"])


def test_set_overrides_file():
    r = invoke("query", "-p", UNCOMPLICATED, "--set", "neuro_deficit=true", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["pathway"] == ["urgent_surgical_referral"]


def test_set_only(shipped):
    p = load_patient_file(shipped, UNCOMPLICATED).values
    sets = []
    for n, v in p.items():
        v = ",".join(sorted(v)) if isinstance(v, frozenset) else str(v).lower()
        sets += ["--set", f"{n}={v}"]
    r = invoke("query", *sets, "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["pathway"] == ["conservative_care_first"]


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_queries(path):
    r = invoke("query", "-p", str(path), "--format", "json")
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.output)["pathway"]) == 1


@pytest.mark.slow
def test_example_pathways_are_distinct():
    seen = {}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        doc = json.loads(invoke("query", "-p", str(path), "--format", "json").output)
        key = (tuple(doc["pathway"]), tuple(sorted(x["id"] for x in doc["recommendations"])))
        assert key not in seen, f"{path.name} repeats {seen.get(key)}"
        seen[key] = path.name
    assert len(seen) >= 6


@pytest.mark.slow
def test_missing_variables_are_listed(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("age: 70\nfracture_levels: [L1]\n")
    r = invoke("query", "-p", str(f), "--require-complete")
    assert r.exit_code == 2
    assert "error[missing-variable]: 27 patient variables are missing" in r.output
    assert "neuro_deficit (true/false): Does the neurological examination show a deficit" in r.output
    assert "Traceback" not in r.output


def _bad(tmp_path, text: str | bytes):
    f = tmp_path / "p.yaml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    return f


BASE_TEXT = Path(UNCOMPLICATED).read_text()


@pytest.mark.parametrize("text,expect", [
    (BASE_TEXT.replace("age: 72", "agee: 72"), ["p.yaml:2:1: error[unknown-variable]", "did you mean 'age'"]),
    (BASE_TEXT.replace("age: 72", "age: 172"), ["p.yaml:2:6: error[out-of-range]", "between 18 and 110 years"]),
    (BASE_TEXT.replace("age: 72", "age: old"), ["p.yaml:2:6: error[wrong-type]", "whole number of years"]),
    (BASE_TEXT.replace("deformity: none", "deformity: huge"), ["error[unknown-value]", "one of none, mild, significant"]),
    (BASE_TEXT.replace("neuro_deficit: false", "neuro_deficit: maybe"), ["error[wrong-type]", "true or false"]),
    (BASE_TEXT.replace("fracture_levels: [L1]", "fracture_levels: [L1, L7]"), ["error[unknown-value]", "'L7'"]),
    (BASE_TEXT.replace("age: 72", "age: [72]"), ["error[wrong-type]"]),
    (BASE_TEXT.replace("age: 72", "age: 72\nage: 73"), ["error[duplicate-key]"]),
    (BASE_TEXT.replace("age: 72", "age: [72"), ["error[yaml-syntax]"]),
    ("- just\n- a list\n", ["error[wrong-type]", "a mapping of variable names"]),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8", ["error[not-text]"]),
    (BASE_TEXT.replace("weeks_conservative_care: 2", "weeks_conservative_care: 5"),
     ["error[constraint-violated]", "care_after_fracture", "weeks_conservative_care = 5"]),
])
@pytest.mark.slow
def test_bad_patient_file(tmp_path, text, expect):
    r = invoke("query", "-p", str(_bad(tmp_path, text)))
    assert r.exit_code == 2, r.output
    for e in expect:
        assert e in r.output
    assert "Traceback" not in r.output


def test_bad_set_values():
    r = invoke("query", "-p", UNCOMPLICATED, "--set", "age=500", "--set", "nope=1", "--set", "oops")
    assert r.exit_code == 2
    for e in ("error[out-of-range]", "error[unknown-variable]", "error[bad-assignment]"):
        assert e in r.output


def test_missing_patient_file(tmp_path):
    r = invoke("query", "-p", str(tmp_path / "absent.yaml"))
    assert r.exit_code == 2 and "error[file-not-found]" in r.output


@pytest.mark.slow
def test_no_patient_is_the_empty_patient():
    r = invoke("query")
    assert r.exit_code == 0 and "Known: 3 of 32 facts" in r.output  # the optional lab values have no value and "ASK NEXT" in r.output


def test_variables_command():
    r = invoke("variables")
    assert r.exit_code == 0
    assert "weeks_since_fracture  (duration: 0..260 weeks; from the history)" in r.output
    assert "serum_creatinine  (decimal: 0.2..20 mg/dL; optional: may have no value; from the lab)" in r.output
    doc = json.loads(invoke("variables", "--format", "json").output)
    assert doc["version"] == 1 and len(doc["variables"]) == 32
    # every variable of the shipped guideline says where its fact comes from
    assert {v["source"] for v in doc["variables"]} == {"history", "exam", "lab", "imaging"}
    assert all(v["source"] for v in doc["variables"])


def test_other_guideline(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("age: 80\nsick: true\nstage: late\nlevels: [L1]\n")
    r = invoke("query", "--guideline", str(MINI), "-p", str(f), "--format", "json")
    assert r.exit_code == 0, r.output
    assert [x["id"] for x in json.loads(r.output)["recommendations"]] == ["treat"]


def test_bad_guideline_exits_2(tmp_path):
    g = tmp_path / "g.yaml"
    g.write_text(MINI.read_text().replace("goto: do_treat}", "goto: nowhere}"))
    r = invoke("variables", "--guideline", str(g))
    assert r.exit_code == 2
    assert "g.yaml:26:" in r.output and "error[unknown-reference]" in r.output


# -- the installed console script, in a real process ---------------------------------------

def _script() -> str:
    exe = Path(sys.executable).parent / "guideproof"
    return str(exe) if exe.exists() else shutil.which("guideproof")


@pytest.mark.slow
def test_console_script_query():
    p = subprocess.run([_script(), "query", "-p", UNCOMPLICATED], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "Pathway: Conservative care for at least 3 months" in p.stdout
    assert p.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["malformed", "alias-bomb", "huge", "binary"])
def test_console_script_bad_input(tmp_path, kind):
    f = tmp_path / f"{kind}.yaml"
    if kind == "malformed":
        f.write_text("age: [72\n")
    elif kind == "alias-bomb":
        lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 20)]
        f.write_text("\n".join(lines) + "\n")
    elif kind == "huge":
        with open(f, "wb") as fh:
            fh.truncate(50 * 1024 * 1024)  # 50 MB (sparse zeros)
    else:
        f.write_bytes(os.urandom(4096))
    for args in (["query", "-p", str(f)], ["variables", "--guideline", str(f)]):
        p = subprocess.run([_script(), *args], capture_output=True, text=True, timeout=60)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert "error[" in p.stderr and "Traceback" not in p.stderr
