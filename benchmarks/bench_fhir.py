"""Median wall time of `guideproof query --fhir` on an example bundle as a process, against
`query --patient` on the same facts, both as ratios of a `python -c "import z3"` floor
measured in the same run.

The bundle (guideline/examples/fhir/af/elderly_low_weight_reduced_dose.json) holds the facts
the anticoagulation guideline binds; the rest are given with --set, so both commands answer
the complete query of the same patient. Usage: python benchmarks/bench_fhir.py [RUNS]
"""
from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

import yaml
from common import BIN, ROOT, row, wall

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 15
GUIDELINE = "guideline/af_anticoagulation.yaml"
NAME = "elderly_low_weight_reduced_dose"
BUNDLE = f"guideline/examples/fhir/af/{NAME}.json"
BOUND = {"age", "female", "weight_kg", "creatinine_mg_dl", "systolic_bp", "hypertension", "diabetes", "heart_failure",
         "prior_stroke_tia_te", "on_vka", "antiplatelet_or_nsaid", "on_dialysis"}

facts = yaml.safe_load((ROOT / "guideline" / "examples" / "af" / f"{NAME}.yaml").read_text())
rest = {n: v for n, v in facts.items() if n not in BOUND}
sets = [x for n, v in rest.items() for x in ("--set", f"{n}={str(v).lower() if isinstance(v, bool) else v}")]
gp = str(BIN / "guideproof")

with tempfile.TemporaryDirectory() as d:
    patient = Path(d) / "patient.yaml"
    patient.write_text(yaml.safe_dump(facts))
    floor = wall([sys.executable, "-c", "import z3"], RUNS)
    plain = wall([gp, "query", "-g", GUIDELINE, "-p", str(patient)], RUNS)
    fhir = wall([gp, "query", "-g", GUIDELINE, "--fhir", BUNDLE, "--at", "2026-06-01", *sets], RUNS)
    fhir_json = wall([gp, "query", "-g", GUIDELINE, "--fhir", BUNDLE, "--at", "2026-06-01", *sets, "--format", "json"], RUNS)

print(row('python -c "import z3" (floor)', floor))
print(row("guideproof query --patient (AF, complete)", plain))
print(row("guideproof query --fhir + --set (same facts, text)", fhir))
print(row("guideproof query --fhir + --set (same facts, json)", fhir_json))
f = statistics.median(floor)
print(f"ratio query --patient / floor: {statistics.median(plain) / f:.2f}")
print(f"ratio query --fhir / floor:    {statistics.median(fhir) / f:.2f}")
print(f"ratio query --fhir / query --patient: {statistics.median(fhir) / statistics.median(plain):.2f}")
