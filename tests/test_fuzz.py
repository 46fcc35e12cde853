"""Random edits of real inputs never crash guideproof: every outcome is a result or a
diagnostic (InputError), never another exception. Seeds are fixed, so a failure replays."""
from __future__ import annotations

import random
from collections import Counter

import pytest
import z3

from guideproof.guideline import SHIPPED
from guideproof.model.errors import InputError
from guideproof.model.loader import load_guideline_text
from guideproof.model.patient import apply_sets, load_patient_file
from guideproof.model.source import SourceText
from guideproof.verify.checks import verify
from guideproof.verify.partial import decide

TOKENS = ["- ", ": ", "[", "]", "{", "}", "&a ", "*a", '"', "'", "not ", " and ", " or ", "==", ">=",
          "true", "false", "1", "-1", "99999999999999999999", "null", "~", "\t", "!!binary",
          "!!python/object:x", "\x00", "é", "<<: ", "? ", "|", ">", "#", "%YAML 1.1\n", "---\n",
          "recommends(x)", "in [", "]]", "((", "))"]


def _mutate(lines: list[str], rng: random.Random) -> str:
    ls = list(lines)
    for _ in range(rng.randint(1, 4)):
        op, j = rng.random(), rng.randrange(len(ls))
        if op < 0.3:
            del ls[j]
        elif op < 0.5:
            ls.insert(j, ls[rng.randrange(len(ls))])
        elif op < 0.8:
            k = rng.randint(0, len(ls[j]))
            ls[j] = ls[j][:k] + rng.choice(TOKENS) + ls[j][k:]
        else:
            k = rng.randint(0, len(ls[j]))
            ls[j] = ls[j][:k] + ls[j][k + rng.randint(1, 5):]
    return "\n".join(ls)


@pytest.mark.slow
def test_edited_guidelines_load_verify_and_query_without_crashing():
    lines = SHIPPED.read_text().split("\n")
    rng = random.Random(1)
    loaded = refused = 0
    for _ in range(300):
        try:
            # beside the shipped file, so its overlay include resolves
            g = load_guideline_text(SourceText(str(SHIPPED.parent / "fuzz.yaml"), _mutate(lines, rng)))
        except InputError as e:
            refused += 1
            assert all(d.code and d.message for d in e.diagnostics)
            continue
        loaded += 1
        verify(g)  # any exception other than InputError fails the test
        try:
            decide(g, {"age": 70, "weeks_since_fracture": 3})
        except InputError:
            pass
    assert loaded > 10 and refused > 150  # both paths were exercised


# How each odd value reads, in a patient file and with --set, for a variable of each type:
# the value it becomes, or the diagnostic code that refuses it.
KINDS = {"bool": "neuro_deficit", "int": "age", "enum": "deformity", "set": "fracture_levels"}
W, U, R = "wrong-type", "unknown-value", "out-of-range"
L1 = frozenset({"L1"})
FILE_CASES = [
    # text                          bool  int (18..110)  enum    set
    ("72",                          W,    72,            W,      W),
    ("72.5",                        W,    W,             W,      W),
    (".inf",                        W,    W,             U,      U),
    (".nan",                        W,    W,             U,      U),
    ("1e400",                       W,    W,             U,      U),
    ("null",                        W,    W,             W,      W),
    ("yes",                         True, W,             W,      W),
    ("false",                       False, W,            W,      W),
    ('"true"',                      True, W,             U,      U),
    ("[]",                          W,    W,             W,      frozenset()),
    ("[L1]",                        W,    W,             W,      L1),
    ("[L1, L1]",                    W,    W,             W,      L1),
    ("[L1, 1]",                     W,    W,             W,      U),
    ("[[L1]]",                      W,    W,             W,      U),
    ("{a: 1}",                      W,    W,             W,      W),
    ("none",                        W,    W,             "none", U),
    ("mild",                        W,    W,             "mild", U),
    ("Mild",                        W,    W,             U,      U),
    ('""',                          W,    W,             U,      frozenset()),
    ("2026-01-01",                  W,    W,             U,      U),
    ("!!binary aGVsbG8=",           W,    W,             U,      U),
    ("999999999999999999999999",    W,    R,             W,      W),
    ("-5",                          W,    R,             W,      W),
    ("13",                          W,    R,             W,      W),
    ('"13"',                        W,    R,             U,      U),
    ('" 72 "',                      W,    72,            U,      U),
]
SET_CASES = [
    # text         bool   int   enum    set
    ("72",         W,     72,   U,      U),
    ("72.5",       W,     W,    U,      U),
    ("yes",        True,  W,    U,      U),
    ("N",          False, W,    U,      U),
    ("",           W,     W,    U,      frozenset()),
    (" mild ",     W,     W,    "mild", U),
    ("L1,L1",      W,     W,    U,      L1),
    ("L1, L7",     W,     W,    U,      U),
    ("-5",         W,     R,    U,      U),
    ("1e400",      W,     W,    U,      U),
]


def _read_file(g, tmp_path, name, text):
    path = tmp_path / "p.yaml"
    path.write_text(f"{name}: {text}\n")
    try:
        return load_patient_file(g, path).values[name]
    except InputError as e:
        (d,) = e.diagnostics
        assert d.span is not None and (d.span.line, d.span.column) == (1, len(name) + 3), d.render()
        return d.code


def _read_set(g, name, text):
    try:
        return apply_sets(g, [f"{name}={text}"]).values[name]
    except InputError as e:
        (d,) = e.diagnostics
        assert f"--set '{name}={text}'" in d.message
        return d.code


@pytest.mark.parametrize("text,expected", [(c[0], c[1:]) for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_odd_values_in_a_patient_file(shipped, tmp_path, text, expected):
    got = tuple(_read_file(shipped, tmp_path, name, text) for name in KINDS.values())
    assert got == expected


@pytest.mark.parametrize("text,expected", [(c[0], c[1:]) for c in SET_CASES], ids=[repr(c[0]) for c in SET_CASES])
def test_odd_values_on_the_command_line(shipped, text, expected):
    got = tuple(_read_set(shipped, name, text) for name in KINDS.values())
    assert got == expected


@pytest.mark.parametrize("text", ["010", "1:12", "0x10", "7_2", "+72", "72.0"])
def test_patient_files_read_numbers_as_the_command_line_does(shipped, tmp_path, text):
    name = "weeks_since_fracture"
    assert _read_file(shipped, tmp_path, name, text) == _read_set(shipped, name, text)


def _consistent(g, enc, values) -> bool:
    """Do the known facts leave at least one valid patient? (Z3 directly, not partial.py)"""
    s = z3.Solver()
    s.add(enc.valid(), *[enc.fix(n, v) for n, v in values.items()])
    return s.check() == z3.sat


@pytest.mark.slow
def test_random_odd_patient_files(shipped, shipped_encoding, tmp_path):
    """Several odd values in one file: each bad field is reported at its own line with the
    code the table gives, the good fields are read, and a query of what was read either
    answers (facts consistent) or names the broken domain constraint (facts inconsistent)."""
    rng = random.Random(0)
    ints = [("13", 13), ("4", 4), ("9", 9), ("0", 0), ("65", 65), ("110", 110), ("-5", R), ("999", R), ("1e400", W), ("[4]", W)]
    column = {kind: 1 + i for i, kind in enumerate(KINDS)}

    def outcome(var, text, want):
        if var.type.kind in ("int", "duration") and want not in (W, U, R) and not var.min <= want <= var.max:
            return R
        if var.type.kind == "enum" and want not in (W, U, R) + var.type.values:
            return U  # a value of deformity, not of this enum
        return want

    choices = {}  # variable -> ([accepted (text, value)], [refused (text, code)])
    for n, var in shipped.variables.items():
        if var.type.kind not in column and var.type.kind not in ("int", "duration"):
            continue  # decimals (the safety overlay's lab values) have their own tests
        cases = ints if var.type.kind in ("int", "duration") else [(c[0], c[column[var.type.kind]]) for c in FILE_CASES]
        if var.type.kind == "enum":
            cases += [(v, v) for v in var.type.values]
        read = [(text, outcome(var, text, want)) for text, want in cases]
        choices[n] = ([c for c in read if c[1] not in (W, U, R)], [c for c in read if c[1] in (W, U, R)])
    outcomes: Counter[str] = Counter()
    answerable = []
    for _ in range(40):
        names = rng.sample(list(choices), rng.randint(1, 6))
        lines, want_values, want_errors = [], {}, {}
        for i, n in enumerate(names):
            good, bad = choices[n]
            text, want = rng.choice(good if rng.random() < 0.8 else bad)
            lines.append(f"{n}: {text}")
            if want in (W, U, R):
                want_errors[i + 1] = want
            else:
                want_values[n] = want
        path = tmp_path / "p.yaml"
        path.write_text("\n".join(lines) + "\n")
        if want_errors:
            with pytest.raises(InputError) as info:
                load_patient_file(shipped, path)
            got = {d.span.line: d.code for d in info.value.diagnostics}
            assert got == want_errors, "\n".join(lines)
            outcomes["refused"] += 1
            continue
        values = load_patient_file(shipped, path).values
        # optional facts left out are read as having no value
        assert values == {**{n: None for n, v in shipped.variables.items() if v.optional and n not in want_values},
                          **want_values}
        if _consistent(shipped, shipped_encoding, values):
            outcomes["answered"] += 1
            answerable.append(values)
        else:
            outcomes["inconsistent"] += 1
            with pytest.raises(InputError) as info:
                decide(shipped, values)
            assert {d.code for d in info.value.diagnostics} == {"constraint-violated"}
    assert set(outcomes) == {"refused", "answered", "inconsistent"}, outcomes  # every path was taken
    # A partial answer with few facts known costs seconds: the one with the most facts suffices.
    most = max(answerable, key=len)
    assert decide(shipped, most).known == most
