"""Loader errors as a table: an edit of the mini guideline -> the expected code at a position.

Each case replaces ``old`` by ``new`` in tests/fixtures/mini.yaml. The character ``»`` in
``new`` marks where the diagnostic must point; it is removed before loading, and its line
and column (1-based) are the expected position.
"""
from __future__ import annotations

import pytest

from guideproof.model.errors import InputError
from conftest import MINI, load_text

BASE = MINI.read_text()
M = "»"
SICK = "  sick: {type: bool, question: 'Sick?'}"
WEIGHT = "\n  weight: {type: int, min: 30, max: 200, unit: kg, optional: true, question: 'Weight, if measured?'}"
#: the last variable through the first definition (contiguous in the mini guideline)
LEVELS_TO_OLD = ("  levels: {type: set, values: [L1, L2, L3], question: 'Levels?'}\nconstraints:\n"
                 "  - {id: scope, holds: L1 in levels or L2 in levels, why: Scope.}\ndefinitions:\n  old: age >= 65\n")


def _wait(definition: str) -> str:
    """LEVELS_TO_OLD with a duration variable 'wait' (in weeks) and ``definition`` for 'old'."""
    return LEVELS_TO_OLD.replace("'Levels?'}", "'Levels?'}\n  wait: {type: duration, min: 0, max: 52, unit: weeks, question: 'Weeks?'}").replace(
        "old: age >= 65", definition)

CASES = [
    # (case id, old, new, expected code)
    ("duplicate-key", "  sick: {type: bool, question: 'Sick?'}\n",
     "  sick: {type: bool, question: 'Sick?'}\n  »sick: {type: bool, question: 'Again?'}\n", "duplicate-key"),
    ("unknown-top-key", "start: check\n", "start: check\n»colour: red\n", "unknown-key"),
    ("unknown-variable-key", "unit: years, question: 'Age?'}", "unit: years, question: 'Age?', »colour: red}", "unknown-key"),
    ("missing-question", "  sick: {type: bool, question: 'Sick?'}", "  sick: »{type: bool}", "missing-key"),
    ("missing-top-key", "start: check\n", "", "missing-key"),
    ("int-bound-not-a-number", "min: 18,", "min: »eighteen,", "wrong-type"),
    ("min-above-max", "min: 18,", "min: »200,", "bad-domain"),
    ("unknown-type", "{type: bool, question: 'Sick?'}", "{type: »boolean, question: 'Sick?'}", "wrong-type"),
    ("bad-variable-source", "{type: bool, question: 'Sick?'}", "{type: bool, source: »labs, question: 'Sick?'}", "wrong-type"),
    ("unknown-name-in-definition", "old: age >= 65", "old: »agee >= 65", "unknown-name"),
    ("int-where-condition-expected", "{when: sick and old, goto", "{when: sick and »age, goto", "type-error"),
    ("unknown-enum-value", "  old: age >= 65\n", "  old: age >= 65\n  late_stage: stage == »middle\n", "unknown-value"),
    ("literal-outside-domain", "old: age >= 65", "old: age >= »300", "value-out-of-domain"),
    ("syntax-error", "{when: sick and old, goto", "{when: \"sick and »)\", goto", "expr-syntax"),
    ("chained-comparison", "old: age >= 65", "old: age < 70 »< 90", "expr-syntax"),
    ("compare-enum-with-int", "old: age >= 65", "old: stage »== 1", "type-error"),
    ("unknown-set-member", "holds: L1 in levels or", "holds: »L9 in levels or", "unknown-value"),
    ("recommends-outside-invariant", "{when: sick and old, goto", "{when: »recommends(treat), goto", "type-error"),
    ("unknown-goto", "goto: do_treat}", "goto: »do_treet}", "unknown-reference"),
    ("unknown-recommendation", "recommend: [treat]}", "recommend: [»treet]}", "unknown-reference"),
    ("unknown-source", "strength: strong, sources: [1], section: S}\n  rest",
     "strength: strong, sources: [»7], section: S}\n  rest", "unknown-reference"),
    ("unknown-category", "{short: Treat, text: Treat it., category: care,", "{short: Treat, text: Treat it., category: »cure,", "unknown-reference"),
    ("bad-choice", "choice: single", "choice: »several", "wrong-type"),
    ("cycle", "  do_rest: {kind: action, title: Rest, recommend: [rest]}",
     "  do_rest: {kind: action, title: Rest, recommend: [rest], next: »check}", "cycle"),
    ("cycle-between-steps",
     "  do_treat: {kind: action, title: Treat, recommend: [treat]}\n  do_rest: {kind: action, title: Rest, recommend: [rest]}",
     "  »do_treat: {kind: action, title: Treat, recommend: [treat], next: do_rest}\n"
     "  do_rest: {kind: action, title: Rest, recommend: [rest], next: do_treat}", "cycle"),
    ("unreferenced-step", "conflicts:\n", "  »orphan: {kind: end, title: Orphan}\nconflicts:\n", "unreferenced-step"),
    ("unreferenced-recommendation", "start: check\n",
     "  »unused: {short: U, text: U., category: care, strength: strong, sources: [1], section: S}\nstart: check\n", "unreferenced-recommendation"),
    ("definition-cycle", "  old: age >= 65\n", "  »old: age >= 65 and young\n  young: not old\n", "cycle"),
    ("duplicate-constraint-id", "  - {id: scope, holds: L1 in levels or L2 in levels, why: Scope.}\n",
     "  - {id: scope, holds: L1 in levels or L2 in levels, why: Scope.}\n  - {id: »scope, holds: age > 17, why: Again.}\n", "duplicate-id"),
    ("unsupported-version", "guideproof: 1", "guideproof: »2", "unsupported-version"),
    ("bad-name", "  treat: {short: Treat", "  »Treat-It: {short: Treat", "bad-name"),
    ("ambiguous-enum-value", "  stage: {type: enum, values: [early, late]", "  »stage: {type: enum, values: [early, sick]", "ambiguous-name"),
    ("yaml-syntax", "    title: Check\n", "    title: Check»: x\n", "yaml-syntax"),
    ("recursive-alias", "sources:\n", "extra: »&x [*x]\nsources:\n", "recursive-alias"),
    ("merge-key", "  sick: {type: bool, question: 'Sick?'}", "  sick: {»<<: {type: bool}, question: 'Sick?'}", "merge-key"),
    ("fork-with-one-track", "  do_rest: {kind: action, title: Rest, recommend: [rest]}",
     "  do_rest: {kind: action, title: Rest, recommend: [rest], next: f}\n  f: {kind: fork, title: F, tracks: »[g]}\n"
     "  g: {kind: end, title: G}", "wrong-type"),
    ("empty-recommendation-sources", "sources: [1], section: S}\n  rest", "sources: »[], section: S}\n  rest", "missing-citation"),
    ("duplicate-enum-value", "values: [early, late]", "values: [early, »early]", "duplicate-value"),
    ("conflict-unknown-rec", "between: [treat, rest]", "between: [treat, »resting]", "unknown-reference"),
    ("duplicate-conflict-id", "  - {id: c, between: [treat, rest], why: W.}\n",
     "  - {id: c, between: [treat, rest], why: W.}\n  - {id: »c, between: [rest, treat], why: Again.}\n", "duplicate-id"),
    ("duplicate-invariant-id", "  - {id: i, holds: sick and old implies recommends(treat), why: W.}\n",
     "  - {id: i, holds: sick and old implies recommends(treat), why: W.}\n  - {id: »i, holds: sick or not sick, why: Again.}\n",
     "duplicate-id"),
    ("unknown-phase", "  do_rest: {kind: action, title: Rest, recommend: [rest]}",
     "  do_rest: {kind: action, title: Rest, recommend: [rest], phase: »later}", "unknown-reference"),
    ("reassessment-not-boolean", "categories: {care: Care}", "categories: {care: {title: Care, reassessment: »often}}", "wrong-type"),
    ("unknown-step-kind", "  do_rest: {kind: action,", "  do_rest: {kind: »act,", "wrong-type"),
    ("goto-names-a-recommendation", "goto: do_treat}", "goto: »treat}", "unknown-reference"),
    # language 2: numbers, arithmetic, computed values
    ("zero-divisor", "old: age >= 65", "old: age / (age »- 65) > 1", "zero-divisor"),
    ("literal-zero-divisor", "old: age >= 65", "old: age / »0 > 1", "zero-divisor"),
    ("decimal-int-bound", "min: 18,", "min: »18.5,", "wrong-type"),
    ("decimal-min-above-max", "  sick: {type: bool, question: 'Sick?'}",
     "  sick: {type: bool, question: 'Sick?'}\n  crea: {type: decimal, min: »2.5, max: 1.5, unit: mg/dL, question: 'Creatinine?'}",
     "bad-domain"),
    ("decimal-bound-not-number", "  sick: {type: bool, question: 'Sick?'}",
     "  sick: {type: bool, question: 'Sick?'}\n  crea: {type: decimal, min: »low, max: 1.5, unit: mg/dL, question: 'Creatinine?'}",
     "wrong-type"),
    ("decimal-typical-out-of-range", "  sick: {type: bool, question: 'Sick?'}",
     "  sick: {type: bool, question: 'Sick?'}\n  crea: {type: decimal, min: 0.3, max: 15, unit: mg/dL, question: 'Creatinine?', typical: »0.1}",
     "out-of-range"),
    ("decimal-literal-out-of-domain", "old: age >= 65", "old: age >= »300.5", "value-out-of-domain"),
    ("function-arity", "old: age >= 65", "old: »min(age) >= 65", "type-error"),
    ("arithmetic-on-bool", "old: age >= 65", "old: »sick * 2 > 0", "type-error"),
    ("count-of-number", "old: age >= 65", "old: count(»age) > 0", "type-error"),
    ("at-least-too-many", "old: age >= 65", "old: »at least 3 of [sick, age > 65]", "type-error"),
    ("if-branches-differ", "old: age >= 65", "old: if sick then 1 else age »> 30", "type-error"),
    ("definition-when-and-value", "  old: age >= 65", "  old: »{when: age >= 65, value: age}", "wrong-type"),
    ("computed-value-as-condition", "  old: age >= 65\n", "  old: {value: age + 1, unit: years}\n",
     "type-error", ("{when: sick and old, goto", "{when: sick and »old, goto")),
    ("condition-as-computed-value", "  old: age >= 65", "  old: {value: »sick and age > 30}", "type-error"),
    ("name-with-trailing-newline", "  sick: {type: bool, question: 'Sick?'}",
     "  sick: {type: bool, question: 'Sick?'}\n  »\"ill\\n\": {type: bool, question: 'Ill?'}", "bad-name"),
    ("keyword-as-variable", "  sick: {type: bool, question: 'Sick?'}",
     "  sick: {type: bool, question: 'Sick?'}\n  »and: {type: bool, question: 'And?'}", "bad-name"),
    ("keyword-as-enum-value", "values: [early, late]", "values: [early, »then]", "bad-name"),
    ("number-too-long", "old: age >= 65", "old: age >= »1." + "0" * 100, "number-too-large"),
    # language 2: optional facts
    ("unguarded-optional-in-branch", SICK, SICK + WEIGHT, "unguarded-optional",
     ("{when: sick and old, goto", "{when: sick and »weight > 100, goto")),
    ("unguarded-optional-in-constraint", SICK, SICK + WEIGHT, "unguarded-optional",
     ("holds: L1 in levels or", "holds: »weight > 40 or L1 in levels or")),
    ("unguarded-optional-in-invariant", SICK, SICK + WEIGHT, "unguarded-optional",
     ("holds: sick and old implies", "holds: sick and »weight > 40 implies")),
    ("unguarded-optional-through-definition", LEVELS_TO_OLD, LEVELS_TO_OLD.replace("old: age >= 65", "old: age >= 65 and weight > 60")
     .replace("'Levels?'}", "'Levels?'}" + WEIGHT), "unguarded-optional",
     ("{when: sick and old, goto", "{when: sick and »old, goto")),
    ("optional-guarded-by-the-wrong-fact", SICK, SICK + WEIGHT + WEIGHT.replace("weight", "height"), "unguarded-optional",
     ("{when: sick and old, goto", "{when: known(height) and »weight > 100, goto")),
    ("optional-guarded-only-after-the-read", SICK, SICK + WEIGHT, "unguarded-optional",
     ("{when: sick and old, goto", "{when: »weight > 100 and known(weight), goto")),
    ("known-of-required-variable", "old: age >= 65", "old: known(»age)", "type-error"),
    ("known-of-definition", "  old: age >= 65\n", "  old: age >= 65\n  older: known(»old)\n", "type-error"),
    ("known-of-unknown-name", "old: age >= 65", "old: known(»wieght)", "unknown-name"),
    ("known-without-a-name", "old: age >= 65", "old: known(»)", "expr-syntax"),
    ("optional-not-boolean", SICK, SICK.replace("question: 'Sick?'}", "question: 'Sick?', optional: »maybe}"), "wrong-type"),
    # language 2: durations
    ("duration-compared-with-bare-number", LEVELS_TO_OLD, _wait("old: wait »> 6"), "unit-mismatch"),
    ("duration-plus-bare-number", LEVELS_TO_OLD, _wait("old: wait »+ 1 > 2 weeks"), "unit-mismatch"),
    ("duration-times-duration", LEVELS_TO_OLD, _wait("old: wait »* wait > 1 week"), "unit-mismatch"),
    ("min-of-duration-and-number", LEVELS_TO_OLD, _wait("old: »min(wait, 3) > 1 week"), "unit-mismatch"),
    ("if-duration-or-number", LEVELS_TO_OLD, _wait("old: (if sick then wait else »0) > 1 week"), "unit-mismatch"),
    ("months-without-a-rule", LEVELS_TO_OLD, _wait("old: wait > 3 »months"), "unit-undeclared"),
    ("duration-variable-in-months-without-a-rule", LEVELS_TO_OLD,
     _wait("old: wait > 1 week").replace("unit: weeks", "unit: »months"), "unit-undeclared"),
    ("duration-unit-unknown", LEVELS_TO_OLD, _wait("old: wait > 1 week").replace("unit: weeks", "unit: »hours"), "wrong-type"),
    ("duration-literal-out-of-domain", LEVELS_TO_OLD, _wait("old: wait > »60 weeks"), "value-out-of-domain"),
    ("durations-rule-unreadable", "sources:\n", "durations: {rule: »3 moons = 13 weeks, why: W.}\nsources:\n", "wrong-type"),
    ("timing-unit-unknown", "section: S}\n  rest", "section: S,\n    timing: {text: T, start: »3 fortnights}}\n  rest", "wrong-type"),
    ("timing-not-whole-weeks", "section: S}\n  rest", "section: S,\n    timing: {text: T, start: »10 days}}\n  rest", "wrong-type"),
    ("timing-start-twice", "section: S}\n  rest", "section: S,\n    timing: {text: T, start: »2 weeks, start_week: 2}}\n  rest",
     "wrong-type"),
    ("timing-start-after-end", "section: S}\n  rest", "section: S,\n    timing: {text: T, start: »6 weeks, end: 4 weeks}}\n  rest",
     "bad-domain"),
]


def _position(text: str) -> tuple[str, int, int]:
    i = text.index(M)
    before = text[:i]
    line = before.count("\n") + 1
    col = i - (before.rfind("\n") + 1) + 1
    return text.replace(M, "", 1), line, col


@pytest.mark.parametrize("case,old,new,code,more", [c if len(c) == 5 else (*c, None) for c in CASES],
                         ids=[c[0] for c in CASES])
@pytest.mark.slow
def test_loader_error_position(case, old, new, code, more):
    assert BASE.count(old) == 1, f"{case}: the edit must match exactly once"
    edited = BASE.replace(old, new)
    if more is not None:  # a second edit elsewhere in the file, which holds the marker
        assert edited.count(more[0]) == 1
        edited = edited.replace(more[0], more[1])
        new = more[1]
    if M in new:
        text, line, col = _position(edited)
    else:
        text, line, col = edited, 1, 1
    with pytest.raises(InputError) as info:
        load_text(text)
    found = [(d.code, d.span.line if d.span else None, d.span.column if d.span else None) for d in info.value.diagnostics]
    assert (code, line, col) in found, f"{case}: expected {code} at {line}:{col}, got {found}"
    # Every diagnostic renders as file:line:col: error[code]: message, then the line and a caret.
    rendered = str(info.value)
    assert f"snippet.yaml:{line}:{col}: error[{code}]:" in rendered
    d = next(d for d in info.value.diagnostics if (d.code, d.span.line, d.span.column) == (code, line, col))
    lines = d.render().splitlines()
    assert lines[1].strip() == text.splitlines()[line - 1].strip()
    assert lines[2].index("^") - 4 == col - 1


def test_table_is_large_enough():
    assert len(CASES) >= 25


def test_all_errors_in_one_pass():
    text = BASE.replace("min: 18,", "min: eighteen,").replace("goto: do_treat}", "goto: nowhere}") \
        .replace("old: age >= 65", "old: agee >= 65").replace("choice: single", "choice: several")
    with pytest.raises(InputError) as info:
        load_text(text)
    codes = sorted(d.code for d in info.value.diagnostics)
    assert codes.count("wrong-type") >= 2 and "unknown-name" in codes and "unknown-reference" in codes


def test_reference_to_a_broken_declaration_is_not_reported_twice():
    """A recommendation with its own error is still declared: referring to it is no error."""
    text = BASE.replace("sources: [1], section: S}\n  rest", "sources: [], section: S}\n  rest")
    with pytest.raises(InputError) as info:
        load_text(text)
    assert [d.code for d in info.value.diagnostics] == ["missing-citation"]


def test_reassessment_category_orders_the_answer():
    """A category marked ``reassessment`` (any name) gathers the timed items to reassess."""
    from guideproof.model.report import answer

    timed = BASE.replace("text: Treat it.,", "text: Treat it., timing: {text: In 2 weeks, start_week: 2},")
    marked = timed.replace("categories: {care: Care}", "categories: {care: {title: Care, reassessment: true}}")
    patient = {"age": 70, "sick": True, "stage": "early", "levels": ["L1"]}
    assert [r.id for r in answer(load_text(marked), patient).reassess()] == ["treat"]
    assert answer(load_text(timed), patient).reassess() == []


def test_alias_bomb_refused_quickly():
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    with pytest.raises(InputError) as info:
        load_text("\n".join(lines) + "\n")
    (d,) = info.value.diagnostics
    # a1..a3 expand to 8,289 nodes; the first alias of a4 (7,381 more) exceeds the budget.
    assert (d.code, d.span.line, d.span.column) == ("alias-expansion", 5, 10)


def test_deep_nesting_refused():
    with pytest.raises(InputError) as info:
        load_text("x: " + "[" * 200 + "]" * 200 + "\n")
    assert info.value.diagnostics[0].code == "too-deep"


def test_empty_file():
    with pytest.raises(InputError) as info:
        load_text("")
    assert info.value.diagnostics[0].code == "wrong-type"
    assert info.value.diagnostics[0].span.line == 1


def test_binary_file(tmp_path):
    from guideproof.model.loader import load_guideline

    p = tmp_path / "g.yaml"
    p.write_bytes(b"guideproof: 1\n\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(InputError) as info:
        load_guideline(p)
    d = info.value.diagnostics[0]
    assert d.code == "not-text" and d.span.line == 2


@pytest.mark.slow
def test_oversized_file(tmp_path):
    from guideproof.model.loader import load_guideline
    from guideproof.model.source import MAX_BYTES

    p = tmp_path / "big.yaml"
    p.write_bytes(b"# padding\n" * (MAX_BYTES // 10 + 10))
    with pytest.raises(InputError) as info:
        load_guideline(p)
    assert info.value.diagnostics[0].code == "file-too-large"


def test_missing_file(tmp_path):
    from guideproof.model.loader import load_guideline

    with pytest.raises(InputError) as info:
        load_guideline(tmp_path / "nope.yaml")
    assert info.value.diagnostics[0].code == "file-not-found"


def test_block_scalar_condition_positions():
    """A condition written as a folded block scalar still points at the right word."""
    text = BASE.replace("  old: age >= 65\n", "  old: >-\n    age >= 65\n    and agee < 100\n")
    with pytest.raises(InputError) as info:
        load_text(text)
    d = info.value.diagnostics[0]
    assert (d.code, d.span.line, d.span.column) == ("unknown-name", 17, 9)


def test_bad_source_exits_2_at_its_position(tmp_path):
    """A variable's ``source`` must be one of history, exam, lab, imaging: anything else is
    an input error at the value (exit 2, no traceback)."""
    from click.testing import CliRunner

    from guideproof.cli import cli

    path = tmp_path / "g.yaml"
    path.write_text(BASE.replace("  sick: {type: bool, question: 'Sick?'}",
                                 "  sick: {type: bool, source: labs, question: 'Sick?'}"))
    r = CliRunner().invoke(cli, ["--no-cache", "verify", str(path)], catch_exceptions=False)
    assert r.exit_code == 2
    assert (f"{path}:9:30: error[wrong-type]: variables.sick.source: expected history, exam, lab or imaging, "
            "found the text 'labs'") in r.output
    assert "Traceback" not in r.output
