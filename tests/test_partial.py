"""Queries with incomplete information: applies / does not apply / depends, decided by Z3
and checked here against the plain evaluator on sampled completions."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guideproof.cli import cli
from guideproof.guideline import EXAMPLES
from guideproof.model.evaluate import run, violated_constraints
from guideproof.model.patient import load_patient_file
from guideproof.model.guideline import FACT_SOURCES
from guideproof.model.loader import load_guideline
from guideproof.verify.partial import APPLIES, DEPENDS, NEVER, UNKNOWN, ask_order, decide, graph_states
from conftest import FIXTURES
from strategies import valid_patient


def invoke(*args, **kw):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, **kw)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=valid_patient(), others=st.lists(valid_patient(), min_size=5, max_size=5), data=st.data())
def test_partial_answers_hold_on_sampled_completions(shipped, p, others, data):
    names = list(shipped.variables)
    known_names = data.draw(st.sets(st.sampled_from(names), max_size=len(names) - 1))
    known = {n: p[n] for n in known_names}
    # Bounded by Z3's resource counter, not the clock: the same work on any machine, and a
    # query that needed more would be unknown everywhere, not only on a busy one.
    ans = decide(shipped, known, timeout=30, rlimit=2_000_000)
    # Sampled completions: the patient the facts came from, and other valid patients
    # overwritten with the known facts where that keeps them valid.
    completions = [p] + [c for c in ({**o, **known} for o in others) if not violated_constraints(shipped, c)]
    settled = 0
    for rid, st_ in ans.recs.items():
        # A status the solver did not settle claims nothing, and is shown as unknown.
        # Soundness is about what is claimed; almost all must still be settled (they all
        # are, since a compared clearance is encoded without its division).
        if st_.status == UNKNOWN:
            continue
        settled += 1
        assert st_.status in (APPLIES, NEVER, DEPENDS), (rid, st_.status)
        for c in completions:
            applies = rid in run(shipped, c).applies
            if st_.status == APPLIES:
                assert applies, (rid, known, c)
            elif st_.status == NEVER:
                assert not applies, (rid, known, c)
        if st_.status == DEPENDS:
            for example, want in ((st_.example, True), (st_.counterexample, False)):
                assert not violated_constraints(shipped, example)
                assert all(example[n] == v for n, v in known.items())
                assert (rid in run(shipped, example).applies) is want, rid
            assert st_.hinges and set(st_.hinges) <= set(ans.unknown)
    assert settled >= len(ans.recs) - 3, [r for r, s in ans.recs.items() if s.status == UNKNOWN]
    assert set(ans.not_needed).isdisjoint(v for r in ans.recs.values() for v in r.hinges)


@pytest.mark.slow
def test_empty_patient(shipped):
    ans = decide(shipped, {})
    assert ans.recs["calcium_vitamin_d"].status == DEPENDS  # on a measured, normal calcium (safety)
    assert ans.recs["avoid_prolonged_bed_rest"].status == APPLIES
    assert ans.recs["urgent_surgical_referral"].status == DEPENDS
    assert len(ans.unknown) == len(shipped.variables)
    r = invoke("query", "--set", "age=70", "--format", "json")  # one fact: partial answer
    assert r.exit_code == 0 and json.loads(r.output)["complete"] is False


@pytest.mark.slow
def test_complete_patient_equals_complete_query(shipped):
    for path in sorted(EXAMPLES.glob("*.yaml")):
        p = load_patient_file(shipped, path).values
        ans = decide(shipped, p)
        applies = run(shipped, p).applies
        assert {r for r, s in ans.recs.items() if s.status == APPLIES} == applies, path.name
        assert all(s.status in (APPLIES, NEVER) for s in ans.recs.values())
        assert ans.ask_next == () and ans.unknown == ()


def test_cli_complete_patient_is_the_complete_query():
    path = str(EXAMPLES / "uncomplicated_acute.yaml")
    r = invoke("query", "-p", path, "--format", "json")
    doc = json.loads(r.output)
    assert doc["complete"] is True and doc["pathway"] == ["conservative_care_first"]


@pytest.mark.slow
def test_inconsistent_facts_exit_2():
    r = invoke("query", "--set", "weeks_since_fracture=2", "--set", "weeks_conservative_care=10")
    assert r.exit_code == 2
    assert "error[constraint-violated]" in r.output and "care_after_fracture" in r.output
    assert "weeks_since_fracture = 2" in r.output and "weeks_conservative_care = 10" in r.output


@pytest.mark.slow
def test_not_needed_and_ask_next(shipped):
    ans = decide(shipped, {"age": 72, "weeks_since_fracture": 2, "neuro_deficit": False,
                           "fracture_levels": frozenset({"L1"})})
    # Two weeks after the fracture imaging cannot be 3 months old and care cannot have failed.
    assert {"weeks_since_imaging", "weeks_conservative_care"} <= set(ans.not_needed)
    assert ans.recs["l2_nerve_root_block"].status == NEVER  # no L3/L4 fracture
    # history first; within the first group the question most recommendations hinge on
    first = ans.ask_next[0]
    assert shipped.variables[first[0]].source == "history"
    assert first[1] == max(n for v, n in ans.ask_next if shipped.variables[v].source == "history")
    assert ans.recs["consider_biopsy"].hinges == ("malignancy_suspected", "adjusted_calcium")  # hypercalcaemia too


@pytest.mark.slow
def test_a_fact_tied_by_a_constraint_is_a_hinge(shipped):
    """Re-imaging for changed symptoms needs pain (symptomatic: pain != none), but pain is
    tied to the symptom course by a constraint (resolved exactly when there is no pain), so
    it cannot change alone: flipping one variable at a time missed it and asked only about
    changed symptoms. Two completions that agree on that alone disagree."""
    full = load_patient_file(shipped, EXAMPLES / "uncomplicated_acute.yaml").values
    known = {k: full[k] for k in ("age", "fracture_levels", "weeks_since_fracture", "weeks_conservative_care",
                                  "neuro_deficit", "spinal_instability", "cord_compression", "deformity",
                                  "kyphosis_progressing")}
    ans = decide(shipped, known)
    assert ans.recs["reimage_new_mri"].hinges == ("pain", "symptoms_changed")
    same = {**full, **known, "imaged": True, "weeks_since_imaging": 1, "symptoms_changed": True}
    with_pain = {**same, "pain": "mild", "symptom_course": "improving"}
    without = {**same, "pain": "none", "symptom_course": "resolved", "parenteral_opioids_needed": False}
    assert not violated_constraints(shipped, with_pain) and not violated_constraints(shipped, without)
    assert "reimage_new_mri" in run(shipped, with_pain).applies
    assert "reimage_new_mri" not in run(shipped, without).applies
    assert "pain" in dict(ans.ask_next)


def test_require_complete_lists_missing_variables(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("age: 70\nfracture_levels: [L1]\n")
    r = invoke("query", "-p", str(f), "--require-complete")
    assert r.exit_code == 2 and "error[missing-variable]: 27 patient variables are missing" in r.output


@pytest.mark.slow
def test_interactive_session_to_the_end(shipped):
    """Nine weeks after an L1+L3 fracture with persisting pain, with no laboratory values
    given (optional facts left out have no value, as in the CLI): the session asks until
    every recommendation is decided and stops with six facts unasked, because none can
    change the advice once the others are known: care cannot have failed at 9 weeks; and
    without creatinine and calcium the bone-drug step asks for them to be measured first, so
    sex, weight (the clearance), the calcium low flag, oesophageal disorders and posture do
    not matter yet. Whether the fracture was imaged is asked, before the facts that presuppose
    imaging (changed symptoms, an MRI done): it is their premise."""
    full = load_patient_file(shipped, EXAMPLES / "persistent_past_8_weeks.yaml").values
    start = {k: full[k] for k in ("age", "fracture_levels", "weeks_since_fracture")}
    sets = [f"--set={k}={','.join(sorted(v)) if isinstance(v, frozenset) else v}" for k, v in start.items()]
    not_needed = {"weeks_conservative_care", "sex", "weight_kg", "calcium_below_range",
                  "oesophageal_disorder", "upright_minutes"}
    # Feed answers by asking the tool itself which variable comes next, until it stops.
    # as the CLI does: an optional fact not given has no value, and is never asked
    known = {**{n: None for n, v in shipped.variables.items() if v.optional}, **start}
    asked = []
    while True:
        # a generous timeout: on a busy machine a 10 s one can leave a nonlinear clearance unknown
        ans = decide(shipped, known, timeout=120)
        if not ans.ask_next:
            break
        name = ans.ask_next[0][0]
        asked.append(name)
        known[name] = full[name]
    optional = {n for n, v in shipped.variables.items() if v.optional}
    assert set(asked) == set(shipped.variables) - set(start) - not_needed - optional
    assert set(ans.not_needed) == not_needed
    for later in ("symptoms_changed", "mri_done"):  # premise first
        if later in asked:
            assert asked.index("imaged") < asked.index(later), asked
    lines = [",".join(sorted(full[n])) if isinstance(full[n], frozenset) else str(full[n]).lower() for n in asked]
    r = invoke("query", *sets, "--interactive", "--format", "json", input="\n".join(lines) + "\n")
    assert r.exit_code == 0, r.output
    questions = [shipped.variables[n].question for n in asked]
    positions = [r.output.index(q) for q in questions]
    assert positions == sorted(positions)  # asked in the ranked order, each once
    assert "Every recommendation is decided; the remaining facts are not needed." in r.output
    doc = json.loads(r.output[r.output.index("{"):])
    assert doc["complete"] is False and set(doc["unknown"]) == not_needed
    statuses = {x["id"]: x["status"] for x in doc["recommendations"] + doc["avoid"]}
    assert set(statuses) == set(shipped.recommendations) and "depends" not in statuses.values()
    without_labs = {**full, **{n: None for n, v in shipped.variables.items() if v.optional}}
    assert {k for k, s in statuses.items() if s == "applies"} == run(shipped, without_labs).applies


@pytest.mark.slow
def test_interactive_rejects_bad_answers_and_stops_on_blank_line():
    r = invoke("query", "--set", "age=70", "--interactive", input="perhaps\n\n")
    assert r.exit_code == 0
    assert "not accepted" in r.output
    assert "Known: 4 of 32 facts" in r.output


@pytest.mark.slow
def test_interactive_rejects_inconsistent_answer(shipped):
    """With 2 weeks of conservative care known, 'weeks_since_fracture = 0' breaks a domain
    constraint: the answer is refused and the question asked again."""
    full = load_patient_file(shipped, EXAMPLES / "uncomplicated_acute.yaml").values
    known = {k: v for k, v in full.items() if k != "weeks_since_fracture"}
    assert decide(shipped, known).ask_next[0][0] == "weeks_since_fracture"
    sets = [f"--set={k}={','.join(sorted(v)) if isinstance(v, frozenset) else str(v).lower()}" for k, v in known.items()]
    r = invoke("query", *sets, "--interactive", "--format", "json", input="0\n3\n")
    assert r.exit_code == 0, r.output
    assert "not accepted" in r.output and "care_after_fracture" in r.output
    doc = json.loads(r.output[r.output.index("{"):])
    assert doc["patient"]["weeks_since_fracture"] == 3 and doc["patient"]["age"] == 72  # the complete answer


@pytest.mark.slow
def test_partial_flowchart_marks_certain_possible_excluded(shipped, tmp_path):
    known = {"neuro_deficit": True, "weeks_since_fracture": 2}
    certain, possible, undecided = graph_states(shipped, known)
    assert not undecided
    assert "step:surgical_referral" in certain and "step:bone_health" in certain
    assert "step:conservative_first" not in certain and "step:conservative_first" not in possible  # excluded
    assert "step:calcitonin" in possible  # depends on pain
    f = tmp_path / "p.yaml"
    f.write_text("neuro_deficit: true\nweeks_since_fracture: 2\n")
    out = tmp_path / "c.dot"
    r = invoke("flowchart", "-p", str(f), "-o", str(out))
    assert r.exit_code == 0, r.output
    dot = out.read_text()
    assert "Possible paths of p.yaml (27 facts unknown)" in dot
    line = next(l for l in dot.splitlines() if l.strip().startswith("step_calcitonin ["))
    assert "dashed" in line


@pytest.mark.slow
def test_solver_giving_up_is_inconclusive_never_decided(shipped):
    ans = decide(shipped, {"age": 70}, rlimit=1)
    assert all(r.status == "unknown" for r in ans.recs.values())
    r = invoke("query", "--set", "age=70", "--rlimit", "1")
    assert r.exit_code == 3
    assert "NOT DECIDED" in r.output and "DEPENDS ON UNKNOWN FACTS" not in r.output


@pytest.mark.slow
def test_flowchart_never_shows_undecided_as_possible(shipped, tmp_path):
    full_certain, full_possible, full_undecided = graph_states(shipped, {"age": 70})
    assert not full_undecided
    certain, possible, undecided = graph_states(shipped, {"age": 70}, rlimit=200)
    assert undecided, "this limit must leave some parts undecided"
    assert certain <= full_certain and possible <= full_possible  # what was decided agrees
    assert not undecided & (certain | possible)
    assert all(graph_states(shipped, {"age": 70}, rlimit=1)[2] >= {f"step:{s}"} for s in shipped.steps)
    out = tmp_path / "c.dot"
    r = invoke("flowchart", "--set", "age=70", "--rlimit", "1", "-o", str(out))
    assert r.exit_code == 3, r.output
    dot = out.read_text()
    assert "not decided" in dot and "depends on unknown facts" not in dot
    line = next(l for l in dot.splitlines() if l.strip().startswith("step_calcitonin ["))
    assert "dotted" in line and "dashed" not in line
    r = invoke("flowchart", "--set", "age=70", "--timeout", "30", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "not decided" not in out.read_text()


# -- ask-next in clinical order (history, examination, laboratory, imaging; premises first) --

ASK_ORDER = FIXTURES / "ask_order.yaml"


def test_ask_next_groups_by_source_and_asks_premises_first():
    g = load_guideline(ASK_ORDER)
    ans = decide(g, {})
    order = [v for v, _ in ans.ask_next]
    assert order == ["imaged", "changed", "pain", "collapse", "standing", "deficit", "low_flag"]
    # the premises, each proved: a change presupposes imaging (the constraint, both ways:
    # the earlier-declared fact is the premise); pain matters only once the symptoms have
    # changed, the laboratory flag only without a deficit, standing only with a collapse
    assert ans.premises == {"changed": (("imaged", True),), "pain": (("changed", True),),
                            "low_flag": (("deficit", False),), "standing": (("collapse", True),)}
    # a premise is asked first even from a later group (the imaging fact before the
    # history question that rests on it); otherwise groups are in clinical order
    assert order.index("collapse") < order.index("standing")
    groups = [FACT_SOURCES.index(g.variables[v].source) for v in order if v not in ("collapse",)]
    assert groups == sorted(groups)
    # ordering changes nothing else: the same variables are listed, none is dropped
    assert set(order) == set(g.variables) and ans.not_needed == ()
    counts = dict(ans.ask_next)
    assert counts == {"imaged": 1, "changed": 2, "pain": 1, "collapse": 2, "standing": 1, "deficit": 2, "low_flag": 1}


def test_without_premises_the_order_is_by_group_then_count():
    g = load_guideline(ASK_ORDER)
    ans = decide(g, {})
    plain = ask_order(g, [v for v, _ in ans.ask_next], dict(ans.ask_next), {})
    assert plain == ["changed", "imaged", "pain", "standing", "deficit", "low_flag", "collapse"]


def test_answered_premise_settles_the_questions_resting_on_it():
    """Once the premise is answered with the other value, the fact resting on it is not
    needed: that is what asking it first saves."""
    g = load_guideline(ASK_ORDER)
    ans = decide(g, {"imaged": False, "deficit": True, "collapse": False})
    assert {"changed", "pain", "low_flag", "standing"} <= set(ans.not_needed)
    assert ans.ask_next == ()
    ans = decide(g, {"imaged": True})
    assert ans.ask_next[0] == ("changed", 2) and "changed" not in ans.premises


def test_premises_shown_in_the_answer():
    r = invoke("query", "-g", str(ASK_ORDER), "--format", "json")
    doc = json.loads(r.output)
    first = doc["ask_next"][:2]
    assert [(a["variable"], a["source"], a["after"]) for a in first] == [
        ("imaged", "history", []), ("changed", "history", [{"variable": "imaged", "value": True}])]
    text = invoke("query", "-g", str(ASK_ORDER)).output
    assert "2. changed (true/false): Have the symptoms changed since the last imaging?  " \
           "[history; 2 undecided; asked once imaged = true]" in text
