"""Hypothesis strategies for patients of the shipped guideline.

Valid patients are drawn in dependency order so the domain constraints hold by
construction (rejection sampling would keep about 2% of draws); the tests still check
validity with the evaluator, so a wrong strategy fails loudly instead of testing nothing.
Integers are biased towards the guideline's thresholds (4, 6, 8, 13 weeks; 65 years).
"""
from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

WEEK_POINTS = [0, 1, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 26, 52, 260]


def weeks(max_value: int = 260):
    pts = [w for w in WEEK_POINTS if w <= max_value]
    return st.one_of(st.sampled_from(pts), st.integers(0, max_value))


@st.composite
def valid_patient(draw):
    levels = draw(st.sets(st.sampled_from(["T12", "L1", "L2", "L3", "L4", "L5"])))
    levels |= {draw(st.sampled_from(["L1", "L2"]))}
    since = draw(weeks())
    imaged = draw(st.booleans())
    pain = draw(st.sampled_from(["none", "mild", "moderate", "severe"]))
    course = "resolved" if pain == "none" else draw(st.sampled_from(["improving", "persistent", "worsening"]))
    return {
        "age": draw(st.one_of(st.sampled_from([18, 64, 65, 66, 110]), st.integers(18, 110))),
        "fracture_levels": frozenset(levels),
        "weeks_since_fracture": since,
        "weeks_conservative_care": draw(weeks(since)),
        "neuro_deficit": draw(st.booleans()),
        "spinal_instability": draw(st.booleans()),
        "cord_compression": draw(st.booleans()),
        "deformity": draw(st.sampled_from(["none", "mild", "significant"])),
        "kyphosis_progressing": draw(st.booleans()),
        "malignancy_suspected": draw(st.booleans()),
        "mri_contraindicated": draw(st.booleans()),
        "imaged": imaged,
        "weeks_since_imaging": draw(weeks(since)) if imaged else 0,
        "pain": pain,
        "symptom_course": course,
        "symptoms_changed": draw(st.booleans()) if imaged else False,
        "pulmonary_dysfunction": draw(st.booleans()),
        "analgesic_contraindication": draw(st.booleans()),
        "parenteral_opioids_needed": draw(st.booleans()) if pain != "none" else False,
        **draw(safety_facts(imaged)),
    }


@st.composite
def safety_facts(draw, imaged: bool):
    """The safety overlay's facts (guideline/l1_l2_safety.yaml), cut-offs included."""
    def maybe(values):
        return draw(st.one_of(st.none(), values))

    calcium = maybe(st.one_of(st.sampled_from([Fraction(26, 10), Fraction(261, 100), Fraction(235, 100)]),
                              st.integers(100, 450).map(lambda n: Fraction(n, 100))))
    return {
        "sex": draw(st.sampled_from(["female", "male"])),
        "weight_kg": draw(st.one_of(st.sampled_from([30, 49, 50, 65, 250]), st.integers(30, 250))),
        "serum_creatinine": maybe(st.integers(20, 2000).map(lambda n: Fraction(n, 100))),
        "adjusted_calcium": calcium,
        "calcium_below_range": draw(st.booleans()) if calcium is not None and calcium <= Fraction(26, 10) else False,
        "vitamin_d": maybe(st.one_of(st.sampled_from([0, 24, 25, 49, 50]), st.integers(0, 400))),
        "on_anticoagulant": draw(st.booleans()),
        "gi_bleed_or_ulcer_history": draw(st.booleans()),
        "heart_failure": draw(st.sampled_from(["none", "mild_moderate", "severe"])),
        "oesophageal_disorder": draw(st.booleans()),
        "upright_minutes": draw(st.one_of(st.sampled_from([0, 29, 30, 59, 60, 120]), st.integers(0, 1440))),
        "current_bone_drug": draw(st.sampled_from(["none", "bisphosphonate", "denosumab", "other"])),
        "mri_done": draw(st.booleans()) if imaged else False,
    }


def any_patient_of(g):
    """Any in-bounds patient of guideline ``g`` (domain constraints not enforced)."""
    fields = {}
    for v in g.variables.values():
        k = v.type.kind
        if k == "bool":
            fields[v.name] = st.booleans()
        elif k in ("int", "duration"):
            fields[v.name] = st.integers(v.min, v.max)
        elif k == "decimal":  # hundredths, as measured values are written, and any fraction
            fields[v.name] = st.one_of(
                st.integers(int(v.min * 100), int(v.max * 100)).map(lambda n: Fraction(n, 100)),
                st.fractions(v.min, v.max, max_denominator=1000))
        elif k == "enum":
            fields[v.name] = st.sampled_from(v.type.values)
        else:
            fields[v.name] = st.frozensets(st.sampled_from(v.type.values))
        if v.optional:  # no value, or any value
            fields[v.name] = st.one_of(st.none(), fields[v.name])
    return st.fixed_dictionaries(fields)
