"""The code registry: every diagnostic code used anywhere in the source is registered with
a meaning and an example, and 'guideproof checks' lists the obligations in numeric order and
every input-error code, as plain text or JSON."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from guideproof.cli import cli
from guideproof.model.codes import CODES
from guideproof.verify.checks import CHECKS

ROOT = Path(__file__).resolve().parent.parent
CALLS = {"err", "error", "ExprError", "Diagnostic", "fhir_error"}


def _codes_in_source() -> dict[str, str]:
    """Code -> a file using it: the first argument of every diagnostic-making call, and the
    code of every (code, message) problem pair."""
    found: dict[str, str] = {}
    for folder in ("model", "verify", "guideproof", "diagrams"):
        for path in (ROOT / folder).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                    if name in CALLS and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                        found.setdefault(node.args[0].value, path.name)
                elif (isinstance(node, ast.Tuple) and len(node.elts) == 2 and isinstance(node.elts[0], ast.Constant)
                      and isinstance(node.elts[0].value, str) and "-" in node.elts[0].value and " " not in node.elts[0].value
                      and isinstance(node.elts[1], (ast.Constant, ast.JoinedStr))):
                    found.setdefault(node.elts[0].value, path.name)
    return found


@pytest.mark.slow
def test_every_code_used_is_registered():
    used = _codes_in_source()
    assert len(used) >= 40  # the scan itself finds them
    missing = {c: f for c, f in used.items() if c not in CODES}
    assert not missing, f"register these in model/codes.py: {missing}"
    unused = set(CODES) - set(used)
    assert not unused, f"registered but never used: {unused}"


def test_every_code_has_a_meaning_and_an_example():
    for c in CODES.values():
        assert c.meaning.endswith(".") and len(c.meaning) > 20 and c.example, c.code


def test_checks_text_lists_obligations_in_order_then_codes():
    r = CliRunner().invoke(cli, ["checks"])
    assert r.exit_code == 0
    out = r.output
    positions = [out.index(f"{c.code} {c.name}\n") for c in sorted(CHECKS, key=lambda c: c.code)]
    assert positions == sorted(positions)
    assert "``" not in out and "::" not in out  # plain text, not reStructuredText
    start = out.index("INPUT ERRORS")
    assert all(f"\n{code}\n" in out[start:] for code in CODES)


def test_checks_json():
    doc = json.loads(CliRunner().invoke(cli, ["checks", "--format", "json"]).output)
    assert [o["code"] for o in doc["obligations"]] == sorted(c.code for c in CHECKS)
    assert all(o["examples"] and o["summary"][0].isupper() for o in doc["obligations"])
    assert {e["code"] for e in doc["input_errors"]} == set(CODES)
