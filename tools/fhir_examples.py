"""Write the example FHIR R4 bundles of guideline/examples/fhir/ from the example patients.

Each bundle holds, for the example patient, the resources a health record would hold for
the variables the guideline binds (``fhir:``) at the visit date 2026-06-01: the Patient,
Observations, Conditions (present ones active, absent ones refuted) and medication
statements (taken: active; not taken: not-taken, coded with the ATC class or code bound). The tests check
that each bundle gives the answer of its patient file. Run: python tools/fhir_examples.py
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

VISIT = dt.date(2026, 6, 1)
LOINC, SNOMED, ATC = "http://loinc.org", "http://snomed.info/sct", "http://www.whocc.no/atc"
ICD10CM, UCUM = "http://hl7.org/fhir/sid/icd-10-cm", "http://unitsofmeasure.org"

#: the example patients given a bundle: (guideline folder, example, options)
EXAMPLES: list[tuple[str, str, dict[str, Any]]] = [
    # creatinine recorded in umol/L (1.3 mg/dL = 114.92 umol/L exactly), ibuprofen
    ("af", "elderly_low_weight_reduced_dose", {"creatinine_umol": True, "nsaid": "ibuprofen"}),
    # warfarin; systolic pressure inside a blood pressure panel
    ("af", "high_has_bled_still_oac", {"bp_panel": True}),
    ("af", "us_high_crcl_no_edoxaban", {}),
    ("af", "woman_score_2_consider", {}),
    ("fracture", "failed_conservative_3_months", {}),
    ("fracture", "persistent_past_8_weeks", {}),
    ("fracture", "neurological_deficit", {}),
    # apixaban; creatinine in umol/L (0.9 mg/dL = 79.56 umol/L) and the adjusted calcium in
    # mg/dL (2.35 mmol/L = 9.41833 mg/dL), both exact
    ("fracture", "on_anticoagulant", {"creatinine_umol": True, "calcium_mg": True, "anticoagulant": "apixaban"}),
]

#: concrete codes a record would carry (the bindings match classes and prefixes of them)
CONDITIONS = {"heart_failure": ("84114007", "Heart failure"), "hypertension": ("38341003", "Hypertensive disorder"),
              "diabetes": ("73211009", "Diabetes mellitus"), "prior_stroke_tia_te": ("230690007", "Cerebrovascular accident")}
#: ATC: warfarin B01AA03 and acetylsalicylic acid B01AC06 (WHO ATC, as listed by
#: rxreasoner.com); ibuprofen M01AE01 (public drug tables; WHOCC: plain ibuprofen is in M01A)
TAKEN = {"warfarin": ("B01AA03", "Warfarin"), "aspirin": ("B01AC06", "Acetylsalicylic acid"), "ibuprofen": ("M01AE01", "Ibuprofen")}
#: the fracture overlay's anticoagulant codes (guideline/l1_l2_safety.yaml cites them): apixaban
#: B01AF02 (WHOCC DDD alterations list), and each bound code recorded as not taken
ANTICOAGULANTS = {"apixaban": ("B01AF02", "Apixaban")}
ANTICOAGULANT_CODES = [("B01AA", "Vitamin K antagonists"), ("B01AE", "Direct thrombin inhibitors"),
                       ("B01AF", "Direct factor Xa inhibitors"), ("B01AB04", "Dalteparin"), ("B01AB05", "Enoxaparin"),
                       ("B01AB10", "Tinzaparin"), ("B01AX05", "Fondaparinux")]
NOT_TAKEN = {"on_vka": [("B01AA", "Vitamin K antagonists")],
             "antiplatelet_or_nsaid": [("B01AC", "Platelet aggregation inhibitors excl. heparin"),
                                       ("M01A", "Antiinflammatory and antirheumatic products, non-steroids"),
                                       ("N02BA", "Salicylic acid and derivatives")]}
#: ICD-10-CM wedge compression fracture of the vertebra, initial encounter (codelle.io)
LEVELS = {"L1": ("S32.010A", "Wedge compression fracture of first lumbar vertebra"),
          "L2": ("S32.020A", "Wedge compression fracture of second lumbar vertebra"),
          "L3": ("S32.030A", "Wedge compression fracture of third lumbar vertebra"),
          "L4": ("S32.040A", "Wedge compression fracture of fourth lumbar vertebra")}


def concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def status(kind: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/condition-{kind}", "code": code}]}


def bundle(folder: str, name: str, opts: dict[str, Any]) -> dict[str, Any]:
    patient = yaml.safe_load((ROOT / "guideline" / "examples" / (f"af/{name}.yaml" if folder == "af" else f"{name}.yaml")).read_text())
    subject = {"reference": "Patient/p1"}
    res: list[dict[str, Any]] = []
    pat: dict[str, Any] = {"resourceType": "Patient", "id": "p1", "birthDate": f"{VISIT.year - patient['age']}-01-15"}
    if "female" in patient:
        pat["gender"] = "female" if patient["female"] else "male"
    if "sex" in patient:
        pat["gender"] = patient["sex"]
    res.append(pat)
    day = (VISIT - dt.timedelta(days=12)).isoformat()

    def obs(oid: str, code: str, display: str, value: Any, unit: str) -> None:
        res.append({"resourceType": "Observation", "id": oid, "status": "final", "code": concept(LOINC, code, display),
                    "subject": subject, "effectiveDateTime": day,
                    "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}})

    if folder == "af":
        obs("weight", "29463-7", "Body weight", Decimal(str(patient["weight_kg"])), "kg")
        cr = Decimal(str(patient["creatinine_mg_dl"]))
        if opts.get("creatinine_umol"):
            obs("creatinine", "14682-9", "Creatinine [Moles/volume] in Serum or Plasma", cr * Decimal("88.4"), "umol/L")
        else:
            obs("creatinine", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", cr, "mg/dL")
        if opts.get("bp_panel"):
            res.append({"resourceType": "Observation", "id": "bp", "status": "final", "subject": subject, "effectiveDateTime": day,
                        "code": concept(LOINC, "85354-9", "Blood pressure panel with all children optional"),
                        "component": [{"code": concept(LOINC, "8480-6", "Systolic blood pressure"),
                                       "valueQuantity": {"value": patient["systolic_bp"], "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}},
                                      {"code": concept(LOINC, "8462-4", "Diastolic blood pressure"),
                                       "valueQuantity": {"value": 80, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}}]})
        else:
            obs("sbp", "8480-6", "Systolic blood pressure", patient["systolic_bp"], "mm[Hg]")
        for var, (code, display) in CONDITIONS.items():
            if var == "prior_stroke_tia_te":  # a history: only a past stroke is recorded
                if patient[var]:
                    res.append({"resourceType": "Condition", "id": "stroke", "subject": subject, "code": concept(SNOMED, code, display),
                                "clinicalStatus": status("clinical", "resolved"), "verificationStatus": status("ver-status", "confirmed"),
                                "onsetDateTime": "2023-03-02"})
                continue
            res.append({"resourceType": "Condition", "id": var.replace("_", "-"), "subject": subject,
                        "code": concept(SNOMED, code, display),
                        **({"clinicalStatus": status("clinical", "active"), "verificationStatus": status("ver-status", "confirmed")}
                           if patient[var] else {"verificationStatus": status("ver-status", "refuted")})})
        # ICD-10-CM Z99.2 Dependence on renal dialysis (Da Vinci Risk Adjustment IG example)
        res.append({"resourceType": "Condition", "id": "dialysis", "subject": subject,
                    "code": concept(ICD10CM, "Z99.2", "Dependence on renal dialysis"),
                    **({"clinicalStatus": status("clinical", "active"), "verificationStatus": status("ver-status", "confirmed")}
                       if patient["on_dialysis"] else {"verificationStatus": status("ver-status", "refuted")})})
        taken = {"on_vka": ["warfarin"] if patient["on_vka"] else [],
                 "antiplatelet_or_nsaid": [opts.get("nsaid", "aspirin")] if patient["antiplatelet_or_nsaid"] else []}
        for var, drugs in taken.items():
            for drug in drugs:
                code, display = TAKEN[drug]
                res.append({"resourceType": "MedicationStatement", "id": drug, "status": "active", "subject": subject,
                            "medicationCodeableConcept": concept(ATC, code, display)})
            if not drugs:
                for code, display in NOT_TAKEN[var]:
                    res.append({"resourceType": "MedicationStatement", "id": f"no-{code.lower()}", "status": "not-taken",
                                "subject": subject, "medicationCodeableConcept": concept(ATC, code, display)})
    else:
        onset = (VISIT - dt.timedelta(weeks=patient["weeks_since_fracture"], days=2)).isoformat()
        for level in patient["fracture_levels"]:
            code, display = LEVELS[level]
            res.append({"resourceType": "Condition", "id": f"fracture-{level.lower()}", "subject": subject,
                        "code": concept(ICD10CM, code, display), "clinicalStatus": status("clinical", "active"),
                        "verificationStatus": status("ver-status", "confirmed"), "onsetDateTime": onset})
        # the safety overlay's facts (LOINC codes as cited in guideline/l1_l2_safety.yaml)
        obs("weight", "29463-7", "Body weight", patient["weight_kg"], "kg")
        if "serum_creatinine" in patient:
            cr = Decimal(str(patient["serum_creatinine"]))
            if opts.get("creatinine_umol"):
                obs("creatinine", "14682-9", "Creatinine [Moles/volume] in Serum or Plasma", cr * Decimal("88.4"), "umol/L")
            else:
                obs("creatinine", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", cr, "mg/dL")
        if "adjusted_calcium" in patient:
            ca = Decimal(str(patient["adjusted_calcium"]))
            display = "Calcium [Moles/volume] corrected for albumin in Serum or Plasma"
            if opts.get("calcium_mg"):
                obs("calcium", "29265-6", display, ca * Decimal("4.0078"), "mg/dL")
            else:
                obs("calcium", "29265-6", display, ca, "mmol/L")
        if "vitamin_d" in patient:
            obs("vitamin-d", "14635-7", "25-hydroxyvitamin D3 [Moles/volume] in Serum or Plasma", patient["vitamin_d"], "nmol/L")
        if patient["on_anticoagulant"]:
            code, display = ANTICOAGULANTS[opts["anticoagulant"]]
            res.append({"resourceType": "MedicationStatement", "id": opts["anticoagulant"], "status": "active",
                        "subject": subject, "medicationCodeableConcept": concept(ATC, code, display)})
        else:
            for code, display in ANTICOAGULANT_CODES:
                res.append({"resourceType": "MedicationStatement", "id": f"no-{code.lower()}", "status": "not-taken",
                            "subject": subject, "medicationCodeableConcept": concept(ATC, code, display)})
    return {"resourceType": "Bundle", "id": name.replace("_", "-"), "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{r['resourceType'].lower()}-{r['id']}", "resource": r} for r in res]}


def main() -> None:
    for folder, name, opts in EXAMPLES:
        out = ROOT / "guideline" / "examples" / "fhir" / folder / f"{name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(bundle(folder, name, opts), indent=2, default=lambda d: json.loads(str(d))) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
