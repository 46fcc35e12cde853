"""DMN import and verification as processes, as ratios of a `python -c "import z3"` floor
measured in the same run.

The largest table of the public models in ../shared/dmn/ (beside the repository) is the
post-bureau risk category table of 0004-lending.dmn (13 rules over 3 inputs); that file is
imported (`guideproof variables`, which reads the model but runs no check) and verified
(`guideproof verify`, every table of the file: it exits 1, as the pre-bureau table has a gap).
The dish decision (6 rules) is verified for comparison, and the import alone is timed
in-process. Usage: python benchmarks/bench_dmn.py [RUNS]
"""
from __future__ import annotations

import statistics
import sys
import time

from common import BIN, ROOT, row, wall

from guideproof.model.dmn import import_dmn
from guideproof.model.source import read_text

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 15
SHARED = ROOT.parent / "shared" / "dmn"
if not SHARED.is_dir():
    raise SystemExit("the public DMN models are not at ../shared/dmn/ beside the repository: nothing to measure")
LENDING = str(SHARED / "0004-lending.dmn")
DISH = str(SHARED / "dish-decision.dmn")
gp = str(BIN / "guideproof")

imp = import_dmn(read_text(LENDING))
largest = max(imp.tables, key=lambda t: len(imp.guideline.steps[imp.tables[t]].branches))
rules = len(imp.guideline.steps[imp.tables[largest]].branches)

floor = wall([sys.executable, "-c", "import z3"], RUNS)
load = wall([gp, "variables", "-g", LENDING], RUNS)
lending = wall([gp, "verify", "--brief", LENDING], RUNS, expect=1)
dish = wall([gp, "verify", "--brief", DISH], RUNS, expect=1)
inproc = []
for _ in range(RUNS):
    t = time.perf_counter()
    import_dmn(read_text(LENDING))
    inproc.append(time.perf_counter() - t)

print(f"largest table: {largest} ({rules} rules) in ../shared/dmn/0004-lending.dmn")
print(row('python -c "import z3" (floor)', floor))
print(row("guideproof variables (import 0004-lending.dmn)", load))
print(row("guideproof verify 0004-lending.dmn (7 tables, 13 not analysed)", lending))
print(row("guideproof verify dish-decision.dmn (1 table, 6 rules)", dish))
print(row("import_dmn(0004-lending.dmn) in-process", inproc))
f = statistics.median(floor)
for label, times in (("import", load), ("verify 0004-lending", lending), ("verify dish", dish)):
    print(f"ratio {label} / floor: {statistics.median(times) / f:.2f}")
