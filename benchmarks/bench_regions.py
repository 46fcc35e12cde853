"""Listing every problem region: the 12-rule, 3-input decision table (6 gaps, 3 overlaps).

Prints, beside the ``python -c "import z3"`` floor measured in the same run:
* in-process, the seconds spent listing every gap and overlap region (verify's coverage
  and exclusivity checks with regions, minus the same checks with one witness only);
* as processes, ``guideproof verify`` of the table with and without the listing.
Figures are ratios against the floor, so they compare across machines.
Goal: listing every gap and overlap of the table takes under 1 s.

Usage: python benchmarks/bench_regions.py [RUNS]
"""
from __future__ import annotations

import statistics
import sys
import time

from common import BIN, ROOT, row, wall

from guideproof.model.loader import load_guideline
from guideproof.verify.checks import verify

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 9
TABLE = ROOT / "tests" / "fixtures" / "table12.yaml"


def in_process(max_regions: int) -> list[float]:
    g = load_guideline(TABLE)
    verify(g, only={"GP002", "GP003"}, max_regions=max_regions)  # warm-up
    out = []
    for _ in range(RUNS):
        t = time.perf_counter()
        findings = verify(g, only={"GP002", "GP003"}, max_regions=max_regions)
        out.append(time.perf_counter() - t)
    listed = sum(len(f.regions) for f in findings)
    if max_regions and listed != 9:
        raise SystemExit(f"expected 9 regions (6 gaps, 3 overlaps), listed {listed}")
    return out


floor = wall([sys.executable, "-c", "import z3"], RUNS)
with_regions = in_process(20)
one_witness = in_process(0)
listing = [a - b for a, b in zip(sorted(with_regions), sorted(one_witness), strict=True)]
cli = [str(BIN / "guideproof"), "verify", "--brief", str(TABLE)]
proc = wall(cli, RUNS, expect=1)
proc0 = wall(cli + ["--max-findings", "0"], RUNS, expect=1)

print(row('python -c "import z3" (floor)', floor))
print(row("in-process GP002+GP003 with every region (9)", with_regions))
print(row("in-process GP002+GP003 with one witness each", one_witness))
print(row("listing the 9 regions (difference, sorted pairs)", listing))
print(row("guideproof verify table12 (regions listed)", proc))
print(row("guideproof verify table12 --max-findings 0", proc0))
f = statistics.median(floor)
print(f"ratio listing / floor: {statistics.median(listing) / f:.2f}; "
      f"with-regions checks / floor: {statistics.median(with_regions) / f:.2f}; "
      f"verify process / floor: {statistics.median(proc) / f:.2f} (vs {statistics.median(proc0) / f:.2f} without)")
print(f"goal: listing every gap and overlap under 1 s: median {statistics.median(with_regions):.3f} s "
      f"({'met' if statistics.median(with_regions) < 1 else 'NOT met'})")
