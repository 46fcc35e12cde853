"""Median wall time of `guideproof report` for the shipped guideline as a process (verify, nine
charts rendered by Graphviz, the page), as ratios of a `python -c "import z3"` floor and of
`guideproof verify` on the same guideline, all measured in the same run.

Usage: python benchmarks/bench_report.py [RUNS]
"""
from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from common import BIN, row, wall

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
GUIDELINE = "guideline/l1_l2_compression_fracture.yaml"
gp = str(BIN / "guideproof")

with tempfile.TemporaryDirectory() as d:
    out = str(Path(d) / "review.html")
    floor = wall([sys.executable, "-c", "import z3"], RUNS)
    verify = wall([gp, "verify", "--brief", GUIDELINE], RUNS)
    overview = wall([gp, "flowchart", "-g", GUIDELINE, "--overview", "-o", str(Path(d) / "overview.svg")], RUNS)
    report = wall([gp, "report", "-g", GUIDELINE, "--traceability", "docs/traceability.md", "-o", out], RUNS)
    patient = wall([gp, "report", "-g", GUIDELINE, "-p", "guideline/examples/on_anticoagulant.yaml", "-o", out], RUNS)
    size = Path(out).stat().st_size

print(row('python -c "import z3" (floor)', floor))
print(row("guideproof verify --brief (shipped guideline)", verify))
print(row("guideproof flowchart --overview -o overview.svg", overview))
print(row("guideproof report --traceability ... -o review.html", report))
print(row("guideproof report --patient ... -o review.html", patient))
f, v = statistics.median(floor), statistics.median(verify)
print(f"ratio report / floor:           {statistics.median(report) / f:.2f}")
print(f"ratio report / verify:          {statistics.median(report) / v:.2f}")
print(f"ratio report --patient / floor: {statistics.median(patient) / f:.2f}")
print(f"report size: {size / 1024:.0f} KiB")
