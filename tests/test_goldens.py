"""Golden files are written only on request: a missing one fails instead of being recreated."""
from __future__ import annotations

import re

import pytest

import test_diagrams
from conftest import GOLDEN, REGENERATE_ENV, TESTS, check_golden


@pytest.fixture
def no_regenerate(monkeypatch):
    monkeypatch.delenv(REGENERATE_ENV, raising=False)


def test_missing_golden_fails_and_is_not_created(tmp_path, no_regenerate):
    path = tmp_path / "absent.txt"
    with pytest.raises(pytest.fail.Exception, match=f"absent.txt is missing; create it with {REGENERATE_ENV}=1"):
        check_golden(path, "text")
    assert not path.exists()


def test_differing_golden_fails_and_is_kept(tmp_path, no_regenerate):
    path = tmp_path / "old.txt"
    path.write_text("old")
    with pytest.raises(AssertionError, match=r"old\.txt differs"):
        check_golden(path, "new")
    assert path.read_text() == "old"


def test_matching_golden_passes(tmp_path, no_regenerate):
    path = tmp_path / "same.txt"
    path.write_text("same")
    check_golden(path, "same")


@pytest.mark.parametrize("value", ["0", "", "yes", "true"])
def test_only_the_explicit_switch_regenerates(tmp_path, monkeypatch, value):
    monkeypatch.setenv(REGENERATE_ENV, value)
    with pytest.raises(pytest.fail.Exception):
        check_golden(tmp_path / "absent.txt", "text")
    assert not (tmp_path / "absent.txt").exists()


def test_regenerate_writes_missing_and_differing_files(tmp_path, monkeypatch):
    monkeypatch.setenv(REGENERATE_ENV, "1")
    check_golden(tmp_path / "new.txt", "text")
    (tmp_path / "old.txt").write_text("old")
    check_golden(tmp_path / "old.txt", "new")
    assert (tmp_path / "new.txt").read_text() == "text" and (tmp_path / "old.txt").read_text() == "new"


def test_a_real_golden_test_fails_when_its_file_is_deleted(mini, tmp_path, monkeypatch, no_regenerate):
    """The flowchart golden test, pointed at a golden folder without its file."""
    monkeypatch.setattr(test_diagrams, "GOLDEN", tmp_path)
    with pytest.raises(pytest.fail.Exception, match=r"mini\.dot is missing"):
        test_diagrams.test_mini_dot_golden(mini)
    assert list(tmp_path.iterdir()) == []


def test_every_golden_file_is_checked_by_a_test():
    """A golden file no test reads would go stale unnoticed."""
    sources = "\n".join(p.read_text() for p in TESTS.glob("test_*.py"))
    names = sorted(p.name for p in GOLDEN.iterdir())
    assert names, "the golden folder is empty"
    for name in names:
        assert re.search(rf'GOLDEN / "{re.escape(name)}"', sources), f"no test checks {name}"
