"""How long rendering the shipped guideline's flowchart takes (process wall time, median).

Usage: python benchmarks/bench_flowchart.py [RUNS]
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import BIN, row, wall

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
with tempfile.TemporaryDirectory() as d:
    for ext in ("dot", "svg", "png"):
        out = Path(d) / f"chart.{ext}"
        print(row(f"guideproof flowchart -o chart.{ext}", wall([str(BIN / "guideproof"), "flowchart", "-o", str(out)], RUNS)))
    out = Path(d) / "path.svg"
    print(row("guideproof flowchart --patient ... -o path.svg",
              wall([str(BIN / "guideproof"), "flowchart", "-p", "guideline/examples/failed_conservative_3_months.yaml",
                    "-o", str(out)], RUNS)))
