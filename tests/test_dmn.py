"""DMN import: public models with known answers (../shared/dmn/, read in place), and fixtures
for every hit policy, every unary-test form, a requirement graph, malformed XML, an entity
bomb and constructs beyond the analysed subset, each with its exact outcome."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from guideproof.cli import cli
from guideproof.model.dmn import Imported, import_dmn, parse_xml
from guideproof.model.errors import InputError
from guideproof.model.feel import parse_literal
from guideproof.model.source import read_text
from guideproof.verify.checks import verify
from guideproof.verify.findings import Finding, Verdict

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "dmn"
FIXTURES = ROOT / "tests" / "fixtures" / "dmn"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"the public DMN test data is not at {SHARED.name} "
                                  "beside the repository (../shared/dmn/)")


def _import(path: Path) -> Imported:
    return import_dmn(read_text(path))


def _failing(findings: list[Finding]) -> list[tuple[str, str]]:
    return sorted((f.code, f.subject) for f in findings if f.verdict in (Verdict.REFUTED, Verdict.UNKNOWN))


def _run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.stdout, r.stderr


def _outputs(imp: Imported, args: list[str], table: str) -> set[tuple[tuple[str, str], ...]]:
    """The outputs of ``table`` that apply to the facts (complete or partial), by ``query``."""
    code, out, err = _run("query", "-g", imp.guideline.file, "--format", "json", *args)
    assert code in (0, 1, 3), err  # 3: parts of the model are NOT ANALYSED
    doc = json.loads(out)
    recs = [r["id"] for r in doc["recommendations"] if doc.get("complete", True) is not False or r["status"] == "applies"]
    return {tuple((n, v.text) for n, v in imp.outputs[r][1]) for r in recs if imp.outputs[r][0] == table}


# ----------------------------------------------------------------------------- ../shared/dmn


@needs_shared
def test_dish_decision_overlap_of_rules_3_and_4_is_one_region():
    imp = _import(SHARED / "dish-decision.dmn")
    findings = verify(imp.guideline)
    assert _failing(findings) == [("GP002", "step dish"), ("GP003", "step dish")]
    overlap = next(f for f in findings if f.code == "GP003")
    assert "branch 3 (rule 3) and branch 4 (rule 4: Save money) both apply" in overlap.message
    assert overlap.regions_end == "complete" and len(overlap.regions) == 1
    assert overlap.regions[0].condition == "season == Spring and guest_count <= 7 and guest_count >= 5"
    assert overlap.witness == {"season": "Spring", "guest_count": 5}
    assert overlap.span.line == 38  # the <rule> element of rule 4, the later of the two
    # the one gap: a season string none of the rules names ("other")
    gap = next(f for f in findings if f.code == "GP002")
    assert [r.condition for r in gap.regions] == ["season == other"]
    # each rule is located at its <rule> element
    assert [(b.label, b.span.line) for b in imp.guideline.steps["dish"].branches] == [
        ("rule 1", 14), ("rule 2", 22), ("rule 3", 30), ("rule 4: Save money", 38), ("rule 5: Less effort", 47),
        ("rule 6: Hey, why not!?", 56)]


@needs_shared
def test_every_shared_table_imports_or_is_not_analysed_with_its_reason():
    counts = {}
    for path in sorted(SHARED.glob("*.dmn")):
        imp = _import(path)
        tables = path.read_text().count("<decisionTable")
        skipped_tables = [p for p in imp.guideline.not_analysed if "decisionTable" in
                          path.read_text().splitlines()[p.span.line - 1]]
        assert len(imp.tables) + len(skipped_tables) == tables, path.name
        counts[path.name] = (len(imp.tables), len(imp.guideline.not_analysed))
        assert all(p.reason and p.span is not None for p in imp.guideline.not_analysed)
    assert counts == {"0004-lending.dmn": (7, 13), "0006-simpletable-P1.dmn": (1, 0),
                      "0108-first-hitpolicy.dmn": (1, 0), "dish-decision.dmn": (1, 0)}
    lending = _import(SHARED / "0004-lending.dmn").guideline
    reasons = {p.what: p.reason for p in lending.not_analysed}
    assert reasons["decision 'Adjudication'"] == "its logic is a literal expression"
    assert reasons["business knowledge model 'ApplicationRiskScoreModel'"].startswith(
        "hit policy COLLECT with the aggregation SUM")
    assert reasons["business knowledge model 'AffordabilityCalculation'"] == "its logic is a context (boxed expression)"


@pytest.mark.slow
@needs_shared
def test_lending_verify_reports_not_analysed_parts_and_a_real_gap():
    code, out, _ = _run("verify", "--brief", "--max-findings", "3", str(SHARED / "0004-lending.dmn"))
    assert code == 1  # a refutation outranks the unknowns
    assert out.count("warning[GP011]") == 13
    # the pre-bureau risk table of a new customer: rule 3 ends before 130, rule 4 starts after it
    assert ("pre_bureau_risk_category_table_application_risk_score >= 130 and "
            "pre_bureau_risk_category_table_application_risk_score <= 130") in out


def _tck_cases(imp: Imported, test_file: Path) -> list[tuple[str, list[str], tuple[tuple[str, str], ...]]]:
    """(decision, --set arguments, expected outputs) for each result of an analysed decision;
    inputs the tables read from decisions that are not analysed take the test's own results."""
    root = parse_xml(read_text(test_file))
    out = []
    for case in root.all("testCase"):
        facts: dict[str, str] = {}
        for node in case.all("inputNode") + case.all("resultNode"):
            value = node.first("value") if node.tag == "inputNode" else (node.first("expected") or node).first("value")
            if value is not None and node.attrs["name"] in imp.variables:
                facts[node.attrs["name"]] = value.text
        sets = []
        for name, value in facts.items():
            var = imp.variables[name]
            sets += ["--set", f"{var}={imp.strings.get(var, {}).get(value, value)}"]
        for node in case.all("resultNode"):
            if node.attrs["name"] not in imp.tables:
                continue
            expected = node.first("expected")
            assert expected is not None
            parts = expected.all("component") or [expected]
            want = []
            for p in parts:
                v = p.first("value")
                assert v is not None
                kind = v.attrs.get("type", "")
                lit = v.text if kind.endswith("decimal") or kind.endswith("boolean") else json.dumps(v.text)
                want.append((p.attrs.get("name", ""), lit))
            out.append((node.attrs["name"], sets, tuple(want)))
    return out


@pytest.mark.slow
@needs_shared
@pytest.mark.parametrize("model, replayed", [("0006-simpletable-P1", 3), ("0108-first-hitpolicy", 3), ("0004-lending", 1)])
def test_tck_cases_replay_through_query(model: str, replayed: int):
    imp = _import(SHARED / f"{model}.dmn")
    cases = _tck_cases(imp, SHARED / f"{model}-test-01.xml")
    assert len(cases) == replayed
    for decision, sets, want in cases:
        got = _outputs(imp, sets, decision)
        shown = {tuple((n if len(want) > 1 else "", v) for n, v in res) for res in got}
        assert shown == {tuple((n if len(want) > 1 else "", v) for n, v in want)}, (decision, sets)


# ----------------------------------------------------------------------------- fixtures


@pytest.mark.parametrize("name, failing", [
    ("unique", [("GP002", "step plan"), ("GP003", "step plan")]),
    ("any", [("GP001", "conflict plan_any"), ("GP005", "branch plan#2 vs plan#1")]),
    ("priority", [("GP004", "branch triage#3")]),
    ("first", [("GP004", "branch plan#3"), ("GP004", "branch plan#otherwise"), ("GP004", "recommendation plan_out3"),
               ("GP004", "recommendation plan_out5"), ("GP004", "step plan_out3"), ("GP004", "step plan_out5")]),
    ("rule_order", [("GP005", "branch checks#3 vs checks#1")]),
    ("output_order", [("GP005", "branch checks#3 vs checks#1")]),
    ("collect", [("GP005", "branch checks#3 vs checks#1")]),
    ("unary", []),
    ("drg", []),
])
def test_hit_policy_fixtures(name: str, failing: list[tuple[str, str]]):
    g = _import(FIXTURES / f"{name}.dmn").guideline
    assert _failing(verify(g)) == sorted(failing)


def test_hit_policies_map_onto_decision_kinds():
    kinds = {}
    for name in ("unique", "any", "priority", "first", "rule_order", "output_order", "collect"):
        g = _import(FIXTURES / f"{name}.dmn").guideline
        step = g.steps[g.start]
        kinds[name] = (step.choice, [b.label for b in step.branches], step.otherwise)
    assert kinds["unique"][0] == "single"
    assert kinds["any"][0] == "any"
    assert kinds["priority"] == ("first", ["rule 2", "rule 1", "rule 3"], None)  # "urgent" outranks "routine"
    assert kinds["first"] == ("first", ["rule 1", "rule 2", "rule 3", "rule 4"], "plan_out5")  # the default output
    assert {kinds[n][0] for n in ("rule_order", "output_order", "collect")} == {"any"}


def test_masked_rules_speak_rule_numbers():
    _, out, _ = _run("verify", "--brief", str(FIXTURES / "priority.dmn"))
    assert "priority.dmn:15:7: error[GP004]: reachability: branch 3 of 'triage' (rule 3) is never taken; masked by " \
           "branch 1 (rule 2)" in out
    _, out, _ = _run("verify", "--brief", str(FIXTURES / "first.dmn"))
    assert "first.dmn:18:7: error[GP004]: reachability: branch 3 of 'plan' (rule 3) is never taken; masked by " \
           "branches 1 and 2 (rule 1; rule 2)" in out


def test_unique_gap_and_overlap_regions():
    findings = verify(_import(FIXTURES / "unique.dmn").guideline)
    gap = next(f for f in findings if f.code == "GP002")
    assert [r.condition for r in gap.regions] == ["score > 8 and grade == low"]
    overlap = next(f for f in findings if f.code == "GP003")
    assert "branch 2 (rule 2) and branch 3 (rule 3) both apply" in overlap.message
    assert [r.condition for r in overlap.regions] == ["score <= 6 and score >= 5 and grade == mid"]


def test_collect_answers_every_matching_rule():
    imp = _import(FIXTURES / "collect.dmn")
    got = _outputs(imp, ["--set", "score=4", "--set", "urgent=true"], "Checks")
    assert got == {(("check", '"review"'),), (("check", '"call"'),)}


FORMS = {  # each rule of unary.dmn, as an independent Python predicate on (n, s, b)
    "r1": lambda n, s, b: True, "r2": lambda n, s, b: True, "r3": lambda n, s, b: n == 5,
    "r4": lambda n, s, b: n == Fraction("-2.5"), "r5": lambda n, s, b: n < 3, "r6": lambda n, s, b: n <= 3,
    "r7": lambda n, s, b: n > 7, "r8": lambda n, s, b: n >= 7, "r9": lambda n, s, b: 2 <= n <= 4,
    "r10": lambda n, s, b: 2 < n <= 4, "r11": lambda n, s, b: 2 <= n < 4, "r12": lambda n, s, b: 2 < n < 4,
    "r13": lambda n, s, b: 2 < n < 4, "r14": lambda n, s, b: n == 1 or 8 <= n <= 9, "r15": lambda n, s, b: n != 5,
    "r16": lambda n, s, b: not (2 <= n <= 4 or n > 8), "r17": lambda n, s, b: s in ("x", "y"),
    "r18": lambda n, s, b: s != "x", "r19": lambda n, s, b: b, "r20": lambda n, s, b: not b,
}


@pytest.mark.parametrize("n", ["-2.5", "1", "2", "3", "4", "5", "7", "8.5", "9", "10"])
def test_every_unary_test_form(n: str):
    imp = _import(FIXTURES / "unary.dmn")
    for s, b in (("x", "true"), ("other", "false")):
        got = _outputs(imp, ["--set", f"n={n}", "--set", f"s={s}", "--set", f"b={b}"], "Forms")
        want = {r for r, p in FORMS.items() if p(Fraction(n), s, b == "true")}
        assert {res[0][1].strip('"') for res in got} == want, (n, s, b)


def test_drg_table_reads_another_tables_output():
    imp = _import(FIXTURES / "drg.dmn")
    assert set(imp.guideline.definitions) == {"risk_gives_1", "risk_gives_2", "risk_gives_3"}
    # not("high") admits the results "medium" and "low" of Risk, a FIRST table
    assert imp.guideline.steps["action"].branches[1].cond.text == "(risk_gives_2 or risk_gives_3)"
    assert imp.guideline.definitions["risk_gives_2"].cond.text == "((age >= 18) and not (age >= 65))"
    for age, action in (("70", '"refer"'), ("65", '"refer"'), ("30", '"watch"'), ("10", '"watch"')):
        assert _outputs(imp, ["--set", f"age={age}"], "Action") == {(("Action", action),)}, age
    assert _run("verify", "--brief", str(FIXTURES / "drg.dmn"))[0] == 0


def test_malformed_xml_exits_2_with_line_and_column():
    code, out, err = _run("verify", str(FIXTURES / "malformed.dmn"))
    assert code == 2 and out == ""
    assert err.startswith(f"{FIXTURES / 'malformed.dmn'}:7:41: error[xml-syntax]: malformed XML: mismatched tag")
    assert "Traceback" not in err


def test_entity_bomb_and_external_entity_are_refused_before_expansion():
    with pytest.raises(InputError) as e:
        _import(FIXTURES / "entity_bomb.dmn")
    d = e.value.diagnostics[0]
    assert d.code == "xml-doctype" and d.span is not None and d.span.line == 2
    code, _, err = _run("query", "-g", str(FIXTURES / "entity_bomb.dmn"))
    assert code == 2 and "error[xml-doctype]" in err


def test_unsupported_constructs_are_not_analysed_with_exit_3():
    code, out, _ = _run("verify", "--brief", str(FIXTURES / "unsupported.dmn"))
    assert code == 3
    assert "unsupported.dmn:4:5: warning[GP011]: not analysed: decision 'Fee' is NOT ANALYSED: its logic is a " \
           "literal expression" in out
    assert "unsupported.dmn:10:25: warning[GP011]: not analysed: decision 'Window' is NOT ANALYSED: rule 1, input 1 " \
           "(Date): '< today() + 3' is beyond simple unary tests: the name or function 'today'" in out
    assert "unsupported.dmn:21:3: warning[GP011]: not analysed: import 'other' is NOT ANALYSED: an imported model " \
           "is not read" in out
    assert "INCONCLUSIVE: 3 of 13 obligations not settled (3 NOT ANALYSED)" in out
    # the table within the subset is analysed, and a query names what is not
    imp = _import(FIXTURES / "unsupported.dmn")
    assert list(imp.tables) == ["Band"]
    code, out, err = _run("query", "-g", str(FIXTURES / "unsupported.dmn"), "--set", "amount=150")
    assert code == 3 and 'Band = "large"' in out
    assert "unsupported.dmn:4:5: NOT ANALYSED: decision 'Fee': its logic is a literal expression" in err


def test_collect_with_aggregation_is_not_analysed():
    g = _import(FIXTURES / "collect_sum.dmn").guideline
    assert [(p.what, p.reason.split(" (")[0]) for p in g.not_analysed] == [
        ("decision 'Total'", "hit policy COLLECT with the aggregation SUM")]
    assert _failing(verify(g)) == [("GP011", "decision 'Total'")]


def test_flowchart_of_a_dmn_table(tmp_path: Path):
    out = tmp_path / "dish.dot"
    code, _, err = _run("flowchart", "-g", str(FIXTURES / "unique.dmn"), "-o", str(out))
    assert code == 0, err
    assert "rule 3" in out.read_text()


def test_literals():
    assert parse_literal('"a\\"b"').value == 'a"b'
    assert parse_literal("-0.5").value == Fraction(-1, 2)
    assert parse_literal(".5").text == "0.5"


def test_allowed_values_bound_the_inputs():
    """[0..10), null: the value 10 is not a gap (it is not allowed), and null is dropped."""
    imp = _import(FIXTURES / "allowed_values.dmn")
    g = imp.guideline
    assert [c.cond.text for c in g.constraints] == ["(score >= 0 and score < 10)"]
    assert g.variables["kind"].type.values == ("a", "b")  # allowed values: no 'other'
    assert g.steps["band"].branches[0].cond.text == "score < 5 and kind in [a, b]"
    assert _failing(verify(g)) == []
    code, _, err = _run("query", "-g", g.file, "--set", "score=10", "--set", "kind=a")
    assert code == 2 and "error[constraint-violated]" in err and "score_allowed" in err
    assert _outputs(imp, ["--set", "score=9.5", "--set", "kind=b"], "Band") == {(("Band", '"high"'),)}


BAND = """<?xml version="1.0"?>
<definitions xmlns="{ns}" id="m" name="m" namespace="urn:guideproof:test">
  <decision id="d" name="Band">
    <decisionTable hitPolicy="{hit}">
      <input label="Score"><inputExpression typeRef="number"><text>Score</text></inputExpression></input>
      <input label="Kind"><inputExpression typeRef="string"><text>Kind</text></inputExpression>
        <inputValues><text>"a", "b"</text></inputValues></input>
      <output name="Band"/>
      <rule><inputEntry><text>{cell1}</text></inputEntry><inputEntry><text>{cell2}</text></inputEntry><outputEntry><text>"x"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.mark.parametrize("change, code, line, message", [
    ({"ns": "urn:not-dmn"}, "dmn-structure", 2, "expected a DMN <definitions> element in a DMN 1.1-1.5 namespace"),
    ({"hit": "SOME"}, "dmn-structure", 4, "decision 'Band': unknown hit policy 'SOME'"),
    ({"cell2": '"c"'}, "dmn-value", 9, "decision 'Band', rule 1, input 'Kind': \"c\" is not one of the allowed "
                                              'values ("a", "b")'),
    ({"cell1": '"high"'}, "dmn-type", 9, "decision 'Band', rule 1, input 'Score': expected a number, found \"high\""),
])
def test_bad_tables_exit_2_located(tmp_path: Path, change: dict[str, str], code: str, line: int, message: str):
    values = {"ns": "https://www.omg.org/spec/DMN/20191111/MODEL/", "hit": "UNIQUE", "cell1": "&lt; 5", "cell2": "-"}
    path = tmp_path / "m.dmn"
    path.write_text(BAND.format(**{**values, **change}))
    exit_code, out, err = _run("verify", str(path))
    assert exit_code == 2 and out == "" and "Traceback" not in err
    assert f"error[{code}]: {message}" in err
    assert err.startswith(f"{path}:{line}:")


def test_rule_with_missing_entries_exits_2(tmp_path: Path):
    path = tmp_path / "m.dmn"
    path.write_text(BAND.format(ns="https://www.omg.org/spec/DMN/20191111/MODEL/", hit="UNIQUE", cell1="1", cell2="-")
                    .replace("<inputEntry><text>-</text></inputEntry>", ""))
    code, _, err = _run("verify", str(path))
    assert code == 2 and f"{path}:9:7: error[dmn-structure]: decision 'Band', rule 1: 1 input entries and 1 output " \
                         "entries for 2 inputs and 1 outputs" in err


def test_a_cell_beyond_the_allowed_values_is_an_unreachable_rule():
    g = _import(FIXTURES / "outside_allowed.dmn").guideline
    assert [c.cond.text for c in g.constraints] == ["(score >= 0 and score <= 10)"]
    assert _failing(verify(g)) == [("GP004", "branch band#2"), ("GP004", "recommendation band_out2"),
                                   ("GP004", "step band_out2")]


def test_misleading_rule_in_a_first_table_is_a_warning_at_the_lower_rule():
    code, out, _ = _run("verify", "--brief", str(FIXTURES / "misleading.dmn"))
    assert code == 0
    assert ("misleading.dmn:11:7: warning[GP009]: misleading: misleading overlap: branch 1 of 'plan' (rule 1) takes "
            "patients that branch 2 (rule 2) also describes") in out
    assert "1. score <= 6 and score >= 4 and grade == high" in out


def test_strings_that_read_as_names_or_keywords_get_their_own_values():
    """A string equal to an input's name, a keyword or the 'other' value still gets a value
    of its own, so the file imports (no name means two things)."""
    imp = _import(FIXTURES / "names.dmn")
    assert imp.strings == {"kind": {"other": "other_2", "not": "not_", "kind": "kind_2"}, "other": {"kind": "kind_2"}}
    assert imp.guideline.variables["kind"].type.values == ("other_2", "not_", "kind_2", "other_3")
    assert [b.cond.text for b in imp.guideline.steps["pick"].branches] == [
        "kind in [other_2, not_, kind_2]", "not (kind in [other_2, not_, kind_2]) and other == kind_2"]
    assert _outputs(imp, ["--set", "kind=other_3", "--set", "other=kind_2"], "Pick") == {(("pick", '"y"'),)}


def test_drg_reads_components_of_a_structured_output():
    imp = _import(FIXTURES / "drg_structured.dmn")
    assert [b.cond.text for b in imp.guideline.steps["letter"].branches] == [
        "(approval_gives_1 or approval_gives_2) and (approval_gives_2)",
        "(approval_gives_1 or approval_gives_2) and (approval_gives_1 or approval_gives_3)",
        "(approval_gives_3)"]
    for age, letter in (("70", '"welcome"'), ("30", '"welcome-best"'), ("17", '"sorry"')):
        assert _outputs(imp, ["--set", f"age={age}"], "Letter") == {(("Letter", letter),)}, age
    assert _run("verify", "--brief", str(FIXTURES / "drg_structured.dmn"))[0] == 0


def test_a_table_reading_a_multi_hit_table_is_not_analysed(tmp_path: Path):
    text = (FIXTURES / "drg.dmn").read_text().replace('hitPolicy="FIRST"', 'hitPolicy="RULE ORDER"')
    path = tmp_path / "m.dmn"
    path.write_text(text)
    g = _import(path).guideline
    assert [(p.what, p.reason) for p in g.not_analysed] == [
        ("decision 'Action'", "input 'Risk' reads the list output of decision 'Risk' (hit policy RULE ORDER); only the "
                              "result of a single-hit table is read")]
    assert list(g.steps) == ["risk_out1", "risk_out2", "risk_out3", "risk"]


def test_an_output_outside_the_output_values_exits_2(tmp_path: Path):
    text = (FIXTURES / "priority.dmn").read_text()
    path = tmp_path / "m.dmn"
    path.write_text(text.replace('<outputEntry><text>"urgent"</text></outputEntry>',
                                 '<outputEntry><text>"urgnet"</text></outputEntry>'))
    code, _, err = _run("verify", str(path))
    assert code == 2
    assert "error[dmn-value]: decision 'Triage', rule 2, output 'triage': \"urgnet\" is not one of its output values " \
           '("urgent", "routine")' in err


@pytest.mark.parametrize("change, reason", [
    ({"cell1": "null"}, "rule 1, input 1 (Score): 'null' is beyond simple unary tests: null (absent inputs are not "
                        "modelled: every input has a value)"),
    ({"cell1": "? &gt; 2"}, "rule 1, input 1 (Score): '? > 2' is beyond simple unary tests: the name or function '?' "
                            "(only literals are analysed)"),
    ({"cell2": '&lt; "b"'}, "decision 'Band', rule 1, input 'Kind': an ordering of strings (only equality of strings is "
                            "analysed)"),
    ({"out": "Score * 2"}, "rule 1, output: 'Score * 2' is not a literal: the name or function 'Score' (only literals "
                           "are analysed)"),
    ({"hit": "COLLECT\" aggregation=\"COUNT"}, "hit policy COLLECT with the aggregation COUNT (its result is a number "
                                               "computed from the outputs, not an output of one rule)"),
    ({"score_type": "date"}, "input 'Score' has the type 'date', which is not analysed (only numbers, strings and "
                             "booleans)"),
])
def test_not_analysed_reasons(tmp_path: Path, change: dict[str, str], reason: str):
    values = {"ns": "https://www.omg.org/spec/DMN/20191111/MODEL/", "hit": "UNIQUE", "cell1": "&lt; 5", "cell2": "-"}
    text = BAND.format(**{**values, **{k: v for k, v in change.items() if k in values}})
    if "out" in change:
        text = text.replace('<outputEntry><text>"x"</text>', f"<outputEntry><text>{change['out']}</text>")
    if "score_type" in change:
        text = text.replace('typeRef="number"', f'typeRef="{change["score_type"]}"')
    path = tmp_path / "m.dmn"
    path.write_text(text)
    g = _import(path).guideline
    assert [(p.what, p.reason) for p in g.not_analysed] == [("decision 'Band'", reason)]
    assert g.steps == {"tables": g.steps["tables"]} and g.steps["tables"].kind == "end"
    assert _run("verify", "--brief", str(path))[0] == 3
