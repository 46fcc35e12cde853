"""Median wall time of one `guideproof query` process beside `python -c "import z3"`.

Goal: a complete query costs at most 2x the z3 import floor. Usage: python benchmarks/bench_query.py [RUNS]
"""
from __future__ import annotations

import statistics
import sys

from common import BIN, row, wall

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 15
floor = wall([sys.executable, "-c", "import z3"], RUNS)
query = wall([str(BIN / "guideproof"), "query", "-p", "guideline/examples/uncomplicated_acute.yaml"], RUNS)
query_json = wall([str(BIN / "guideproof"), "query", "-p", "guideline/examples/failed_conservative_3_months.yaml",
                   "--format", "json"], RUNS)
print(row('python -c "import z3" (floor)', floor))
print(row("guideproof query (text, uncomplicated_acute)", query))
print(row("guideproof query (json, failed_conservative_3_months)", query_json))
ratio = statistics.median(query) / statistics.median(floor)
print(f"ratio query / floor: {ratio:.2f} (goal <= 2.00)")
