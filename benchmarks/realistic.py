"""Realistic synthetic guidelines: the shape of real ones, sound by construction.

``synthetic.py`` spreads independent decisions under one fork with a single constraint;
real guidelines look different, and that difference is what makes verification hard. Here
a guideline of about N branches is made of N/33 *chains*, all started by one fork, each
with its own patient variables plus one shared variable (``age``) that couples them all:

* ten decisions in a row, each leading to the next through action steps, so the terms
  that say "this step is reached" are ten levels deep;
* three coupled domain constraints per chain (``dur <= weeks``; pain ``none`` exactly when
  the score is 0; a flag only with a score of at least 10);
* overlapping interval guards in a mix of ``single`` (disjoint, covering), ``first``
  (nested thresholds in priority order, then ``otherwise``) and ``any`` (overlapping,
  several fire together, two branches sharing a target, then ``otherwise``) decisions,
  guards reading definitions, set members and a difference of two variables;
* an escalation half-way down that ends the chain, so the later levels are reached only
  by the patients it does not take;
* a three-way conflict per chain among mutually exclusive recommendations (one of them
  the escalation, the other two six levels apart from the chain's start), three
  invariants spanning levels, two definitions, and one disposition list for the guideline.

Every obligation ``guideproof verify`` derives holds: every guard is satisfiable where
its step is reached, no ``first`` branch is masked, every ``single`` decision is
exclusive and covering, every ``any``/``first`` decision has an ``otherwise``, branches
sharing a target are incomparable, each constraint excludes some patient and each
definition is sometimes true and sometimes false. ``tests/test_benchmarks_generators.py``
verifies a small instance.

Usage: ``python benchmarks/realistic.py N > guideline.yaml``
"""
from __future__ import annotations

import sys

#: Edges (branches and ``otherwise``) of one chain's ten decisions.
EDGES_PER_CHAIN = 33

#: (choice, [(guard template, target index)], otherwise target index or None), one per level.
#: ``{c}`` is the chain number; a target index names the action ``a{c}_{level}_{index}``,
#: except ``NEXT`` (the next level's decision directly).
NEXT = -1
LEVELS: list[tuple[str, list[tuple[str, int]], int | None]] = [
    ("single", [("s{c} < 30", 0), ("s{c} >= 30 and s{c} < 70", 1), ("s{c} >= 70", 2)], None),
    ("first", [("w{c} <= 4", 0), ("w{c} <= 12", 1), ("w{c} <= 26", 2)], 3),
    ("any", [("d{c} >= 6", 0), ("p{c} in [moderate, severe]", 0), ("age >= 65 and s{c} >= 50", 1)], 2),
    ("single", [("d{c} < 4", 0), ("not long{c} and d{c} >= 4", 1), ("long{c}", 2)], None),
    ("first", [("p{c} == severe", 0), ("high{c}", 1), ("s{c} >= 30", 2)], 3),
    ("first", [("f{c} and w{c} <= 2", 0)], NEXT),  # escalation: its action ends the chain
    ("single", [("w{c} - d{c} <= 2", 0), ("w{c} - d{c} > 2", 1)], None),
    ("any", [("r{c} or B in loc{c}", 0), ("s{c} >= 50", 1), ("d{c} >= 20 and not elderly", 2)], 3),
    ("first", [("s{c} >= 90", 0), ("s{c} >= 60", 1), ("s{c} >= 10", 2)], 3),
    ("single", [("p{c} in [none, mild]", 0), ("p{c} == moderate", 1), ("p{c} == severe", 2)], None),
]
ESCALATION = 5


def _actions(level: int) -> int:
    _, branches, otherwise = LEVELS[level]
    targets = {t for _, t in branches} | ({otherwise} if otherwise is not None else set())
    return len(targets - {NEXT})


def realistic_yaml(branches: int) -> str:
    """A guideline of about ``branches`` decision edges (a multiple of 33), which verifies."""
    chains = max(1, round(branches / EDGES_PER_CHAIN))
    out = [
        "guideproof: 1",
        f"guideline: {{id: realistic-{branches}, title: Realistic {branches}, version: '1'}}",
        "sources: {1: {title: Synthetic}}",
        "categories: {care: Care, escalation: Escalation}",
        "strengths: {strong: Strong}",
        "variables:",
        "  age: {type: int, min: 18, max: 110, unit: years, typical: 70, question: 'Age?'}",
    ]
    for c in range(chains):
        out += [
            f"  s{c}: {{type: int, min: 0, max: 100, unit: points, question: 'Score {c}?'}}",
            f"  w{c}: {{type: int, min: 0, max: 260, unit: weeks, typical: 2, question: 'Weeks {c}?'}}",
            f"  d{c}: {{type: int, min: 0, max: 260, unit: weeks, question: 'Duration {c}?'}}",
            f"  p{c}: {{type: enum, values: [none, mild, moderate, severe], question: 'Pain {c}?'}}",
            f"  f{c}: {{type: bool, question: 'Flag {c}?'}}",
            f"  r{c}: {{type: bool, question: 'Risk {c}?'}}",
            f"  loc{c}: {{type: set, values: [A, B, C], question: 'Sites {c}?'}}",
        ]
    out.append("constraints:")
    for c in range(chains):
        out += [
            f"  - {{id: dur{c}, holds: d{c} <= w{c}, why: Duration within the weeks.}}",
            f"  - {{id: pain{c}, holds: (p{c} == none) == (s{c} == 0), why: No pain means score 0.}}",
            f"  - {{id: flag{c}, holds: f{c} implies s{c} >= 10, why: Flag needs a score.}}",
        ]
    out += ["definitions:", "  elderly: age >= 65"]
    for c in range(chains):
        out += [f"  high{c}: s{c} >= 70", f"  long{c}: {{when: d{c} >= 13, why: Over 3 months.}}"]
    out.append("recommendations:")
    for c in range(chains):
        for level in range(len(LEVELS)):
            category = "escalation" if level == ESCALATION else "care"
            for i in range(_actions(level)):
                out.append(f"  r{c}_{level}_{i}: {{short: R{c}.{level}.{i}, text: Do {c}.{level}.{i}., "
                           f"category: {category}, strength: strong, sources: [1], section: S{level}}}")
    out.append("dispositions: [r0_0_0, r0_0_1, r0_0_2]")
    out.append("start: root" if chains > 1 else "start: d0_0")
    out.append("steps:")
    if chains > 1:  # a fork needs two tracks
        out.append("  root: {kind: fork, title: Start, tracks: [" + ", ".join(f"d{c}_0" for c in range(chains)) + "]}")
    for c in range(chains):
        out.append(f"  e{c}: {{kind: end, title: End {c}}}")
        for level, (choice, guards, otherwise) in enumerate(LEVELS):
            def target(t: int, level: int = level, c: int = c) -> str:
                return f"d{c}_{level + 1}" if t == NEXT else f"a{c}_{level}_{t}"
            out += [f"  d{c}_{level}:", "    kind: decision", f"    title: Decision {c}.{level}",
                    f"    choice: {choice}", "    branches:"]
            for guard, t in guards:
                out.append(f"      - {{when: '{guard.format(c=c)}', goto: {target(t)}}}")
            if otherwise is not None:
                out.append(f"    otherwise: {target(otherwise)}")
            after = f"e{c}" if level in (ESCALATION, len(LEVELS) - 1) else f"d{c}_{level + 1}"
            for i in range(_actions(level)):
                out.append(f"  a{c}_{level}_{i}: {{kind: action, title: A{c}.{level}.{i}, "
                           f"recommend: [r{c}_{level}_{i}], next: {after}}}")
    out.append("conflicts:")
    for c in range(chains):
        out.append(f"  - {{id: k{c}, between: [r{c}_{ESCALATION}_0, r{c}_6_0, r{c}_6_1], why: One course.}}")
    out.append("invariants:")
    for c in range(chains):
        out += [
            f"  - {{id: esc{c}, holds: f{c} and w{c} <= 2 implies recommends(r{c}_{ESCALATION}_0), why: Escalate.}}",
            f"  - {{id: stop{c}, holds: recommends(r{c}_{ESCALATION}_0) implies not (recommends(r{c}_9_0) "
            f"or recommends(r{c}_9_1) or recommends(r{c}_9_2)), why: Escalation ends the chain.}}",
            f"  - {{id: high{c}_followed, holds: recommends(r{c}_0_2) and not (f{c} and w{c} <= 2) "
            f"implies recommends(r{c}_8_0) or recommends(r{c}_8_1), why: A high score is followed up.}}",
        ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(realistic_yaml(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
