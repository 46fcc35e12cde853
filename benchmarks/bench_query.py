"""Median wall time of one `guideproof query` process beside `python -c "import z3"`.

Goal: a complete query costs at most 2x the z3 import floor. Queries run as a clinician's
would, the checked guideline coming from the cache after the first run (a private cache
folder, emptied first); the same queries with `--no-cache` show the cost of reading and
checking the guideline every time. Usage: python benchmarks/bench_query.py [RUNS]
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

from common import BIN, interleaved, row, wall

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 15
cache_dir = tempfile.TemporaryDirectory()
os.environ["GUIDEPROOF_CACHE_DIR"] = cache_dir.name  # inherited by every process below
os.environ.pop("GUIDEPROOF_CACHE", None)
GP = str(BIN / "guideproof")
QUERIES = {
    "text, uncomplicated_acute": ["query", "-p", "guideline/examples/uncomplicated_acute.yaml"],
    "json, failed_conservative_3_months": ["query", "-p", "guideline/examples/failed_conservative_3_months.yaml",
                                           "--format", "json"],
    "text, AF: scores, decimals, optional TTR": ["query", "-g", "guideline/af_anticoagulation.yaml",
                                                 "-p", "guideline/examples/af/elderly_low_weight_reduced_dose.yaml"],
}
cmds = {'python -c "import z3" (floor)': [sys.executable, "-c", "import z3"]}
for label, args in QUERIES.items():
    cmds[f"guideproof query ({label})"] = [GP, *args]  # the warm-up round fills the cache
    cmds["  the same, --no-cache"] = [GP, "--no-cache", *args]
    times = interleaved(cmds, RUNS)
    floor_wall, floor_cpu = times['python -c "import z3" (floor)']
    if len(cmds) == 3:
        print(row('python -c "import z3" (floor)', floor_wall))
    for name in list(cmds)[1:]:
        wall_s, cpu_s = times[name]
        print(row(name, wall_s))
        print(f"    ratio to the floor: wall {statistics.median(wall_s) / statistics.median(floor_wall):.2f}, "
              f"CPU {statistics.median(cpu_s) / statistics.median(floor_cpu):.2f} (goal <= 2.00)")
    del cmds[f"guideproof query ({label})"], cmds["  the same, --no-cache"]

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
        "file over the 64 MiB limit": None,
        "missing file": "MISSING",
    }
    print()
    for name, content in cases.items():
        path = Path(d) / f"{name.replace(' ', '_')}.yaml"
        if content is None:
            with open(path, "wb") as f:
                f.write(b"# padding\n" * (6_800_000))  # 68 MB
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif content != "MISSING":
            path.write_text(content)
        times = wall([str(BIN / "guideproof"), "query", "-p", str(path)], 5, expect=2)
        print(row(f"bad input: {name} (exit 2)", times))
