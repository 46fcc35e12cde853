"""Optional facts: ``optional: true`` variables, ``known(x)``, patients that leave them out
or write null, and every check covering both the case with a value and the case without.

The fixture (tests/fixtures/optional.yaml) reads ``ttr`` only where a ``known(ttr)`` test on
the path guards it (an earlier branch of a ``first`` decision), and ``crea`` through a
computed value guarded inside the branch itself."""
from __future__ import annotations

import itertools
import json
from fractions import Fraction

import pytest
import z3
from click.testing import CliRunner

from conftest import FIXTURES, load_text
from guideproof.cli import cli
from guideproof.model.encode import Encoding
from guideproof.model.errors import InputError
from guideproof.model.evaluate import run, violated_constraints
from guideproof.model.loader import load_guideline
from guideproof.model.patient import PatientInput, apply_sets
from guideproof.model.report import answer
from guideproof.verify.checks import verify
from guideproof.verify.findings import Verdict

OPTIONAL = FIXTURES / "optional.yaml"
TEXT = OPTIONAL.read_text()


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def g():
    return load_guideline(OPTIONAL)


def _refuted(g_) -> list:
    return [f for f in verify(g_) if f.verdict != Verdict.PROVED]


def test_fixture_is_proved(g):
    assert g.variables["ttr"].optional and not g.variables["on_warfarin"].optional
    assert _refuted(g) == []
    r = invoke("verify", str(OPTIONAL), "--brief")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("facts,expected", [
    ({"on_warfarin": "false"}, "none"),
    ({"on_warfarin": "true"}, "measure"),  # ttr left out: it has no value
    ({"on_warfarin": "true", "ttr": "null"}, "measure"),
    ({"on_warfarin": "true", "ttr": "50"}, "switch"),
    ({"on_warfarin": "true", "ttr": "70"}, "keep"),  # no creatinine: the clearance test does not apply
    ({"on_warfarin": "true", "ttr": "70", "crea": "1.1"}, "keep"),
    ({"on_warfarin": "true", "ttr": "70", "crea": "4"}, "switch"),  # clearance 25
])
def test_answers(g, facts, expected):
    p = apply_sets(g, [f"{k}={v}" for k, v in facts.items()], PatientInput()).without_value(g)
    assert not p.missing(g)
    assert run(g, p.values).applies == {expected}


def test_computed_value_without_its_input_is_shown_as_having_none(g):
    r = invoke("query", "-g", str(OPTIONAL), "-s", "on_warfarin=true", "-s", "ttr=70", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["patient"] == {"on_warfarin": True, "ttr": 70, "crea": None}
    assert doc["computed"][0]["name"] == "clearance" and doc["computed"][0]["value"] is None
    text = invoke("query", "-g", str(OPTIONAL), "-s", "on_warfarin=true", "-s", "ttr=70").output
    assert "clearance = no value" in text
    r = invoke("query", "-g", str(OPTIONAL), "-s", "on_warfarin=true", "-s", "ttr=70", "-s", "crea=4", "--format", "json")
    assert json.loads(r.output)["computed"][0]["value"] == "25"


def test_patient_file_may_omit_or_null_an_optional_fact(tmp_path):
    outs = []
    for body in ("on_warfarin: true\n", "on_warfarin: true\nttr: null\ncrea: ~\n", '{"on_warfarin": true, "ttr": null}'):
        f = tmp_path / "p.yaml"
        f.write_text(body)
        r = invoke("query", "-g", str(OPTIONAL), "-p", str(f), "--format", "json")
        assert r.exit_code == 0, r.output
        outs.append(json.loads(r.output)["recommendations"])
    assert outs[0] == outs[1] == outs[2] and outs[0][0]["id"] == "measure"


def test_null_for_a_required_fact_is_refused(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("on_warfarin: null\n")
    r = invoke("query", "-g", str(OPTIONAL), "-p", str(f))
    assert r.exit_code == 2
    assert "p.yaml:1:14: error[wrong-type]" in r.output
    r = invoke("query", "-g", str(OPTIONAL), "-s", "ttr=lots")
    assert r.exit_code == 2 and "(or null: it is optional)" in r.output


def test_variables_lists_optional_facts():
    r = invoke("variables", "-g", str(OPTIONAL), "--format", "json")
    assert {v["name"]: v["optional"] for v in json.loads(r.output)["variables"]} == {
        "on_warfarin": False, "ttr": True, "crea": True}
    assert "ttr  (int: 0..100 percent; optional: may have no value)" in invoke("variables", "-g", str(OPTIONAL)).output


def _patients(g_):
    """Every combination of: on warfarin or not, TTR absent or at its edges, creatinine
    absent or giving clearances around the threshold of 30."""
    for w, t, c in itertools.product((False, True), (None, 0, 64, 65, 100),
                                     (None, Fraction(3, 10), Fraction(10, 3), Fraction(7, 2), Fraction(15))):
        yield {"on_warfarin": w, "ttr": t, "crea": c}


def test_evaluator_and_solver_agree_with_and_without_values(g):
    enc = Encoding(g)
    s = z3.Solver()
    s.add(enc.valid())
    valid = 0
    for p in _patients(g):
        s.push()
        s.add([enc.fix(n, v) for n, v in p.items()])
        ok = not violated_constraints(g, p)
        assert (s.check() == z3.sat) == ok, p
        if ok:
            valid += 1
            m = s.model()
            assert enc.patient(m) == p
            applies = run(g, p).applies
            for rid, term in enc.applies.items():
                assert z3.is_true(m.eval(term, model_completion=True)) == (rid in applies), (p, rid)
        s.pop()
    assert valid == 2 * 5 + 4 * 5  # off warfarin only without a TTR


def test_a_gap_only_without_a_value_is_found(g):
    """Coverage must consider patients without a creatinine: 'and' instead of 'implies'
    leaves exactly them without a branch."""
    edited = load_text(TEXT.replace("(known(crea) implies clearance > 30)", "(known(crea) and clearance > 30)"))
    bad = _refuted(edited)
    assert [(f.code, f.subject) for f in bad] == [("GP002", "step control")]
    w = bad[0].witness
    assert w["crea"] is None and w["on_warfarin"] and w["ttr"] >= 65


def test_an_overlap_only_with_a_value_is_found(g):
    edited = load_text(TEXT.replace("known(crea) and clearance <= 30", "known(crea) and clearance <= 40"))
    bad = _refuted(edited)
    assert [(f.code, f.subject) for f in bad] == [("GP003", "step control")]
    w = bad[0].witness
    assert w["crea"] is not None and 30 < 100 / w["crea"] <= 40


def test_invariant_about_the_case_without_a_value(g):
    edited = load_text(TEXT.replace("- {when: not known(ttr), goto: measure_it}", "- {when: not known(ttr), goto: control}")
                       .replace("      - {when: low_ttr, goto: switch_it}",
                                "      - {when: not known(ttr), goto: measure_it}\n      - {when: known(ttr) and low_ttr, goto: switch_it}")
                       .replace("ttr >= 65 and", "known(ttr) and ttr >= 65 and"))
    # still proved: the measure step moved one decision down, every path still reaches it
    assert _refuted(edited) == []
    broken = load_text(TEXT.replace("not known(ttr) implies recommends(measure)", "not known(ttr) implies recommends(keep)"))
    bad = _refuted(broken)
    assert [f.code for f in bad] == ["GP006"]
    assert bad[0].witness["ttr"] is None and bad[0].witness["on_warfarin"]


def test_witness_text_says_no_value(g):
    edited = TEXT.replace("(known(crea) implies clearance > 30)", "(known(crea) and clearance > 30)")
    from pathlib import Path
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "g.yaml"
        f.write_text(edited)
        r = invoke("verify", str(f), "--brief")
    assert r.exit_code == 1
    assert "crea: no value" in r.output


def test_guard_from_the_failed_branch_of_a_first_decision_only():
    """'not known(ttr)' failing guards ttr in the later branches of a 'first' decision (and
    in its 'otherwise', whatever the choice), not in the later branches of an 'any' one."""
    first = TEXT.replace("\n    otherwise: control", "\n      - {when: on_warfarin, goto: control}")
    assert not _refuted(load_text(first))
    load_text(TEXT.replace("choice: first", "choice: any"))  # the otherwise still knows
    with pytest.raises(InputError) as info:
        load_text(first.replace("choice: first", "choice: any"))
    assert {d.code for d in info.value.diagnostics} == {"unguarded-optional"}
    assert "on some path to this decision" in str(info.value)


def test_known_tests_guard_through_or_implies_if_and_definitions():
    for cond in ("not known(crea) or clearance > 30", "known(crea) implies clearance > 30",
                 "(if known(crea) then clearance else 100) > 30", "has_crea and clearance > 30"):
        text = TEXT.replace("(known(crea) implies clearance > 30)", f"({cond})").replace(
            "  low_ttr: ttr < 65\n", "  low_ttr: ttr < 65\n  has_crea: known(crea)\n")
        load_text(text)  # no error
    with pytest.raises(InputError):
        load_text(TEXT.replace("(known(crea) implies clearance > 30)", "(known(crea) or clearance > 30)"))


def test_patient_breaking_a_constraint_with_an_optional_fact():
    r = invoke("query", "-g", str(OPTIONAL), "-s", "on_warfarin=false", "-s", "ttr=70")
    assert r.exit_code == 2 and "ttr_only_on_warfarin" in r.output


def test_answer_explains_the_missing_value(g):
    p = apply_sets(g, ["on_warfarin=true"], PatientInput()).without_value(g)
    ans = answer(g, p.values)
    (applied,) = ans.applied
    facts = {n for r in applied.reasons for n, _ in r.facts}
    assert facts == {"ttr"}  # the branch taken: 'not known(ttr)'


def test_guarded_definition_over_a_computed_value_without_its_input(g):
    """A definition that guards a computed value (``known(crea) and clearance <= 30``) is
    evaluated, explained and verified for a patient without the input: the computed value
    beneath it is only an error where it is actually read."""
    text = TEXT.replace("  clearance: {value: 100 / crea, unit: mL/min}\n",
                        "  clearance: {value: 100 / crea, unit: mL/min}\n"
                        "  low_clearance: known(crea) and clearance <= 30\n").replace(
        "{when: ttr >= 65 and (known(crea) implies clearance > 30), goto: keep_it}",
        "{when: ttr >= 65 and not low_clearance, goto: keep_it}").replace(
        "{when: ttr >= 65 and known(crea) and clearance <= 30, goto: switch_it}",
        "{when: ttr >= 65 and low_clearance, goto: switch_it}")
    assert text.count("low_clearance") == 3
    h = load_text(text, "optional.yaml")
    assert _refuted(h) == []
    assert run(h, {"on_warfarin": True, "ttr": 70, "crea": None}).applies == {"keep"}
    assert run(h, {"on_warfarin": True, "ttr": 70, "crea": Fraction(4)}).applies == {"switch"}
    ans = answer(h, {"on_warfarin": True, "ttr": 70, "crea": None})  # the explanation walks it too
    assert ans.trace.applies == {"keep"}
