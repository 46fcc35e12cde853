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


def row(label: str, times: list[float]) -> str:
    return f"{label:<58} median {statistics.median(times) * 1000:8.1f} ms   min {min(times) * 1000:8.1f} ms   (n={len(times)})"
