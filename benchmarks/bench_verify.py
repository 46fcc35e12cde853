"""Verify timings: both generators as processes (wall including load, peak memory, log-log
slope, ratios against the ``import z3`` floor), the shipped guideline as a process,
synthetic guidelines per obligation class in-process, and the ratio against brute-force
enumeration of the shipped guideline's discretised patient space.

Usage: python benchmarks/bench_verify.py [--sizes 1000,5000,20000] [--generators synthetic,realistic]
                                         [--runs N] [--process-only] [SIZES...]
``--sizes`` selects the process table's sizes (``--sizes 1000`` for a quick run); SIZES the
in-process table's (default 10 100 1000 5000 20000).
Goals: shipped verify under 2 s with start-up; 5,000 realistic branches under 10 s; 20,000
under 60 s and under 1 GiB; log-log slope at most 1.2.
"""
from __future__ import annotations

import argparse
import itertools
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from common import BIN, ROOT, row, wall
from realistic import realistic_yaml
from synthetic import synthetic_yaml

from guideproof.model import source
from guideproof.model.evaluate import run, violated_constraints
from guideproof.model.loader import load_guideline, load_guideline_text
from guideproof.model.source import SourceText
from guideproof.verify.checks import CHECKS, verify
from guideproof.verify.findings import Verdict

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--sizes", default="1000,5000,20000", help="process table: branches, comma-separated")
parser.add_argument("--generators", default="synthetic,realistic", help="process table: generators")
parser.add_argument("--runs", type=int, default=1, help="process table: runs per size (median reported)")
parser.add_argument("--process-only", action="store_true", help="only the process table")
parser.add_argument("in_process", nargs="*", type=int, help="in-process table sizes")
ARGS = parser.parse_args()
SIZES = ARGS.in_process or [10, 100, 1000, 5000, 20000]
GENERATORS: dict[str, Callable[[int], str]] = {"synthetic": synthetic_yaml, "realistic": realistic_yaml}


def _tree_pss_kib(pid: int) -> int:
    """The proportional set size (KiB) of process ``pid`` and its children: the memory they
    take together, a page shared by two (after ``fork``) counted once, half to each."""
    total = 0
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        kids = []
    for p in (pid, *kids):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            pass
    return total


def measured(cmd: list[str]) -> tuple[float, int, int, str]:
    """Wall seconds, peak memory (KiB), exit code and standard output of one process. The
    peak is the larger of the process's own peak resident memory and the peak, sampled
    every 50 ms, of the memory it and its children (the one reading a large file, verify's
    second lane) take together."""
    # a cache of its own: every run reads the file afresh (a cached guideline loads in a
    # tenth of the time, and a median over runs of one file would measure the cache)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "GUIDEPROOF_CACHE_DIR": cache}
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
        tree = [0]
        done = threading.Event()

        def sample() -> None:  # beside the wait, so that sampling adds nothing to the wall time
            while not done.wait(0.05):
                tree[0] = max(tree[0], _tree_pss_kib(p.pid))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(p.pid, 0)  # this child's own peak memory
        wall_s = time.perf_counter() - t
        done.set()
        sampler.join()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return wall_s, max(usage.ru_maxrss, tree[0]), p.returncode, out.read()


def verify_command(path: Path) -> tuple[list[str], str]:
    """The ``guideproof verify`` console script on ``path``; a file over the loader's input
    cap is run through the same entry point with the cap raised (marked in the table)."""
    if path.stat().st_size <= source.MAX_BYTES:
        return [str(BIN / "guideproof"), "verify", "--brief", str(path)], ""
    launcher = (f"import guideproof.model.source as s; s.MAX_BYTES = {path.stat().st_size}; "
                "from guideproof.cli import main; main()")
    return [sys.executable, "-c", launcher, "verify", "--brief", str(path)], " *"


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of log(time) against log(size)."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def process_table() -> None:
    sizes = [int(x) for x in ARGS.sizes.split(",") if x]
    floor = statistics.median(wall([sys.executable, "-c", "import z3"], 5))
    print(f"== guideproof verify FILE as a process (wall including load; floor: python -c \"import z3\" "
          f"{floor * 1000:.0f} ms, median of 5)")
    print(f"{'generator':<10} {'branches':>8} {'MB file':>8} {'oblig.':>7} {'wall s':>8} {'x floor':>8} "
          f"{'peak MiB':>9} {'exit':>4}")
    marked = False
    with tempfile.TemporaryDirectory() as d:
        for name in ARGS.generators.split(","):
            points = []
            for n in sizes:
                path = Path(d) / f"{name}-{n}.yaml"
                path.write_text(GENERATORS[name](n))
                cmd, mark = verify_command(path)
                marked = marked or bool(mark)
                runs = [measured(cmd) for _ in range(ARGS.runs)]
                t = statistics.median(r[0] for r in runs)
                peak = max(r[1] for r in runs) / 1024
                code = runs[0][2]
                total = next((line.split()[2] for line in runs[0][3].splitlines() if line.startswith("PROVED: all")), "-")
                points.append((n, t))
                print(f"{name:<10} {n:>8} {path.stat().st_size / 1e6:>8.2f} {total:>7} {t:>8.2f} {t / floor:>8.1f} "
                      f"{peak:>9.0f} {code:>4}{mark}")
            if len(points) >= 2:
                steps = ", ".join(f"{a[0]}->{b[0]}: {slope([a, b]):.2f}" for a, b in itertools.pairwise(points))
                print(f"{name:<10} log-log slope {slope(points):.2f} ({steps})")
    if marked:
        print(f"(* over the loader's {source.MAX_BYTES // 2**20} MiB input cap: run through the same entry point "
              "with the cap raised)")
    print()


process_table()
if ARGS.process_only:
    raise SystemExit(0)

def timed_verify(g):
    timings: dict[str, float] = {}
    findings = verify(g, timeout=60, timings=timings)
    per_class = {c.name: (sum(f.check == c.name for f in findings), timings.get(c.name, 0.0)) for c in CHECKS}
    bad = sum(f.verdict not in (Verdict.PROVED, Verdict.WARNING) for f in findings)
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
    p = dict(zip(names_v, combo, strict=True))
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
