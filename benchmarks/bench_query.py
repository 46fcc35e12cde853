"""Median wall time of one `guideproof query` process beside `python -c "import z3"`.

Goal: a complete query costs at most 2x the z3 import floor. Usage: python benchmarks/bench_query.py [RUNS]
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

from common import BIN, row, wall

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 15
floor = wall([sys.executable, "-c", "import z3"], RUNS)
query = wall([str(BIN / "guideproof"), "query", "-p", "guideline/examples/uncomplicated_acute.yaml"], RUNS)
query_json = wall([str(BIN / "guideproof"), "query", "-p", "guideline/examples/failed_conservative_3_months.yaml",
                   "--format", "json"], RUNS)
query_af = wall([str(BIN / "guideproof"), "query", "-g", "guideline/af_anticoagulation.yaml",
                 "-p", "guideline/examples/af/elderly_low_weight_reduced_dose.yaml"], RUNS)
print(row('python -c "import z3" (floor)', floor))
print(row("guideproof query (text, uncomplicated_acute)", query))
print(row("guideproof query (json, failed_conservative_3_months)", query_json))
print(row("guideproof query (text, AF: scores, decimals, optional TTR)", query_af))
ratio = statistics.median(query) / statistics.median(floor)
print(f"ratio query / floor: {ratio:.2f} (goal <= 2.00)")
ratio = statistics.median(query_af) / statistics.median(floor)
print(f"ratio AF query / floor: {ratio:.2f} (goal <= 2.00)")

# verify of each shipped guideline as a process (goal: under 2 s each)
print()
for name in ("l1_l2_compression_fracture", "af_anticoagulation"):
    times = wall([str(BIN / "guideproof"), "verify", f"guideline/{name}.yaml", "--brief"], max(3, RUNS // 5))
    print(row(f"guideproof verify {name}", times))

# Bad input must fail fast (goal: each under 2 s) with exit 2.
base = (Path(__file__).resolve().parent.parent / "guideline/examples/uncomplicated_acute.yaml").read_text()
with tempfile.TemporaryDirectory() as d:
    cases = {
        "malformed YAML": base.replace("age: 72", "age: [72"),
        "unknown variable": base.replace("age: 72", "agee: 72"),
        "value out of range": base.replace("age: 72", "age: 172"),
        "wrong type": base.replace("age: 72", "age: old"),
        "binary garbage": os.urandom(4096),
        "alias bomb": "\n".join(['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
                                + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 20)]),
        "50 MB file": None,
        "missing file": "MISSING",
    }
    print()
    for name, content in cases.items():
        path = Path(d) / f"{name.replace(' ', '_')}.yaml"
        if content is None:
            with open(path, "wb") as f:
                f.write(b"# padding\n" * (5 * 1024 * 1024))
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif content != "MISSING":
            path.write_text(content)
        times = wall([str(BIN / "guideproof"), "query", "-p", str(path)], 5, expect=2)
        print(row(f"bad input: {name} (exit 2)", times))
