"""`guideproof diff` of the shipped guideline against a one-threshold edit of itself.

Prints, beside the ``python -c "import z3"`` floor measured in the same run:
* as processes, ``guideproof diff`` of the shipped guideline against itself (no change,
  proved) and against a copy whose elderly threshold moved from 65 to 70 (one region);
* in-process, the comparison alone (both guidelines already loaded).
Figures are ratios against the floor, so they compare across machines.
Goal: the one-threshold diff under 2 s as a process.

Usage: python benchmarks/bench_diff.py [RUNS]
"""
from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import BIN, ROOT, row, wall

from guideproof.model.loader import load_guideline
from guideproof.verify.diff import compare

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
SHIPPED = ROOT / "guideline" / "l1_l2_compression_fracture.yaml"
OVERLAY = ROOT / "guideline" / "l1_l2_safety.yaml"


def in_process(old: Path, new: Path) -> list[float]:
    a, b = load_guideline(old), load_guideline(new)
    out = []
    for _ in range(RUNS):
        t = time.perf_counter()
        d = compare(a, b)
        out.append(time.perf_counter() - t)
    if [(c.gained, c.lost) for c in d.changed.regions] != [((), ("opioid_caution_elderly",))]:
        raise SystemExit(f"expected one region losing opioid_caution_elderly, found {d.changed.regions}")
    return out


with tempfile.TemporaryDirectory() as tmp:
    edited = Path(tmp) / "edited.yaml"
    text = SHIPPED.read_text()
    if text.count("when: age >= 65") != 1:
        raise SystemExit("the shipped guideline no longer defines elderly as 'when: age >= 65'")
    edited.write_text(text.replace("when: age >= 65", "when: age >= 70"))
    shutil.copy(OVERLAY, Path(tmp) / OVERLAY.name)
    floor = wall([sys.executable, "-c", "import z3"], RUNS)
    gp = str(BIN / "guideproof")
    same = wall([gp, "diff", str(SHIPPED), str(SHIPPED)], RUNS, expect=0)
    edit = wall([gp, "diff", str(SHIPPED), str(edited)], RUNS, expect=1)
    inside = in_process(SHIPPED, edited)

for label, times in (('python -c "import z3" (floor)', floor), ("guideproof diff shipped shipped (no change, proved)", same),
                     ("guideproof diff shipped threshold-edit (1 region)", edit),
                     ("in-process compare(), threshold edit", inside)):
    print(row(label, times))
f = statistics.median(floor)
print(f"ratio to floor: no change {statistics.median(same) / f:.2f}; threshold edit {statistics.median(edit) / f:.2f}; "
      f"in-process compare {statistics.median(inside) / f:.2f}")
print(f"goal: the one-threshold diff under 2 s as a process: median {statistics.median(edit):.3f} s "
      f"({'met' if statistics.median(edit) < 2 else 'NOT met'})")
