"""Synthetic guidelines of a chosen size, for scaling measurements.

N branches are spread over N/10 decisions of 10 branches each, one int variable per
decision; half the decisions are exclusive (``single``), half priority-ordered (``first``).
Every branch leads to an action with its own recommendation; a fork at the start runs all
decisions in parallel. Each decision also brings one conflict and one invariant, so every
obligation class grows with N.
"""
from __future__ import annotations


def synthetic_yaml(branches: int) -> str:
    k = max(1, branches // 10)
    out = [
        "guideproof: 1",
        f"guideline: {{id: synthetic-{branches}, title: Synthetic {branches}, version: '1'}}",
        "sources: {1: {title: Synthetic}}",
        "categories: {care: Care}",
        "strengths: {strong: Strong}",
        "variables:",
    ]
    for j in range(k):
        out.append(f"  x{j}: {{type: int, min: 0, max: 9, unit: points, question: 'Score {j}?'}}")
    out.append("  flag: {type: bool, question: 'Flag?'}")
    out.append("constraints:")
    out.append("  - {id: c0, holds: flag or x0 >= 1, why: W.}")
    out.append("definitions:")
    out.append("  low0: x0 <= 4")
    out.append("recommendations:")
    for j in range(k):
        for i in range(10):
            out.append(f"  r{j}_{i}: {{short: R, text: R., category: care, strength: strong, sources: [1], section: S}}")
    out.append("start: root")
    out.append("steps:")
    if k == 1:
        out.append("  root: {kind: fork, title: Root, tracks: [d0, d0_end]}")
        out.append("  d0_end: {kind: end, title: End}")
    else:
        out.append("  root: {kind: fork, title: Root, tracks: [" + ", ".join(f"d{j}" for j in range(k)) + "]}")
    for j in range(k):
        first = j % 2 == 1
        out.append(f"  d{j}:")
        out.append("    kind: decision")
        out.append(f"    title: Decision {j}")
        out.append(f"    choice: {'first' if first else 'single'}")
        out.append("    branches:")
        for i in range(10):
            guard = f"x{j} <= {i}" if first else f"x{j} == {i}"
            out.append(f"      - {{when: {guard}, goto: a{j}_{i}}}")
    for j in range(k):
        for i in range(10):
            out.append(f"  a{j}_{i}: {{kind: action, title: A, recommend: [r{j}_{i}]}}")
    out.append("conflicts:")
    for j in range(k):
        out.append(f"  - {{id: k{j}, between: [r{j}_0, r{j}_1], why: W.}}")
    out.append("invariants:")
    for j in range(k):
        out.append(f"  - {{id: i{j}, holds: x{j} == 0 implies recommends(r{j}_0), why: W.}}")
    return "\n".join(out) + "\n"
