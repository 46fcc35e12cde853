"""Hostile and odd input: every case ends in a result or a located diagnostic (exit 2), never
an internal error, a traceback, a hang or an overwritten file.

Cases edit tests/fixtures/mini.yaml or a shipped example patient. Time bounds here are
generous sanity limits for what would otherwise hang, not measurements.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from guideproof.cli import cli
from guideproof.guideline import EXAMPLES
from guideproof.model.errors import InputError
from guideproof.model.expr import MAX_CONDITION_DEPTH
from conftest import MINI, load_text

BASE = MINI.read_text()
PATIENT = (EXAMPLES / "uncomplicated_acute.yaml").read_text()


def invoke(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return r.exit_code, r.output


def diagnostics(text: str) -> list[tuple[str, int, int]]:
    """(code, line, column) of every diagnostic loading ``text`` as a guideline gives."""
    with pytest.raises(InputError) as info:
        load_text(text)
    return [(d.code, d.span.line, d.span.column) for d in info.value.diagnostics if d.span is not None]


def write(tmp_path: Path, name: str, text: str) -> str:
    f = tmp_path / name
    f.write_text(text)
    return str(f)


def assert_clean_refusal(code: int, out: str, *expected: str) -> None:
    assert code == 2, out
    assert "Traceback" not in out and "internal error" not in out
    for e in expected:
        assert e in out, out


# -- YAML structure: aliases, nesting, characters ------------------------------------------


def test_alias_bomb_under_the_alias_limit_is_refused_at_the_alias():
    # 63 aliases, each list holding 9 aliases of the one before: under the 64-alias limit,
    # but the expansion is 9**7 nodes. The budget counts what aliases expand to.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 8)]
    t0 = time.monotonic()
    found = diagnostics("\n".join(lines) + "\n")
    assert time.monotonic() - t0 < 5
    assert found == [("alias-expansion", 5, 10)]  # the first alias of a4 crosses 10,000 nodes


def test_many_small_aliases_still_count():
    text = "a: &a x\nb: [" + ", ".join(["*a"] * 65) + "]\n"
    assert diagnostics(text) == [("too-many-aliases", 2, 5 + 64 * 4)]  # the 65th alias


def test_aliases_within_the_budget_load():
    text = BASE.replace("  sick: {type: bool, question: 'Sick?'}",
                        "  sick: {type: bool, question: &q 'Sick?'}\n  ill: {type: bool, question: *q}")
    g = load_text(text)
    assert g.variables["ill"].question == "Sick?"


@pytest.mark.parametrize("text", [
    "x: " + "[" * 100_000 + "\n",
    "x: " + "{a: " * 100_000 + "\n",
    "x:\n" + "- " * 100_000 + "a\n",
    "x:\n" + "".join(" " * i + "k:\n" for i in range(2000)),
])
def test_deep_nesting_refused_quickly(text):
    t0 = time.monotonic()
    found = diagnostics(text)
    assert time.monotonic() - t0 < 5
    assert [c for c, _, _ in found] in (["too-deep"], ["yaml-syntax"])


@pytest.mark.parametrize("char", ["\x07", "\x1b", "\x7f", "\x9b", "\ufffe"])
def test_control_character_is_located(tmp_path, char):
    f = write(tmp_path, "g.yaml", BASE.replace("title: Mini", f"title: Mi{char}ni"))
    code, out = invoke("variables", "-g", f)
    assert_clean_refusal(code, out, f"g.yaml:2:32: error[control-character]: control character U+{ord(char):04X}")
    assert char not in out  # the excerpt shows it as '?', never raw on the terminal
    assert "position" not in out


def test_control_character_in_a_patient_file(tmp_path):
    f = write(tmp_path, "p.yaml", PATIENT.replace("deformity: none", "deformity: no\x1b[31mne"))
    code, out = invoke("query", "-p", f)
    line = PATIENT.splitlines().index("deformity: none") + 1
    assert_clean_refusal(code, out, f"p.yaml:{line}:14: error[control-character]")


def test_yaml_line_breaks_agree_with_positions():
    # NEL, LS and a lone CR end lines in YAML; positions computed from a character index
    # (conditions) must agree with the parser's own (keys).
    text = BASE.replace("start: check\n", "# a\u2028# b\x85# c\rstart: check\n").replace("old: age >= 65", "old: agee >= 65")
    found = diagnostics(text)
    assert ("unknown-name", 15, 8) in found
    text = BASE.replace("  old: age >= 65\n", "# a\u2028  old: agee >= 65\n")
    assert ("unknown-name", 16, 8) in diagnostics(text)


# -- numbers -------------------------------------------------------------------------------

YAML11_NUMBERS = ["010", "1:12", "0x1A", "0b101", "0o17", "1_000", "+5", "72.0", "1e3", ".inf", "-.inf", ".nan", "1.0e+400"]


@pytest.mark.parametrize("raw", YAML11_NUMBERS)
def test_patient_numbers_are_plain_decimal(tmp_path, raw):
    f = write(tmp_path, "p.yaml", PATIENT.replace("weeks_since_fracture: 2\n", f"weeks_since_fracture: {raw}\n"))
    code, out = invoke("query", "-p", f)
    line = next(i for i, l in enumerate(PATIENT.splitlines(), 1) if l.startswith("weeks_since_fracture"))
    shown = raw if raw == "72.0" else repr(raw)
    assert_clean_refusal(code, out, f"p.yaml:{line}:23: error[wrong-type]: weeks_since_fracture is a whole number "
                                    f"of weeks written with the digits 0-9, found {shown}")


@pytest.mark.parametrize("raw", ["010", "٧٢", "７２", "+72", "7_2", "72.0", " 72x"])
def test_set_numbers_are_plain_decimal(raw):
    code, out = invoke("query", "--set", f"age={raw}")
    assert_clean_refusal(code, out, "error[wrong-type]: --set", "age is a whole number of years")


@pytest.mark.parametrize("field,old,line,col", [
    ("min", "min: 18,", 8, 25),
    ("year", "1: {title: Source one}", 4, 32),
    ("version", "guideproof: 1", 1, 13),
])
def test_guideline_numbers_are_plain_decimal(field, old, line, col):
    new = {"min": "min: 018,", "year": "1: {title: Source one, year: 0x7E8}", "version": "guideproof: 0b1"}[field]
    found = diagnostics(BASE.replace(old, new))
    assert ("wrong-type", line, col) in found


HUGE = "9" * 5000


@pytest.mark.parametrize("where,old,new,pos", [
    ("patient", None, None, None),
    ("bound", "max: 110,", f"max: {HUGE},", (8, 34)),
    ("year", "1: {title: Source one}", f"1: {{title: Source one, year: {HUGE}}}", (4, 32)),
    ("key", "start: check\n", f"start: check\n{HUGE[:1000]}: x\n", (20, 1)),
    ("condition", "old: age >= 65", f"old: age >= {HUGE}", (15, 15)),
])
def test_huge_integers_are_located(tmp_path, where, old, new, pos):
    if where == "patient":
        f = write(tmp_path, "p.yaml", f"age: {HUGE}\n")
        code, out = invoke("query", "-p", f)
        assert_clean_refusal(code, out, "p.yaml:1:6: error[number-too-large]: number too large: 5,000 digits")
        code, out = invoke("query", "--set", f"age={HUGE}")
        assert_clean_refusal(code, out, "error[number-too-large]: --set")
        return
    f = write(tmp_path, "g.yaml", BASE.replace(old, new))
    code, out = invoke("variables", "-g", f)
    assert_clean_refusal(code, out, f"g.yaml:{pos[0]}:{pos[1]}: error[number-too-large]: ")


@pytest.mark.parametrize("digit", ["৫", "٥", "５", "۵", "߅"])
def test_non_ascii_digits_in_conditions(digit):
    found = diagnostics(BASE.replace("old: age >= 65", f"old: age >= 6{digit}"))
    assert found == [("expr-syntax", 15, 16)]


def test_non_ascii_digit_message():
    with pytest.raises(InputError) as info:
        load_text(BASE.replace("old: age >= 65", "old: age >= ٦٥"))
    assert "'٦' is not an ASCII digit: write numbers with 0-9" in str(info.value)


@pytest.mark.parametrize("name", ["äge", "ａge", "аge"])  # Latin ä, fullwidth a, Cyrillic а
def test_non_ascii_names_in_conditions(name):
    with pytest.raises(InputError) as info:
        load_text(BASE.replace("old: age >= 65", f"old: {name} >= 65"))
    (d,) = info.value.diagnostics
    assert (d.code, d.span.line, d.span.column) == ("expr-syntax", 15, 8)
    assert "is not an ASCII letter" in d.message


# -- deep and long conditions --------------------------------------------------------------


@pytest.mark.parametrize("condition,col", [
    ("(" * 140 + "age >= 65" + ")" * 140, 8 + MAX_CONDITION_DEPTH),
    ("not " * 10_000 + "age >= 65", 8 + 4 * MAX_CONDITION_DEPTH),
    ("-" * 100 + "age >= 65", 8 + MAX_CONDITION_DEPTH),
    (" implies ".join(["sick"] * 100), 8 + 5 + 13 * MAX_CONDITION_DEPTH),  # the 65th implies
])
def test_deep_conditions_refused_where_the_limit_is_crossed(condition, col):
    found = diagnostics(BASE.replace("old: age >= 65", f"old: {condition}"))
    assert found == [("too-deep", 15, col)]


def test_long_sum_refused_at_the_deepest_operator():
    found = diagnostics(BASE.replace("old: age >= 65", "old: " + " + ".join(["age"] * 600) + " >= 65"))
    # The sum nests left: the outermost '+' (the 599th) is level 2, under the comparison;
    # the one at level 64, whose operands would be level 65, is the 537th.
    k = 599 - (MAX_CONDITION_DEPTH - 2)
    assert found == [("too-deep", 15, 8 + 4 + 6 * (k - 1))]


def _chain(n: int, depth_each: int) -> str:
    """Definitions d0..d(n-1), each using the one before inside ``depth_each`` parentheses."""
    wrap = lambda inner: "(" * depth_each + inner + ")" * depth_each  # noqa: E731
    defs = "  d0: age >= 65\n" + "".join(f"  d{i}: {wrap(f'd{i - 1} and sick')}\n" for i in range(1, n))
    return BASE.replace("  old: age >= 65\n", "  old: age >= 65\n" + defs) \
        .replace("{when: sick and old,", f"{{when: sick and old and d{n - 1},") \
        .replace("holds: sick and old implies", f"holds: sick and old and d{n - 1} implies")


@pytest.mark.parametrize("text", [
    _chain(400, 0),  # a long chain of definitions using definitions
    _chain(30, MAX_CONDITION_DEPTH - 2),  # a chain of conditions at the depth limit
    BASE.replace("old: age >= 65", "old: " + "(" * (MAX_CONDITION_DEPTH - 1) + "age >= 65" + ")" * (MAX_CONDITION_DEPTH - 1)),
    BASE.replace("old: age >= 65", "old: " + "not " * (MAX_CONDITION_DEPTH - 2) + "age >= 65"),
    BASE.replace("old: age >= 65", "old: " + " + ".join(["age"] * (MAX_CONDITION_DEPTH - 2)) + " >= 6500"),
    # a diamond: each definition uses the one before three times (3**40 paths if expanded naively)
    BASE.replace("  old: age >= 65\n", "  old: age >= 65\n  e0: age >= 65\n" +
                 "".join(f"  e{i}: e{i - 1} and (e{i - 1} or sick) and not not e{i - 1}\n" for i in range(1, 40)))
    .replace("{when: sick and old,", "{when: sick and old and e39,"),
], ids=["chain-400", "deep-chain", "parens-at-limit", "nots-at-limit", "sum-at-limit", "diamond"])
def test_deep_but_valid_guidelines_verify_query_and_draw(tmp_path, text):
    f = write(tmp_path, "g.yaml", text)
    code, out = invoke("verify", "--brief", f)
    assert code == 0 and "PROVED" in out, out
    code, out = invoke("query", "-g", f, "--set", "age=70", "--set", "sick=true", "--set", "stage=late",
                       "--set", "levels=L1", "--format", "json")
    assert code == 0, out
    code, out = invoke("query", "-g", f, "--set", "age=70")
    assert code == 0, out
    code, out = invoke("flowchart", "-g", f, "--set", "age=70", "-o", str(tmp_path / "c.dot"))
    assert code == 0, out


def test_long_condition_loads_in_linear_time():
    # 90 KB in one condition: locating every token used to rescan the scalar (quadratic).
    cond = " or ".join(f"age == {18 + i % 90}" for i in range(6000))
    t0 = time.monotonic()
    g = load_text(BASE.replace("old: age >= 65", f"old: {cond}"))
    assert time.monotonic() - t0 < 10
    assert len(g.definitions["old"].cond.expr.args) == 6000
    with pytest.raises(InputError) as info:  # and the last token is still located exactly
        load_text(BASE.replace("old: age >= 65", f"old: {cond} or agee == 1"))
    (d,) = info.value.diagnostics
    assert (d.span.line, d.span.column) == (15, 8 + len(cond) + 4)
