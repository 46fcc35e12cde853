"""The benchmark generators produce guidelines that load and that verify proves."""
from __future__ import annotations

import sys
from collections import Counter

import pytest

from guideproof.verify.checks import verify
from guideproof.verify.findings import Verdict
from conftest import TESTS, load_text

sys.path.insert(0, str(TESTS.parent / "benchmarks"))
from realistic import realistic_yaml
from synthetic import synthetic_yaml


#: the obligation classes the generated guidelines exercise (they declare no contraindications:
#: GP008 is exercised by the shipped guideline and the overlay tests)
ALL = {"GP001", "GP002", "GP003", "GP004", "GP005", "GP006", "GP007", "GP009"}


@pytest.mark.slow
@pytest.mark.parametrize("make, branches, codes", [(synthetic_yaml, 40, ALL - {"GP005"}), (realistic_yaml, 66, ALL)])
def test_generator_output_is_proved(make, branches, codes):
    g = load_text(make(branches), f"{make.__name__}-{branches}.yaml")
    findings = verify(g, timeout=60)
    bad = [(f.code, f.subject, f.verdict.value, f.message) for f in findings if f.verdict != Verdict.PROVED]
    assert not bad
    counts = Counter(f.code for f in findings)
    assert set(counts) == codes, counts  # every obligation class is exercised


def test_realistic_shape():
    g = load_text(realistic_yaml(66), "realistic-66.yaml")
    decisions = [s for s in g.steps.values() if s.kind == "decision"]
    assert {s.choice for s in decisions} == {"single", "first", "any"}
    edges = sum(len(s.branches) + (s.otherwise is not None) for s in decisions)
    assert edges == 66
    assert len(g.constraints) == 3 * 2 and len(g.invariants) == 3 * 2
    assert all(len(c.recs) == 3 for c in g.conflicts)
    assert g.definitions


@pytest.mark.slow
def test_realistic_generator_can_fail_verification():
    # The generator's soundness is a property of its guards, not of the checker: moving one
    # threshold so two single-choice branches overlap is found.
    text = realistic_yaml(33).replace("'s0 >= 30 and s0 < 70'", "'s0 >= 20 and s0 < 70'")
    findings = verify(load_text(text, "broken.yaml"), timeout=60)
    assert ("GP003", "step d0_0") in {(f.code, f.subject) for f in findings if f.verdict == Verdict.REFUTED}
