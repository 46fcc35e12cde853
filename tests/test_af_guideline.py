"""The atrial fibrillation anticoagulation guideline (guideline/af_anticoagulation.yaml).

Every scenario names the rule it checks and the reference numbers of the guideline's
sources (the numbering of docs/research/af_anticoagulation.md). Decimals are exact
fractions, as the evaluator reads them from a patient file.
"""
from __future__ import annotations

import json
from fractions import Fraction as F

import pytest
from click.testing import CliRunner

from guideproof.cli import cli
from guideproof.guideline import HERE
from guideproof.model.evaluate import eval_expr, run, violated_constraints
from guideproof.model.loader import load_guideline
from guideproof.model.patient import load_patient_file
from guideproof.model.report import answer
from guideproof.verify.checks import verify
from guideproof.verify.findings import Verdict
from conftest import load_text

AF = HERE / "af_anticoagulation.yaml"
AF_EXAMPLES = HERE / "examples" / "af"

DOSES = ["apixaban_5mg_bid", "apixaban_2_5mg_bid", "rivaroxaban_20mg_od", "rivaroxaban_15mg_od",
         "edoxaban_60mg_od", "edoxaban_30mg_od"]

#: a man of 70, 80 kg, creatinine 1.0 mg/dL, hypertension (CHA2DS2-VA 2), EU labels:
#: CrCl = 70 * 80 / 72 = 700/9 (about 77.8) mL/min
BASE = {
    "label_region": "eu", "age": 70, "female": False, "weight_kg": F(80), "creatinine_mg_dl": F(1),
    "on_dialysis": False, "kidney_transplant": False, "heart_failure": False, "hypertension": True,
    "diabetes": False, "prior_stroke_tia_te": False, "prior_haemorrhagic_stroke": False,
    "vascular_disease": False, "hcm_or_amyloidosis": False, "mechanical_valve": False,
    "mod_severe_mitral_stenosis": False, "systolic_bp": 130, "liver_disease": False,
    "bleeding_history": False, "on_vka": False, "ttr_percent": None, "antiplatelet_or_nsaid": False,
    "alcohol_units_week": 0, "edoxaban_pgp_inhibitor": False, "strong_cyp3a4_pgp_inhibitor": False,
    "frail": False,
}
#: no CHA2DS2-VA point at all (a man under 65)
NO_RISK = {"age": 60, "hypertension": False}


@pytest.fixture(scope="module")
def af():
    return load_guideline(AF)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def computed(g, patient) -> dict:
    return {d.name: v for d, v in answer(g, patient).computed()}


# -- the proof ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_every_obligation_is_proved(af):
    findings = verify(af)
    assert findings and all(f.verdict == Verdict.PROVED for f in findings), \
        [(f.code, f.subject, f.message) for f in findings if f.verdict != Verdict.PROVED]
    # the safety properties asked for are among the proved invariants
    invariants = {f.subject for f in findings if f.code == "GP006"}
    for name in ("no_doac_with_valve_disease", "high_bleeding_risk_never_removes_oac",
                 "va_threshold_equals_sex_specific_vasc", "apixaban_reduced_exactly_by_label",
                 "rivaroxaban_reduced_exactly_by_label", "edoxaban_by_label"):
        assert any(name in s for s in invariants), name


@pytest.mark.slow
def test_verify_command_exits_0():
    r = invoke("verify", "--brief", str(AF))
    assert r.exit_code == 0, r.output
    assert "PROVED: all" in r.output and "refuted" in r.output  # the table header
    last = r.output.strip().splitlines()[-1]
    assert last.startswith("PROVED: all ") and last.endswith(" obligations hold")


@pytest.mark.slow
def test_a_wrong_rivaroxaban_cut_off_is_refuted():
    """The dose invariants have teeth: EU rivaroxaban 15 mg at CrCl 15-49 (ref 10) moved to
    '< 49' is refuted with a witness at exactly CrCl 49."""
    text = AF.read_text()
    old = "(label_region == eu and crcl <= 49) or (label_region == us and crcl <= 50)\n"
    assert text.count(old) == 1
    mutated = text.replace(old, "(label_region == eu and crcl < 49) or (label_region == us and crcl <= 50)\n")
    g = load_text(mutated, "af_mutant.yaml")
    refuted = {f.subject for f in verify(g) if f.verdict == Verdict.REFUTED}
    assert any("rivaroxaban_reduced_exactly_by_label" in s for s in refuted), refuted


# -- the example patients ----------------------------------------------------------------------

EXPECTED = {
    "low_risk_no_oac": ("oac_not_indicated", ["no_antiplatelet_instead_of_oac"], ["doac_preferred", *DOSES]),
    "woman_score_2_consider": ("oac_consider", ["doac_preferred", "apixaban_5mg_bid", "rivaroxaban_20mg_od",
                                                 "edoxaban_60mg_od"], ["oac_recommended"]),
    "elderly_low_weight_reduced_dose": ("oac_recommended",
                                        ["apixaban_2_5mg_bid", "rivaroxaban_15mg_od", "edoxaban_30mg_od",
                                         "high_bleeding_risk_review", "review_antiplatelet_nsaid"],
                                        ["apixaban_5mg_bid", "rivaroxaban_20mg_od", "edoxaban_60mg_od"]),
    "mechanical_valve_vka": ("vka_for_valve_disease", ["no_doac_valve_disease", "assess_modifiable_bleeding_risk"],
                             ["doac_preferred", "oac_consider", *DOSES]),
    "high_has_bled_still_oac": ("oac_recommended",
                                ["doac_preferred", "high_bleeding_risk_review", "control_blood_pressure",
                                 "reduce_alcohol", "review_vka_control", "apixaban_5mg_bid"],
                                ["oac_not_indicated"]),
    "us_high_crcl_no_edoxaban": ("oac_recommended", ["edoxaban_not_above_crcl_95", "apixaban_5mg_bid",
                                                     "rivaroxaban_20mg_od"],
                                 ["edoxaban_60mg_od", "edoxaban_30mg_od"]),
    "dialysis_no_encoded_dose": ("oac_recommended", ["doac_severe_renal_impairment"], DOSES),
}


def test_every_example_is_expected():
    assert sorted(p.stem for p in AF_EXAMPLES.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_patient(af, name):
    path = AF_EXAMPLES / f"{name}.yaml"
    assert path.read_text().startswith("# "), "each example names its case in a comment line"
    pathway, must, must_not = EXPECTED[name]
    p = load_patient_file(af, path).values
    assert violated_constraints(af, p) == []
    applies = run(af, p).applies
    assert [r for r in af.dispositions if r in applies] == [pathway]
    assert [r for r in must if r not in applies] == []
    assert [r for r in must_not if r in applies] == []
    r = invoke("query", "-g", str(AF), "-p", str(path))
    assert r.exit_code == 0, r.output
    assert f"Pathway: {af.recommendations[pathway].short}" in r.output


def test_distinct_pathways():
    assert len({v[0] for v in EXPECTED.values()}) == 4  # every disposition has an example


# -- scenarios: one rule each, with its references ---------------------------------------------

SCENARIOS = [
    # stroke risk thresholds (refs 3, 4, 5, 6)
    ("man-vasc-0-no-oac", "CHA2DS2-VASc 0 in a man: no antithrombotic therapy (ESC 2020 I A; refs 3, 6)",
     NO_RISK, ["oac_not_indicated", "no_antiplatelet_instead_of_oac"], ["oac_consider", "doac_preferred"]),
    ("man-vasc-1-consider", "CHA2DS2-VASc 1 in a man: OAC should be considered (IIa / 2a; refs 3, 4, 5, 6)",
     {**NO_RISK, "diabetes": True}, ["oac_consider", "doac_preferred"], ["oac_recommended"]),
    ("man-vasc-2-recommend", "CHA2DS2-VASc 2 in a man: OAC recommended (I A / 1 A; refs 3, 4, 5)",
     {**NO_RISK, "diabetes": True, "vascular_disease": True}, ["oac_recommended"], ["oac_consider"]),
    ("woman-vasc-1-no-oac", "CHA2DS2-VASc 1 in a woman (sex only): no OAC (ESC 2020 I A, NICE; refs 3, 6)",
     {**NO_RISK, "female": True}, ["oac_not_indicated"], ["oac_consider"]),
    ("woman-vasc-2-consider", "CHA2DS2-VASc 2 in a woman = CHA2DS2-VA 1: consider (refs 3, 4, 5)",
     {**NO_RISK, "female": True, "heart_failure": True}, ["oac_consider"], ["oac_recommended"]),
    ("woman-vasc-3-recommend", "CHA2DS2-VASc 3 in a woman = CHA2DS2-VA 2: recommended (refs 3, 4, 5)",
     {**NO_RISK, "female": True, "heart_failure": True, "hypertension": True}, ["oac_recommended"], []),
    ("age-64-no-point", "Age 64 scores 0 in CHA2DS2-VA (refs 1, 19)",
     {**NO_RISK, "age": 64}, ["oac_not_indicated"], ["oac_consider"]),
    ("age-65-one-point", "Age 65-74 scores 1: consider OAC (refs 1, 3, 4)",
     {**NO_RISK, "age": 65}, ["oac_consider"], ["oac_not_indicated"]),
    ("age-74-one-point", "Age 74 still scores 1 (refs 1, 19)",
     {**NO_RISK, "age": 74}, ["oac_consider"], ["oac_recommended"]),
    ("age-75-two-points", "Age 75 or more scores 2: OAC recommended (refs 1, 3, 4)",
     {**NO_RISK, "age": 75}, ["oac_recommended"], ["oac_consider"]),
    ("prior-stroke-two-points", "Prior stroke/TIA/thromboembolism scores 2 (refs 1, 4)",
     {**NO_RISK, "prior_stroke_tia_te": True}, ["oac_recommended"], []),
    ("hcm-regardless-of-score", "HCM or cardiac amyloidosis: OAC regardless of CHA2DS2-VA (ESC 2024 I B; refs 4, 18)",
     {**NO_RISK, "hcm_or_amyloidosis": True}, ["oac_recommended"], ["oac_not_indicated"]),
    # valve disease (refs 4, 5, 14)
    ("mitral-stenosis-vka", "Moderate-severe mitral stenosis: VKA, not DOAC, whatever the score (1 B-R; refs 4, 5)",
     {"mod_severe_mitral_stenosis": True, "age": 80}, ["vka_for_valve_disease", "no_doac_valve_disease"],
     ["oac_recommended", "doac_preferred", *DOSES]),
    # bleeding risk never withholds OAC (refs 3, 4, 5)
    ("has-bled-5-still-oac", "HAS-BLED 3 or more: review, never withhold OAC (ESC 2024 III B; refs 3, 4, 5)",
     {"systolic_bp": 170, "bleeding_history": True, "liver_disease": True, "antiplatelet_or_nsaid": True},
     ["oac_recommended", "doac_preferred", "high_bleeding_risk_review", "control_blood_pressure",
      "review_antiplatelet_nsaid", "apixaban_5mg_bid"], ["oac_not_indicated"]),
    ("sbp-160-not-uncontrolled", "HAS-BLED H is systolic above 160 (refs 19, 18)",
     {"systolic_bp": 160}, [], ["control_blood_pressure"]),
    ("sbp-161-uncontrolled", "HAS-BLED H: systolic 161 is uncontrolled (refs 19, 4)",
     {"systolic_bp": 161}, ["control_blood_pressure"], []),
    ("alcohol-7-units", "HAS-BLED alcohol item at 8 units a week or more (ref 19)",
     {"alcohol_units_week": 7}, [], ["reduce_alcohol"]),
    ("alcohol-8-units", "HAS-BLED alcohol item at 8 units a week (ref 19)",
     {"alcohol_units_week": 8}, ["reduce_alcohol"], []),
    # apixaban (refs 7, 8): age 80 and weight <= 60; CrCl = 60 * 60 / 72 = 50
    ("apixaban-age-80-weight-60", "Apixaban 2.5 mg: age >= 80 and weight <= 60 kg (refs 7, 8)",
     {"age": 80, "weight_kg": F(60)}, ["apixaban_2_5mg_bid"], ["apixaban_5mg_bid"]),
    ("apixaban-weight-60.1", "Apixaban: weight 60.1 kg is not <= 60, one criterion only: 5 mg (refs 7, 8)",
     {"age": 80, "weight_kg": F("60.1")}, ["apixaban_5mg_bid"], ["apixaban_2_5mg_bid"]),
    ("apixaban-age-79", "Apixaban: age 79 is not >= 80: 5 mg (refs 7, 8)",
     {"age": 79, "weight_kg": F(60)}, ["apixaban_5mg_bid"], ["apixaban_2_5mg_bid"]),
    ("apixaban-creatinine-1.5", "Apixaban 2.5 mg: age >= 80 and creatinine >= 1.5 mg/dL (refs 7, 8)",
     {"age": 80, "weight_kg": F(70), "creatinine_mg_dl": F("1.5")}, ["apixaban_2_5mg_bid"], ["apixaban_5mg_bid"]),
    ("apixaban-creatinine-1.49", "Apixaban: creatinine 1.49 is below 1.5 mg/dL: 5 mg (refs 7, 8)",
     {"age": 80, "weight_kg": F(70), "creatinine_mg_dl": F("1.49")}, ["apixaban_5mg_bid"], ["apixaban_2_5mg_bid"]),
    # woman of 79, 62 kg, creatinine 1.49: no criterion, CrCl = 61*62*0.85/(72*1.49) just below 30
    ("apixaban-eu-crcl-below-30", "EU apixaban 2.5 mg at CrCl 15-29 alone (ref 7)",
     {"age": 79, "female": True, "weight_kg": F(62), "creatinine_mg_dl": F("1.49")},
     ["apixaban_2_5mg_bid", "rivaroxaban_15mg_od", "edoxaban_30mg_od"], ["apixaban_5mg_bid"]),
    ("apixaban-us-crcl-below-30", "US apixaban: no reduction for renal impairment alone (ref 8)",
     {"label_region": "us", "age": 79, "female": True, "weight_kg": F(62), "creatinine_mg_dl": F("1.49")},
     ["apixaban_5mg_bid"], ["apixaban_2_5mg_bid"]),
    ("apixaban-us-strong-inhibitor", "US apixaban 2.5 mg with a strong dual CYP3A4/P-gp inhibitor (ref 8, secondary)",
     {"label_region": "us", "strong_cyp3a4_pgp_inhibitor": True}, ["apixaban_2_5mg_bid"], ["apixaban_5mg_bid"]),
    # rivaroxaban (refs 9, 10): man of 76, 72 kg, creatinine 1.28: CrCl = 64 * 72 / (72 * 1.28) = 50
    ("rivaroxaban-crcl-50-eu", "EU rivaroxaban 20 mg above CrCl 49: 50 gives 20 mg (ref 10)",
     {"age": 76, "weight_kg": F(72), "creatinine_mg_dl": F("1.28")}, ["rivaroxaban_20mg_od"], ["rivaroxaban_15mg_od"]),
    ("rivaroxaban-crcl-50-us", "US rivaroxaban 15 mg at CrCl <= 50 (ref 9)",
     {"label_region": "us", "age": 76, "weight_kg": F(72), "creatinine_mg_dl": F("1.28")},
     ["rivaroxaban_15mg_od"], ["rivaroxaban_20mg_od"]),
    # man of 70, creatinine 1.0: CrCl = 70 * w / 72; w = 50.4 gives exactly 49
    ("rivaroxaban-crcl-49-eu", "EU rivaroxaban 15 mg at CrCl 15-49: exactly 49 (ref 10)",
     {"weight_kg": F("50.4")}, ["rivaroxaban_15mg_od"], ["rivaroxaban_20mg_od"]),
    ("rivaroxaban-crcl-49.01-eu", "EU rivaroxaban 20 mg just above CrCl 49 (ref 10)",
     {"weight_kg": F("50.41")}, ["rivaroxaban_20mg_od"], ["rivaroxaban_15mg_od"]),
    # edoxaban (refs 11, 12): man of 68, creatinine 1.0: CrCl = weight
    ("edoxaban-us-crcl-95", "US edoxaban allowed at CrCl 95 (not above; ref 11)",
     {"label_region": "us", "age": 68, "weight_kg": F(95)}, ["edoxaban_60mg_od"], ["edoxaban_not_above_crcl_95"]),
    ("edoxaban-us-crcl-95.1", "US edoxaban not used at CrCl above 95 (boxed warning; ref 11)",
     {"label_region": "us", "age": 68, "weight_kg": F("95.1")}, ["edoxaban_not_above_crcl_95"],
     ["edoxaban_60mg_od", "edoxaban_30mg_od"]),
    ("edoxaban-eu-crcl-95.1", "EU edoxaban: no upper CrCl limit found in the EU text (ref 12)",
     {"age": 68, "weight_kg": F("95.1")}, ["edoxaban_60mg_od"], ["edoxaban_not_above_crcl_95"]),
    ("edoxaban-eu-weight-60", "EU edoxaban 30 mg at weight <= 60 kg (ref 12)",
     {"age": 68, "weight_kg": F(60)}, ["edoxaban_30mg_od"], ["edoxaban_60mg_od"]),
    ("edoxaban-eu-weight-60.1", "EU edoxaban 60 mg at weight 60.1 kg (ref 12)",
     {"age": 68, "weight_kg": F("60.1")}, ["edoxaban_60mg_od"], ["edoxaban_30mg_od"]),
    ("edoxaban-us-weight-60", "US edoxaban: weight reduces the dose only for VTE, not AF (ref 11)",
     {"label_region": "us", "age": 68, "weight_kg": F(60)}, ["edoxaban_60mg_od"], ["edoxaban_30mg_od"]),
    ("edoxaban-crcl-50", "Edoxaban 30 mg at CrCl 15-50: exactly 50 (refs 11, 12)",
     {"label_region": "us", "age": 68, "weight_kg": F(50)}, ["edoxaban_30mg_od"], ["edoxaban_60mg_od"]),
    ("edoxaban-eu-pgp-inhibitor", "EU edoxaban 30 mg with ciclosporin/dronedarone/erythromycin/ketoconazole (ref 12)",
     {"edoxaban_pgp_inhibitor": True}, ["edoxaban_30mg_od"], ["edoxaban_60mg_od"]),
    # severe renal impairment (refs 7, 9, 10, 11): man of 68, 45 kg: CrCl = 45 / creatinine
    ("crcl-15-dosed", "CrCl exactly 15: label doses still apply (refs 7, 10, 11)",
     {"age": 68, "weight_kg": F(45), "creatinine_mg_dl": F(3)},
     ["apixaban_2_5mg_bid", "rivaroxaban_15mg_od", "edoxaban_30mg_od"], ["doac_severe_renal_impairment"]),
    ("crcl-below-15-no-dose", "CrCl below 15: no encoded DOAC dose (refs 7, 9, 10, 11)",
     {"age": 68, "weight_kg": F(45), "creatinine_mg_dl": F("3.01")}, ["doac_severe_renal_impairment", "oac_recommended"],
     DOSES),
    ("dialysis-no-dose", "EU apixaban not recommended on dialysis (ref 7)",
     {"on_dialysis": True}, ["doac_severe_renal_impairment"], DOSES),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_scenario(af, scenario):
    _name, statement, overrides, must, must_not = scenario
    p = {**BASE, **overrides}
    assert violated_constraints(af, p) == []
    assert [r for r in must + must_not if r not in af.recommendations] == []
    applies = run(af, p).applies
    assert ([r for r in must if r not in applies], [r for r in must_not if r in applies]) == ([], []), statement
    assert len([r for r in af.dispositions if r in applies]) == 1


def test_enough_scenarios():
    assert len(SCENARIOS) >= 10


def test_ttr_without_vka_is_refused(af):
    """The TTR is measured only on a VKA (refs 2, 3, 19)."""
    assert violated_constraints(af, {**BASE, "ttr_percent": 70}) == ["ttr_needs_vka"]
    assert violated_constraints(af, {**BASE, "on_vka": True, "ttr_percent": 70}) == []


@pytest.mark.parametrize("ttr,labile", [(None, False), (59, True), (60, False), (85, False)])
def test_labile_inr_is_a_measured_ttr_below_60(af, ttr, labile):
    """HAS-BLED's labile INR item (refs 2, 3, 19) scores only with a measured TTR below 60%."""
    from guideproof.model import expr as X

    p = {**BASE, "on_vka": True, "ttr_percent": ttr}
    assert eval_expr(X.DefRef("labile_inr"), p, af) is labile
    base = eval_expr(X.DefRef("has_bled"), {**p, "ttr_percent": None}, af)
    assert eval_expr(X.DefRef("has_bled"), p, af) == base + labile


# -- computed values against hand computation ---------------------------------------------------

def test_cockcroft_gault_woman(af):
    """CrCl = (140 - age) * weight * 0.85 / (72 * creatinine) (refs 11, 16): woman 84, 55 kg, 1.3 mg/dL."""
    v = computed(af, {**BASE, "age": 84, "female": True, "weight_kg": F(55), "creatinine_mg_dl": F("1.3")})
    assert v["crcl"] == F(56 * 55) * F("0.85") / (72 * F("1.3")) == F(6545, 234)
    # EHRA: CrCl <= 60 -> every CrCl/10 months (refs 17, 7)
    assert v["doac_lab_interval"] == F(6545, 2340)
    assert v["creatinine_umol_l"] == F("1.3") * F("88.4") == F("114.92")


def test_cockcroft_gault_man(af):
    """No sex factor for men (refs 11, 16): 70 y, 80 kg, 1.0 mg/dL -> 700/9 mL/min."""
    v = computed(af, BASE)
    assert v["crcl"] == F(700, 9)
    assert v["doac_lab_interval"] == 12


def test_lab_interval_at_75(af):
    """EHRA: every 6 months at 75 or older (refs 17, 7)."""
    v = computed(af, {**BASE, "age": 75, "weight_kg": F(100)})  # CrCl = 65 * 100 / 72 > 60
    assert v["crcl"] == F(6500, 72)
    assert v["doac_lab_interval"] == 6


def test_scores(af):
    """CHA2DS2-VASc and CHA2DS2-VA (refs 1, 4, 20) and HAS-BLED (refs 2, 19) by hand."""
    p = {**BASE, "age": 84, "female": True, "prior_stroke_tia_te": True, "diabetes": True,
         "antiplatelet_or_nsaid": True, "systolic_bp": 170, "alcohol_units_week": 8}
    v = computed(af, p)
    # H 1 + D 1 + A2 2 + S2 2 (+ Sc 1)
    assert (v["cha2ds2_va"], v["cha2ds2_vasc"]) == (6, 7)
    # H (SBP 170) + S + E (>65) + D drugs + D alcohol
    assert v["has_bled"] == 5


def test_scores_maximum(af):
    """CHA2DS2-VASc reaches 9, CHA2DS2-VA 8 and HAS-BLED 9 (refs 1, 2, 20)."""
    p = {**BASE, "age": 80, "female": True, "heart_failure": True, "diabetes": True,
         "prior_stroke_tia_te": True, "vascular_disease": True, "systolic_bp": 200, "on_dialysis": True,
         "liver_disease": True, "bleeding_history": True, "on_vka": True, "ttr_percent": 52,
         "antiplatelet_or_nsaid": True, "alcohol_units_week": 20}
    v = computed(af, p)
    assert (v["cha2ds2_va"], v["cha2ds2_vasc"], v["has_bled"]) == (8, 9, 9)


@pytest.mark.parametrize("creatinine,points", [("2.26", 0), ("2.27", 1)])
def test_has_bled_renal_creatinine(af, creatinine, points):
    """HAS-BLED abnormal renal function at creatinine >= 200 micromol/L (refs 2, 19; 88.4 ref 16):
    2.26 mg/dL = 199.784, 2.27 mg/dL = 200.668 micromol/L."""
    v = computed(af, {**BASE, "age": 60, "creatinine_mg_dl": F(creatinine)})
    assert v["creatinine_umol_l"] == F(creatinine) * F("88.4")
    assert v["has_bled"] == points


@pytest.mark.parametrize("age,points", [(65, 0), (66, 1)])
def test_has_bled_elderly(af, age, points):
    """HAS-BLED E is age above 65 (refs 18, 19)."""
    assert computed(af, {**BASE, "age": age})["has_bled"] == points


def test_query_shows_computed_values():
    """The answer prints each computed value exactly (refs 11, 16)."""
    r = invoke("query", "-g", str(AF), "-p", str(AF_EXAMPLES / "elderly_low_weight_reduced_dose.yaml"))
    assert r.exit_code == 0, r.output
    assert "crcl = 6545/234 (about 27.9701) mL/min" in r.output
    assert "cha2ds2_vasc = 6 points" in r.output and "cha2ds2_va = 5 points" in r.output
    assert "has_bled = 3 points" in r.output


# -- JSON with exact decimals ----------------------------------------------------------------

def test_query_json_keeps_decimals_exact():
    """Decimal facts, reasons and computed values are JSON text of the exact value."""
    r = CliRunner().invoke(cli, ["query", "-g", str(AF), "-p", str(AF_EXAMPLES / "elderly_low_weight_reduced_dose.yaml"),
                                 "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    computed = {c["name"]: c for c in doc["computed"]}
    assert computed["crcl"]["value"] == "6545/234" and computed["crcl"]["shown"] == "6545/234 (about 27.9701)"
    assert computed["has_bled"]["value"] == 3
    assert doc["patient"]["weight_kg"] == "55"
    facts = [f for rec in doc["recommendations"] for reason in rec["because"] for f in reason["facts"].values()]
    assert "1.3" in facts


def test_variables_json_with_decimal_bounds():
    r = CliRunner().invoke(cli, ["variables", "-g", str(AF), "--format", "json"])
    assert r.exit_code == 0
    weight = next(v for v in json.loads(r.stdout)["variables"] if v["name"] == "weight_kg")
    assert weight["type"] == "decimal" and isinstance(weight["min"], str)
