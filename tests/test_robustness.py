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
from conftest import MINI, children, load_text

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


@pytest.mark.parametrize("enabled", (True, False))
def test_loading_pauses_the_cycle_collector_and_restores_it(enabled, monkeypatch):
    """The collector is off while a guideline is read (its full collections were half of a
    large load) and as it was afterwards, also when the file is refused."""
    import gc

    from guideproof.model import loader

    seen: list[bool] = []
    real = loader._Loader.load

    def spy(self, root):
        seen.append(gc.isenabled())  # while the document is being read
        return real(self, root)

    monkeypatch.setattr(loader._Loader, "load", spy)
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        load_text(BASE)
        with pytest.raises(InputError):
            load_text(BASE.replace("variables:", "variables: [", 1))
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert seen == [False]


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


@pytest.mark.slow
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


@pytest.mark.slow
@pytest.mark.parametrize("raw", YAML11_NUMBERS)
def test_patient_numbers_are_plain_decimal(tmp_path, raw):
    f = write(tmp_path, "p.yaml", PATIENT.replace("weeks_since_fracture: 2\n", f"weeks_since_fracture: {raw}\n"))
    code, out = invoke("query", "-p", f)
    line = next(i for i, l in enumerate(PATIENT.splitlines(), 1) if l.startswith("weeks_since_fracture"))
    shown = raw if raw == "72.0" else repr(raw)
    assert_clean_refusal(code, out, f"p.yaml:{line}:23: error[wrong-type]: weeks_since_fracture is a whole number "
                                    f"of weeks written with the digits 0-9, found {shown}")


@pytest.mark.slow
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
@pytest.mark.slow
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


#: guidelines at the limits of the language's nesting, all valid
DEEP_BUT_VALID = [
    _chain(400, 0),  # a long chain of definitions using definitions
    _chain(30, MAX_CONDITION_DEPTH - 2),  # a chain of conditions at the depth limit
    BASE.replace("old: age >= 65", "old: " + "(" * (MAX_CONDITION_DEPTH - 1) + "age >= 65" + ")" * (MAX_CONDITION_DEPTH - 1)),
    BASE.replace("old: age >= 65", "old: " + "not " * (MAX_CONDITION_DEPTH - 2) + "age >= 65"),
    BASE.replace("old: age >= 65", "old: " + " + ".join(["age"] * (MAX_CONDITION_DEPTH - 2)) + " >= 6500"),
    # a diamond: each definition uses the one before three times (3**40 paths if expanded naively)
    BASE.replace("  old: age >= 65\n", "  old: age >= 65\n  e0: age >= 65\n" +
                 "".join(f"  e{i}: e{i - 1} and (e{i - 1} or sick) and not not e{i - 1}\n" for i in range(1, 40)))
    .replace("{when: sick and old,", "{when: sick and old and e39,"),
]
DEEP_IDS = ["chain-400", "deep-chain", "parens-at-limit", "nots-at-limit", "sum-at-limit", "diamond"]


@pytest.mark.parametrize("text", DEEP_BUT_VALID, ids=DEEP_IDS)
@pytest.mark.slow
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


@pytest.mark.parametrize("text", DEEP_BUT_VALID, ids=DEEP_IDS)
def test_deep_but_valid_guidelines_read_in_a_child_equal_those_read_here(tmp_path, monkeypatch, text):
    """A large file is read in a child process that sends the guideline pickled
    (model/cache.py): the deepest guidelines the language allows come back whole."""
    from guideproof.model import cache, loader

    monkeypatch.setattr(cache, "READ_APART_FROM", 0)
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    apart = []
    read_apart = cache._read_apart
    monkeypatch.setattr(cache, "_read_apart", lambda src: apart.append(read_apart(src)) or apart[-1])
    f = write(tmp_path, "g.yaml", text)
    g = cache.load_guideline(f)
    assert apart and apart[0] is not None  # it came from the child, pickled
    assert g == loader.load_guideline(f)


@pytest.mark.slow
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


# -- command-line values -------------------------------------------------------------------


@pytest.mark.parametrize("command", [["verify", str(MINI)], ["query", "-g", str(MINI)]])
@pytest.mark.parametrize("option,value", [
    ("--timeout", "inf"), ("--timeout", "nan"), ("--timeout", "1e400"), ("--timeout", "-1"),
    ("--timeout", "0"), ("--timeout", "-inf"), ("--timeout", "5000000"), ("--timeout", "ten"),
    ("--rlimit", "0"), ("--rlimit", "-5"), ("--rlimit", "4294967296"), ("--rlimit", "1e9"),
    ("--rlimit", "99999999999999999999999"),
])
def test_bad_solver_limits_are_usage_errors(command, option, value):
    code, out = invoke(*command, option, value)
    assert code == 2, out
    assert f"Invalid value for '{option}'" in out and "internal error" not in out


def test_largest_solver_limits_are_accepted():
    code, out = invoke("verify", "--brief", str(MINI), "--timeout", "4294967", "--rlimit", "4294967295")
    assert code == 0, out


# -- output files --------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["under-a-file", "deeper-under-a-file", "proc", "missing-folder"])
def test_unusable_output_paths(tmp_path, where):
    (tmp_path / "file").write_text("x")
    out = {"under-a-file": tmp_path / "file" / "c.dot", "deeper-under-a-file": tmp_path / "file" / "d" / "c.dot",
           "proc": Path("/proc/c.dot"), "missing-folder": tmp_path / "missing" / "c.dot"}[where]
    message = {"under-a-file": "file' is a file, not a folder", "deeper-under-a-file": "is not a folder (part of the path is a file)",
               "proc": "cannot write '/proc/c.dot'", "missing-folder": "does not exist (create it first)"}[where]
    code, text = invoke("flowchart", "-g", str(MINI), "-o", str(out))
    assert_clean_refusal(code, text, "error[bad-output]: --output", message)
    assert ".tmp" not in text  # never a temporary file's name
    assert not (tmp_path / "missing").exists()


LITERAL = Path(__file__).parent / "fixtures" / "literal_source.yaml"


def test_output_that_is_a_folder_is_a_usage_error(tmp_path):
    code, text = invoke("flowchart", "-g", str(MINI), "-o", str(tmp_path))
    assert code == 2 and "is a directory" in text, text
    (tmp_path / "file").write_text("x")
    code, text = invoke("verify", str(MINI), "--witness-dir", str(tmp_path / "file"))
    assert code == 2 and "is a file" in text, text


@pytest.mark.parametrize("where", ["under-a-file", "missing-parent"])
def test_unusable_witness_dirs_are_refused_before_verifying(tmp_path, where):
    (tmp_path / "file").write_text("x")
    d = {"under-a-file": tmp_path / "file" / "w", "missing-parent": tmp_path / "missing" / "w"}[where]
    code, text = invoke("verify", str(LITERAL), "--witness-dir", str(d))
    assert_clean_refusal(code, text, "error[bad-output]: --witness-dir")
    assert "obligations" not in text  # refused before the work, not after it


@pytest.mark.slow
def test_witness_dir_in_proc(tmp_path):
    code, text = invoke("verify", "--brief", str(LITERAL), "--witness-dir", "/proc/guideproof-witnesses")
    assert_clean_refusal(code, text, "error[bad-output]: --witness-dir: cannot create the folder '/proc/guideproof-witnesses'")


@pytest.mark.slow
def test_witness_dir_itself_is_created(tmp_path):
    code, text = invoke("verify", "--brief", str(LITERAL), "--witness-dir", str(tmp_path / "w"))
    assert code == 1, text
    assert len(list((tmp_path / "w").glob("GP*.yaml"))) >= 3


@pytest.mark.parametrize("link", ["same-path", "symlink", "hard-link", "relative"])
def test_flowchart_never_writes_onto_its_guideline(tmp_path, monkeypatch, link):
    g = tmp_path / "g.dot"
    g.write_text(BASE)
    out = {"same-path": g, "symlink": tmp_path / "s.dot", "hard-link": tmp_path / "h.dot", "relative": Path("g.dot")}[link]
    if link == "symlink":
        out.symlink_to(g)
    elif link == "hard-link":
        out.hardlink_to(g)
    monkeypatch.chdir(tmp_path)
    code, text = invoke("flowchart", "-g", str(g), "-o", str(out))
    assert_clean_refusal(code, text, "error[output-is-input]: --output", "refusing to overwrite it")
    assert g.read_text() == BASE


def test_flowchart_never_writes_onto_its_patient(tmp_path):
    p = tmp_path / "p.svg"
    p.write_text(PATIENT)
    code, text = invoke("flowchart", "--patient", str(p), "-o", str(p))
    assert_clean_refusal(code, text, "error[output-is-input]")
    assert p.read_text() == PATIENT


def test_outputs_get_the_umask_mode_and_keep_an_existing_mode(tmp_path):
    import os
    import stat

    old = os.umask(0o027)
    try:
        out = tmp_path / "c.dot"
        code, text = invoke("flowchart", "-g", str(MINI), "-o", str(out))
        assert code == 0, text
        assert stat.S_IMODE(out.stat().st_mode) == 0o640
        out.chmod(0o604)
        code, text = invoke("flowchart", "-g", str(MINI), "-o", str(out))
        assert code == 0 and stat.S_IMODE(out.stat().st_mode) == 0o604
    finally:
        os.umask(old)
    assert [f.name for f in tmp_path.iterdir()] == ["c.dot"]  # no temporary file left


# -- input size ----------------------------------------------------------------------------


def test_input_limit_is_configurable(tmp_path, monkeypatch):
    f = write(tmp_path, "g.yaml", BASE + "# " + "x" * 300_000 + "\n")
    code, text = invoke("--max-input-mb", "0.25", "variables", "-g", f)
    assert_clean_refusal(code, text, "g.yaml:1:1: error[file-too-large]", "larger than the 262144 bytes input limit",
                         "--max-input-mb")
    assert invoke("--max-input-mb", "0.5", "variables", "-g", f)[0] == 0
    monkeypatch.setenv("GUIDEPROOF_MAX_INPUT_MB", "0.25")
    assert invoke("variables", "-g", f)[0] == 2
    assert invoke("--max-input-mb", "1", "variables", "-g", f)[0] == 0  # the option wins
    assert invoke("variables", "-g", f)[0] == 2  # and lasts one run only


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "lots", "1e9"])
def test_bad_input_limits(tmp_path, monkeypatch, value):
    code, text = invoke("--max-input-mb", value, "variables")
    assert code == 2 and "internal error" not in text, text
    monkeypatch.setenv("GUIDEPROOF_MAX_INPUT_MB", value)
    code, text = invoke("variables")
    assert_clean_refusal(code, text, "error[bad-option]: GUIDEPROOF_MAX_INPUT_MB")


@pytest.mark.slow
def test_default_limit_takes_a_20000_branch_guideline(tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from synthetic import synthetic_yaml

    f = write(tmp_path, "big.yaml", synthetic_yaml(20_000))
    code, text = invoke("variables", "-g", f)
    assert code == 0, text[:2000]


# -- real processes: Ctrl-C and concurrent runs --------------------------------------------


def _script() -> str:
    import shutil
    import sys

    exe = Path(sys.executable).parent / "guideproof"
    return str(exe) if exe.exists() else str(shutil.which("guideproof"))


def _synthetic(tmp_path: Path, branches: int) -> Path:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from synthetic import synthetic_yaml

    f = tmp_path / f"synthetic{branches}.yaml"
    f.write_text(synthetic_yaml(branches))
    return f


def _interrupt(args: list[str], when, stdin=None) -> tuple[int, str]:
    """Start guideproof, wait until ``when(process)`` holds, send SIGINT, return (code, stderr)."""
    import signal
    import subprocess

    p = subprocess.Popen([_script(), *args], stdin=stdin if stdin is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not when(p):
            assert p.poll() is None, f"finished before it could be interrupted: {p.communicate()}"
            assert time.monotonic() < deadline, "never reached the point to interrupt"
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    return p.returncode, err


@pytest.mark.slow
def test_ctrl_c_during_verify_exits_130(tmp_path):
    import os

    import subprocess

    g = _synthetic(tmp_path, 5000)
    # read once, so that the run below takes it from the cache: its only child is the lane's
    subprocess.run([_script(), "variables", "-g", str(g)], check=True, capture_output=True)
    t0 = time.monotonic()
    kids: list[int] = []

    def checking(p) -> bool:  # well inside the solver's work, with the second lane running
        kids[:] = children(p.pid)
        return time.monotonic() - t0 > 3 and bool(kids)
    code, err = _interrupt(["verify", "--brief", "--jobs", "2", str(g), "--witness-dir", str(tmp_path / "w")],
                           checking)
    assert code == 130, err
    assert "guideproof: interrupted" in err
    assert "Aborted!" not in err and "Traceback" not in err and "internal error" not in err
    assert not (tmp_path / "w").exists()
    for pid in kids:  # the second lane's process is gone (killed and reaped), not left running
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.slow
def test_ctrl_c_while_a_large_guideline_is_read_exits_130(tmp_path):
    import os

    from guideproof.model.cache import READ_APART_FROM

    g = _synthetic(tmp_path, 5000)
    assert g.stat().st_size >= READ_APART_FROM  # read in a child process (model/cache.py)
    kids: list[int] = []

    def reading(p) -> bool:  # the first child is the one reading the guideline
        kids[:] = children(p.pid)
        return bool(kids)
    code, err = _interrupt(["--no-cache", "verify", "--brief", str(g)], reading)
    assert code == 130, err
    assert "guideproof: interrupted" in err
    assert "Aborted!" not in err and "Traceback" not in err and "internal error" not in err
    for pid in kids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.slow
def test_ctrl_c_during_rendering_kills_dot_and_keeps_the_old_chart(tmp_path):
    import os
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    g = _synthetic(tmp_path, 3000)
    out = tmp_path / "chart.svg"
    out.write_text("my own chart\n")
    dots: list[int] = []

    def rendering(p) -> bool:
        dots[:] = children(p.pid)
        return bool(dots)

    code, err = _interrupt(["flowchart", "-g", str(g), "-o", str(out)], rendering)
    assert code == 130, err
    assert "guideproof: interrupted" in err and "Traceback" not in err
    assert out.read_text() == "my own chart\n"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["chart.svg", g.name]
    for pid in dots:  # the dot child is gone (killed and reaped), not left running
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.slow
def test_ctrl_c_while_asking_exits_130():
    import subprocess

    code, err = _interrupt(["query", "--set", "age=72", "--interactive"],
                           lambda p: time.sleep(3) or True, stdin=subprocess.PIPE)
    assert code == 130, err
    assert "guideproof: interrupted" in err and "Aborted!" not in err


@pytest.mark.slow
def test_concurrent_runs_share_a_witness_dir(tmp_path):
    import subprocess

    w = tmp_path / "w"
    for _ in range(2):
        runs = [subprocess.Popen([_script(), "verify", "--brief", str(LITERAL), "--witness-dir", str(w)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
        results = [(p.wait(timeout=300), p.stderr.read()) for p in runs]
        for p in runs:
            p.stdout.close()
            p.stderr.close()
        assert [c for c, _ in results] == [1, 1, 1], results
    files = sorted(w.iterdir())
    assert len(files) >= 3 and all(f.name.startswith("GP") and f.suffix == ".yaml" for f in files)  # no temporary left
    first = {f.name: f.read_text() for f in files}
    assert all(text.startswith("# guideproof witness") and text.endswith("\n") for text in first.values())
    mine = files[0]
    mine.write_text("age: 50\n")  # a file guideproof did not write is still never replaced
    code, err = invoke("verify", "--brief", str(LITERAL), "--witness-dir", str(w))
    assert code == 2 and "not overwriting it" in err
    assert mine.read_text() == "age: 50\n"


@pytest.mark.parametrize("escape", ["\\x07", "\\e", "\\x1b[31m", "\\x9b", "\\0"])
def test_escaped_control_characters_in_values(escape):
    found = diagnostics(BASE.replace("title: Mini", f'title: "Mi{escape}ni"'))
    assert found == [("control-character", 2, 30)]


# -- a hostile sweep, kept: each case ends in the exit code and diagnostic shown ----------

SWEEP = [
    # (guideline edit old -> new, expected exit code, expected text)
    ("guideproof: 1", "guideproof: 1.5", 2, "1:13: error[wrong-type]: guideproof (language version): expected a whole number"),
    ("min: 18, max: 110", "min: -99999999999999999999, max: 99999999999999999999", 0, "PROVED"),
    ("old: age >= 65", "old: age >= 65 and", 2, "15:20: error[expr-syntax]"),
    ("old: age >= 65", "old: '   '", 2, "15:8: error[expr-syntax]: definitions.old: empty condition"),
    ("old: age >= 65", 'old: "age\\t>=\\t65"', 0, "PROVED"),
    ("old: age >= 65", "old: stage in []", 2, "15:18: error[expr-syntax]"),
    ("old: age >= 65", "old: age\u00a0>=\u200b65", 2, "15:14: error[expr-syntax]: definitions.old: unexpected character '\\u200b'"),
    ("min: 18,", "min: 1e400,", 2, "8:25: error[wrong-type]: variables.age.min: expected a whole number, found the text '1e400'"),
    ("title: Mini", 'title: "\\ud800"', 2, "2:33: error[yaml-syntax]: found invalid Unicode character escape code"),
    ("title: Mini", "title: !!python/object:os.system x", 2, "2:30: error[yaml-syntax]: cannot read scalar"),
    ("start: check\n", "start: check\n? [a, b]\n: c\n", 2, "20:3: error[bad-key]"),
]


@pytest.mark.parametrize("old,new,code,expected", SWEEP, ids=[f"sweep{i}" for i in range(len(SWEEP))])
def test_hostile_guideline_sweep(tmp_path, old, new, code, expected):
    f = write(tmp_path, "g.yaml", BASE.replace(old, new))
    got, out = invoke("verify", "--brief", f)
    assert (got, "Traceback" in out, "internal error" in out) == (code, False, False), out
    assert expected in out


@pytest.mark.parametrize("text,expected", [
    ('{"age": NaN}', "1:9: error[wrong-type]: age is a whole number of years written with the digits 0-9, found 'NaN'"),
    ("age: 7.2e1\n", "1:6: error[wrong-type]"),
    ("age: 2026-01-01\n", "found '2026-01-01'"),
    ("age: !!binary NzI=\n", "found 'NzI='"),
    ("age:\n", "found an empty value"),
    ("hello\n", "a patient file is a mapping of variable names to values, found the text 'hello'"),
])
@pytest.mark.slow
def test_hostile_patient_sweep(tmp_path, text, expected):
    code, out = invoke("query", "-p", write(tmp_path, "p.yaml", text))
    assert_clean_refusal(code, out, expected)


@pytest.mark.parametrize("args,expected", [
    (["query", "--set", "age="], "--set 'age=': age is a whole number"),
    (["query", "--set", "=5"], "unknown variable ''"),
    (["query", "--set", "age==5"], "found '=5'"),
    (["query", "-p", "/dev/zero"], "error[file-too-large]: patient file '/dev/zero' is larger than the 64 MiB input limit"),
    (["variables", "-g", "/dev/null"], "/dev/null:1:1: error[wrong-type]: the guideline file is empty"),
])
@pytest.mark.slow
def test_hostile_command_line_sweep(args, expected):
    code, out = invoke(*args)
    assert_clean_refusal(code, out, expected)


def test_the_console_script_keeps_its_output_and_exit_code(tmp_path):
    """The console script ends its process without the interpreter's teardown
    (``os._exit``): the whole output still arrives, the exit code is the command's (0 and 2
    here), and a reader that leaves early is not an error."""
    import json
    import subprocess

    shipped = Path(__file__).resolve().parent.parent / "guideline" / "af_anticoagulation.yaml"
    done = subprocess.run([_script(), "verify", "--ignore", "GP012", "--format", "json", str(shipped)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)  # the whole document: flushed before the process ended
    assert doc["summary"]["total"] == len(doc["obligations"]) > 100
    assert doc["summary"]["proved"] == doc["summary"]["total"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("guideproof: 1\nguideline: [\n")
    done = subprocess.run([_script(), "verify", str(bad)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "bad.yaml:" in done.stderr
    # a reader that takes one line and leaves
    p = subprocess.Popen([_script(), "verify", str(shipped)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None
    p.stdout.readline()
    p.stdout.close()
    _, err = p.communicate(timeout=300)
    assert p.returncode == 0 and b"Traceback" not in err and b"Exception ignored" not in err


def test_exit_now_flushes_what_is_buffered_and_keeps_the_code(monkeypatch):
    """``_exit_now`` flushes both streams before ending the process (a writer that does not
    flush each write, unlike click, would otherwise lose its output), even when the reader
    has left, and ends with the command's code."""
    import io

    from guideproof import cli as cli_module

    class Ended(Exception):
        pass

    def fake_exit(code: int) -> None:
        raise Ended(code)

    class Gone(io.StringIO):
        def flush(self) -> None:
            raise BrokenPipeError

    out = io.BufferedWriter(io.BytesIO())
    text = io.TextIOWrapper(out, encoding="utf-8")
    text.write("the last line\n")  # buffered, not yet in the BytesIO
    monkeypatch.setattr(cli_module.sys, "stdout", text)
    monkeypatch.setattr(cli_module.sys, "stderr", Gone())
    monkeypatch.setattr(cli_module.os, "_exit", fake_exit)
    with pytest.raises(Ended) as ended:
        cli_module._exit_now(3)
    assert ended.value.args == (3,)
    assert out.raw.getvalue() == b"the last line\n"
