"""Random edits of real inputs never crash guideproof: every outcome is a result or a
diagnostic (InputError), never another exception. Seeds are fixed, so a failure replays."""
from __future__ import annotations

import random

import pytest

from guideproof.guideline import SHIPPED
from guideproof.model.errors import InputError
from guideproof.model.loader import load_guideline_text
from guideproof.model.patient import apply_sets, load_patient_file
from guideproof.model.source import SourceText
from guideproof.verify.checks import verify
from guideproof.verify.partial import decide

TOKENS = ["- ", ": ", "[", "]", "{", "}", "&a ", "*a", '"', "'", "not ", " and ", " or ", "==", ">=",
          "true", "false", "1", "-1", "99999999999999999999", "null", "~", "\t", "!!binary",
          "!!python/object:x", "\x00", "é", "<<: ", "? ", "|", ">", "#", "%YAML 1.1\n", "---\n",
          "recommends(x)", "in [", "]]", "((", "))"]


def _mutate(lines: list[str], rng: random.Random) -> str:
    ls = list(lines)
    for _ in range(rng.randint(1, 4)):
        op, j = rng.random(), rng.randrange(len(ls))
        if op < 0.3:
            del ls[j]
        elif op < 0.5:
            ls.insert(j, ls[rng.randrange(len(ls))])
        elif op < 0.8:
            k = rng.randint(0, len(ls[j]))
            ls[j] = ls[j][:k] + rng.choice(TOKENS) + ls[j][k:]
        else:
            k = rng.randint(0, len(ls[j]))
            ls[j] = ls[j][:k] + ls[j][k + rng.randint(1, 5):]
    return "\n".join(ls)


def test_edited_guidelines_load_verify_and_query_without_crashing():
    lines = SHIPPED.read_text().split("\n")
    rng = random.Random(1)
    loaded = refused = 0
    for _ in range(300):
        try:
            g = load_guideline_text(SourceText("fuzz.yaml", _mutate(lines, rng)))
        except InputError as e:
            refused += 1
            assert all(d.code and d.message for d in e.diagnostics)
            continue
        loaded += 1
        verify(g)  # any exception other than InputError fails the test
        try:
            decide(g, {"age": 70, "weeks_since_fracture": 3})
        except InputError:
            pass
    assert loaded > 10 and refused > 150  # both paths were exercised


VALUES = ["72", "72.5", ".inf", ".nan", "1e400", "null", "yes", "on", '"true"', "[]", "[L1]", "[L1, 1]",
          "[[L1]]", "{a: 1}", "none", "mild", '""', "0x10", "2026-01-01", "!!binary aGVsbG8=",
          "999999999999999999999999", "-5", "13", '"13"']


@pytest.mark.parametrize("seed", [0])
def test_odd_patient_values_give_diagnostics(shipped, tmp_path, seed):
    rng = random.Random(seed)
    for _ in range(80):
        names = rng.sample(list(shipped.variables), rng.randint(0, 6))
        path = tmp_path / "p.yaml"
        path.write_text("".join(f"{n}: {rng.choice(VALUES)}\n" for n in names))
        try:
            decide(shipped, load_patient_file(shipped, path).values)
        except InputError:
            pass
        try:
            apply_sets(shipped, [f"{n}={rng.choice(VALUES)}" for n in names])
        except InputError:
            pass
