"""Every problem, not one example: the regions of refuted coverage, exclusivity and
consistency obligations, proved by Z3 to be together exactly the problem set."""
from __future__ import annotations

import json

import pytest
import z3
from click.testing import CliRunner

from guideproof.cli import cli
from guideproof.model import expr as X
from guideproof.model.encode import Encoding
from guideproof.model.evaluate import eval_expr, fired_edges, run
from guideproof.model.graph import edges_of
from guideproof.model.loader import load_guideline
from guideproof.verify import regions as regions_module
from guideproof.verify.checks import verify
from guideproof.verify.findings import Verdict
from guideproof.verify.solver import Result, SlicedProver
from conftest import FIXTURES, MINI, load_text

TABLE = FIXTURES / "table12.yaml"
LITERAL = FIXTURES / "literal_source.yaml"


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _parse(g, text):
    scope = X.Scope({n: v.type for n, v in g.variables.items()},
                    {n: (v.min, v.max) for n, v in g.variables.items() if v.min is not None},
                    {n: d.cond.type for n, d in g.definitions.items()}, set(g.recommendations),
                    optional=frozenset(n for n, v in g.variables.items() if v.optional),
                    def_needs={n: d.needs for n, d in g.definitions.items()}, unit_days=g.unit_days)
    return X.check(X.parse(text), scope, lambda _o: None)


def _problem(g, enc, f):
    """The problem condition of a finding, built here from the encoding (not from the
    checks' own negations), and whether the evaluator says a patient has it."""
    name = f.subject.partition(" ")[2]
    if f.code == "GP002" and f.subject == "dispositions":
        term = z3.Not(z3.Or([enc.applies[r] for r in g.dispositions]))
        return term, lambda p: not (set(g.dispositions) & run(g, p).applies)
    if f.code == "GP002":
        step = g.steps[name]
        term = z3.And(enc.reached[name], z3.Not(z3.Or([enc.fired[e.key] for e in edges_of(step)])))
        return term, lambda p: name in run(g, p).reached and not fired_edges(g, step, p)
    if f.code == "GP003":
        step = g.steps[name]
        term = z3.And(enc.reached[name], z3.AtLeast(*[enc.term(b.cond.expr) for b in step.branches], 2))
        return term, lambda p: name in run(g, p).reached and sum(bool(eval_expr(b.cond.expr, p, g)) for b in step.branches) >= 2
    assert f.code == "GP001"
    c = next(c for c in g.conflicts if c.id == name)
    term = z3.AtLeast(*[enc.applies[r] for r in c.recs], 2)
    return term, lambda p: len(set(c.recs) & run(g, p).applies) >= 2


def assert_regions_are_the_problem(g, f):
    """Z3 proves, under the domain, that the union of the regions (their conditions as the
    text shows them, parsed back) is exactly the problem set; each witness is in its region
    and has the problem."""
    assert f.verdict == Verdict.REFUTED and f.regions_end == "complete", (f.subject, f.regions_end)
    enc = Encoding(g)
    problem, has_problem = _problem(g, enc, f)
    conds = [_parse(g, r.condition) for r in f.regions]
    s = z3.Solver()
    s.add(enc.valid())
    s.add(z3.Not(problem == z3.Or([enc.term(c) for c in conds])))
    assert s.check() == z3.unsat, f"{f.subject}: the regions and the problem set differ"
    for r, c in zip(f.regions, conds, strict=True):
        assert eval_expr(c, r.witness, g) is True, (r.condition, r.witness)
        assert has_problem(r.witness), (f.subject, r.witness)
    assert f.witness == f.regions[0].witness  # the finding's witness opens the listing


def _listed(findings):
    return [f for f in findings if f.regions_end]


# -- the 12-rule, 3-input table ----------------------------------------------------------------

@pytest.mark.slow
def test_table_lists_every_gap_and_every_overlap():
    """Hand analysis (see the fixture's header): the guards cut the inputs into 18 cells;
    6 cells have no rule and 3 have two rules; any two gap cells (and any two overlap
    cells) differ in at least two inputs, so no condition over the guards' tests holds for
    two of them and no other cell: exactly 6 gap regions and 3 overlap regions."""
    g = load_guideline(TABLE)
    findings = verify(g)
    gaps = next(f for f in findings if f.code == "GP002")
    overlaps = next(f for f in findings if f.code == "GP003")
    assert len(gaps.regions) == 6 and len(overlaps.regions) == 3
    for f in (gaps, overlaps):
        assert_regions_are_the_problem(g, f)
    # each region is one cell: three tests, one per input (two for score 3..6)
    assert {r.condition for r in overlaps.regions} == {
        "score <= 2 and grade == high and not urgent",
        "score >= 3 and score <= 6 and grade == low and not urgent",
        "score >= 7 and grade == mid and not urgent"}
    cells = {(r.witness["grade"], r.witness["urgent"], min(2, r.witness["score"] // 3 - (r.witness["score"] == 9)))
             for r in gaps.regions}
    assert len(cells) == 6  # six distinct cells, one witness each


@pytest.mark.slow
def test_a_fault_in_the_table_changes_the_regions():
    """Closing one gap (rule 1 no longer tests urgent) leaves 5 regions; the test is not
    blind to the fixture."""
    text = TABLE.read_text().replace("score <= 2 and grade == low and urgent,", "score <= 2 and grade == low,")
    g = load_text(text, "table12.yaml")
    gaps = next(f for f in verify(g) if f.code == "GP002")
    assert len(gaps.regions) == 5
    assert_regions_are_the_problem(g, gaps)


@pytest.mark.slow
def test_regions_need_the_path_to_the_decision():
    """A gap in a decision reached only through another one: the regions carry the path's
    conditions, and their union is still exactly the problem set."""
    text = MINI.read_text().replace(
        "      - {when: not (sick and old), goto: do_rest}",
        "      - {when: not (sick and old), goto: stage_check}").replace(
        "  do_rest: {kind: action, title: Rest, recommend: [rest]}",
        "  do_rest: {kind: action, title: Rest, recommend: [rest]}\n"
        "  stage_check:\n    kind: decision\n    title: Stage\n    choice: single\n    branches:\n"
        "      - {when: stage == early and age < 40, goto: do_rest}\n"
        "      - {when: stage == late and L3 in levels, goto: do_rest}")
    g = load_text(text)
    f = next(f for f in verify(g) if f.code == "GP002" and f.subject == "step stage_check")
    assert_regions_are_the_problem(g, f)
    assert all("sick" in r.condition or "age" in r.condition for r in f.regions)


@pytest.mark.slow
def test_literal_source_conflicts_regions_are_exact():
    g = load_guideline(LITERAL)
    listed = [f for f in _listed(verify(g, max_regions=100)) if f.code in ("GP001", "GP002", "GP003")]
    assert len(listed) >= 5
    for f in listed:
        assert_regions_are_the_problem(g, f)


@pytest.mark.slow
def test_point_values_when_the_guard_atoms_do_not_decide(monkeypatch):
    """With no guard atoms at all the cube cannot imply the problem: the witness's own
    values (``score == 0``) are the literals, and the listing is still exact."""
    monkeypatch.setattr("guideproof.verify.checks.decision_atoms", lambda ctx, steps: [])
    g = load_guideline(TABLE)
    gaps = next(f for f in verify(g, max_regions=100) if f.code == "GP002")
    assert any("score ==" in r.condition for r in gaps.regions)
    assert_regions_are_the_problem(g, gaps)


# -- limits, unknowns and output ----------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("limit,end", [(2, "limit"), (5, "limit"), (6, "complete"), (7, "complete")])
def test_max_findings_cuts_the_listing_and_says_so(limit, end):
    g = load_guideline(TABLE)
    gaps = next(f for f in verify(g, max_regions=limit) if f.code == "GP002")
    assert len(gaps.regions) == min(limit, 6) and gaps.regions_end == end


@pytest.mark.slow
def test_max_findings_in_text_and_json():
    r = invoke("verify", str(TABLE), "--max-findings", "2", "--brief")
    assert r.exit_code == 1
    assert "problem regions (2, listing stopped after 2 (--max-findings)" in r.output
    doc = json.loads(invoke("verify", str(TABLE), "--max-findings", "2", "--format", "json").output)
    gap = next(o for o in doc["obligations"] if o["code"] == "GP002")
    assert gap["truncated"] is True and gap["regions_end"] == "limit" and len(gap["regions"]) == 2
    assert set(gap["regions"][0]) == {"condition", "witness"}
    full = json.loads(invoke("verify", str(TABLE), "--format", "json").output)
    gap = next(o for o in full["obligations"] if o["code"] == "GP002")
    assert gap["truncated"] is False and gap["regions_end"] == "complete" and len(gap["regions"]) == 6
    proved = next(o for o in full["obligations"] if o["verdict"] == "proved")
    assert proved["regions"] == [] and proved["regions_end"] is None and proved["truncated"] is False


@pytest.mark.slow
def test_json_regions_are_stable_between_runs():
    a = json.loads(invoke("verify", str(TABLE), "--format", "json").output)
    b = json.loads(invoke("verify", str(TABLE), "--format", "json").output)
    strip = [[{k: v for k, v in o.items() if k != "seconds"} for o in d["obligations"]] for d in (a, b)]
    assert strip[0] == strip[1]


def test_max_findings_zero_keeps_one_witness():
    g = load_guideline(TABLE)
    gaps = next(f for f in verify(g, max_regions=0) if f.code == "GP002")
    assert gaps.witness is not None and gaps.regions == () and gaps.regions_end == ""
    assert invoke("verify", str(TABLE), "--max-findings", "-1").exit_code == 2


@pytest.mark.slow
def test_unknown_during_listing_is_incomplete_never_complete(monkeypatch):
    """The solver gives up when asked for a gap outside the first two regions: two regions
    are listed and the listing says it is incomplete."""
    real = SlicedProver.check

    def flaky(self, parts, use_domain=True, want_core=True, seconds=None):
        if any(name == "outside region 2" for name, _ in parts):
            return Result("unknown", reason="canceled")
        return real(self, parts, use_domain, want_core, seconds)
    monkeypatch.setattr(SlicedProver, "check", flaky)
    g = load_guideline(TABLE)
    gaps = next(f for f in verify(g, only={"GP002"}) if f.code == "GP002")
    assert gaps.regions_end == "unknown" and len(gaps.regions) == 2
    r = invoke("verify", str(TABLE), "--brief")
    assert r.exit_code == 1 and "problem regions (2, INCOMPLETE: the solver answered unknown" in r.output
    doc = json.loads(invoke("verify", str(TABLE), "--format", "json").output)
    gap = next(o for o in doc["obligations"] if o["code"] == "GP002")
    assert gap["truncated"] is True and gap["regions_end"] == "unknown"


def test_region_witnesses_are_rechecked(monkeypatch):
    """A region witness the evaluator says is inside an earlier region is an internal error."""
    from guideproof.verify.findings import InternalError
    real = regions_module.eval_expr
    monkeypatch.setattr(regions_module, "eval_expr", lambda e, p, g, *a: True if isinstance(e, X.Eq) else real(e, p, g, *a))
    with pytest.raises(InternalError):
        verify(load_guideline(TABLE), only={"GP002"})


@pytest.mark.slow
def test_region_witness_files_replay_through_query(tmp_path):
    r = invoke("verify", str(TABLE), "--witness-dir", str(tmp_path), "--brief")
    assert r.exit_code == 1
    names = sorted(p.name for p in tmp_path.glob("GP002-*.yaml"))
    assert names == ["GP002-step_table-region2.yaml", "GP002-step_table-region3.yaml", "GP002-step_table-region4.yaml",
                     "GP002-step_table-region5.yaml", "GP002-step_table-region6.yaml", "GP002-step_table.yaml"]
    for name in names:
        q = json.loads(invoke("query", "-g", str(TABLE), "-p", str(tmp_path / name), "--format", "json").stdout)
        assert [x["kind"] for x in q["guideline_problems"]] == ["no-branch"], name
    assert "problem region 2: " in (tmp_path / "GP002-step_table-region2.yaml").read_text()


# -- masked branches (GP004) -----------------------------------------------------------------------

MINI_FIRST = MINI.read_text().replace("choice: single", "choice: first")


def _branch_finding(text, subject):
    return next(f for f in verify(load_text(text)) if f.subject == subject)


def test_masked_branch_names_a_minimal_set_of_masking_branches():
    """Branch 4 (age >= 80) is masked by branch 3 (age >= 65) alone; branch 1 (sick and old)
    and branch 2 (stage == late) also overlap it but are not needed to mask it."""
    text = MINI_FIRST.replace(
        "      - {when: not (sick and old), goto: do_rest}",
        "      - {when: stage == late, label: late, goto: do_rest}\n"
        "      - {when: age >= 65, label: older, goto: do_treat}\n"
        "      - {when: age >= 80, label: oldest, goto: do_rest}\n"
        "      - {when: not (sick and old), goto: do_rest}")
    f = _branch_finding(text, "branch check#4")
    assert f.verdict == Verdict.REFUTED
    assert "masked by branch 3 (older), which takes every patient" in f.message


def test_masked_branch_taken_together_names_both():
    text = MINI_FIRST.replace(
        "      - {when: not (sick and old), goto: do_rest}",
        "      - {when: not (sick and old), label: not both, goto: do_rest}\n      - {when: sick, label: sick, goto: do_rest}")
    f = _branch_finding(text, "branch check#3")
    assert f.verdict == Verdict.REFUTED
    assert "masked by branches 1 and 2 (" in f.message and "; not both), which, taken together" in f.message


# -- misleading overlaps (GP009, a warning) ---------------------------------------------------------

def _first(branches: str, rest: bool = True) -> str:
    """The mini guideline with a ``first`` decision of the given branches, and with
    ``rest`` a last branch that takes everyone else."""
    return MINI_FIRST.replace(
        "      - {when: sick and old, goto: do_treat}\n      - {when: not (sick and old), goto: do_rest}\n",
        branches + ("      - {when: true, label: everyone else, goto: do_rest}\n" if rest else ""))


def _gp008(text):
    return [f for f in verify(load_text(text)) if f.code == "GP009"]


@pytest.mark.slow
def test_overlapping_ranges_on_one_variable_are_a_warning():
    text = _first("      - {when: age <= 70, label: younger, goto: do_rest}\n"
                  "      - {when: age >= 60 and sick, label: older and sick, goto: do_treat}\n")
    f = next(f for f in _gp008(text) if f.subject == "branch check#1 over check#2")
    assert f.verdict == Verdict.WARNING and "both bound age and their ranges overlap" in f.message
    assert f.regions_end == "complete" and [r.condition for r in f.regions] == ["age <= 70 and age >= 60 and sick"]
    assert f.details == ("age = 71: no longer branch 1, still branch 2", "age = 59: branch 1, no longer branch 2")
    r = invoke("verify", "--brief", str(_write(text)))
    assert "warning[GP009]: misleading: misleading overlap" in r.output
    assert "age <= 70 and age >= 60 and sick" in r.output


def test_a_warning_alone_exits_0(tmp_path):
    text = _first("      - {when: age <= 70, label: younger, goto: do_treat}\n"
                  "      - {when: age >= 60, label: older, goto: do_rest}\n", rest=False).replace(
        "conflicts:\n  - {id: c, between: [treat, rest], why: W.}\n", "").replace(
        "invariants:\n  - {id: i, holds: sick and old implies recommends(treat), why: W.}\n", "")
    path = tmp_path / "g.yaml"
    path.write_text(text)
    r = invoke("verify", "--brief", str(path))
    assert r.exit_code == 0, r.output
    assert "PROVED: all" in r.output and "1 with a warning" in r.output
    doc = json.loads(invoke("verify", "--format", "json", str(path)).output)
    assert doc["summary"]["warning"] == 1 and doc["summary"]["refuted"] == 0


@pytest.mark.parametrize("branches,why", [
    # different facts at once: the priority order doing its job (the shipped red flags)
    ("      - {when: sick, label: sick, goto: do_rest}\n      - {when: age >= 65, label: old, goto: do_treat}\n",
     "no variable in common"),
    # an exception listed before its general rule
    ("      - {when: age >= 80, label: oldest, goto: do_rest}\n      - {when: age >= 65, label: old, goto: do_treat}\n",
     "no variable they both test has overlapping ranges"),
    # ranges that touch but do not overlap
    ("      - {when: age <= 70, label: younger, goto: do_rest}\n      - {when: age > 70, label: older, goto: do_treat}\n",
     "no variable they both test has overlapping ranges"),
    # the lower branch wholly masked: GP004's error, not this warning
    ("      - {when: age >= 60, label: sixty, goto: do_rest}\n      - {when: age >= 65, label: old, goto: do_treat}\n",
     "no variable they both test has overlapping ranges"),
    ("      - {when: age <= 70, label: a, goto: do_rest}\n"
     "      - {when: age > 70, label: b, goto: do_rest}\n"
     "      - {when: age >= 60 and sick, label: c, goto: do_treat}\n", "never taken (GP004)"),
])
def test_intended_overlaps_are_not_warned_about(branches, why):
    found = {f.subject: f for f in _gp008(_first(branches))}
    f = found.get("branch check#1 over check#3") or found["branch check#1 over check#2"]
    assert f.verdict == Verdict.PROVED and why in f.message, f.message


@pytest.mark.slow
def test_shipped_guidelines_have_no_misleading_overlap(shipped):
    from guideproof.guideline import SHIPPED
    af = load_guideline(SHIPPED.parent / "af_anticoagulation.yaml")
    for g in (shipped, af):
        found = [f for f in verify(g, only={"GP009"}) if f.code == "GP009"]
        assert found and all(f.verdict == Verdict.PROVED for f in found), [f.message for f in found]


def _write(text):
    import tempfile
    from pathlib import Path
    path = Path(tempfile.mkdtemp()) / "mini.yaml"
    path.write_text(text)
    return path


# -- regions over optional facts and durations ------------------------------------------------------

OPTIONAL = FIXTURES / "optional.yaml"


@pytest.mark.slow
def test_regions_over_optional_facts_say_known():
    """A gap only for patients without a creatinine, and an overlap only for patients with
    one: the regions read known(crea), parse back (every read guarded) and are exactly the
    problem set."""
    text = OPTIONAL.read_text()
    gap = load_text(text.replace("(known(crea) implies clearance > 30)", "(known(crea) and clearance > 30)"))
    (f,) = [f for f in verify(gap) if f.verdict == Verdict.REFUTED]
    assert f.code == "GP002" and all("not known(crea)" in r.condition for r in f.regions)
    assert_regions_are_the_problem(gap, f)
    overlap = load_text(text.replace("known(crea) and clearance <= 30", "known(crea) and clearance <= 40"))
    (f,) = [f for f in verify(overlap) if f.verdict == Verdict.REFUTED]
    assert f.code == "GP003" and all("known(crea)" in r.condition for r in f.regions)
    assert_regions_are_the_problem(overlap, f)


def test_regions_over_durations_keep_their_units():
    text = (FIXTURES / "mini.yaml").read_text().replace("\nconstraints:", (
        "\n  wait: {type: duration, min: 0, max: 20, unit: weeks, question: 'Weeks?'}\nconstraints:"), 1).replace(
        "{when: sick and old, goto: do_treat}", "{when: wait < 4 weeks, goto: do_treat}").replace(
        "{when: not (sick and old), goto: do_rest}", "{when: wait > 4 weeks, goto: do_rest}").replace(
        "holds: sick and old implies recommends(treat)", "holds: wait < 4 weeks implies recommends(treat)")
    g = load_text(text)
    (f,) = [f for f in verify(g) if f.verdict == Verdict.REFUTED and f.code == "GP002"]
    assert [r.condition for r in f.regions] == ["wait >= 4 weeks and wait <= 4 weeks"]
    assert_regions_are_the_problem(g, f)
