"""The shipped JSON Schemas: they accept every guideline, overlay and patient file the
project ships, reject files the loader rejects for their shape, and stay in step with the
loader's own tables (a key the loader learns and the schema does not fails here)."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from guideproof.cli import cli
from guideproof.model import loader as L
from guideproof.model.errors import InputError
from guideproof.model.loader import load_guideline
from guideproof.model.source import parse_yaml, plain, read_text
from guideproof.model.guideline import FACT_SOURCES
from guideproof.schema import schema

ROOT = Path(__file__).resolve().parent.parent
GUIDELINES = sorted((ROOT / "guideline").glob("*.yaml"))


def _data(path: Path):
    """A YAML file as the loader reads it (string keys, exact decimals)."""
    return plain(parse_yaml(read_text(path)))


def _is_overlay(path: Path) -> bool:
    data = _data(path)
    return isinstance(data, dict) and "guideline" not in data


def _validator(name: str, g=None) -> jsonschema.protocols.Validator:
    doc = schema(name, g)
    jsonschema.Draft202012Validator.check_schema(doc)
    return jsonschema.Draft202012Validator(doc)


@pytest.mark.slow
@pytest.mark.parametrize("path", GUIDELINES + sorted(FIXTURES.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_file_the_loader_accepts_validates(path):
    data = _data(path)
    if _is_overlay(path):
        errors = list(_validator("overlay").iter_errors(data))
    else:
        try:
            load_guideline(path)
        except InputError:
            assert path not in GUIDELINES  # the shipped guidelines always load
            pytest.skip("not a loadable guideline (a deliberately broken fixture)")
        errors = list(_validator("guideline").iter_errors(data))
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]]


@pytest.mark.parametrize("edit,where", [
    (("start: check", "start: check\ncolour: red"), ""),
    (("question: 'Sick?'}", "question: 'Sick?', colour: red}"), "variables/sick"),
    (("choice: single", "choice: several"), "steps/check"),
    (("{type: bool, question: 'Sick?'}", "{type: boolean, question: 'Sick?'}"), "variables/sick"),
    (("kind: decision", "kind: decide"), "steps/check"),
    (("{type: bool, question: 'Sick?'}", "{type: bool, source: labs, question: 'Sick?'}"), "variables/sick"),
])
@pytest.mark.slow
def test_shape_errors_are_schema_errors(tmp_path, edit, where):
    text = (FIXTURES / "mini.yaml").read_text()
    assert text.count(edit[0]) == 1
    path = tmp_path / "g.yaml"
    path.write_text(text.replace(*edit))
    errors = list(_validator("guideline").iter_errors(_data(path)))
    assert errors and any("/".join(map(str, e.absolute_path)).startswith(where) for e in errors)


def test_schema_follows_the_loader():
    doc = schema("guideline")
    top = set(doc["properties"])
    assert top == {f.name for f in L.TOP_FIELDS} | {"include"}
    assert set(doc["required"]) == {f.name for f in L.TOP_FIELDS if f.required}
    variants = doc["properties"]["variables"]["additionalProperties"]["oneOf"]
    kinds = {v["properties"]["type"].get("const") for v in variants} | {
        k for v in variants for k in v["properties"]["type"].get("enum", [])}
    assert kinds - {None} == set(L.VARIABLE_TYPES)
    for schema_name in ("guideline", "overlay"):  # every kind of variable may say where its fact comes from
        vs = schema(schema_name)["properties"]["variables"]["additionalProperties"]["oneOf"]
        assert all(v["properties"]["source"]["enum"] == list(FACT_SOURCES) for v in vs)
    steps = {v["properties"]["kind"]["const"] for v in doc["properties"]["steps"]["additionalProperties"]["oneOf"]}
    assert steps == set(L.STEP_KINDS)


@pytest.mark.parametrize("patient", [p for p in sorted((ROOT / "guideline" / "examples").rglob("*.yaml"))
                                     + sorted((ROOT / "guideline" / "examples").rglob("*.json"))
                                     if "fhir" not in p.relative_to(ROOT).parts], ids=lambda p: p.name)
@pytest.mark.slow
def test_example_patients_validate_against_their_guideline(patient):
    g = load_guideline(ROOT / "guideline" / ("af_anticoagulation.yaml" if patient.parent.name == "af"
                                             else "l1_l2_compression_fracture.yaml"))
    errors = list(_validator("patient", g).iter_errors(_data(patient)))
    assert not errors, [e.message for e in errors[:5]]


def test_patient_schema_rejects_what_the_loader_rejects(shipped):
    v = _validator("patient", shipped)
    assert not list(v.iter_errors({"age": 72, "weeks_since_fracture": "14 days", "deformity": "mild"}))
    for bad in ({"age": 172}, {"agee": 72}, {"deformity": "severe"}, {"fracture_levels": ["L9"]}, {"neuro_deficit": "maybe"}):
        assert list(v.iter_errors(bad)), bad


def test_schema_command():
    r = CliRunner().invoke(cli, ["schema", "guideline"])
    assert r.exit_code == 0 and json.loads(r.output)["$schema"].endswith("2020-12/schema")
    r = CliRunner().invoke(cli, ["schema", "patient", "-g", "guideline/af_anticoagulation.yaml"])
    doc = json.loads(r.output)
    assert doc["properties"]["ttr_percent"]["anyOf"][1] == {"type": "null"}
    r = CliRunner().invoke(cli, ["schema", "nothing"])
    assert r.exit_code == 2
