"""Patient facts from an HL7 FHIR R4 bundle: ``query --fhir`` (issue 14).

Each shipped example bundle gives the answer of its patient file; units convert exactly at
the thresholds; stale, conflicting and malformed records are handled (exit 2 naming the
file, the resource and the JSON path); bindings are checked when the guideline loads.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from guideproof.cli import cli

ROOT = Path(__file__).resolve().parent.parent
AF = ROOT / "guideline" / "af_anticoagulation.yaml"
FRACTURE = ROOT / "guideline" / "l1_l2_compression_fracture.yaml"
FHIR = ROOT / "guideline" / "examples" / "fhir"
VISIT = "2026-06-01"
BUNDLES = sorted(FHIR.rglob("*.json"))


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["query", *args], input=input)


def _plain(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


def _patient_of(bundle: Path) -> tuple[Path, Path]:
    if bundle.parent.name == "af":
        return AF, ROOT / "guideline" / "examples" / "af" / f"{bundle.stem}.yaml"
    return FRACTURE, ROOT / "guideline" / "examples" / f"{bundle.stem}.yaml"


def test_there_are_enough_example_bundles():
    assert len(list((FHIR / "af").glob("*.json"))) >= 3
    assert len(list((FHIR / "fracture").glob("*.json"))) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_bundle_gives_the_answer_of_its_patient_file(bundle):
    """The facts the record holds equal the patient file's; with the rest given by --set,
    the answer (text and JSON) is the patient file's answer, plus where each fact came from."""
    guideline, patient = _patient_of(bundle)
    facts = yaml.safe_load(patient.read_text())
    r = run("-g", str(guideline), "--fhir", str(bundle), "--at", VISIT, "--format", "json")
    assert r.exit_code in (0, 3), r.output
    prov = json.loads(r.stdout)["provenance"]
    from_record = {f["variable"]: f for f in prov["facts"] if f["from"] == "fhir"}
    assert len(from_record) >= 3, from_record
    from guideproof.model.loader import load_guideline
    from guideproof.model.patient import format_value, load_patient_file

    values = load_patient_file(load_guideline(guideline), patient).values
    for name, f in from_record.items():
        assert f["value"] == format_value(values[name]), name
    rest = [f"{n}={_plain(v)}" for n, v in facts.items() if n not in from_record]
    sets = [x for s in rest for x in ("--set", s)]
    for fmt in ("text", "json"):
        mine = run("-g", str(guideline), "--fhir", str(bundle), "--at", VISIT, *sets, "--format", fmt)
        theirs = run("-g", str(guideline), "-p", str(patient), "--format", fmt)
        assert mine.exit_code == theirs.exit_code == 0, mine.output
        if fmt == "json":
            doc = json.loads(mine.stdout)
            assert {f["variable"] for f in doc.pop("provenance")["facts"] if f["from"] == "fhir"} == set(from_record)
            assert doc == json.loads(theirs.stdout)
        else:
            head, _, tail = mine.stdout.partition("\nFACTS (record ")
            assert head.rstrip("\n") == theirs.stdout.rstrip("\n")
            assert all(f"{n} = " in tail for n in from_record)


# -- bundles built in the tests ----------------------------------------------------------------

def _obs(oid: str, code: str, value, unit: str, day: str = "2026-05-20", status: str = "final") -> dict:
    return {"resourceType": "Observation", "id": oid, "status": status,
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]}, "effectiveDateTime": day,
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}


def _cond(cid: str, code: str, clinical: str | None = "active", ver: str = "confirmed", system: str = "http://snomed.info/sct",
          onset: str | None = None) -> dict:
    r = {"resourceType": "Condition", "id": cid, "code": {"coding": [{"system": system, "code": code}]},
         "subject": {"reference": "Patient/p"},
         "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": ver}]}}
    if clinical:
        r["clinicalStatus"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": clinical}]}
    if onset:
        r["onsetDateTime"] = onset
    return r


PATIENT = {"resourceType": "Patient", "id": "p", "gender": "male", "birthDate": "1946-01-15"}  # 80 at the visit


def _bundle(tmp_path: Path, *resources: dict, raw: str | None = None) -> str:
    path = tmp_path / "bundle.json"
    if raw is not None:
        path.write_text(raw)
    else:
        # values written as JSON numbers exactly as given (Decimal-like strings stay numbers)
        text = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]})
        path.write_text(text)
    return str(path)


def _json(r) -> dict:
    assert r.exit_code in (0, 3), r.output
    return json.loads(r.stdout)


def _computed(doc: dict, name: str) -> str | None:
    for c in doc.get("computed", []):
        if c["name"] == name:
            return c["value"]
    return None


AF_REST = ["label_region=eu", "on_dialysis=false", "kidney_transplant=false", "heart_failure=false", "hypertension=true",
           "diabetes=false", "prior_stroke_tia_te=false", "prior_haemorrhagic_stroke=false", "vascular_disease=false",
           "hcm_or_amyloidosis=false", "mechanical_valve=false", "mod_severe_mitral_stenosis=false", "systolic_bp=130",
           "liver_disease=false", "bleeding_history=false", "on_vka=false", "antiplatelet_or_nsaid=false",
           "alcohol_units_week=2", "edoxaban_pgp_inhibitor=false", "strong_cyp3a4_pgp_inhibitor=false", "frail=false"]


def _af(tmp_path: Path, *resources: dict, fmt: str = "json"):
    sets = [x for s in AF_REST for x in ("--set", s)]
    return run("-g", str(AF), "--fhir", _bundle(tmp_path, *resources), "--at", VISIT, *sets, "--format", fmt)


@pytest.mark.parametrize(("umol", "crcl"), [("176.8", "30"), ("176.9", "53040/1769")])
def test_creatinine_in_umol_per_litre_gives_the_threshold_clearance_exactly(tmp_path, umol, crcl):
    """A man of 80 weighing 72 kg: CrCl = 60 * 72 / (72 * creatinine) = 60 / creatinine, which
    is exactly 30 mL/min at 2 mg/dL = 176.8 umol/L (88.4 umol/L per mg/dL, no rounding)."""
    raw = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": PATIENT}, {"resource": _obs("w", "29463-7", 72, "kg")},
        {"resource": _obs("cr", "14682-9", 0, "umol/L")}]}).replace('"value": 0', f'"value": {umol}')
    sets = [x for s in AF_REST for x in ("--set", s)]
    doc = _json(run("-g", str(AF), "--fhir", _bundle(tmp_path, raw=raw), "--at", VISIT, *sets, "--format", "json"))
    assert _computed(doc, "crcl") == crcl
    cr = next(f for f in doc["provenance"]["facts"] if f["variable"] == "creatinine_mg_dl")
    assert cr["resource"] == "Observation/cr" and f"{umol} umol/L = " in cr["note"]


def test_weight_in_pounds_converts_exactly(tmp_path):
    doc = _json(_af(tmp_path, PATIENT, _obs("w", "29463-7", 100, "[lb_av]"), _obs("cr", "2160-0", 1, "mg/dL")))
    assert doc["patient"]["weight_kg"] == "45.359237"


def test_a_value_written_as_text_is_not_a_fhir_decimal(tmp_path):
    r = _af(tmp_path, PATIENT, _obs("w", "29463-7", "72", "kg"))
    assert r.exit_code == 2 and "Bundle.entry[1].resource.valueQuantity.value (Observation/w)" in r.output, r.output


def test_a_unit_no_conversion_covers_is_an_error_naming_the_path(tmp_path):
    r = _af(tmp_path, PATIENT, _obs("w", "29463-7", 72, "kg"), _obs("cr2", "2160-0", 1, "mmol/L"))
    assert r.exit_code == 2, r.output
    assert "Bundle.entry[2].resource.valueQuantity.code (Observation/cr2)" in r.output
    assert "error[fhir-unit]" in r.output and "bundle.json" in r.output


@pytest.mark.slow
def test_stale_observations_are_not_used(tmp_path):
    r = _af(tmp_path, PATIENT, _obs("w", "29463-7", 72, "kg"), _obs("cr", "2160-0", 1, "mg/dL", day="2026-02-01"))
    doc = _json(r)
    assert "creatinine_mg_dl" not in doc["patient"]
    why = next(u["why"] for u in doc["provenance"]["unknown"] if u["variable"] == "creatinine_mg_dl")
    assert "stale" in why and "Observation/cr of 2026-02-01" in why


def test_the_latest_observation_wins_and_ties_that_agree_are_fine(tmp_path):
    doc = _json(_af(tmp_path, PATIENT, _obs("w", "29463-7", 72, "kg"), _obs("old", "2160-0", 3, "mg/dL", day="2026-05-01"),
                    _obs("new", "2160-0", 2, "mg/dL", day="2026-05-25"), _obs("same", "14682-9", 176.8, "umol/L", day="2026-05-25"),
                    _obs("prelim", "2160-0", 9, "mg/dL", day="2026-05-31", status="preliminary")))
    assert doc["patient"]["creatinine_mg_dl"] == "2"


def test_two_latest_observations_that_disagree_conflict(tmp_path):
    r = _af(tmp_path, PATIENT, _obs("w", "29463-7", 72, "kg"), _obs("a", "2160-0", 1, "mg/dL"), _obs("b", "2160-0", 2, "mg/dL"))
    assert r.exit_code == 2, r.output
    assert "error[fhir-conflict]" in r.output
    assert "Bundle.entry[3].resource.valueQuantity.value (Observation/b)" in r.output and "Observation/a" in r.output


def test_a_condition_both_active_and_resolved_conflicts(tmp_path):
    sets = [x for s in AF_REST if not s.startswith("hypertension") for x in ("--set", s)]
    path = _bundle(tmp_path, PATIENT, _cond("h1", "38341003"), _cond("h2", "38341003", clinical="resolved"))
    r = run("-g", str(AF), "--fhir", path, "--at", VISIT, *sets)
    assert r.exit_code == 2, r.output
    assert "Bundle.entry[2].resource.clinicalStatus (Condition/h2)" in r.output and "Condition/h1" in r.output


@pytest.mark.slow
def test_conditions_and_medications_true_false_and_unknown(tmp_path):
    med = {"resourceType": "MedicationRequest", "id": "rx", "status": "active", "intent": "order",
           "subject": {"reference": "Patient/p"}, "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": "B01AA03"}]}}
    path = _bundle(tmp_path, PATIENT, _cond("dm", "73211009", clinical=None, ver="refuted"), _cond("hf", "84114007", clinical="resolved"),
                   _cond("cva", "230690007", clinical="resolved"), med,
                   _cond("ich", "I61.9", clinical="resolved", system="http://hl7.org/fhir/sid/icd-10-cm"),
                   _cond("mi", "22298006", ver="refuted", clinical=None))
    doc = _json(run("-g", str(AF), "--fhir", path, "--at", VISIT, "--format", "json"))
    known = doc["patient"]
    assert known["diabetes"] is False and known["heart_failure"] is False and known["on_vka"] is True
    assert known["prior_stroke_tia_te"] is True  # a history: a resolved stroke counts
    assert known["prior_haemorrhagic_stroke"] is True  # ICD-10-CM I61.9 under the bound prefix I61
    assert "hypertension" in doc["unknown"] and "antiplatelet_or_nsaid" in doc["unknown"]
    assert "vascular_disease" in doc["unknown"]  # a refuted history is not a "no": other codes may apply


@pytest.mark.slow
def test_precedence_set_over_file_over_record(tmp_path):
    bundle = str(FHIR / "af" / "woman_score_2_consider.json")
    patient = tmp_path / "p.yaml"
    patient.write_text("age: 59\nweight_kg: 70\n")
    doc = _json(run("-g", str(AF), "--fhir", bundle, "--at", VISIT, "-p", str(patient), "--set", "age=61", "--format", "json"))
    facts = {f["variable"]: f for f in doc["provenance"]["facts"]}
    assert facts["age"]["from"] == "set" and facts["age"]["value"] == "61"
    assert facts["weight_kg"]["from"] == "patient file" and facts["weight_kg"]["overrides"] == "Observation/weight: 72"
    assert facts["female"]["from"] == "fhir"


@pytest.mark.slow
def test_at_sets_the_visit_date_for_ages_and_weeks_since(tmp_path):
    path = _bundle(tmp_path, PATIENT, _cond("f", "S32.010A", system="http://hl7.org/fhir/sid/icd-10-cm", onset="2026-05-04"))
    doc = _json(run("--fhir", path, "--at", "2026-06-01", "--format", "json"))
    assert doc["patient"]["age"] == 80 and doc["patient"]["weeks_since_fracture"] == 4 and doc["patient"]["fracture_levels"] == ["L1"]
    r = run("--fhir", path, "--at", "2026-05-01")
    assert r.exit_code == 2 and "Bundle.entry[1].resource.onsetDateTime (Condition/f)" in r.output


@pytest.mark.slow
def test_interactive_asks_what_the_record_does_not_hold():
    bundle = str(FHIR / "fracture" / "neurological_deficit.json")
    r = run("--fhir", bundle, "--at", VISIT, "--interactive", input="yes\n\n")
    assert r.exit_code in (0, 3), r.output
    assert "age = 58  <- Patient/p1" in r.stdout


def test_at_needs_fhir():
    r = run("--at", VISIT)
    assert r.exit_code == 2 and "--fhir" in r.output


@pytest.mark.parametrize(("raw", "expect"), [
    ("{not json", "not JSON"),
    ('{"resourceType": "Patient", "id": "p"}', "expected a FHIR Bundle, found 'Patient'"),
    ('[1, 2]', "expected a FHIR Bundle"),
    ('{"resourceType": "Bundle", "type": "collection", "entry": 5}', "Bundle.entry: expected a list of entries"),
    ('{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Observation", "id": "x",'
     ' "status": "final", "code": {"text": "c"}, "valueQuantity": {"value": NaN}}}]}', "NaN is not a JSON number"),
    ('{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Observation", "id": "x",'
     ' "code": {"text": "creatinine"}}}]}', "Bundle.entry[0].resource.status (Observation/x): not valid FHIR R4"),
    ('{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Observation", "id": "x",'
     ' "status": "final", "code": {"text": "c"}, "valueQuantity": {"value": "abc"}}}]}',
     "Bundle.entry[0].resource.valueQuantity.value (Observation/x)"),
    ('{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Frobnicate", "id": "x"}}]}',
     "Bundle.entry[0].resource.resourceType: 'Frobnicate' is not a FHIR resource type"),
    ('{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient", "id": "p",'
     ' "birthDate": "1950-13-45"}}]}', "Bundle.entry[0].resource.birthDate (Patient/p)"),
])
@pytest.mark.slow
def test_malformed_bundles_exit_2_with_the_json_path(tmp_path, raw, expect):
    r = run("--fhir", _bundle(tmp_path, raw=raw), "--at", VISIT)
    assert r.exit_code == 2, r.output
    assert expect in r.output and "bundle.json" in r.output
    assert "internal error" not in r.output


def test_values_the_variable_cannot_take_are_errors_all_reported(tmp_path):
    r = _af(tmp_path, PATIENT, _obs("w", "29463-7", 300, "kg"), _obs("cr", "2160-0", 1, "mg/dL"),
            _obs("bp", "8480-6", 130.5, "mm[Hg]"))
    assert r.exit_code == 2, r.output
    assert "Bundle.entry[1].resource.valueQuantity (Observation/w): weight_kg: weight_kg must be between 25 and 250 kg" in r.output
    assert "(Observation/bp): systolic_bp: systolic_bp is a whole number" in r.output
    assert r.output.count("error[fhir-value]") == 2


def test_a_missing_bundle_is_a_file_error(tmp_path):
    r = run("--fhir", str(tmp_path / "nowhere.json"))
    assert r.exit_code == 2 and "file-not-found" in r.output


# -- the bindings in the guideline language ------------------------------------------------------

MINI = ROOT / "tests" / "fixtures" / "mini.yaml"


@pytest.mark.parametrize(("binding", "code", "words"), [
    ("{rule: latest, resource: Observation, codes: {loinc: ['1-1']}, within: 9 days, unit: kg}", "wrong-type", "gives int or decimal values"),
    ("{rule: active, resource: Observation, codes: {snomed: ['1']}}", "wrong-type", "expected Condition or MedicationStatement"),
    ("{rule: active, resource: Condition, codes: {snowmed: ['1']}}", "wrong-type", "loinc, snomed"),
    ("{rule: active, resource: Condition}", "missing-key", "needs 'codes'"),
    ("{rule: active, resource: Condition, codes: {snomed: ['1']}, within: 9 days}", "unknown-key", "does not use 'within'"),
    ("{rule: active, resource: Condition, codes: {snomed: []}}", "wrong-type", "at least one code"),
    ("{rule: active, resource: Condition, codes: {snomed: ['1']}, absent: maybe}", "wrong-type", "absent: 'unknown' or a value"),
    ("{rule: active, resource: Condition, codes: {snomed: ['1']}, colour: red}", "unknown-key", "colour"),
    ("{rule: sometimes, resource: Condition}", "wrong-type", "latest, active, history, age, gender or since"),
])
def test_bindings_are_checked_with_their_position(tmp_path, binding, code, words):
    from guideproof.model.errors import InputError
    from guideproof.model.loader import load_guideline

    text = MINI.read_text()
    anchor = "{type: bool, question: 'Sick?'}"
    assert text.count(anchor) == 1
    path = tmp_path / "g.yaml"
    path.write_text(text.replace(anchor, "{type: bool, question: 'Sick?', fhir: " + binding + "}"))
    with pytest.raises(InputError) as e:
        load_guideline(path)
    d = e.value.diagnostics[0]
    assert d.code == code and words in d.message, str(e.value)
    assert d.span is not None and d.span.file.endswith("g.yaml") and d.span.line > 1


@pytest.mark.slow
def test_shipped_bindings_load_and_bind_what_the_record_holds():
    from guideproof.model.loader import load_guideline

    af = load_guideline(AF)
    bound = {n for n, v in af.variables.items() if v.fhir is not None}
    assert {"age", "female", "weight_kg", "creatinine_mg_dl", "systolic_bp", "hypertension", "diabetes", "heart_failure",
            "prior_stroke_tia_te", "on_vka", "antiplatelet_or_nsaid", "on_dialysis", "prior_haemorrhagic_stroke",
            "vascular_disease"} <= bound
    assert af.variables["creatinine_mg_dl"].fhir.convert == "creatinine"
    fr = load_guideline(FRACTURE)
    assert {n for n, v in fr.variables.items() if v.fhir is not None} == {
        "age", "fracture_levels", "weeks_since_fracture", "sex", "weight_kg", "serum_creatinine", "adjusted_calcium",
        "vitamin_d", "on_anticoagulant", "gi_bleed_or_ulcer_history"}
    assert fr.variables["serum_creatinine"].fhir.convert == "creatinine"
    assert fr.variables["adjusted_calcium"].fhir.convert == "calcium"
    # no code was found reliable for these, or no rule reads them: they stay questions
    for name in ("heart_failure", "current_bone_drug", "mri_done", "calcium_below_range"):
        assert fr.variables[name].fhir is None, name


def test_conversion_factors_are_exact():
    from fractions import Fraction

    from guideproof.model.units import convert

    assert convert(Fraction("176.8"), "umol/L", "mg/dL", "creatinine") == 2
    assert convert(Fraction(2), "mg/dL", "umol/L", "creatinine") == Fraction("176.8")
    assert convert(Fraction("2.5"), "mmol/L", "mg/dL", "calcium") == Fraction("10.0195")
    assert convert(Fraction(1), "[lb_av]", "kg", "mass") == Fraction("0.45359237")
    assert convert(Fraction(1), "mmol/L", "mg/dL", "creatinine") is None
    assert convert(Fraction(1), "g", "kg", "") is None


def test_absent_and_gender_to_enum_bindings(tmp_path):
    """``absent`` gives the value when no resource matches (shown as such); ``gender`` maps
    to an enum value and leaves an unmapped gender unknown."""
    text = MINI.read_text()
    text = text.replace("{type: bool, question: 'Sick?'}",
                        "{type: bool, question: 'Sick?', fhir: {rule: active, resource: Condition, codes: {snomed: ['1']}, absent: false}}")
    text = text.replace("{type: enum, values: [early, late], question: 'Stage?'}",
                        "{type: enum, values: [early, late], question: 'Stage?', fhir: {rule: gender, resource: Patient, map: {male: early}}}")
    g = tmp_path / "g.yaml"
    g.write_text(text)
    doc = _json(run("-g", str(g), "--fhir", _bundle(tmp_path, PATIENT), "--at", VISIT, "--format", "json"))
    facts = {f["variable"]: f for f in doc["provenance"]["facts"]}
    assert facts["sick"]["value"] == "false" and facts["sick"]["resource"] == "no matching resource"
    assert facts["stage"]["value"] == "early"
    doc = _json(run("-g", str(g), "--fhir", _bundle(tmp_path, {**PATIENT, "gender": "other"}), "--at", VISIT, "--format", "json"))
    assert "stage" in doc["unknown"]
    assert any(u["variable"] == "stage" and "'other' is not mapped" in u["why"] for u in doc["provenance"]["unknown"])


# -- the fracture guideline's safety facts (guideline/l1_l2_safety.yaml) -------------------------

FRACTURE_BUNDLE = FHIR / "fracture" / "on_anticoagulant.json"
#: every ATC code the overlay binds to on_anticoagulant: "no" needs each recorded as not taken
ANTICOAGULANT_CODES = ["B01AA", "B01AE", "B01AF", "B01AB04", "B01AB05", "B01AB10", "B01AX05"]


def _med(mid: str, code: str, status: str = "active") -> dict:
    return {"resourceType": "MedicationStatement", "id": mid, "status": status, "subject": {"reference": "Patient/p"},
            "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": code}]}}


def _fracture_rest(exclude: set[str]) -> list[str]:
    """--set arguments for the facts of the on_anticoagulant patient file the record does not give."""
    facts = yaml.safe_load((ROOT / "guideline" / "examples" / "on_anticoagulant.yaml").read_text())
    return [x for n, v in facts.items() if n not in exclude for x in ("--set", f"{n}={_plain(v)}")]


@pytest.mark.slow
def test_the_example_bundle_exercises_the_safety_bindings():
    """The bundle holds creatinine in umol/L, the adjusted calcium in mg/dL and apixaban; each is
    read and converted exactly."""
    doc = _json(run("--fhir", str(FRACTURE_BUNDLE), "--at", VISIT, "--format", "json"))
    facts = {f["variable"]: f for f in doc["provenance"]["facts"] if f["from"] == "fhir"}
    assert facts["serum_creatinine"]["value"] == "0.9" and "79.56 umol/L = 0.9 mg/dL" in facts["serum_creatinine"]["note"]
    assert facts["adjusted_calcium"]["value"] == "2.35" and "9.41833 mg/dL = 2.35 mmol/L" in facts["adjusted_calcium"]["note"]
    assert facts["on_anticoagulant"]["value"] == "true" and facts["on_anticoagulant"]["resource"] == "MedicationStatement/apixaban"
    assert facts["sex"]["value"] == "female" and facts["weight_kg"]["value"] == "64" and facts["vitamin_d"]["value"] == "62"


@pytest.mark.slow
def test_the_anticoagulant_in_the_record_changes_the_analgesia_answer(tmp_path):
    """Apixaban in the record bars the NSAID (breakthrough analgesia) and the nerve-root block;
    the same record with every bound anticoagulant recorded as not taken offers both."""
    bundle = json.loads(FRACTURE_BUNDLE.read_text())
    sets = _fracture_rest({"age", "fracture_levels", "weeks_since_fracture", "sex", "weight_kg", "serum_creatinine",
                           "adjusted_calcium", "vitamin_d", "on_anticoagulant"})
    on = _json(run("--fhir", str(FRACTURE_BUNDLE), "--at", VISIT, *sets, "--format", "json"))
    entries = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "MedicationStatement"]
    entries += [{"resource": _med(f"no-{c.lower()}", c, "not-taken")} for c in ANTICOAGULANT_CODES]
    off_path = tmp_path / "off.json"
    off_path.write_text(json.dumps({**bundle, "entry": entries}))
    off = _json(run("--fhir", str(off_path), "--at", VISIT, *sets, "--format", "json"))
    assert on["patient"]["on_anticoagulant"] is True and off["patient"]["on_anticoagulant"] is False
    ids = {name: {r["id"] for r in doc["recommendations"]} for name, doc in (("on", on), ("off", off))}
    assert "breakthrough_analgesia" not in ids["on"] and "opioid_breakthrough_no_nsaid" in ids["on"]
    assert "breakthrough_analgesia" in ids["off"] and "opioid_breakthrough_no_nsaid" not in ids["off"]
    assert "l2_nerve_root_block" not in ids["on"] and "l2_nerve_root_block" in ids["off"]
    # one class recorded as not taken is not a "no": the rest stay open, so the fact is asked
    partial = _bundle(tmp_path, PATIENT, _med("no-vka", "B01AA", "not-taken"))
    assert "on_anticoagulant" in _json(run("--fhir", partial, "--at", VISIT, "--format", "json"))["unknown"]


@pytest.mark.parametrize(("code", "known"), [("B01AF02", True), ("B01AE07", True), ("B01AB05", True), ("B01AX05", True),
                                             ("B01AB01", False), ("B01AB02", False), ("B01AC06", False)])
@pytest.mark.slow
def test_which_drugs_count_as_anticoagulants(tmp_path, code, known):
    """Apixaban, dabigatran, enoxaparin and fondaparinux count; heparin (B01AB01, where cannula
    flushes are classified too), antithrombin III and aspirin do not: the fact stays unknown."""
    doc = _json(run("--fhir", _bundle(tmp_path, PATIENT, _med("m", code)), "--at", VISIT, "--format", "json"))
    assert (doc["patient"].get("on_anticoagulant") is True) == known, doc["patient"]


@pytest.mark.slow
@pytest.mark.parametrize(("mg_dl", "mmol_l"), [("10.0195", "2.5"), ("10.4", "52000/20039"), ("10.42028", "2.6")])
def test_calcium_in_mg_per_dl_converts_exactly(tmp_path, mg_dl, mmol_l):
    """4.0078 mg/dL per mmol/L, no rounding: 10.42028 mg/dL is exactly 2.6 mmol/L (the upper
    limit of the reference range, the hypercalcaemia cut-off), and 10.4 mg/dL is the fraction
    52000/20039 mmol/L, not a rounded decimal."""
    raw = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": PATIENT}, {"resource": _obs("ca", "29265-6", 0, "mg/dL")}]}).replace('"value": 0', f'"value": {mg_dl}')
    doc = _json(run("--fhir", _bundle(tmp_path, raw=raw), "--at", VISIT, "--format", "json"))
    from fractions import Fraction

    assert Fraction(doc["patient"]["adjusted_calcium"]) == Fraction(mmol_l)
    fact = next(f for f in doc["provenance"]["facts"] if f["variable"] == "adjusted_calcium")
    assert fact["resource"] == "Observation/ca" and f"{mg_dl} mg/dL = " in fact["note"]


@pytest.mark.slow
def test_an_old_ulcer_counts_as_ulcer_history(tmp_path):
    """A history: a resolved duodenal ulcer (ICD-10-CM K26.x) makes it true; the record never
    makes it false."""
    icd = "http://hl7.org/fhir/sid/icd-10-cm"
    doc = _json(run("--fhir", _bundle(tmp_path, PATIENT, _cond("du", "K26.9", clinical="resolved", system=icd)),
                    "--at", VISIT, "--format", "json"))
    assert doc["patient"]["gi_bleed_or_ulcer_history"] is True
    doc = _json(run("--fhir", _bundle(tmp_path, PATIENT, _cond("du", "K26.9", clinical=None, ver="refuted", system=icd)),
                    "--at", VISIT, "--format", "json"))
    assert "gi_bleed_or_ulcer_history" in doc["unknown"]
