"""Shared helpers for the benchmark scripts: process timing with medians."""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def wall(cmd: list[str], runs: int, expect: int = 0) -> list[float]:
    """Wall-clock seconds of ``runs`` executions of ``cmd`` (one warm-up run first)."""
    subprocess.run(cmd, capture_output=True, cwd=ROOT)
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, cwd=ROOT)
        out.append(time.perf_counter() - t)
        if p.returncode != expect:
            raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode()[:500]}")
    return out


def interleaved(cmds: dict[str, list[str]], runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """Wall-clock and CPU seconds (user + system, of the process and its children) of each
    command, the commands taking turns run after run, so that a floor and the commands
    measured against it share whatever else the machine is doing. One warm-up round first."""
    import resource

    out: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in cmds}
    for i in range(runs + 1):
        for label, cmd in cmds.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, cwd=ROOT)
            wall_s = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if p.returncode != 0:
                raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode()[:500]}")
            if i:
                out[label][0].append(wall_s)
                out[label][1].append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return out


def row(label: str, times: list[float]) -> str:
    return f"{label:<58} median {statistics.median(times) * 1000:8.1f} ms   min {min(times) * 1000:8.1f} ms   (n={len(times)})"
