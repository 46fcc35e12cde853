"""Witness files write decimals as an author would (``70.5``, ``211/3``), unquoted, and
``query --patient`` reads every such file back to the same exact values."""
from __future__ import annotations

from fractions import Fraction

import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from guideproof.cli import cli
from guideproof.model.loader import load_guideline
from guideproof.model.patient import load_patient_file

NUMBERS = (FIXTURES / "numbers.yaml").read_text()


@pytest.mark.parametrize("condition,weight,written", [
    ("weight * 2 == 141", Fraction(141, 2), "70.5"),   # a finite decimal
    ("weight * 3 == 211", Fraction(211, 3), "211/3"),  # no finite decimal: the fraction
])
@pytest.mark.slow
def test_decimal_witnesses_are_bare_and_read_back(tmp_path, condition, weight, written):
    # Fails exactly for untreated patients of that weight: the witness must have it.
    text = NUMBERS.replace("holds: two_risks implies score >= 2, why: W.",
                           f"holds: not ({condition}) or recommends(treat) or recommends(reduce), why: W.")
    assert text != NUMBERS
    g_file = tmp_path / "g.yaml"
    g_file.write_text(text)
    out = tmp_path / "w"
    r = CliRunner().invoke(cli, ["verify", str(g_file), "--witness-dir", str(out)])
    assert r.exit_code == 1, r.output
    (witness,) = out.glob("GP006-*.yaml")
    assert f"\nweight: {written}\n" in witness.read_text()
    g = load_guideline(g_file)
    assert load_patient_file(g, witness).values["weight"] == weight
    r = CliRunner().invoke(cli, ["query", "-g", str(g_file), "-p", str(witness)])
    assert r.exit_code == 0, r.output
