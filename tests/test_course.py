"""A patient's course over time: history files, answers per visit, and temporal properties
proved over every course up to the horizon (GP012)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from guideproof.cli import cli
from guideproof.model.course import course_of, load_history, property_holds, replay
from guideproof.model.errors import InputError
from guideproof.model.loader import load_guideline
from guideproof.verify.checks import verify
from guideproof.verify.findings import Verdict


ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "guideline" / "l1_l2_compression_fracture.yaml"
SAFETY = ROOT / "guideline" / "l1_l2_safety.yaml"
LITERAL = ROOT / "tests" / "fixtures" / "literal_source.yaml"
HISTORY = ROOT / "guideline" / "histories" / "acute_then_persistent.yaml"
FIRST = yaml.safe_load(HISTORY.read_text())["visits"][0]["facts"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _history(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "h.yaml"
    p.write_text(text)
    return p


def _visits(*later: str) -> str:
    first = "\n".join(f"      {k}: {json.dumps(v)}" for k, v in FIRST.items())
    return "visits:\n  - week: 0\n    facts:\n" + first + "\n" + "".join(later)


@pytest.fixture(scope="module")
def shipped():
    return load_guideline(SHIPPED)


# -- answers per visit ------------------------------------------------------------------


def test_a_course_starts_continues_and_stops_with_reasons(shipped):
    course = replay(shipped, load_history(shipped, HISTORY))
    assert [v.week for v in course] == [0, 3, 7, 8, 13]
    first, review, persistent, after_mri, failed = course
    assert {"mri_without_contrast", "calcitonin_first_4_weeks", "osteoporosis_pharmacotherapy"} <= set(first.starts)
    # what was done is recorded: the MRI and the bisphosphonate are not ordered again
    stops = dict(review.stops)
    assert "imaged false -> true" in stops["mri_without_contrast"]
    assert "current_bone_drug none -> bisphosphonate" in stops["osteoporosis_pharmacotherapy"]
    assert "weeks_since_fracture 2 -> 5" in stops["calcitonin_first_4_weeks"]
    assert "continue_bone_therapy" in review.starts
    changes = {n: (a, b, how) for n, a, b, how in review.changes}
    assert changes["weeks_since_fracture"] == (2, 5, "time")
    assert changes["weeks_since_imaging"] == (0, 3, "recorded, then time")
    assert changes["mri_done"] == (False, True, "recorded")
    # persistence beyond 8 weeks after a study by week 8: re-imaged once, then not again
    assert "reimage_persistent_symptoms" in persistent.starts
    assert "reimage_persistent_symptoms" in dict(after_mri.stops)
    assert "no_new_imaging" in after_mri.starts
    # 3 months of failed conservative care with severe pain: augmentation is considered
    assert "augmentation_after_failed_conservative_care" in failed.starts
    assert "conservative_care_first" in dict(failed.stops)


def test_one_visit_is_the_snapshot_answer(shipped):
    from guideproof.model.report import answer

    course = replay(shipped, load_history(shipped, HISTORY)[:1])
    assert course[0].answer.trace.applies == answer(shipped, FIRST).trace.applies
    assert course[0].starts and not course[0].continues and not course[0].stops


def test_declined_recommendations_record_nothing(shipped, tmp_path):
    h = _history(tmp_path, _visits("  - week: 1\n    declined: [mri_without_contrast]\n"))
    course = replay(shipped, load_history(shipped, h))
    assert course[1].values["imaged"] is False
    assert "mri_without_contrast" in course[1].continues


@pytest.mark.slow
def test_query_history_cli_text_and_json():
    r = invoke("query", "-g", str(SHIPPED), "--history", str(HISTORY))
    assert r.exit_code == 0, r.output
    assert "WEEK 3 (+3 weeks)" in r.output and "- stops: MRI spine without IV contrast" in r.output
    j = invoke("query", "-g", str(SHIPPED), "--history", str(HISTORY), "--format", "json")
    doc = json.loads(j.output)
    assert [v["week"] for v in doc["visits"]] == [0, 3, 7, 8, 13]
    assert doc["visits"][1]["answer"]["complete"] is True
    assert {"variable": "mri_done", "before": False, "now": True, "how": "recorded"} in doc["visits"][1]["changes"]
    bad = invoke("query", "-g", str(SHIPPED), "--history", str(HISTORY), "--set", "age=70")
    assert bad.exit_code == 2 and "--history gives every visit's facts" in bad.output


@pytest.mark.parametrize("later,code,message", [
    ("  - week: 0\n", "history-order", "week 0 is not after the visit before it (week 0)"),
    ("  - week: 2\n    facts: {sex: male}\n", "history-change", "sex is fixed over a course: it was female"),
    ("  - week: 2\n    facts: {age: 60}\n", "history-change", "age never decreases over a course: it was 72"),
    ("  - week: 2\n    facts: {weeks_since_fracture: 3}\n", "history-change", "advances with time: it is 4 weeks"),
    ("  - week: 2\n    facts: {agee: 60}\n", "unknown-variable", "unknown variable 'agee'"),
    ("  - week: 2\n    facts: {pain: awful}\n", "unknown-value", "pain is one of none, mild, moderate, severe"),
    ("  - week: 2\n    declined: [ct_spine]\n", "history-unknown", "the visit at week 0 did not recommend it"),
    ("  - week: 2\n    declined: [mri_scan]\n", "history-unknown", "expected a recommendation of the guideline"),
    ("  - week: 2\n    facts: {weeks_conservative_care: 9}\n", "history-change", "advances with time"),
    ("  - week: 300\n", "history-change", "beyond its maximum 260"),
    ("  - weak: 2\n", "unknown-key", "did you mean 'week'"),
])
@pytest.mark.slow
def test_bad_histories_exit_2_at_their_place(tmp_path, later, code, message):
    h = _history(tmp_path, _visits(later))
    r = invoke("query", "-g", str(SHIPPED), "--history", str(h))
    assert r.exit_code == 2, r.output
    assert f"[{code}]" in r.output and message in r.output and "Traceback" not in r.output


def test_history_errors_are_located(tmp_path):
    h = _history(tmp_path, _visits("  - week: 2\n    facts: {age: 60}\n"))
    r = invoke("query", "-g", str(SHIPPED), "--history", str(h))
    line = len(FIRST) + 5
    assert f"h.yaml:{line}:" in r.output, r.output


@pytest.mark.parametrize("text,message", [
    ("", "the history file is empty"),
    ("visits: []\n", "expected at least one visit"),
    ("visits: {week: 0}\n", "expected a list"),
    ("visits:\n  - week: -1\n", "expected a whole number of weeks"),
    ("visits:\n  - week: 0\n    facts: {age: 72}\n", "leaves 28 facts unknown"),
    ("visits:\n  - week: 0\n    declined: [ct_spine]\n    facts: {age: 72}\n", "the first visit has no visit before it"),
])
def test_malformed_history_files(tmp_path, text, message):
    r = invoke("query", "-g", str(SHIPPED), "--history", str(_history(tmp_path, text)))
    assert r.exit_code == 2 and message in r.output, r.output


# -- the language -------------------------------------------------------------------------

MINI = """
guideproof: 1
guideline: {id: mini, title: Mini course, version: "1"}
sources: {1: {title: Test}}
categories: {imaging: Imaging, analgesia: Analgesia}
strengths: {strong: Strong}
variables:
  age: {type: int, min: 18, max: 110, unit: years, question: Age?, over_time: grows}
  weeks: {type: duration, min: 0, max: 260, unit: weeks, question: Weeks?, over_time: clock}
  imaged: {type: bool, question: Imaged?, over_time: grows}
  since_imaging: {type: duration, min: 0, max: 260, unit: weeks, question: Since?, over_time: clock, advances_while: imaged}
  pain: {type: enum, values: [none, mild, severe], question: Pain?}
constraints:
  - {id: no_img, holds: imaged or since_imaging == 0 weeks, why: convention}
  - {id: img_after, holds: since_imaging <= weeks, why: order}
recommendations:
  mri: {text: Get an MRI, short: MRI, category: imaging, strength: strong, sources: [1], section: s,
        records: {imaged: true, since_imaging: 0}}
  calcitonin: {text: Calcitonin, short: Calcitonin, category: analgesia, strength: strong, sources: [1], section: s}
  nothing: {text: Nothing, short: Nothing, category: analgesia, strength: strong, sources: [1], section: s}
start: s0
steps:
  s0: {kind: fork, title: Start, tracks: [img, pain_step]}
  img:
    kind: decision
    title: Imaging?
    choice: first
    branches:
      - {when: not imaged, goto: do_mri}
      - {when: pain == severe and weeks > 8 weeks and weeks - since_imaging <= 8 weeks, goto: do_mri}
    otherwise: done
  do_mri: {kind: action, title: MRI, recommend: [mri]}
  done: {kind: end, title: Done}
  pain_step:
    kind: decision
    title: Pain?
    choice: first
    branches:
      - {when: pain != none and weeks <= 4 weeks, goto: calc}
    otherwise: nothing_step
  calc: {kind: action, title: Calc, recommend: [calcitonin]}
  nothing_step: {kind: action, title: Nothing, recommend: [nothing]}
course:
  every: 1 week
  horizon: 12 weeks
  why: test
  properties:
    - {id: calc_window, always: recommends(calcitonin) implies weeks <= 4 weeks, why: x}
    - {id: calc_span, at_most: {of: recommends(calcitonin), span: 4 weeks}, why: x}
    - {id: mri_once, not_repeated_within: {of: recommends(mri), span: 12 weeks, unless: pain == severe}, why: x}
    - id: imaged_early
      eventually: {holds: recommends(mri), by: weeks >= 1 week, from: weeks == 0 weeks and not imaged}
      why: x
"""


def _mini(tmp_path: Path, text: str = MINI, name: str = "mini.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _temporal(findings):
    return {f.subject: f for f in findings if f.code == "GP012"}


@pytest.mark.slow
def test_mini_course_proves_its_properties(tmp_path):
    found = _temporal(verify(load_guideline(_mini(tmp_path))))
    assert {s: f.verdict for s, f in found.items()} == {
        "courses reach the horizon": Verdict.PROVED, "temporal calc_window": Verdict.PROVED,
        "temporal calc_span": Verdict.PROVED, "temporal mri_once": Verdict.PROVED,
        "temporal imaged_early": Verdict.PROVED}
    assert ("every course of visits 1 week apart up to week 12 (13 visits, every recommendation carried out)"
            in found["temporal calc_span"].message)


@pytest.mark.parametrize("edit,refuted,visits", [
    (("weeks <= 4 weeks, goto: calc", "weeks <= 5 weeks, goto: calc"), {"calc_window", "calc_span"}, {"calc_window": 1, "calc_span": 6}),
    (("records: {imaged: true, since_imaging: 0}", "records: {since_imaging: 0}"), {"mri_once"}, {"mri_once": 2}),
    (("- {when: not imaged, goto: do_mri}", "- {when: not imaged and pain == severe, goto: do_mri}"),
     {"imaged_early"}, {"imaged_early": 2}),
])
@pytest.mark.slow
def test_mutants_are_refuted_with_replayable_courses(tmp_path, edit, refuted, visits):
    assert MINI.count(edit[0]) == 1
    path = _mini(tmp_path, MINI.replace(*edit))
    g = load_guideline(path)
    found = _temporal(verify(g))
    assert {s.removeprefix("temporal ") for s, f in found.items() if f.verdict == Verdict.REFUTED} == refuted
    for name in refuted:
        f = found[f"temporal {name}"]
        assert len(f.course) == visits[name], f.details
        course = course_of(g, f.course)
        prop = next(p for p in g.course.properties if p.id == name)
        assert not property_holds(g, prop, course)
    # the witness folder gets a history file that query --history replays
    wd = tmp_path / "w"
    r = invoke("verify", str(path), "--witness-dir", str(wd), "--brief")
    assert r.exit_code == 1
    for name in refuted:
        h = wd / f"GP012-temporal_{name}.history.yaml"
        q = invoke("query", "-g", str(path), "--history", str(h), "--format", "json")
        assert q.exit_code == 0, q.output
        assert len(json.loads(q.output)["visits"]) == visits[name]


@pytest.mark.slow
def test_a_span_in_months_is_exact(tmp_path):
    """1 month = 22/3 days under this rule: visits a week apart are within it, so an MRI
    ordered at every visit breaks the property (a span cut to whole days would hide it)."""
    text = MINI.replace("strengths: {strong: Strong}\n", "strengths: {strong: Strong}\ndurations: {rule: 3 months = 22 days, why: test}\n")
    text = text.replace("records: {imaged: true, since_imaging: 0}", "records: {since_imaging: 0}")
    text = text.replace("not_repeated_within: {of: recommends(mri), span: 12 weeks, unless: pain == severe}",
                        "not_repeated_within: {of: recommends(mri), span: 1 month}")
    g = load_guideline(_mini(tmp_path, text))
    f = _temporal(verify(g))["temporal mri_once"]
    assert f.verdict == Verdict.REFUTED and len(f.course) == 2, f.message
    assert "not again within 22/3 (about 7.3333) days" in f.message
    assert not property_holds(g, next(p for p in g.course.properties if p.id == "mri_once"), course_of(g, f.course))


@pytest.mark.slow
def test_vacuous_properties_are_refuted(tmp_path):
    text = MINI.replace("by: weeks >= 1 week, from: weeks == 0 weeks and not imaged",
                        "by: weeks >= 20 weeks, from: weeks == 0 weeks")
    f = _temporal(verify(load_guideline(_mini(tmp_path, text))))["temporal imaged_early"]
    assert f.verdict == Verdict.REFUTED and "holds only vacuously" in f.message


@pytest.mark.slow
def test_courses_that_cannot_last_are_refuted(tmp_path):
    # the imaging age is a clock, yet an unimaged patient's must stay 0: no course of an
    # unimaged patient lasts, and with imaging fixed false none does
    text = MINI.replace(", over_time: clock, advances_while: imaged}", ", over_time: clock}").replace(
        "imaged: {type: bool, question: Imaged?, over_time: grows}", "imaged: {type: bool, question: Imaged?, over_time: fixed}"
    ).replace("records: {imaged: true, since_imaging: 0}", "records: {since_imaging: 0}")
    text = text.replace("- {id: no_img, holds: imaged or since_imaging == 0 weeks, why: convention}",
                        "- {id: no_img, holds: not imaged and since_imaging == 0 weeks, why: convention}")
    found = _temporal(verify(load_guideline(_mini(tmp_path, text))))
    assert found["courses reach the horizon"].verdict == Verdict.REFUTED
    assert "no course reaches visit 13" in found["courses reach the horizon"].message


@pytest.mark.slow
def test_two_records_of_one_fact_that_disagree(tmp_path):
    text = MINI.replace("section: s}\n  nothing:", "section: s, records: {imaged: false}}\n  nothing:", 1)
    text = text.replace("imaged: {type: bool, question: Imaged?, over_time: grows}", "imaged: {type: bool, question: Imaged?}")
    text = text.replace("goto: calc}\n    otherwise", "goto: calc}\n    otherwise", 1)
    found = _temporal(verify(load_guideline(_mini(tmp_path, text))))
    f = found["records of imaged"]
    assert f.verdict == Verdict.REFUTED and "record different values of imaged" in f.message


def test_unknown_is_never_proved(tmp_path):
    path = _mini(tmp_path)
    r = invoke("verify", str(path), "--rlimit", "2000", "--select", "GP012")
    assert r.exit_code == 3, r.output
    # what the solver could not settle is shown as unknown (never proved, never refuted),
    # and the run is inconclusive; an obligation whose negation was unsat is still proved
    lines = [line.split() for line in r.output.splitlines() if " GP012 temporal " in line and line.startswith("  ")]
    assert ["unknown", "GP012", "temporal", "courses", "reach", "the", "horizon"] in lines
    assert {words[0] for words in lines} <= {"proved", "unknown"} and "error[GP012]" not in r.output
    assert "INCONCLUSIVE" in r.output


@pytest.mark.parametrize("edit,code,message", [
    (("over_time: grows}\n  weeks", "over_time: clock}\n  weeks"), "bad-over-time", "a clock is a duration"),
    (("question: Pain?}", "question: Pain?, over_time: sometimes}"), "wrong-type", "over_time"),
    (("question: Pain?}", "question: Pain?, advances_while: true}"), "bad-over-time", "only a clock advances"),
    (("question: Pain?}", "question: Pain?, optional: true, over_time: grows}"), "bad-over-time", "an optional fact may be"),
    (("records: {imaged: true, since_imaging: 0}", "records: {imagd: true}"), "unknown-variable", "did you mean 'imaged'"),
    (("records: {imaged: true, since_imaging: 0}", "records: {since_imaging: 300}"), "out-of-range", "since_imaging"),
    (("over_time: grows}\n  weeks", "over_time: fixed}\n  weeks"), None, None),
    (("every: 1 week", "every: 3 days"), "bad-domain", "course.every: expected a positive whole number of weeks"),
    (("horizon: 12 weeks", "horizon: 12 weeks\n  every_other: 1"), "unknown-key", "course"),
    (("every: 1 week", "every: 5 weeks"), "bad-domain", "not a whole number of visits 5 weeks apart"),
    (("{id: calc_window, always:", "{id: calc_span, always:"), "duplicate-id", "already declared"),
    (("{id: calc_window, always: recommends(calcitonin) implies weeks <= 4 weeks, why: x}",
      "{id: calc_window, why: x}"), "missing-key", "give exactly one of always, eventually"),
    (("span: 4 weeks}", "span: 4 weeks, unless: true}"), "unknown-key", "unless"),
    (("horizon: 12 weeks", "horizon: 100000 weeks"), "bad-domain", "the unrolling takes at most 520"),
    (("span: 12 weeks, unless: pain == severe}", "span: 1 week, unless: pain == severe}"), "bad-domain",
     "the property would say nothing"),
    (("at_most: {of: recommends(calcitonin), span: 4 weeks}", "at_most: {of: recommends(calcitonin), span: 12 weeks}"),
     "bad-domain", "the property would say nothing"),
    (("always: recommends(calcitonin) implies", "always: recommends(calcitonn) implies"), "unknown-name", "calcitonn"),
])
@pytest.mark.slow
def test_course_language_errors(tmp_path, edit, code, message):
    assert MINI.count(edit[0]) == 1, edit
    r = invoke("verify", str(_mini(tmp_path, MINI.replace(*edit))))
    if code is None:
        assert r.exit_code in (0, 1), r.output
        return
    assert r.exit_code == 2, r.output
    assert f"[{code}]" in r.output and message in r.output and "Traceback" not in r.output


def test_records_of_a_fixed_fact_are_refused(tmp_path):
    text = MINI.replace("imaged: {type: bool, question: Imaged?, over_time: grows}",
                        "imaged: {type: bool, question: Imaged?, over_time: fixed}")
    r = invoke("verify", str(_mini(tmp_path, text)))
    assert r.exit_code == 2 and "imaged is fixed over a course" in r.output


# -- the shipped guideline and the literal source ---------------------------------------


@pytest.mark.slow
def test_shipped_guideline_proves_its_course(shipped):
    found = _temporal(verify(shipped, only={"GP012"}))
    assert len(found) == 9
    assert all(f.verdict == Verdict.PROVED for f in found.values()), [f.message for f in found.values()]


@pytest.mark.slow
def test_literal_source_reimages_at_every_visit():
    """The defect only the course shows: with nothing recorded of the re-imaging, persistence
    beyond 8 weeks orders it again at the next visit."""
    g = load_guideline(LITERAL)
    f = _temporal(verify(g, only={"GP012"}))["temporal persistence_reimaged_once"]
    assert f.verdict == Verdict.REFUTED and len(f.course) == 2
    course = course_of(g, f.course)
    assert all("reimage_persistent_symptoms" in v.answer.trace.applies for v in course)


@pytest.mark.slow
def test_shipped_mutants_are_refuted(tmp_path):
    """One edit per stated property (a window widened, a record dropped, the failure
    threshold moved, a continuation lost, a review moved, a guard dropped): each breaks its
    property, found with a course that replays (the widened calcitonin window breaks both
    calcitonin properties)."""
    import shutil

    shutil.copy(SAFETY, tmp_path / SAFETY.name)
    text = SHIPPED.read_text()
    edits = {
        "calcitonin_only_first_4_weeks": ("    when: weeks_since_fracture <= 4 weeks\n    why: Calcitonin's window",
                                          "    when: weeks_since_fracture <= 5 weeks\n    why: Calcitonin's window"),
        "imaging_not_repeated_within_3_months": (
            "    # the latest study is 0 weeks old, and changes of symptoms are judged against it.\n"
            "    records: {imaged: true, mri_done: true, weeks_since_imaging: 0, symptoms_changed: false}\n", "\n"),
        "severe_pain_gets_an_intervention_decision": ("    when: weeks_conservative_care >= 3 months and pain == severe",
                                                      "    when: weeks_conservative_care >= 15 weeks and pain == severe"),
        "bone_health_at_every_visit": ("    phase: bone_health\n    recommend: [continue_bone_therapy]",
                                       "    phase: bone_health\n    recommend: [denosumab_not_stopped]"),
        "review_at_4_to_6_weeks": ("      - when: weeks_since_fracture <= 6 weeks\n        label: within 6 weeks of the fracture\n"
                                   "        goto: reassess\n      - when: weeks_since_fracture > 6 weeks",
                                   "      - when: weeks_since_fracture <= 3 weeks\n        label: within 6 weeks of the fracture\n"
                                   "        goto: reassess\n      - when: weeks_since_fracture > 3 weeks"),
        "persistence_reimaged_once": ("          and weeks_since_fracture - weeks_since_imaging <= 8 weeks\n        label: imaged by week 8",
                                      "\n        label: imaged by week 8"),
        "bisphosphonate_not_started_twice": ("      - when: current_bone_drug != none\n        label: already on another",
                                             "      - when: current_bone_drug == other\n        label: already on another"),
    }
    assert set(edits) | {"calcitonin_at_most_4_weeks"} == {p.id for p in load_guideline(SHIPPED).course.properties}
    for prop, (a, b) in edits.items():
        assert text.count(a) == 1, prop
        path = tmp_path / SHIPPED.name
        path.write_text(text.replace(a, b))
        g = load_guideline(path)
        found = _temporal(verify(g, only={"GP012"}))
        for name in [prop] + (["calcitonin_at_most_4_weeks"] if prop == "calcitonin_only_first_4_weeks" else []):
            assert found[f"temporal {name}"].verdict == Verdict.REFUTED, name
            course = course_of(g, found[f"temporal {name}"].course)
            assert not property_holds(g, next(p for p in g.course.properties if p.id == name), course)


def test_course_input_errors_do_not_reach_internal_errors(shipped, tmp_path):
    with pytest.raises(InputError):
        load_history(shipped, _history(tmp_path, "visits:\n  - week: 0\n    facts: [1, 2]\n"))


# -- the chart of a course ----------------------------------------------------------------


@pytest.mark.slow
def test_course_chart_reads_in_time_order_and_fits_a3(tmp_path):
    import re

    out = tmp_path / "course.svg"
    r = invoke("flowchart", "--history", str(HISTORY), "-o", str(out))
    assert r.exit_code == 0, r.output
    svg = out.read_text()
    width, height = (float(x) for x in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
    # the smallest text is 12 pt; fitted to a landscape A3 page it stays at 8 pt or more
    assert 12 * min(1190.55 / width, 841.89 / height) >= 8, (width, height)
    positions = {}
    for week in (0, 3, 7, 8, 13):
        m = re.search(rf'<text[^>]*x="([\d.]+)" y="([\d.-]+)"[^>]*>Week {week} \(', svg)
        assert m, week
        positions[week] = (float(m.group(1)), float(m.group(2)))
    # three visits a row, left to right; the next row below, starting at the left again
    assert positions[0][0] < positions[3][0] < positions[7][0]
    assert positions[8][1] > positions[0][1] and positions[8][0] < positions[3][0]
    assert positions[8][0] < positions[13][0]
    for text in ("Path changed", "+ Consider augmentation (failed 3 months)", "= 13 continue unchanged",
                 "(stops: no longer", "imaged false &#45;&gt; true))"):
        assert text in svg, text


def test_course_chart_refuses_mixed_options_and_its_input(tmp_path):
    r = invoke("flowchart", "--history", str(HISTORY), "--overview", "-o", str(tmp_path / "c.svg"))
    assert r.exit_code == 2 and "--history draws the chart of a course" in r.output
    copy = tmp_path / "h.svg"
    copy.write_text(HISTORY.read_text())
    before = copy.read_text()
    r = invoke("flowchart", "--history", str(copy), "-o", str(copy))
    assert r.exit_code == 2 and copy.read_text() == before


def test_a_history_through_clashing_records_is_a_guideline_problem(tmp_path):
    text = MINI.replace("section: s}\n  nothing:", "section: s, records: {imaged: false}}\n  nothing:", 1)
    text = text.replace("imaged: {type: bool, question: Imaged?, over_time: grows}", "imaged: {type: bool, question: Imaged?}")
    path = _mini(tmp_path, text)
    h = _history(tmp_path, "visits:\n  - week: 0\n    facts: {age: 70, weeks: 0, imaged: false, since_imaging: 0, pain: mild}\n"
                           "  - week: 1\n")
    r = invoke("query", "-g", str(path), "--history", str(h))
    assert r.exit_code == 1, r.output
    assert "GUIDELINE PROBLEM: mri records imaged = true and calcitonin records false" in r.output


@pytest.mark.slow
def test_history_and_course_json_follow_their_schemas():
    import jsonschema

    history = json.loads(invoke("schema", "history").output)
    course = json.loads(invoke("schema", "course").output)
    for doc in (history, course):
        jsonschema.Draft202012Validator.check_schema(doc)
    assert not list(jsonschema.Draft202012Validator(history).iter_errors(yaml.safe_load(HISTORY.read_text())))
    bad = {"visits": [{"week": -1, "facts": {"agee": 1}, "declined": ["mri_scan"]}]}
    assert len(list(jsonschema.Draft202012Validator(history).iter_errors(bad))) >= 3
    out = json.loads(invoke("query", "-g", str(SHIPPED), "--history", str(HISTORY), "--format", "json").output)
    errors = [f"{list(e.path)}: {e.message}" for e in jsonschema.Draft202012Validator(course).iter_errors(out)]
    assert not errors, errors[:5]
