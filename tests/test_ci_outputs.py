"""What a CI pipeline reads: SARIF 2.1.0, deterministic JSON, input errors as JSON on stdout,
several files in one run, configuration, select/ignore, and the pre-commit hook."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from guideproof.cli import cli
from guideproof.guideline import SHIPPED
from guideproof.verify.checks import CHECKS
from conftest import FIXTURES, MINI

ROOT = Path(__file__).resolve().parent.parent
LITERAL = FIXTURES / "literal_source.yaml"
#: the SARIF 2.1.0 schema (draft-04), as published with the final 2.1.0 release (see fixtures/sarif/README.md)
SARIF_SCHEMA = json.loads((FIXTURES / "sarif" / "sarif-2.1.0-rtm.5.json").read_text())


def invoke(*args: str):
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def sarif_valid(text: str) -> dict:
    doc = json.loads(text)
    errors = sorted(jsonschema.Draft4Validator(SARIF_SCHEMA).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    return doc


@pytest.fixture(scope="module")
def literal_runs():
    """verify of the literal-source fixture (refuted) as JSON and as SARIF."""
    code_j, out_j, _ = invoke("verify", str(LITERAL), "--format", "json")
    code_s, out_s, _ = invoke("verify", str(LITERAL), "--format", "sarif")
    return code_j, json.loads(out_j), code_s, out_s


@pytest.mark.slow
def test_sarif_of_the_literal_source_shows_every_refutation_with_its_regions(literal_runs):
    code_j, doc, code_s, out_s = literal_runs
    assert code_j == code_s == 1
    log = sarif_valid(out_s)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    codes = sorted(c.code for c in CHECKS)
    assert [r["id"] for r in rules[:len(codes)]] == codes and codes[:10] == [f"GP{i:03d}" for i in range(1, 11)]
    assert {"yaml-syntax", "unknown-key"} <= {r["id"] for r in rules}
    refuted = [o for o in doc["obligations"] if o["verdict"] == "refuted"]
    results = [r for r in run["results"] if r["level"] == "error"]
    assert refuted and len(results) == len(refuted)
    for o, r in zip(refuted, results, strict=True):
        assert r["ruleId"] == o["code"] and rules[r["ruleIndex"]]["id"] == o["code"]
        assert r["kind"] == "fail" and r["properties"]["subject"] == o["subject"]
        assert r["properties"]["witness"] == o["witness"]
        assert r["properties"].get("regions", []) == o["regions"]
        if o["location"]:
            region = r["locations"][0]["physicalLocation"]["region"]
            assert (region["startLine"], region["startColumn"]) == (o["location"]["line"], o["location"]["column"])
            assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == Path(o["location"]["file"]).as_uri()
    assert sum(1 for r in results if r["properties"].get("regions")) >= 1
    props = run["properties"]
    assert props["summary"] == doc["summary"]
    assert len(props["proved"]) == doc["summary"]["proved"]
    assert run["invocations"][0]["exitCode"] == 1 and run["columnKind"] == "unicodeCodePoints"


@pytest.mark.slow
def test_sarif_of_the_shipped_guideline_has_no_results():
    code, out, _ = invoke("verify", "--format", "sarif")
    assert code == 0
    assert '"uri": "guideline/l1_l2_compression_fracture.yaml"' in out  # relative names stay relative
    (run,) = sarif_valid(out)["runs"]
    assert run["results"] == []  # every obligation proved, no warning left (GP010 included)
    summary = run["properties"]["summary"]
    assert summary["refuted"] == summary["warning"] == summary["unknown"] == 0
    assert summary["proved"] == len(run["properties"]["proved"]) > 0


@pytest.mark.slow
def test_sarif_warning_is_a_warning_result(tmp_path):
    """A GP010 warning (a drug with no safety review) is a SARIF warning result."""
    text = SHIPPED.read_text()
    start = text.index("    cautions:\n      - text: >-\n          Not with a blocked")  # the laxative's review
    end = text.index("\n\n", start)
    (tmp_path / "g.yaml").write_text(text[:start] + text[end + 1:])
    (tmp_path / "l1_l2_safety.yaml").write_text((SHIPPED.parent / "l1_l2_safety.yaml").read_text())
    code, out, _ = invoke("verify", str(tmp_path / "g.yaml"), "--format", "sarif")
    assert code == 0
    (run,) = sarif_valid(out)["runs"]
    assert {(r["kind"], r["level"], r["ruleId"]) for r in run["results"]} == {("fail", "warning", "GP010")}
    assert "laxative_with_opioid" in run["results"][0]["message"]["text"]


def test_an_unknown_verdict_is_an_open_result_not_a_pass(tmp_path):
    code, out, _ = invoke("verify", str(MINI), "--format", "sarif", "--rlimit", "1")
    assert code == 3
    (run,) = sarif_valid(out)["runs"]
    assert run["results"] and all((r["kind"], r["level"]) == ("open", "none") for r in run["results"])
    assert all("not proved" in r["message"]["text"] for r in run["results"])


@pytest.mark.parametrize(("fmt", "command"), [
    ("json", ["verify", "{bad}"]), ("sarif", ["verify", "{bad}"]),
    ("json", ["query", "-g", "{bad}", "-p", "{patient}"]), ("json", ["variables", "-g", "{bad}"])])
def test_input_errors_reach_stdout_in_the_format_asked_for(tmp_path, fmt, command):
    bad = tmp_path / "bad.yaml"
    bad.write_text("guideproof: 1\nguideline: {id: x, title: X, version: '1'}\nvariables: [oops\n")
    patient = tmp_path / "p.yaml"
    patient.write_text("{}\n")
    args = [a.format(bad=bad, patient=patient) for a in command]
    code, out, err = invoke(*args, "--format", fmt)
    assert code == 2
    assert "error[yaml-syntax]" in err  # people still read stderr
    if fmt == "json":
        doc = json.loads(out)
        assert doc["kind"] == "input-error" and doc["version"] == 1
        (d,) = doc["diagnostics"]
        assert d["code"] == "yaml-syntax" and d["location"]["file"] == str(bad) and d["location"]["line"] == 4
    else:
        (run,) = sarif_valid(out)["runs"]
        (r,) = run["results"]
        assert r["ruleId"] == "yaml-syntax" and r["level"] == "error"
        assert r["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
        assert run["invocations"][0]["exitCode"] == 2


def test_verify_json_is_the_same_for_the_same_input_and_timings_are_asked_for():
    a, b = invoke("verify", str(MINI), "--format", "json"), invoke("verify", str(MINI), "--format", "json")
    assert a[0] == b[0] == 0 and a[1] == b[1]
    assert all("seconds" not in o for o in json.loads(a[1])["obligations"])
    _, timed, _ = invoke("verify", str(MINI), "--format", "json", "--timings")
    assert all(isinstance(o["seconds"], float) for o in json.loads(timed)["obligations"])


@pytest.mark.slow
def test_several_files_and_folders_each_reported_worst_exit_code(tmp_path):
    folder = tmp_path / "guidelines"
    (folder / "sub").mkdir(parents=True)
    (folder / "mini.yaml").write_text(MINI.read_text())
    (folder / "sub" / "broken.yaml").write_text(MINI.read_text().replace("guideproof: 1", "guideproof: 9", 1))
    (folder / "patient.yaml").write_text("age: 70\n")  # no 'guideline' key: not a guideline file
    (folder / "notes.txt").write_text("guideline: not YAML\n")
    code, out, err = invoke("verify", str(folder), str(SHIPPED), "--format", "json")
    assert code == 2  # bad input outranks everything
    doc = json.loads(out)
    files = [d.get("guideline", {}).get("file") or d.get("file") for d in doc["guidelines"]]
    assert files == [str(folder / "mini.yaml"), str(folder / "sub" / "broken.yaml"), str(SHIPPED)]
    assert doc["guidelines"][1]["kind"] == "input-error"
    assert doc["guidelines"][0]["summary"]["refuted"] == 0 and doc["guidelines"][2]["summary"]["proved"] > 300
    assert "unsupported-version" in err
    code, out, _ = invoke("verify", str(folder / "mini.yaml"), str(LITERAL), "--brief", "--select", "GP001")
    assert code == 1 and out.count("PROVED") == 1 and out.count("REFUTED") == 1
    code, _, err = invoke("verify", str(tmp_path / "empty"))
    assert code == 2
    (tmp_path / "empty").mkdir()
    code, _, err = invoke("verify", str(tmp_path / "empty"))
    assert code == 2 and "holds no guideline file" in err


def test_select_and_ignore_choose_the_checks():
    _, out, _ = invoke("verify", str(MINI), "--format", "json", "--select", "coverage,GP001")
    assert {o["code"] for o in json.loads(out)["obligations"]} == {"GP007", "GP002", "GP001"}
    _, out, _ = invoke("verify", str(MINI), "--format", "json", "--ignore", "GP004", "--ignore", "redundancy")
    codes = {o["code"] for o in json.loads(out)["obligations"]}
    assert "GP004" not in codes and "GP005" not in codes and "GP002" in codes
    code, _, err = invoke("verify", str(MINI), "--select", "GP099")
    assert code == 2 and "no check 'GP099'" in err


def write_config(folder: Path, text: str, name: str = "pyproject.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_configuration_in_pyproject_gives_files_and_settings(tmp_path, monkeypatch):
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "mini.yaml").write_text(MINI.read_text())
    write_config(tmp_path, '[project]\nname = "x"\n\n[tool.guideproof]\nguidelines = ["g/mini.yaml"]\n'
                           'select = ["GP002"]\nmax-findings = 3\n')
    (tmp_path / "deeper").mkdir()
    monkeypatch.chdir(tmp_path / "deeper")  # found in the nearest folder above
    code, out, _ = invoke("verify", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["guideline"]["id"] == "mini"
    assert {o["code"] for o in doc["obligations"]} == {"GP007", "GP002"}
    # The command line wins over the file.
    _, out, _ = invoke("verify", "--format", "json", "--select", "GP001")
    assert {o["code"] for o in json.loads(out)["obligations"]} == {"GP007", "GP001"}
    # guideproof.toml wins over pyproject.toml in the same folder.
    write_config(tmp_path, 'guidelines = ["g/mini.yaml"]\nignore = ["GP002"]\n', "guideproof.toml")
    _, out, _ = invoke("verify", "--format", "json")
    assert "GP002" not in {o["code"] for o in json.loads(out)["obligations"]}


@pytest.mark.parametrize(("text", "where", "words"), [
    ('[tool.guideproof]\ntimout = 3\n', (2, 1), "unknown key 'timout'; did you mean 'timeout'?"),
    ('[tool.guideproof]\nrlimit = "many"\n', (2, 1), "rlimit: expected a whole number"),
    ('[tool.guideproof]\ntimeout = 0\n', (2, 1), "timeout: expected a number from 0.001"),
    ('[tool.guideproof]\nselect = "GP001"\n', (2, 1), "select: expected a list of strings"),
    ('[tool.guideproof]\nguidelines = [1]\n', (2, 1), "guidelines: expected a list of strings"),
    ('[tool.guideproof]\n  max-findings = -1\n', (2, 3), "max-findings: expected a whole number from 0"),
    ('[tool.guideproof]\njobs = 0\n', (2, 1), "jobs: expected a whole number from 1 to 256"),
    ('[tool.guideproof]\ntimeout = \n', (2, 11), "not valid TOML"),
])
def test_bad_configuration_is_an_input_error_at_its_line(tmp_path, monkeypatch, text, where, words):
    path = write_config(tmp_path, text)
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke("verify", str(MINI))
    assert code == 2, err
    assert f"{path}:{where[0]}:{where[1]}: error[config]:" in err
    assert words in err


def test_explicit_config_file_and_guidelines_relative_to_it(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mini.yaml").write_text(MINI.read_text())
    path = write_config(tmp_path / "conf", 'guidelines = ["mini.yaml"]\n', "guideproof.toml")
    code, out, _ = invoke("verify", "--config", str(path), "--brief")
    assert code == 0 and "Mini" in out


def test_pre_commit_hook_definition_runs_verify():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "guideproof-verify" and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    entry = hook["entry"].split()
    assert entry[0] == "guideproof"
    code, out, _ = invoke(*entry[1:], str(MINI))
    assert code == 0 and "PROVED" in out
    import re

    assert re.search(hook["files"], "guideline/x.yaml") and re.search(hook["files"], "pyproject.toml")
    assert not re.search(hook["files"], "notes.md")


def output_validator(name: str) -> jsonschema.protocols.Validator:
    code, out, _ = invoke("schema", name)
    assert code == 0
    doc = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(doc)
    return jsonschema.Draft202012Validator(doc)


def assert_valid(validator, doc) -> None:
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, errors[:5]


@pytest.mark.slow
def test_complete_and_partial_answers_share_one_shape_valid_against_the_schema():
    answer = output_validator("answer")
    from guideproof.guideline import EXAMPLES

    complete = json.loads(invoke("query", "-p", str(EXAMPLES / "uncomplicated_acute.yaml"), "--format", "json")[1])
    partial = json.loads(invoke("query", "--set", "age=70", "--set", "neuro_deficit=false", "--format", "json")[1])
    af = json.loads(invoke("query", "-g", str(ROOT / "guideline" / "af_anticoagulation.yaml"), "-p",
                           str(EXAMPLES / "af" / "elderly_low_weight_reduced_dose.yaml"), "--format", "json")[1])
    for doc in (complete, partial, af):
        assert_valid(answer, doc)
    assert complete.keys() == partial.keys()
    assert complete["complete"] is True and partial["complete"] is False
    assert complete["unknown"] == [] and complete["ask_next"] == [] and complete["solver_calls"] == 0
    assert partial["unknown"] and partial["ask_next"]
    assert {k: v for k, v in partial["patient"].items() if v is not None} == {"age": 70, "neuro_deficit": False}
    assert {r["status"] for r in complete["recommendations"]} == {"applies"}
    assert {r["status"] for r in partial["recommendations"]} >= {"applies", "depends"}
    assert complete["recommendations"][0].keys() == partial["recommendations"][0].keys()


@pytest.mark.slow
def test_verify_and_input_error_outputs_valid_against_their_schemas(tmp_path):
    verify, diagnostics = output_validator("verify"), output_validator("diagnostics")
    assert_valid(verify, json.loads(invoke("verify", str(MINI), "--format", "json", "--timings")[1]))
    bad = tmp_path / "bad.yaml"
    bad.write_text("guideproof: 1\nguideline: [\n")
    code, out, _ = invoke("verify", str(bad), "--format", "json")
    assert code == 2
    assert_valid(diagnostics, json.loads(out))
    code, out, _ = invoke("verify", str(MINI), str(bad), "--format", "json")
    assert code == 2
    assert_valid(verify, json.loads(out))
    code, out, _ = invoke("query", "-p", str(bad), "--format", "json")
    assert code == 2
    assert_valid(diagnostics, json.loads(out))


def test_variables_and_checks_outputs_valid_against_their_schemas():
    variables, checks = output_validator("variables"), output_validator("checks")
    for g in (SHIPPED, ROOT / "guideline" / "af_anticoagulation.yaml"):
        code, out, _ = invoke("variables", "-g", str(g), "--format", "json")
        assert code == 0
        assert_valid(variables, json.loads(out))
    code, out, _ = invoke("checks", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert_valid(checks, doc)
    assert [o["code"] for o in doc["obligations"]] == sorted(o["code"] for o in doc["obligations"])
