"""Safety scenarios: each patient checks one safety rule of docs/research/fracture_safety.md
(its id and citations in the docstring) against the shipped guideline with its overlay
(guideline/l1_l2_safety.yaml)."""
from __future__ import annotations

from fractions import Fraction

from guideproof.model.evaluate import run, violated_constraints
from guideproof.model.report import answer
from guideproof.views import query_text
from test_scenarios import BASE


def applies(g, **overrides) -> set[str]:
    p = {**BASE, **overrides}
    assert violated_constraints(g, p) == []
    return run(g, p).applies


def test_anticoagulant_no_nsaid(shipped):
    """SAFE-NSAID-01: on an anticoagulant, no NSAID; an opioid with a laxative instead (S36, S37, S34; S41)."""
    a = applies(shipped, on_anticoagulant=True)
    assert "breakthrough_analgesia" not in a
    assert {"opioid_breakthrough_no_nsaid", "laxative_with_opioid", "paracetamol_first"} <= a


def test_low_clearance_no_nsaid(shipped):
    """SAFE-NSAID-02: Cockcroft-Gault clearance below 30 mL/min, no NSAID (S36, S37, S1)."""
    a = applies(shipped, age=80, weight_kg=55, serum_creatinine=Fraction(2))  # about 19.5 mL/min
    assert "breakthrough_analgesia" not in a and "opioid_breakthrough_no_nsaid" in a


def test_ulcer_history_no_nsaid(shipped):
    """SAFE-NSAID-03: ulcer or bleeding history, no NSAID (S35, S37)."""
    assert "breakthrough_analgesia" not in applies(shipped, gi_bleed_or_ulcer_history=True)


def test_severe_heart_failure_no_nsaid(shipped):
    """SAFE-NSAID-04: severe heart failure, no NSAID; mild to moderate only with a caution (S35, S37)."""
    assert "breakthrough_analgesia" not in applies(shipped, heart_failure="severe")
    assert "breakthrough_analgesia" in applies(shipped, heart_failure="mild_moderate")


def test_paracetamol_first_and_laxative(shipped):
    """SAFE-PARA-01 and SAFE-OPI-01: paracetamol for every patient in pain, a laxative with any opioid (S39, S40, S41)."""
    a = applies(shipped)
    assert {"paracetamol_first", "breakthrough_analgesia", "laxative_with_opioid"} <= a
    assert "paracetamol_first" not in applies(shipped, pain="none", symptom_course="resolved")


def test_low_clearance_no_oral_bisphosphonate(shipped):
    """SAFE-REN-01/02: clearance below 30 mL/min, no oral bisphosphonate; the specialist chooses (S8, S9, S11)."""
    a = applies(shipped, age=80, weight_kg=55, serum_creatinine=Fraction(2))
    assert "osteoporosis_pharmacotherapy" not in a and "bone_drug_specialist_choice" in a


def test_oesophageal_disorder_no_oral_bisphosphonate(shipped):
    """SAFE-ORAL-01: oesophageal disorder delaying emptying, no oral bisphosphonate (S7, S10, S11)."""
    assert "osteoporosis_pharmacotherapy" not in applies(shipped, oesophageal_disorder=True)


def test_cannot_stay_upright_no_oral_bisphosphonate(shipped):
    """SAFE-ORAL-02: unable to stay upright for 30 minutes, no oral bisphosphonate (S7, S10); 30 minutes is enough."""
    assert "osteoporosis_pharmacotherapy" not in applies(shipped, upright_minutes=29)
    assert "osteoporosis_pharmacotherapy" in applies(shipped, upright_minutes=30)


def test_unmeasured_calcium_and_creatinine_measured_first(shipped):
    """SAFE-CA-01: calcium and creatinine are measured before calcium supplements or a bisphosphonate (S29, S4, S6)."""
    a = applies(shipped, adjusted_calcium=None, serum_creatinine=None)
    assert "check_bone_bloods" in a
    assert not {"calcium_vitamin_d", "osteoporosis_pharmacotherapy"} & a


def test_hypercalcaemia_no_calcium_and_work_up(shipped):
    """SAFE-CA-02 and SAFE-MAL-01: calcium above 2.60 mmol/L, no calcium or vitamin D, malignancy work-up (S29, S31, S33)."""
    a = applies(shipped, adjusted_calcium=Fraction("2.61"))
    assert "calcium_vitamin_d" not in a
    assert {"no_calcium_in_hypercalcaemia", "malignancy_workup_bloods", "pathologic_fracture_pathway",
            "mri_whole_spine_with_and_without_contrast", "consider_biopsy"} <= a
    assert "calcium_vitamin_d" in applies(shipped, adjusted_calcium=Fraction("2.60"))  # the upper limit itself


def test_hypocalcaemia_corrected_first(shipped):
    """SAFE-CA-04: hypocalcaemia corrected before an antiresorptive (S6, S7, S10, S11, S14)."""
    a = applies(shipped, adjusted_calcium=Fraction("2.00"), calcium_below_range=True)
    assert "osteoporosis_pharmacotherapy" not in a and "correct_calcium_vitamin_d_first" in a


def test_vitamin_d_deficiency_corrected_first(shipped):
    """SAFE-VITD-01: vitamin D below 25 nmol/L corrected before the antiresorptive (S32)."""
    assert "correct_calcium_vitamin_d_first" in applies(shipped, vitamin_d=24)
    assert "osteoporosis_pharmacotherapy" in applies(shipped, vitamin_d=25)


def test_denosumab_continued_never_simply_stopped(shipped):
    """SAFE-DMAB-02: a patient on denosumab continues it with specialist review, no new drug (S15, S16, S17)."""
    a = applies(shipped, current_bone_drug="denosumab")
    assert {"continue_bone_therapy", "denosumab_not_stopped"} <= a and "osteoporosis_pharmacotherapy" not in a


def test_already_on_bisphosphonate_continues(shipped):
    """Already on therapy: continue and review rather than start a second drug (S15, S16)."""
    a = applies(shipped, current_bone_drug="bisphosphonate")
    assert "continue_bone_therapy" in a and "osteoporosis_pharmacotherapy" not in a


def test_strontium_never_recommended(shipped):
    """SAFE-SR-01: strontium ranelate is never recommended; the drug text says why (S23, S24, S25)."""
    text = shipped.recommendations["osteoporosis_pharmacotherapy"].text
    assert "never use it" in text and "withdrawn" in text


def test_calcitonin_short_term_only(shipped):
    """SAFE-CT-01: calcitonin injection for at most 4 weeks, with the regulator's reason (S26, S27, S28)."""
    rec = shipped.recommendations["calcitonin_first_4_weeks"]
    assert rec.strength == "conditional" and "cancer" in rec.text and "4 weeks" in rec.text
    assert "calcitonin_first_4_weeks" not in applies(shipped, weeks_since_fracture=5, weeks_conservative_care=5)


def test_no_nerve_root_block_with_deficit_or_anticoagulant(shipped):
    """SAFE-NRB-01: the L2 nerve-root block only for neurologically intact patients not on an anticoagulant (S28, S46)."""
    levels = frozenset({"L2", "L3"})
    assert "l2_nerve_root_block" in applies(shipped, fracture_levels=levels)
    assert "l2_nerve_root_block" not in applies(shipped, fracture_levels=levels, neuro_deficit=True)
    assert "l2_nerve_root_block" not in applies(shipped, fracture_levels=levels, on_anticoagulant=True)


def test_no_augmentation_without_pain(shipped):
    """SAFE-AUG-01: no augmentation when pain is absent or mild (S44, S45)."""
    a = applies(shipped, pulmonary_dysfunction=True, pain="mild", symptom_course="persistent")
    assert "consider_early_augmentation" not in a and "conservative_care_first" in a


def test_suspected_malignancy_own_pathway(shipped):
    """SAFE-MAL-02: a suspected pathologic fracture gets its own pathway, not augmentation (S43, S33)."""
    a = applies(shipped, malignancy_suspected=True, symptom_course="worsening")
    assert "pathologic_fracture_pathway" in a
    assert not {"consider_early_augmentation", "conservative_care_first"} & a


def test_ct_alone_followed_by_mri(shipped):
    """SAFE-IMG-01: CT alone does not replace MRI when MRI is possible (source ref 1, S43, S51)."""
    a = applies(shipped, imaged=True, weeks_since_imaging=1)
    assert {"mri_after_ct", "mri_without_contrast"} <= a
    assert "mri_without_contrast" not in applies(shipped, imaged=True, mri_done=True, weeks_since_imaging=1)


def test_no_repeat_mri_within_interval(shipped):
    """No repeat MRI within 3 months without changed symptoms or a red flag (S43; interval from the source)."""
    quiet = dict(weeks_since_fracture=10, weeks_conservative_care=10, imaged=True, mri_done=True, weeks_since_imaging=1)
    assert "mri_without_contrast" not in applies(shipped, **quiet)
    assert "mri_without_contrast" in applies(shipped, **{**quiet, "symptoms_changed": True})


def test_unstable_fracture_spinal_precautions(shipped):
    """SAFE-MOB-01: an unstable fracture awaiting surgery is nursed under spinal precautions and gets no oral bisphosphonate (S48, S49, S7)."""
    a = applies(shipped, spinal_instability=True)
    assert {"spinal_precautions_unstable", "urgent_surgical_referral"} <= a
    assert "osteoporosis_pharmacotherapy" not in a and "early_mobilisation_physiotherapy" not in a


def test_older_patient_nsaid_caution_gastric_protection(shipped):
    """SAFE-NSAID-06: an NSAID for a patient aged 65 or over comes with gastric protection (S37, S38)."""
    cautions = shipped.recommendations["breakthrough_analgesia"].cautions
    assert any("proton-pump inhibitor" in c.text and c.cond is not None and c.cond.text == "age >= 65" for c in cautions)


# -- the safety reviews of the last five treatments (GP010 closed; sources S41, S42, S52-S59) --

def caution_entries(g, rec: str, **overrides) -> list[tuple[str, tuple[str, ...]]]:
    """(text, sources) of every caution the answer prints for ``rec``."""
    p = {**BASE, **overrides}
    assert violated_constraints(g, p) == []
    (a,) = [a for a in answer(g, p).applied if a.rec.id == rec]
    return [(c.text, tuple(c.sources)) for c in a.cautions]


def test_no_vitamin_d_loading_in_hypercalcaemia(shipped):
    """Vitamin D and calcium are contraindicated in hypercalcaemia (S29, S57): a patient with a
    high calcium and vitamin D below 25 nmol/L gets no loading course and no antiresorptive,
    but the cause-first step with its caution, besides the malignancy work-up (S56, S4, S14, S32)."""
    a = applies(shipped, adjusted_calcium=Fraction("2.80"), vitamin_d=20)
    assert not {"correct_calcium_vitamin_d_first", "calcium_vitamin_d", "osteoporosis_pharmacotherapy"} & a
    assert {"hypercalcaemia_cause_first", "no_calcium_in_hypercalcaemia", "malignancy_workup_bloods"} <= a
    (caution,) = [c for c in caution_entries(shipped, "hypercalcaemia_cause_first", adjusted_calcium=Fraction("2.80"),
                                      vitamin_d=20)]
    assert "no vitamin D loading course" in caution[0] and {"S29", "S57"} <= set(caution[1])
    assert caution_entries(shipped, "hypercalcaemia_cause_first", adjusted_calcium=Fraction("2.80"), vitamin_d=60) == []
    rule = shipped.recommendations["correct_calcium_vitamin_d_first"].contraindications[0]
    assert rule.cond.text == "hypercalcaemia" and {"S29", "S57"} <= set(rule.sources)
    # at the upper limit of the range itself the deficiency is corrected as before
    assert "correct_calcium_vitamin_d_first" in applies(shipped, adjusted_calcium=Fraction("2.60"), vitamin_d=20)


def test_hypercalcaemia_finds_its_cause_before_an_osteoporosis_drug(shipped):
    """A high calcium with vitamin D not low: no bisphosphonate yet. Primary
    hyperparathyroidism with a vertebral fracture is a case for surgery first, and drugs are
    for patients not operated on (S61, S62, S63); the malignancy work-up goes ahead."""
    for vitamin_d in (60, None):  # adequate, or not measured
        a = applies(shipped, adjusted_calcium=Fraction("2.75"), vitamin_d=vitamin_d)
        assert "osteoporosis_pharmacotherapy" not in a and "bone_drug_specialist_choice" not in a
        assert {"hypercalcaemia_cause_first", "no_calcium_in_hypercalcaemia", "malignancy_workup_bloods",
                "avoid_delaying_osteoporosis_therapy"} <= a
    rec = shipped.recommendations["hypercalcaemia_cause_first"]
    assert rec.origin == "safety" and {"S61", "S62", "S63"} <= set(rec.sources)
    # at the upper limit of the range the bisphosphonate starts as before; on a drug, it goes on
    assert "osteoporosis_pharmacotherapy" in applies(shipped, adjusted_calcium=Fraction("2.60"), vitamin_d=60)
    on_drug = applies(shipped, adjusted_calcium=Fraction("2.75"), current_bone_drug="bisphosphonate")
    assert "continue_bone_therapy" in on_drug and "hypercalcaemia_cause_first" not in on_drug


def test_vitamin_d_correction_cautions(shipped):
    """Colecalciferol: another form in severe renal impairment (S55), calcium checked when the
    patient is immobilised or malignancy is suspected (S56)."""
    plain = caution_entries(shipped, "correct_calcium_vitamin_d_first", vitamin_d=20)
    assert [src for _, src in plain] == [("S55", "S29")] and "another form of vitamin D" in plain[0][0]
    flat = caution_entries(shipped, "correct_calcium_vitamin_d_first", vitamin_d=20, spinal_instability=True)
    assert any(t.startswith("Immobilised") and src == ("S56",) for t, src in flat)
    onc = caution_entries(shipped, "correct_calcium_vitamin_d_first", vitamin_d=20, malignancy_suspected=True)
    assert any(t.startswith("Malignancy suspected") and src == ("S56",) for t, src in onc)


def test_opioid_without_nsaid_cautions(shipped):
    """SAFE-OPI-02/03: sedatives (FDA boxed warning, S42; Beers S36) always asked about;
    pulmonary dysfunction (label warning, S52) and clearance below 30 (NICE CG140, S41) when present."""
    anticoag = caution_entries(shipped, "opioid_breakthrough_no_nsaid", on_anticoagulant=True)
    assert [src for _, src in anticoag] == [("S42", "S36")] and "benzodiazepines" in anticoag[0][0]
    lungs = caution_entries(shipped, "opioid_breakthrough_no_nsaid", on_anticoagulant=True, pulmonary_dysfunction=True)
    assert ("S52",) in [src for _, src in lungs]
    kidney = caution_entries(shipped, "opioid_breakthrough_no_nsaid", age=80, weight_kg=55, serum_creatinine=Fraction(2))
    assert any("specialist advice" in t and src == ("S41",) for t, src in kidney)
    # the NSAID-or-opioid line carries the same opioid cautions
    both = caution_entries(shipped, "breakthrough_analgesia", pulmonary_dysfunction=True)
    assert {("S42", "S36"), ("S52",)} <= {src for _, src in both}


def test_laxative_cautions(shipped):
    """Laxative (macrogol labels S53, S54): never with obstruction or ileus; dehydration and
    electrolytes watched in older patients and with poor kidney function."""
    young = caution_entries(shipped, "laxative_with_opioid", age=50)
    assert [src for _, src in young] == [("S53", "S54")] and "ileus" in young[0][0]
    old = caution_entries(shipped, "laxative_with_opioid", age=70)
    assert [src for _, src in old] == [("S53", "S54"), ("S53",)]


def test_continuing_bone_therapy_cautions(shipped):
    """Continue and review, with the labels' limits named: bisphosphonate below 35 mL/min (S8,
    S4, S5, S9, S11), oral bisphosphonate while nursed flat (S7, S10, S11, S48), denosumab in
    advanced kidney disease (S12, S13, S14)."""
    kidney = dict(age=80, weight_kg=55, serum_creatinine=Fraction(2))  # about 19.5 mL/min
    bis = caution_entries(shipped, "continue_bone_therapy", current_bone_drug="bisphosphonate", **kidney)
    assert any("Clearance below 35" in t and "S8" in src for t, src in bis)
    assert caution_entries(shipped, "continue_bone_therapy", current_bone_drug="bisphosphonate") == []
    flat = caution_entries(shipped, "continue_bone_therapy", current_bone_drug="bisphosphonate", spinal_instability=True)
    assert any("taken by mouth" in t and "S48" in src for t, src in flat)
    dmab = caution_entries(shipped, "continue_bone_therapy", current_bone_drug="denosumab", **kidney)
    assert any("severe" in t and "hypocalcaemia" in t and "S13" in src for t, src in dmab)


def test_biopsy_on_anticoagulant_caution(shipped):
    """Percutaneous spine biopsy: coagulopathy is its contraindication, so an anticoagulant is
    planned for with the operator (S60; SIR thresholds S59); the general checks always (S58)."""
    entries = caution_entries(shipped, "consider_biopsy", malignancy_suspected=True, on_anticoagulant=True)
    assert [src for _, src in entries] == [("S60", "S59"), ("S58",)]
    assert "coagulopathy" in entries[0][0] and "INR" in entries[0][0]
    assert [src for _, src in caution_entries(shipped, "consider_biopsy", malignancy_suspected=True)] == [("S58",)]


def test_cautions_cited_in_the_answer(shipped):
    """The caution prints in the CAUTIONS block with its references."""
    p = {**BASE, "on_anticoagulant": True, "malignancy_suspected": True}
    text = query_text(answer(shipped, p))
    block = text[text.index("CAUTIONS"):text.index("FOLLOW-UP")]
    assert "! Consider biopsy: On an anticoagulant" in block and "[refs S60, S59]" in block
    assert "! Opioid as needed (no NSAID): Before an opioid, ask about benzodiazepines" in block
    assert "[refs S42, S36]" in block
