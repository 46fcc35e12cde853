"""`guideproof diff`: which valid patients get different advice from two versions of a
guideline. Edits with known effects on the shipped guideline, behaviour-preserving edits
proved, and generated edits of a small guideline checked against every one of its patients
evaluated by the plain evaluator on the two versions as written (not as the diff restates them)."""
from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import z3
from click.testing import CliRunner

from guideproof.cli import cli
from guideproof.guideline import SHIPPED
from guideproof.model.encode import Encoding
from guideproof.model.evaluate import AbsentValue, eval_expr, run, violated_constraints
from guideproof.model.loader import load_guideline
from guideproof.verify.diff import Diff, compare
from conftest import FIXTURES
from test_regions import _parse

SMALL = FIXTURES / "diff_small.yaml"
SHIPPED_TEXT = SHIPPED.read_text()
SAFETY = SHIPPED.parent / "l1_l2_safety.yaml"


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _edited(tmp_path: Path, text: str, name: str = "edited.yaml") -> Path:
    """An edited copy of the shipped guideline beside a copy of its overlay."""
    shutil.copy(SAFETY, tmp_path / SAFETY.name)
    path = tmp_path / name
    path.write_text(text)
    return path


def _replace(text: str, old: str, new: str, count: int = 1) -> str:
    assert text.count(old) >= count, old
    return text.replace(old, new) if count < 0 else text.replace(old, new, count)


_PARSED: dict[tuple[int, str], object] = {}


def _inside(g, condition: str, p) -> bool:
    """Whether patient ``p`` lies in a region, its condition read back as the text shows it."""
    key = (id(g), condition)
    if key not in _PARSED:
        _PARSED[key] = (g, _parse(g, condition))  # the guideline is kept so its id is not reused
    try:
        return eval_expr(_PARSED[key][1], p, g) is True
    except AbsentValue:
        return False


# -- known effects on the shipped guideline -----------------------------------------------------------


@pytest.fixture(scope="module")
def threshold_diff(tmp_path_factory) -> Diff:
    tmp = tmp_path_factory.mktemp("threshold")
    new = _edited(tmp, _replace(SHIPPED_TEXT, "when: age >= 65", "when: age >= 70"))
    return compare(load_guideline(SHIPPED), load_guideline(new))


def test_moving_the_elderly_threshold_changes_exactly_ages_65_to_69(threshold_diff):
    """65 -> 70 in the definition of elderly: the patients aged 65-69 who reach the opioid
    question (any pain) lose the opioid caution, and nobody else's advice changes. Z3 proves
    the regions, read back from their text, are exactly that set."""
    d = threshold_diff
    assert d.verdict == "changed" and d.changed.end == "complete"
    assert [(c.condition, c.gained, c.lost) for c in d.changed.regions] == [
        ("age >= 65 and age < 70 and pain != none", (), ("opioid_caution_elderly",))]
    assert d.only_old.end == d.only_new.end == "proved"
    a = d.aligned
    ea, eb, ev = Encoding(a.old), Encoding(a.new), Encoding(a.vocab)
    age = ev.vars["age"]
    expected = z3.And(age >= 65, age < 70, ea.applies["opioid_caution_elderly"])
    union = z3.Or([ev.term(_parse(a.vocab, c.condition)) for c in d.changed.regions])
    s = z3.Solver()
    s.add(ea.valid(), eb.valid(), union != expected)
    assert s.check() == z3.unsat
    w = d.changed.regions[0].witness
    assert 65 <= w["age"] < 70
    assert "opioid_caution_elderly" in run(a.old, w).applies - run(a.new, w).applies


@pytest.mark.slow
def test_threshold_diff_text_and_exit_code(tmp_path):
    new = _edited(tmp_path, _replace(SHIPPED_TEXT, "when: age >= 65", "when: age >= 70"))
    r = invoke("diff", SHIPPED, new)
    assert r.exit_code == 1, r.output
    assert "CHANGED ADVICE: 1 region, complete" in r.output
    assert "  1. age >= 65 and age < 70 and pain != none\n" in r.output
    assert "     loses: opioid_caution_elderly (Caution with opioids (65 or older))\n" in r.output
    assert "VALID IN OLD ONLY: none (proved" in r.output and "VALID IN NEW ONLY: none (proved" in r.output
    assert r.output.rstrip().endswith("CHANGED: 1 region of changed advice")


@pytest.mark.slow
def test_added_contraindication_excludes_exactly_its_patients(tmp_path):
    """Withholding the laxative from patients with a pulmonary dysfunction (a new guard on the
    two steps that recommend it): exactly the patients who had it and have that dysfunction
    lose it, nothing else changes."""
    text = _replace(SHIPPED_TEXT, "recommend: [breakthrough_analgesia, laxative_with_opioid]\n    next: opioid_risk",
                    "recommend: [breakthrough_analgesia]\n    next: laxative_check")
    text = _replace(text, "recommend: [opioid_breakthrough_no_nsaid, laxative_with_opioid]\n    next: opioid_risk",
                    "recommend: [opioid_breakthrough_no_nsaid]\n    next: laxative_check")
    text = _replace(text, "  opioid_risk:\n", """  laxative_check:
    kind: decision
    title: Laxative contraindicated?
    phase: analgesia
    choice: single
    branches:
      - {when: pulmonary_dysfunction, label: contraindicated, goto: opioid_risk}
      - {when: not pulmonary_dysfunction, label: not contraindicated, goto: laxative}
  laxative:
    kind: action
    title: Laxative
    phase: analgesia
    recommend: [laxative_with_opioid]
    next: opioid_risk
  opioid_risk:
""")
    d = compare(load_guideline(SHIPPED), load_guideline(_edited(tmp_path, text)))
    assert d.changed.end == "complete" and d.changed.regions
    assert {(c.gained, c.lost) for c in d.changed.regions} == {((), ("laxative_with_opioid",))}
    a = d.aligned
    ea, eb, ev = Encoding(a.old), Encoding(a.new), Encoding(a.vocab)
    expected = z3.And(ev.vars["pulmonary_dysfunction"], ea.applies["laxative_with_opioid"])
    union = z3.Or([ev.term(_parse(a.vocab, c.condition)) for c in d.changed.regions])
    s = z3.Solver()
    s.add(ea.valid(), eb.valid(), union != expected)
    assert s.check() == z3.unsat
    for c in d.changed.regions:
        assert c.witness["pulmonary_dysfunction"] is True


@pytest.mark.slow
@pytest.mark.parametrize("edit", ["definition renamed", "any branches reordered", "texts reworded"])
def test_behaviour_preserving_edits_are_proved(tmp_path, edit):
    if edit == "definition renamed":
        # every use of the name, wherever a condition reads it (and its declaration)
        assert "  elderly:\n    when: age >= 65" in SHIPPED_TEXT
        text = re.sub(r"(?<![\w.])elderly(?![\w])", "aged_65_or_more", SHIPPED_TEXT)
    elif edit == "any branches reordered":
        first = ("      - when: symptoms_persisting and weeks_since_fracture > 4 weeks\n"
                 "        label: persisting after the initial 4 weeks\n        goto: pain_referral\n")
        start = SHIPPED_TEXT.index(first)
        end = SHIPPED_TEXT.index("    otherwise: pain_settling", start)
        rest = SHIPPED_TEXT[start + len(first):end]
        assert rest.startswith("      - when:")
        text = SHIPPED_TEXT[:start] + rest + first + SHIPPED_TEXT[end:]
    else:
        text = _replace(SHIPPED_TEXT, "short: Caution with opioids (65 or older)", "short: Opioids with care (65+)")
        text = _replace(text, "    title: Aged 65 or over?", "    title: Is the patient 65 or older?")
    assert text != SHIPPED_TEXT
    r = invoke("diff", SHIPPED, _edited(tmp_path, text))
    assert r.exit_code == 0, r.output
    assert "PROVED: no behavioural change" in r.output and "(Z3 found no difference: unsat)" in r.output
    assert "CHANGED ADVICE: none (proved" in r.output


@pytest.mark.slow
def test_a_text_edit_is_not_a_change_but_a_guard_edit_is(tmp_path):
    """The proof is not blind: the same comparison with a real guard edit exits 1."""
    text = _replace(SHIPPED_TEXT, "symptoms_persisting and weeks_since_fracture > 4 weeks",
                    "symptoms_persisting and weeks_since_fracture > 5 weeks")
    r = invoke("diff", SHIPPED, _edited(tmp_path, text))
    assert r.exit_code == 1, r.output
    assert "weeks_since_fracture > 4 weeks" in r.output and "weeks_since_fracture <= 5 weeks" in r.output


@pytest.mark.slow
def test_rename_of_a_recommendation_and_a_variable(tmp_path):
    text = re.sub(r"\bopioid_caution_elderly\b", "opioid_caution_older", SHIPPED_TEXT)
    text = re.sub(r"\bkyphosis_progressing\b", "kyphosis_worsening", text)
    new = _edited(tmp_path, text)
    plain = invoke("diff", SHIPPED, new, "--max-regions", "1")
    assert plain.exit_code == 1
    assert "recommendation opioid_caution_older: only in NEW" in plain.output
    assert "variable kyphosis_worsening: only in NEW" in plain.output
    r = invoke("diff", SHIPPED, new, "--rename", "opioid_caution_elderly=opioid_caution_older",
               "--rename", "kyphosis_progressing=kyphosis_worsening")
    assert r.exit_code == 0, r.output
    assert "renamed variable 'kyphosis_progressing' -> 'kyphosis_worsening'" in r.output
    assert "PROVED: no behavioural change" in r.output


@pytest.mark.slow
def test_only_one_recommendation(tmp_path):
    new = _edited(tmp_path, _replace(SHIPPED_TEXT, "when: age >= 65", "when: age >= 70"))
    other = invoke("diff", SHIPPED, new, "--only", "laxative_with_opioid")
    assert other.exit_code == 0, other.output
    assert "compared: laxative_with_opioid (Regular laxative with any opioid) only" in other.output
    assert "gets recommendation 'laxative_with_opioid' from both or from neither" in other.output
    same = invoke("diff", SHIPPED, new, "--only", "opioid_caution_elderly")
    assert same.exit_code == 1 and "age >= 65 and age < 70" in same.output


@pytest.mark.slow
def test_overlays_are_compared_composed(tmp_path):
    """An edit in the included overlay alone is a change of the guideline."""
    shutil.copy(SHIPPED, tmp_path / SHIPPED.name)
    overlay = SAFETY.read_text()
    (tmp_path / SAFETY.name).write_text(_replace(overlay, "value: (140 - age) * weight_kg", "value: (145 - age) * weight_kg"))
    # nonlinear: a generous timeout, so a slow machine still settles it
    d = compare(load_guideline(SHIPPED), load_guideline(tmp_path / SHIPPED.name), max_regions=1, timeout=120)
    assert d.verdict == "changed"
    assert any("old_" in c.condition for c in d.changed.regions)  # the clearance formula changed


# -- domain changes ---------------------------------------------------------------------------------


def _small(tmp_path, *edits: tuple[str, str], name: str = "new.yaml") -> Path:
    text = SMALL.read_text()
    for old, new in edits:
        text = _replace(text, old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.slow
def test_domain_changes_are_reported_separately(tmp_path):
    new = _small(tmp_path, ("score: {type: int, min: 0, max: 9", "score: {type: int, min: 1, max: 10"),
                 ("values: [low, mid, high]", "values: [low, mid, high, extreme]"))
    d = compare(load_guideline(SMALL), load_guideline(new))
    assert [c.condition for c in d.only_old.regions] == ["score < 1"]
    assert sorted(c.condition for c in d.only_new.regions) == ["grade == extreme", "score > 9"]
    assert d.only_old.end == d.only_new.end == "complete"
    assert "variable score: from 0..9 to 1..10" in d.notes
    assert "variable grade: values [low, mid, high] -> [low, mid, high, extreme]" in d.notes
    # patients valid in both keep their advice: the listings are separate
    assert d.changed.end == "proved"
    r = invoke("diff", SMALL, new)
    assert r.exit_code == 1
    assert "VALID IN OLD ONLY: 1 region" in r.output and "VALID IN NEW ONLY: 2 regions" in r.output
    assert r.output.rstrip().endswith("CHANGED: 1 region of patients valid in OLD only, 2 regions of patients valid "
                                      "in NEW only")


def test_a_dropped_constraint_admits_exactly_its_patients(tmp_path):
    new = _small(tmp_path, ("  - {id: measured_above_low, holds: known(ttr) implies grade != low, why: Measured only "
                            "above the low grade.}\n", ""), ("constraints:\n", ""))
    d = compare(load_guideline(SMALL), load_guideline(new))
    assert [c.condition for c in d.only_new.regions] == ["grade == low and known(ttr)"]
    assert d.only_old.end == "proved"


OPTIONAL_URGENT = [("urgent: {type: bool,", "urgent: {type: bool, optional: true,"),
                   ("urgent and score >= 3", "known(urgent) and urgent and score >= 3"),
                   ("if urgent then 3", "if known(urgent) and urgent then 3")]


def test_a_fact_made_optional(tmp_path):
    d = compare(load_guideline(SMALL), load_guideline(_small(tmp_path, *OPTIONAL_URGENT)))
    assert [c.condition for c in d.only_new.regions] == ["not known(urgent)"]
    assert d.only_new.regions[0].witness["urgent"] is None
    assert d.only_old.end == d.changed.end == "proved"
    assert "variable urgent: required -> optional" in d.notes


def test_a_variable_only_one_version_declares_may_take_any_value(tmp_path):
    """NEW adds a fact no answer depends on: no patient is lost or gained, no advice changes."""
    new = _small(tmp_path, ("  urgent: {type: bool", "  smoker: {type: bool, question: 'Smoker?'}\n  urgent: {type: bool"))
    d = compare(load_guideline(SMALL), load_guideline(new))
    assert d.verdict == "no-change" and "variable smoker: only in NEW" in d.notes


@pytest.mark.slow
def test_a_kind_change_is_an_input_error(tmp_path):
    new = _small(tmp_path, ("urgent: {type: bool, question: 'Urgent?'}",
                            "urgent: {type: enum, values: [absent, present], question: 'Urgent?'}"),
                 ("urgent and score >= 3", "urgent == present and score >= 3"),
                 ("if urgent then 3", "if urgent == present then 3"))
    r = invoke("diff", SMALL, new)
    assert r.exit_code == 2
    line = new.read_text().splitlines().index("  urgent: {type: enum, values: [absent, present], question: 'Urgent?'}") + 1
    assert r.output.startswith(f"{new}:{line}:3: error[incompatible-versions]: variable 'urgent' is a bool in ")
    assert "Traceback" not in r.output


# -- generated edits against brute force ------------------------------------------------------------


def _hand_edits() -> list[tuple[str, list[tuple[str, str]], list[str]]]:
    return [
        ("first branches swapped", [("      - {when: urgent and score >= 3, label: urgent, goto: referral}\n"
                                     "      - {when: severe, label: severe, goto: treatment}",
                                     "      - {when: severe, label: severe, goto: treatment}\n"
                                     "      - {when: urgent and score >= 3, label: urgent, goto: referral}")], []),
        ("any branches swapped", [("      - {when: weeks > 2 weeks and load >= 10, label: long and loaded, goto: reviewing}\n"
                                   "      - {when: known(ttr) and ttr < 2, label: poor control, goto: rechecking}",
                                   "      - {when: known(ttr) and ttr < 2, label: poor control, goto: rechecking}\n"
                                   "      - {when: weeks > 2 weeks and load >= 10, label: long and loaded, goto: reviewing}")], []),
        ("conjunct dropped", [("urgent and score >= 3", "urgent")], []),
        ("definition changed", [("severe: grade == high or score >= 7", "severe: grade == high and score >= 5")], []),
        ("computed value changed", [("score * 2 +", "score * 2 + 1 +")], []),
        ("duration in days", [("weeks > 2 weeks", "weeks > 10 days")], []),
        ("optional guard changed", [("known(ttr) and ttr < 2", "not known(ttr) or ttr < 2")], []),
        ("recommendation moved", [("recommend: [advise], next: follow", "recommend: [advise, review], next: follow")], []),
        ("enum value added", [("values: [low, mid, high]", "values: [low, mid, high, extreme]"),
                              ("grade == high or", "grade == high or grade == extreme or")], []),
        ("bounds changed", [("min: 0, max: 9", "min: 1, max: 8"), ("min: 0, max: 4", "min: 0, max: 3")], []),
        ("fact made optional", OPTIONAL_URGENT, []),
        ("constraint changed", [("known(ttr) implies grade != low", "known(ttr) implies grade == high")], []),
        ("variable renamed", [("  score: {", "  points: {"), ("urgent and score >= 3", "urgent and points >= 3"),
                              ("score >= 7", "points >= 7"), ("score * 2", "points * 2")], ["score=points"]),
        ("recommendation renamed", [("  recheck: {short", "  check_again: {short"),
                                    ("recommend: [recheck]", "recommend: [check_again]")], ["recheck=check_again"]),
        ("variable renamed, not declared", [("  score: {", "  points: {"), ("urgent and score >= 3", "urgent and points >= 3"),
                                            ("score >= 7", "points >= 7"), ("score * 2", "points * 2")], []),
    ]


def _generated_edits() -> list[tuple[str, list[tuple[str, str]], list[str]]]:
    """Every numeric threshold in a condition shifted by one either way, and every strict
    comparison made non-strict."""
    text = SMALL.read_text()
    out = []
    for m in re.finditer(r"(when: |severe: )([^}\n]*)", text):
        cond = m.group(2)
        for t in re.finditer(r"(>=|<=|>|<) (\d+)", cond):
            for delta in (-1, 1):
                new = cond[:t.start(2)] + str(int(t.group(2)) + delta) + cond[t.end(2):]
                out.append((f"{cond} -> {new}", [(m.group(0), m.group(1) + new)], []))
            if t.group(1) in (">", "<"):
                new = cond[:t.start(1)] + t.group(1) + "=" + cond[t.end(1):]
                out.append((f"{cond} -> {new}", [(m.group(0), m.group(1) + new)], []))
    return out


def _values(v):
    kind = v.type.kind
    vals: list = [False, True] if kind == "bool" else list(v.type.values) if kind == "enum" else \
        list(range(v.min, v.max + 1))
    return vals + [None] if v.optional else vals


def _valid(g, p) -> bool:
    for n, v in g.variables.items():
        x = p[n]
        if x is None:
            if not v.optional:
                return False
        elif (v.type.kind == "enum" and x not in v.type.values) or (v.type.kind in ("int", "duration") and not v.min <= x <= v.max):
            return False
    return not violated_constraints(g, p)


def _check_against_brute_force(old, new, d: Diff, renames: list[str]) -> None:
    var_back = {b: a for a, b in (r.split("=") for r in renames) if a in old.variables}
    rec_map = {a: b for a, b in (r.split("=") for r in renames) if a in old.recommendations}
    vocab = d.aligned.vocab
    lo = {n: min(x for x in (getattr(g.variables.get(var_back.get(n, n) if g is old else n), "min", None)
                             for g in (old, new)) if x is not None) for n in vocab.variables if vocab.variables[n].min is not None}
    hi = {n: max(x for x in (getattr(g.variables.get(var_back.get(n, n) if g is old else n), "max", None)
                             for g in (old, new)) if x is not None) for n in vocab.variables if vocab.variables[n].max is not None}
    names = list(vocab.variables)
    domains = [_values(vocab.variables[n].replace(min=lo.get(n), max=hi.get(n))) for n in names]
    old_names = [n for n in names if var_back.get(n, n) in old.variables]
    new_names = [n for n in names if n in new.variables]
    patients = []
    for values in itertools.product(*domains):
        p = dict(zip(names, values, strict=True))
        po = {var_back.get(n, n): p[n] for n in old_names}
        pn = {n: p[n] for n in new_names}
        va, vb = _valid(old, po), _valid(new, pn)
        aa = {rec_map.get(r, r) for r in run(old, po).applies} if va else set()
        ab = run(new, pn).applies if vb else set()
        patients.append((p, va, vb, aa, ab))
    valid_new_on_old = {tuple(p[n] for n in old_names) for p, _, vb, _, _ in patients if vb}
    valid_old_on_new = {tuple(p[n] for n in new_names) for p, va, _, _, _ in patients if va}
    recs = [d.only] if d.only else None
    any_difference = False
    for p, va, vb, aa, ab in patients:
        if recs is not None:
            aa, ab = aa & set(recs), ab & set(recs)
        changed = [c for c in d.changed.regions if _inside(vocab, c.condition, p)]
        if va and vb:
            want = (tuple(sorted(ab - aa)), tuple(sorted(aa - ab)))
            if want != ((), ()):
                any_difference = True
                assert changed, f"patient {p} changes {want} but lies in no region"
            for c in changed:
                assert (tuple(sorted(c.gained)), tuple(sorted(c.lost))) == want, (c.condition, p, want)
        only_old = va and tuple(p[n] for n in old_names) not in valid_new_on_old
        only_new = vb and tuple(p[n] for n in new_names) not in valid_old_on_new
        any_difference |= only_old or only_new
        in_old = any(_inside(vocab, c.condition, p) for c in d.only_old.regions)
        in_new = any(_inside(vocab, c.condition, p) for c in d.only_new.regions)
        if va:
            assert in_old == only_old, (p, [c.condition for c in d.only_old.regions])
        if vb:
            assert in_new == only_new, (p, [c.condition for c in d.only_new.regions])
    assert d.verdict == ("changed" if any_difference else "no-change")
    for c in d.changed.regions:
        assert _inside(vocab, c.condition, c.witness)


def _edit_params() -> list:
    """The edits; an undeclared rename (many regions, the variables of one version only
    quantified) takes about half a minute and is marked slow."""
    return [pytest.param(*e, id=e[0], marks=[pytest.mark.slow] if e[0] == "variable renamed, not declared" else [])
            for e in _hand_edits() + _generated_edits()]


@pytest.mark.slow
@pytest.mark.parametrize("name,edits,renames", _edit_params())
def test_generated_edits_agree_with_every_patient(tmp_path, name, edits, renames):
    old = load_guideline(SMALL)
    new = load_guideline(_small(tmp_path, *edits))
    d = compare(old, new, renames, max_regions=200)
    assert {d.changed.end, d.only_old.end, d.only_new.end} <= {"proved", "complete"}
    _check_against_brute_force(old, new, d, renames)


@pytest.mark.slow
def test_only_agrees_with_every_patient(tmp_path):
    old = load_guideline(SMALL)
    new = load_guideline(_small(tmp_path, ("urgent and score >= 3", "urgent")))
    d = compare(old, new, only="treat", max_regions=200)
    assert d.verdict == "changed" and all(c.lost == ("treat",) or c.gained == ("treat",) for c in d.changed.regions)
    _check_against_brute_force(old, new, d, [])


# -- git revisions -----------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args], cwd=repo, check=True,
                   capture_output=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    shutil.copy(SHIPPED, tmp_path / "g.yaml")
    shutil.copy(SAFETY, tmp_path / SAFETY.name)
    _git(tmp_path, "init", "-q", ".")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "shipped")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
def test_git_revision_against_the_working_copy(repo):
    (repo / "g.yaml").write_text(_replace(SHIPPED_TEXT, "when: age >= 65", "when: age >= 70"))
    r = invoke("diff", "git:HEAD:g.yaml", "g.yaml")
    assert r.exit_code == 1, r.output
    assert "OLD: git:HEAD:g.yaml (l1-l2-compression-fracture 1.0)" in r.output
    assert "age >= 65 and age < 70" in r.output
    _git(repo, "commit", "-qam", "threshold")
    assert invoke("diff", "git:HEAD~1:g.yaml", "git:HEAD:g.yaml").exit_code == 1
    assert invoke("diff", "git:HEAD:g.yaml", "g.yaml").exit_code == 0


@pytest.mark.slow
def test_git_revision_reads_its_overlay_from_the_same_revision(repo):
    """Only the working copy's overlay changes: the committed version must not read it."""
    overlay = repo / SAFETY.name
    overlay.write_text(_replace(overlay.read_text(), "adjusted_calcium > 2.60", "adjusted_calcium > 2.70"))
    d = invoke("diff", "git:HEAD:g.yaml", "g.yaml", "--max-regions", "1")
    assert d.exit_code == 1, d.output
    assert invoke("diff", "git:HEAD:g.yaml", "git:HEAD:./g.yaml").exit_code == 0


@pytest.mark.parametrize("spec,message", [
    ("git:NOSUCHREV:g.yaml", "'git:NOSUCHREV:g.yaml': git cannot read it:"),
    ("git:HEAD:missing.yaml", "'git:HEAD:missing.yaml': git cannot read it: path 'missing.yaml' does not exist in 'HEAD'"),
    ("git:HEAD", "expected git:REV:path"),
])
def test_git_errors_exit_2(repo, spec, message):
    r = invoke("diff", spec, "g.yaml")
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output


def test_git_outside_a_repository_and_without_git(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = invoke("diff", "git:HEAD:g.yaml", SHIPPED)
    assert r.exit_code == 2 and "git cannot read it: not a git repository" in r.output
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    r = invoke("diff", "git:HEAD:g.yaml", SHIPPED)
    assert r.exit_code == 2 and "needs git, which is not installed" in r.output


# -- output and bad input ---------------------------------------------------------------------------


@pytest.mark.slow
def test_json_shape(tmp_path):
    new = _small(tmp_path, ("score >= 7", "score >= 6"), ("min: 0, max: 4", "min: 0, max: 3"))
    r = invoke("diff", SMALL, new, "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.output)
    assert set(doc) == {"version", "old", "new", "only", "renamed", "declarations", "verdict", "changed",
                        "only_old", "only_new"}
    assert doc["version"] == 1 and doc["verdict"] == "changed" and doc["only"] is None
    assert doc["old"] == {"id": "diff_small", "title": "Small guideline for diffs", "version": "1", "file": str(SMALL)}
    assert doc["renamed"] == {"variables": {}, "recommendations": {}}
    assert doc["declarations"] == ["variable ttr: from 0..4 to 0..3"]
    for key in ("changed", "only_old", "only_new"):
        assert set(doc[key]) == {"end", "reason", "truncated", "regions"}
    assert doc["only_new"] == {"end": "proved", "reason": None, "truncated": False, "regions": []}
    assert doc["only_old"]["end"] == "complete"
    assert [x["condition"] for x in doc["only_old"]["regions"]] == ["known(ttr) and ttr > 3"]
    assert doc["only_old"]["regions"][0]["witness"]["ttr"] == 4
    changed = doc["changed"]["regions"]
    assert changed and all(set(x) == {"condition", "witness", "gained", "lost"} for x in changed)
    assert {(tuple(x["gained"]), tuple(x["lost"])) for x in changed} >= {(("treat",), ("watch",))}
    assert all(set(x["witness"]) == {"score", "grade", "urgent", "weeks", "ttr"} for x in changed)


@pytest.mark.slow
def test_limit_cuts_the_listing_and_says_so(tmp_path):
    new = _small(tmp_path, ("score >= 7", "score >= 6"), ("weeks > 2 weeks", "weeks > 1 weeks"))
    full = compare(load_guideline(SMALL), load_guideline(new), max_regions=100)
    assert len(full.changed.regions) > 1
    r = invoke("diff", SMALL, new, "--max-regions", "1")
    assert r.exit_code == 1
    assert "listing stopped after 1 (--max-regions)" in r.output and "(listing incomplete)" in r.output


@pytest.mark.slow
def test_unknown_is_never_a_proof(tmp_path):
    r = invoke("diff", SHIPPED, _edited(tmp_path, _replace(SHIPPED_TEXT, "when: age >= 65", "when: age >= 66")),
               "--rlimit", "1")
    assert r.exit_code == 3, r.output
    assert "INCONCLUSIVE" in r.output and "PROVED" not in r.output and "INCOMPLETE: the solver answered unknown" in r.output


@pytest.mark.parametrize("args,code,message", [
    (["missing.yaml", SMALL], 2, "error[file-not-found]: guideline 'missing.yaml' does not exist"),
    ([SMALL, SMALL, "--only", "no_such_rec"], 2, "--only 'no_such_rec': neither"),
    ([SMALL, SMALL, "--rename", "score"], 2, "--rename 'score': expected OLD=NEW"),
    ([SMALL, SMALL, "--rename", "nothing=score"], 2, "has no variable or recommendation 'nothing'"),
    ([SMALL, SMALL, "--rename", "score=nothing"], 2, "has no variable 'nothing'"),
    ([SMALL, SMALL, "--rename", "score=urgent"], 2, "variables 'score' and 'urgent' of"),
])
def test_bad_input_exits_2(args, code, message):
    r = invoke("diff", *args)
    assert r.exit_code == code, r.output
    assert message in r.output and "Traceback" not in r.output


def test_malformed_yaml_names_file_line_and_column(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.read_text().replace("  urgent: {type: bool", "  urgent: {type: [bool", 1))
    r = invoke("diff", SMALL, bad)
    assert r.exit_code == 2
    assert re.search(rf"{re.escape(str(bad))}:\d+:\d+: error\[", r.output), r.output
    assert "Traceback" not in r.output


def test_no_change_against_itself_is_a_proof():
    r = invoke("diff", SMALL, SMALL)
    assert r.exit_code == 0
    assert r.output.rstrip().endswith("(Z3 found no difference: unsat)")


@pytest.mark.slow
def test_threshold_diff_as_sarif_valid_and_located_at_the_changed_recommendation(tmp_path):
    import jsonschema

    schema = json.loads((FIXTURES / "sarif" / "sarif-2.1.0-rtm.5.json").read_text())
    new = _edited(tmp_path, _replace(SHIPPED_TEXT, "when: age >= 65", "when: age >= 70"))
    r = invoke("diff", SHIPPED, new, "--format", "sarif")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert not list(jsonschema.Draft4Validator(schema).iter_errors(doc))
    (run,) = doc["runs"]
    (res,) = run["results"]
    assert res["ruleId"] == "GPDIFF1" and res["level"] == "warning"
    assert res["properties"]["lost"] == ["opioid_caution_elderly"] and res["properties"]["gained"] == []
    assert res["properties"]["condition"] == "age >= 65 and age < 70 and pain != none"
    assert 65 <= res["properties"]["witness"]["age"] < 70
    rec = load_guideline(new).recommendations["opioid_caution_elderly"]
    region = res["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (rec.span.line, rec.span.column)
    assert run["properties"]["verdict"] == "changed"
    same = invoke("diff", SHIPPED, SHIPPED, "--format", "sarif")
    assert same.exit_code == 0 and json.loads(same.stdout)["runs"][0]["results"] == []
