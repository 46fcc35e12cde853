"""Witness files write decimals as an author would (``70``, ``70.75``, ``283/4``), unquoted,
and ``query --patient`` reads every such file back to the same exact values."""
from __future__ import annotations

import re

from click.testing import CliRunner

from conftest import FIXTURES
from guideproof.cli import cli
from guideproof.model.loader import load_guideline
from guideproof.model.patient import load_patient_file

NUMBERS = (FIXTURES / "numbers.yaml").read_text()


def test_decimal_witnesses_are_bare_and_read_back(tmp_path):
    # Fails for anyone heavier than 70.5 kg who is not treated: the witness's weight is a
    # decimal just above a non-whole boundary.
    text = NUMBERS.replace("holds: two_risks implies score >= 2, why: W.",
                           "holds: weight <= 70.5 or recommends(treat) or recommends(reduce), why: W.")
    assert text != NUMBERS
    g_file = tmp_path / "g.yaml"
    g_file.write_text(text)
    out = tmp_path / "w"
    r = CliRunner().invoke(cli, ["verify", str(g_file), "--witness-dir", str(out)])
    assert r.exit_code == 1, r.output
    (witness,) = out.glob("GP006-*.yaml")
    body = witness.read_text()
    weight = re.search(r"^weight: (.*)$", body, re.M)
    assert weight is not None and re.fullmatch(r"[0-9]+(\.[0-9]+|/[0-9]+)?", weight.group(1)), body
    g = load_guideline(g_file)
    values = load_patient_file(g, witness).values
    assert values["weight"] > 70.5
    r = CliRunner().invoke(cli, ["query", "-g", str(g_file), "-p", str(witness)])
    assert r.exit_code == 0, r.output
