"""Verify timings: the shipped guideline as a process, synthetic guidelines per obligation
class, and the ratio against brute-force enumeration of the shipped guideline's
discretised patient space.

Usage: python benchmarks/bench_verify.py [SIZES...]   (default 10 100 1000 5000 20000)
Goals: shipped verify under 2 s with start-up; 5,000 branches under 10 s; near-linear growth.
"""
from __future__ import annotations

import itertools
import random
import statistics
import sys
import time

from common import BIN, ROOT, row, wall
from synthetic import synthetic_yaml

from guideproof.model.evaluate import run, violated_constraints
from guideproof.model.loader import load_guideline, load_guideline_text
from guideproof.model.source import SourceText
from guideproof.verify.checks import CHECKS, verify
from guideproof.verify.findings import Verdict

SIZES = [int(a) for a in sys.argv[1:]] or [10, 100, 1000, 5000, 20000]


def timed_verify(g):
    timings: dict[str, float] = {}
    findings = verify(g, timeout=60, timings=timings)
    per_class = {c.name: (sum(f.check == c.name for f in findings), timings.get(c.name, 0.0)) for c in CHECKS}
    bad = sum(f.verdict != Verdict.PROVED for f in findings)
    return timings["encode"], per_class, len(findings), bad, int(timings["solver calls"])


print("== guideproof verify on the shipped guideline (process, start-up included)")
times = wall([str(BIN / "guideproof"), "verify", "--brief"], 10)
floor = wall([sys.executable, "-c", "import z3"], 10)
print(row('python -c "import z3"', floor))
print(row("guideproof verify (shipped)", times))

print("\n== synthetic guidelines (in-process; seconds per obligation class)")
names = [c.name for c in CHECKS]
print(f"{'branches':>8} {'load':>7} {'encode':>7} " + " ".join(f"{n[:11]:>11}" for n in names)
      + f" {'total':>7} {'oblig.':>7} {'calls':>7} {'ms/obl':>7}")
for n in SIZES:
    t = time.perf_counter()
    g = load_guideline_text(SourceText(f"synthetic-{n}.yaml", synthetic_yaml(n)))
    t_load = time.perf_counter() - t
    t_enc, per, total, bad, calls = timed_verify(g)
    t_checks = sum(v[1] for v in per.values())
    assert bad == 0, f"synthetic guideline with {n} branches has {bad} unproved obligations"
    print(f"{n:>8} {t_load:>7.2f} {t_enc:>7.2f} " + " ".join(f"{per[k][1]:>11.3f}" for k in names)
          + f" {t_enc + t_checks:>7.2f} {total:>7} {calls:>7} {1000 * (t_enc + t_checks) / total:>7.3f}")

print("\n== brute force on the shipped guideline's discretised patient space")
g = load_guideline(ROOT / "guideline" / "l1_l2_compression_fracture.yaml")
# Each int variable takes the values that straddle every threshold the guideline uses.
points = {
    "age": [18, 64, 65, 110],
    "weeks_since_fracture": [0, 4, 5, 6, 7, 8, 9, 13, 14, 260],
    "weeks_conservative_care": [0, 4, 5, 6, 7, 8, 9, 12, 13, 14, 260],
    "weeks_since_imaging": [0, 13, 14, 260],
}
axes = []
for v in g.variables.values():
    k = v.type.kind
    if k == "bool":
        axes.append([False, True])
    elif k == "enum":
        axes.append(list(v.type.values))
    elif k == "set":
        axes.append([frozenset(c) for r in range(len(v.type.values) + 1) for c in itertools.combinations(v.type.values, r)])
    else:
        axes.append(points[v.name])
space = 1
for a in axes:
    space *= len(a)
names_v = list(g.variables)
sample = 20000
rng = random.Random(0)
combos = [[rng.choice(a) for a in axes] for _ in range(sample)]
t = time.perf_counter()
valid = 0
for combo in combos:  # a uniform sample of the space: brute force does this for every point
    p = dict(zip(names_v, combo))
    if not violated_constraints(g, p):
        run(g, p)
        valid += 1
per_patient = (time.perf_counter() - t) / sample
t = time.perf_counter()
_, per, total, _, _ = timed_verify(g)
t_verify = time.perf_counter() - t
brute = per_patient * space
print(f"discretised space: {space:.3e} patients; evaluator {per_patient * 1e6:.1f} us/patient "
      f"(measured on {sample:,}, {valid:,} valid)")
print(f"brute-force estimate: {brute:.3e} s ({brute / 86400:.1f} days) for one pass; verify in-process: {t_verify:.3f} s "
      f"for {total} obligations; ratio {brute / t_verify:.2e}x")
