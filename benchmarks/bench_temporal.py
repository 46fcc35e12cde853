"""GP012: the shipped guideline's temporal properties at horizons of 13, 26 and 52 weekly visits.

In-process, with the guideline loaded once: the temporal check alone (``verify(..., only=
{"GP012"})``, which also proves the domain non-empty), at each horizon, beside the snapshot
checks of the same guideline (every other obligation) as the floor measured in the same
run. Prints the medians, the ratio of each horizon to the floor, and the growth from one
horizon to the next (doubling the horizon doubles the copies of the guideline the solver
holds). Every run must prove every property; anything else stops the benchmark.
Goal: the 26-visit horizon under 30 s.

Usage: python benchmarks/bench_temporal.py [RUNS]
"""
from __future__ import annotations

import statistics
import sys
import time

from common import ROOT, row

from guideproof.model.loader import load_guideline
from guideproof.verify.checks import CHECKS, verify
from guideproof.verify.findings import Verdict

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
SHIPPED = ROOT / "guideline" / "l1_l2_compression_fracture.yaml"

g = load_guideline(SHIPPED)
assert g.course is not None
snapshot = {c.code for c in CHECKS} - {"GP012"}


def timed(guideline, only):  # type: ignore[no-untyped-def]
    out = []
    for _ in range(RUNS):
        t = time.perf_counter()
        findings = verify(guideline, only=only)
        out.append(time.perf_counter() - t)
        bad = [f.subject for f in findings if f.verdict not in (Verdict.PROVED, Verdict.WARNING)]
        if bad:
            raise SystemExit(f"not proved: {bad}")
    return out


floor = timed(g, snapshot)
results = {}
for weeks in (13, 26, 52):
    course = g.course.replace(horizon_days=g.course.every_days * weeks)
    results[weeks] = timed(g.replace(course=course), {"GP012"})

print(row("snapshot checks, every obligation but GP012 (floor)", floor))
for weeks, times in results.items():
    print(row(f"GP012 at a horizon of {weeks} weeks ({weeks + 1} visits, {len(g.course.properties)} properties)", times))
f = statistics.median(floor)
m = {w: statistics.median(t) for w, t in results.items()}
print("ratio to floor: " + "; ".join(f"{w} weeks {m[w] / f:.2f}" for w in m))
print(f"growth: 13 -> 26 weeks x{m[26] / m[13]:.2f}; 26 -> 52 weeks x{m[52] / m[26]:.2f}")
print(f"goal: the 26-visit horizon under 30 s: median {m[26]:.2f} s ({'met' if m[26] < 30 else 'NOT met'})")
