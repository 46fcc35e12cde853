"""A query with half the variables unknown: median process wall time beside
`python -c "import z3"` (the floor), and solver calls.

Goal: under 1 s per process. Usage: python benchmarks/bench_partial.py [RUNS]
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys

from common import BIN, ROOT, row, wall

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
floor = wall([sys.executable, "-c", "import z3"], RUNS)
print(row('python -c "import z3" (floor)', floor))
cases = {
    # the first / second half of the uncomplicated example's variables known
    "first half known": ["age=72", "fracture_levels=L1", "weeks_since_fracture=2", "weeks_conservative_care=2",
                         "neuro_deficit=false", "spinal_instability=false", "cord_compression=false",
                         "deformity=none", "kyphosis_progressing=false"],
    "second half known": ["imaged=false", "weeks_since_imaging=0", "pain=moderate", "symptom_course=persistent",
                          "symptoms_changed=false", "pulmonary_dysfunction=false",
                          "analgesic_contraindication=false", "parenteral_opioids_needed=false",
                          "mri_contraindicated=false", "malignancy_suspected=false"],
}
for name, sets in cases.items():
    args = [str(BIN / "guideproof"), "query", "--format", "json"] + [f"--set={s}" for s in sets]
    doc = json.loads(subprocess.run(args, capture_output=True, cwd=ROOT, check=True).stdout)
    times = wall(args, RUNS)
    print(row(f"partial query, {name} ({len(doc['unknown'])} unknown)", times)
          + f"   solver calls {doc['solver_calls']}   {statistics.median(times) / statistics.median(floor):.2f}x floor")
