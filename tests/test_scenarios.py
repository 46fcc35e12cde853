"""Clinical scenarios: each patient checks one statement of the source text.

Every case names the statement (in brief, with the source's reference numbers) and lists
recommendations that must and must not apply.
"""
from __future__ import annotations

from fractions import Fraction

import pytest

from guideproof.model.evaluate import run, violated_constraints

BASE = {
    "age": 70, "fracture_levels": frozenset({"L1"}), "weeks_since_fracture": 2,
    "weeks_conservative_care": 2, "neuro_deficit": False, "spinal_instability": False,
    "cord_compression": False, "deformity": "none", "kyphosis_progressing": False,
    "malignancy_suspected": False, "mri_contraindicated": False, "imaged": False,
    "weeks_since_imaging": 0, "pain": "moderate", "symptom_course": "persistent",
    "symptoms_changed": False, "pulmonary_dysfunction": False,
    "analgesic_contraindication": False, "parenteral_opioids_needed": False,
    # the safety overlay's facts (guideline/l1_l2_safety.yaml): none of its limits applies
    "sex": "female", "weight_kg": 64, "serum_creatinine": Fraction("0.9"),
    "adjusted_calcium": Fraction("2.35"), "calcium_below_range": False, "vitamin_d": 62,
    "on_anticoagulant": False, "gi_bleed_or_ulcer_history": False, "heart_failure": "none",
    "oesophageal_disorder": False, "upright_minutes": 120, "current_bone_drug": "none",
    "mri_done": False,
}

SCENARIOS = [
    ("uncomplicated-acute",
     "Begin with conservative management for at least 3 months [1,2]; MRI without contrast [1]",
     {}, ["conservative_care_first", "mri_without_contrast", "calcitonin_first_4_weeks",
          "early_mobilisation_physiotherapy", "calcium_vitamin_d", "osteoporosis_pharmacotherapy",
          "reassess_4_6_weeks", "avoid_prolonged_bed_rest"],
     ["urgent_surgical_referral", "consider_early_augmentation", "ct_spine", "continue_review"]),
    ("neurological-deficit",
     "Any neurological deficit requires immediate surgical referral [1,2]",
     {"neuro_deficit": True}, ["urgent_surgical_referral", "calcium_vitamin_d"],
     ["conservative_care_first", "bracing_at_discretion", "early_mobilisation_physiotherapy"]),
    ("spinal-instability", "Evidence of spinal instability: immediate surgical referral [1,2]",
     {"spinal_instability": True}, ["urgent_surgical_referral"], ["conservative_care_first"]),
    ("cord-compression", "Spinal cord compression: immediate surgical referral [3]",
     {"cord_compression": True}, ["urgent_surgical_referral"], ["consider_early_augmentation"]),
    ("progressive-deformity-surgery-wins",
     "Significant deformity or progressive kyphosis: surgical referral [1,2] (not earlier augmentation [1,2,3])",
     {"deformity": "mild", "kyphosis_progressing": True}, ["urgent_surgical_referral"],
     ["consider_early_augmentation", "conservative_care_first"]),
    ("suspected-malignancy",
     "Risk factors for malignancy: complete spine MRI with and without contrast, consider biopsy [1,2]",
     {"malignancy_suspected": True}, ["mri_whole_spine_with_and_without_contrast", "consider_biopsy"],
     ["mri_without_contrast", "ct_spine"]),
    ("mri-contraindicated", "CT if MRI is contraindicated [1]",
     {"mri_contraindicated": True}, ["ct_spine"], ["mri_without_contrast", "mri_whole_spine_with_and_without_contrast"]),
    ("malignancy-and-no-mri", "Pathologic work-up falls back to CT when MRI is contraindicated [1,2]",
     {"mri_contraindicated": True, "malignancy_suspected": True}, ["ct_spine", "consider_biopsy"],
     ["mri_whole_spine_with_and_without_contrast", "mri_without_contrast"]),
    ("calcitonin-window-closed", "Calcitonin for the first 4 weeks only [1,2,3]",
     {"weeks_since_fracture": 5, "weeks_conservative_care": 5}, ["breakthrough_analgesia", "reassess_4_6_weeks"],
     ["calcitonin_first_4_weeks"]),
    ("calcitonin-last-day", "Calcitonin for the first 4 weeks, inclusive at week 4 [1,2,3]",
     {"weeks_since_fracture": 4, "weeks_conservative_care": 4}, ["calcitonin_first_4_weeks"], []),
    ("elderly-opioid-caution", "Caution with opioids in elderly patients [2]",
     {"age": 65}, ["opioid_caution_elderly", "breakthrough_analgesia"], []),
    ("younger-no-opioid-caution", "Opioid caution is for elderly patients [2]",
     {"age": 64}, ["breakthrough_analgesia"], ["opioid_caution_elderly"]),
    ("persistent-beyond-8-weeks", "Symptoms persisting beyond 8 weeks: additional imaging [1,2]",
     {"weeks_since_fracture": 9, "weeks_conservative_care": 9, "imaged": True, "mri_done": True, "weeks_since_imaging": 8},
     ["reimage_persistent_symptoms", "pain_management_referral", "continue_review"],
     ["no_new_imaging", "reassess_4_6_weeks"]),
    ("exactly-8-weeks", "Re-imaging only beyond 8 weeks [1,2]",
     {"weeks_since_fracture": 8, "weeks_conservative_care": 8, "imaged": True, "mri_done": True, "weeks_since_imaging": 8},
     ["no_new_imaging"], ["reimage_persistent_symptoms"]),
    ("changed-symptoms", "New MRI if symptoms change [2]",
     {"imaged": True, "mri_done": True, "weeks_since_imaging": 1, "symptoms_changed": True, "symptom_course": "improving"},
     ["reimage_new_mri", "mri_without_contrast"], ["no_new_imaging"]),
    ("stale-imaging", "New MRI if imaging is more than 3 months old [2]",
     {"weeks_since_fracture": 20, "weeks_conservative_care": 20, "imaged": True, "mri_done": True, "weeks_since_imaging": 14,
      "symptom_course": "improving", "pain": "mild"},
     ["reimage_new_mri"], ["no_new_imaging"]),
    ("failed-conservative-3-months",
     "Conservative care failing after 3 months with severe pain: vertebral augmentation, IR referral [1,2,3]",
     {"weeks_since_fracture": 13, "weeks_conservative_care": 13, "imaged": True, "mri_done": True, "weeks_since_imaging": 4,
      "pain": "severe"},
     ["augmentation_after_failed_conservative_care", "interventional_radiology_referral"],
     ["conservative_care_first", "consider_early_augmentation"]),
    ("twelve-weeks-not-yet", "Augmentation for failed care only after 3 months [1,2,3]",
     {"weeks_since_fracture": 12, "weeks_conservative_care": 12, "imaged": True, "mri_done": True, "weeks_since_imaging": 4,
      "pain": "severe"},
     ["conservative_care_first"], ["augmentation_after_failed_conservative_care"]),
    ("worsening-early-intervention", "Worsening symptoms despite medications: earlier intervention [1,2,3]",
     {"symptom_course": "worsening"}, ["consider_early_augmentation", "interventional_radiology_referral"],
     ["conservative_care_first"]),
    ("parenteral-narcotics", "Requirement for parenteral narcotics: earlier intervention [2]",
     {"parenteral_opioids_needed": True}, ["consider_early_augmentation"], ["conservative_care_first"]),
    ("nerve-root-block", "L2 nerve root block for L3/L4 fracture, acute injury, persistent pain [4]",
     {"fracture_levels": frozenset({"L2", "L3"}), "weeks_since_fracture": 3, "weeks_conservative_care": 3},
     ["l2_nerve_root_block"], ["pain_management_referral"]),
    ("no-nerve-block-without-l3-l4", "The L2 nerve root block rule is for L3 or L4 fractures [4]",
     {"fracture_levels": frozenset({"L1", "L2"})}, [], ["l2_nerve_root_block"]),
    ("bracing-at-discretion", "Bracing at the physician's discretion for neurologically intact patients [4]",
     {}, ["bracing_at_discretion", "conservative_care_first"], []),
    ("bracing-while-awaiting-augmentation",
     "Bracing at the physician's discretion for neurologically intact patients [4], whatever the pathway",
     {"pulmonary_dysfunction": True}, ["bracing_at_discretion", "consider_early_augmentation"], []),
    ("pain-free-no-analgesia", "Analgesia is for pain; bone health is for everyone [2]",
     {"pain": "none", "symptom_course": "resolved"},
     ["calcium_vitamin_d", "osteoporosis_pharmacotherapy", "avoid_delaying_osteoporosis_therapy"],
     ["calcitonin_first_4_weeks", "breakthrough_analgesia"]),
]


# Facts no real patient can have (data-entry slips): each must be refused, naming the one
# domain constraint it breaks, rather than answered.
IMPOSSIBLE = [
    ("l3-only", "The guideline covers fractures at L1 or L2 (title; refs 1, 2)",
     {"fracture_levels": frozenset({"L3"})}, "lumbar_scope"),
    ("care-before-fracture", "Conservative management begins once the fracture is identified [1,2]",
     {"weeks_since_fracture": 2, "weeks_conservative_care": 5}, "care_after_fracture"),
    ("imaging-older-than-fracture", "Imaging characterises this fracture [1]",
     {"imaged": True, "mri_done": True, "weeks_since_imaging": 5}, "imaging_after_fracture"),
    ("imaging-age-without-imaging", "No imaging yet: there is no imaging age [1]",
     {"imaged": False, "weeks_since_imaging": 1}, "no_imaging_no_age"),
    ("resolved-but-in-pain", "Resolved symptoms and pain exclude each other [2,3]",
     {"symptom_course": "resolved", "pain": "moderate"}, "resolved_means_painless"),
    ("parenteral-without-pain", "Parenteral narcotics are needed only for pain [2]",
     {"pain": "none", "symptom_course": "resolved", "parenteral_opioids_needed": True}, "parenteral_means_pain"),
    ("changed-without-imaging", "Changed symptoms are judged against the last imaging [2]",
     {"imaged": False, "symptoms_changed": True}, "changed_needs_prior_imaging"),
    ("mri-without-imaging", "An MRI of the fracture is imaging of it (safety overlay; S43)",
     {"imaged": False, "mri_done": True}, "mri_is_imaging"),
    ("low-calcium-unmeasured", "A calcium flagged low has been measured (safety overlay; S31)",
     {"adjusted_calcium": None, "calcium_below_range": True}, "low_calcium_is_measured"),
]


def impossible_problems(g, case) -> list[str]:
    name, statement, overrides, constraint = case
    broken = violated_constraints(g, {**BASE, **overrides})
    return [] if broken == [constraint] else [f"{name}: {statement}: must break only {constraint}, breaks {broken}"]


def problems(g, scenario) -> list[str]:
    """What guideline ``g`` gets wrong for one scenario (empty when it is right)."""
    name, statement, overrides, must, must_not = scenario
    p = {**BASE, **overrides}
    unknown = [r for r in must + must_not if r not in g.recommendations]
    if unknown:
        return [f"{name}: unknown recommendations {unknown}"]
    if violated_constraints(g, p):
        return [f"{name}: the scenario patient must be valid, breaks {violated_constraints(g, p)}"]
    applies = run(g, p).applies
    missing = [r for r in must if r not in applies]
    wrong = [r for r in must_not if r in applies]
    out = [f"{name}: {statement}: missing {missing}, should not apply {wrong}"] if missing or wrong else []
    if len(set(g.dispositions) & applies) != 1:
        out.append(f"{name}: exactly one pathway expected, got {sorted(set(g.dispositions) & applies)}")
    return out


def all_problems(g) -> list[str]:
    """Every scenario's problems with guideline ``g`` (the mutation sweep runs this too)."""
    return [x for s in SCENARIOS for x in problems(g, s)] + [x for c in IMPOSSIBLE for x in impossible_problems(g, c)]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_scenario(shipped, scenario):
    assert problems(shipped, scenario) == []


@pytest.mark.parametrize("case", IMPOSSIBLE, ids=[c[0] for c in IMPOSSIBLE])
def test_impossible_patient_is_refused(shipped, case):
    assert impossible_problems(shipped, case) == []


def test_every_constraint_has_an_impossible_patient(shipped):
    assert sorted(c[3] for c in IMPOSSIBLE) == sorted(c.id for c in shipped.constraints)


def test_enough_scenarios():
    assert len(SCENARIOS) >= 12
