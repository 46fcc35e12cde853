"""The cache of checked guidelines: used only for exactly the same inputs, never trusted
blindly, never a reason for a load to fail."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from guideproof.guideline import EXAMPLES, SHIPPED
from guideproof.model import cache, loader
from guideproof.model.errors import InputError

from conftest import FIXTURES

MINI_TEXT = (FIXTURES / "mini.yaml").read_text()


@pytest.fixture
def folder(tmp_path, monkeypatch):
    where = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(where))
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    return where


@pytest.fixture
def builds(monkeypatch):
    """Counts how often the guideline is really read and checked (not taken from the cache)."""
    calls: list[str] = []
    real = loader.build_guideline

    def counting(src, *args):
        calls.append(src.file)
        return real(src, *args)

    monkeypatch.setattr(loader, "build_guideline", counting)
    return calls


def entries(where: Path) -> list[Path]:
    return sorted(where.glob("*.pickle")) if where.exists() else []


def test_second_load_comes_from_the_cache_and_equals_a_fresh_load(folder, builds, tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(MINI_TEXT)
    first = cache.load_guideline(path)
    again = cache.load_guideline(path)
    assert builds == [str(path)]
    assert again == first == loader.load_guideline_text(loader.read_text(path))
    assert again is not first  # read back from the entry, not kept in memory
    (entry,) = entries(folder)
    assert entry.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700


def test_any_change_to_the_text_is_a_miss(folder, builds, tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(MINI_TEXT)
    cache.load_guideline(path)
    path.write_text(MINI_TEXT.replace("title:", "title: ", 1))  # meaningless to YAML
    cache.load_guideline(path)
    assert len(builds) == 2 and len(entries(folder)) == 2


@pytest.mark.slow
def test_a_changed_included_file_is_a_miss_even_though_the_base_is_unchanged(folder, builds, tmp_path):
    base = tmp_path / "base.yaml"
    overlay = tmp_path / "extra.yaml"
    shipped = SHIPPED.read_text()
    assert "include:" in shipped  # the shipped guideline includes its safety overlay
    safety = (SHIPPED.parent / "l1_l2_safety.yaml").read_text()
    base.write_text(shipped.replace("l1_l2_safety.yaml", "extra.yaml"))
    overlay.write_text(safety)
    first = cache.load_guideline(base)
    assert cache.load_guideline(base) == first and len(builds) == 1
    # An edit to the overlay alone changes the guideline: the entry must not be used.
    assert "NSAIDs can worsen it" in safety and "make it worse" not in repr(first)
    overlay.write_text(safety.replace("NSAIDs can worsen it", "NSAIDs can make it worse", 1))
    edited = cache.load_guideline(base)
    assert len(builds) == 2
    assert edited != first and "make it worse" in repr(edited)
    overlay.write_text(overlay.read_text() + "# a comment changes nothing, but the text is not the same\n")
    assert cache.load_guideline(base) == edited and len(builds) == 3
    # A broken overlay is reported, not hidden by the old entry.
    overlay.write_text(safety + "\nnot: [closed\n")
    with pytest.raises(InputError) as info:
        cache.load_guideline(base)
    assert info.value.diagnostics[0].span.file == str(overlay)


def test_a_guideline_with_errors_is_never_stored(folder, builds, tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(MINI_TEXT.replace("guideproof: 1", "guideproof: 7", 1))
    for _ in range(2):
        with pytest.raises(InputError):
            cache.load_guideline(path)
    assert len(builds) == 2 and entries(folder) == []


def test_a_corrupt_or_foreign_entry_is_ignored_and_replaced(folder, builds, tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(MINI_TEXT)
    good = cache.load_guideline(path)
    (entry,) = entries(folder)
    for junk in (b"not a pickle", pickle.dumps("a string"), pickle.dumps((cache.FORMAT - 1, [], good)), b""):
        entry.write_bytes(junk)
        assert cache.load_guideline(path) == good
    assert len(builds) == 5
    assert pickle.loads(entry.read_bytes())[2] == good  # rewritten with a good entry


class Boom:
    def __reduce__(self):
        return (os.system, ("exit 0",))


@pytest.mark.parametrize("what", ["file", "folder"])
def test_entries_others_can_write_are_never_unpickled(folder, builds, tmp_path, monkeypatch, what):
    path = tmp_path / "g.yaml"
    path.write_text(MINI_TEXT)
    cache.load_guideline(path)
    (entry,) = entries(folder)
    entry.write_bytes(pickle.dumps(Boom()))
    loaded: list[object] = []

    def spy(f):
        loaded.append(f)
        raise AssertionError("an untrusted entry was unpickled")

    monkeypatch.setattr(pickle, "load", spy)
    (entry if what == "file" else folder).chmod(0o666 if what == "file" else 0o777)
    cache.load_guideline(path)
    assert loaded == [] and len(builds) == 2


@pytest.mark.slow
def test_switched_off_by_environment_or_option(folder, builds, tmp_path, monkeypatch):
    path = tmp_path / "g.yaml"
    path.write_text(MINI_TEXT)
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    cache.load_guideline(path)
    cache.load_guideline(path)
    assert len(builds) == 2 and not folder.exists()
    env = {**os.environ, cache.CACHE_ENV: ""}
    patient = EXAMPLES / "uncomplicated_acute.yaml"
    run = subprocess.run([sys.executable, "-m", "guideproof", "--no-cache", "query", "-g", str(SHIPPED),
                          "-p", str(patient)], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert not folder.exists()


def test_an_unusable_cache_folder_never_fails_a_load(tmp_path, monkeypatch, builds):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(blocker / "below-a-file"))
    path = tmp_path / "g.yaml"
    path.write_text(MINI_TEXT)
    assert cache.load_guideline(path) == cache.load_guideline(path)
    assert len(builds) == 2


def test_the_name_as_given_and_the_folder_it_is_relative_to_are_part_of_the_key(folder, builds, tmp_path,
                                                                                monkeypatch):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "g.yaml").write_text(MINI_TEXT)
    monkeypatch.chdir(tmp_path / "a")
    relative = cache.load_guideline("g.yaml")
    absolute = cache.load_guideline(tmp_path / "a" / "g.yaml")
    monkeypatch.chdir(tmp_path / "b")
    other = cache.load_guideline("g.yaml")
    assert len(builds) == 3
    assert relative.file == "g.yaml" and absolute.file == str(tmp_path / "a" / "g.yaml")
    assert other == relative  # same text, same name; a separate entry all the same
    assert len(entries(folder)) == 3


def test_at_most_max_entries_are_kept(folder, tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    for i in range(5):
        path = tmp_path / f"g{i}.yaml"
        path.write_text(MINI_TEXT)
        cache.load_guideline(path)
    assert len(entries(folder)) == 3


@pytest.mark.slow
def test_cached_and_fresh_answers_are_identical_for_every_example_patient(tmp_path):
    env = {**os.environ, cache.CACHE_DIR_ENV: str(tmp_path / "c")}
    env.pop(cache.CACHE_ENV, None)
    for patient in sorted(EXAMPLES.glob("*.yaml")):
        outs = [subprocess.run([sys.executable, "-m", "guideproof", *flag, "query", "-p", str(patient),
                                "--format", "json"], capture_output=True, text=True, env=env)
                for flag in ([], [], ["--no-cache"])]
        assert len({(o.returncode, o.stdout, o.stderr) for o in outs}) == 1, patient.name
    assert entries(tmp_path / "c")


@pytest.fixture
def apart(monkeypatch):
    """Every guideline read in a child process, whatever its size."""
    monkeypatch.setattr(cache, "READ_APART_FROM", 0)


def test_a_large_guideline_is_read_in_a_child_and_equals_one_read_here(folder, builds, tmp_path, apart):
    path = tmp_path / "g.yaml"
    path.write_text(MINI_TEXT)
    g = cache.load_guideline(path)
    assert builds == []  # not read in this process
    assert g == loader.load_guideline_text(loader.read_text(path))
    (entry,) = entries(folder)  # the child's entry is stored and used
    assert cache.load_guideline(path) == g and entries(folder) == [entry]


def test_a_large_guideline_is_read_in_a_child_with_the_cache_off(folder, builds, tmp_path, apart, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    path = tmp_path / "g.yaml"
    path.write_text(MINI_TEXT)
    g = cache.load_guideline(path)
    assert builds == [] and entries(folder) == []
    assert g == loader.load_guideline_text(loader.read_text(path))


def test_errors_found_in_the_child_are_the_errors_found_here(folder, builds, tmp_path, apart):
    path = tmp_path / "g.yaml"
    path.write_text(MINI_TEXT.replace("guideproof: 1", "guideproof: 7", 1) + "\nbogus: 1\n")
    with pytest.raises(InputError) as there:
        cache.load_guideline(path)
    assert builds == [] and entries(folder) == []
    with pytest.raises(InputError) as here:
        loader.load_guideline_text(loader.read_text(path))
    assert len(there.value.diagnostics) >= 2
    assert there.value.diagnostics == here.value.diagnostics and str(there.value) == str(here.value)


def test_a_child_that_dies_while_reading_means_reading_here(folder, builds, tmp_path, apart, monkeypatch):
    monkeypatch.setattr(cache, "_built", lambda src: os._exit(9))
    path = tmp_path / "g.yaml"
    path.write_text(MINI_TEXT)
    g = cache.load_guideline(path)
    assert builds == [str(path)] and len(entries(folder)) == 1
    assert g == loader.load_guideline_text(loader.read_text(path))


def test_a_guideline_too_deep_to_pickle_is_read_here_and_not_stored(folder, builds, tmp_path, apart, monkeypatch):
    def too_deep(*args):
        raise RecursionError("maximum recursion depth exceeded while pickling an object")
    monkeypatch.setattr(cache, "_entry", too_deep)
    path = tmp_path / "g.yaml"
    path.write_text(MINI_TEXT)
    g = cache.load_guideline(path)
    assert builds == [str(path)] and entries(folder) == []
    assert g == loader.load_guideline_text(loader.read_text(path))


#: verify's JSON in a fresh interpreter, the guideline read in a child (argv[2] "apart") or here
_FRESH_VERIFY = """
import json, sys
from guideproof.model import cache
from guideproof.verify.checks import verify
from guideproof.verify.render import as_doc
cache.disable()
apart = sys.argv[2] == "apart"
cache.READ_APART_FROM = 0 if apart else 10**12
used = []
read_apart = cache._read_apart
cache._read_apart = lambda src: used.append(src) or read_apart(src)
g = cache.load_guideline(sys.argv[1])
assert bool(used) == apart
print(json.dumps(as_doc(g, verify(g, jobs=1), False), sort_keys=True, default=str))
"""


@pytest.mark.slow
@pytest.mark.parametrize("path", [SHIPPED, FIXTURES / "literal_source.yaml"], ids=lambda p: p.name)
def test_verify_finds_the_same_whether_the_guideline_was_read_apart_or_here(path):
    docs = []
    for how in ("apart", "here"):
        p = subprocess.run([sys.executable, "-c", _FRESH_VERIFY, str(path), how], capture_output=True, text=True,
                           timeout=600)
        assert p.returncode == 0, p.stderr
        docs.append(p.stdout)
    assert '"verdict": "proved"' in docs[0]
    assert path == SHIPPED or '"witness": {' in docs[0]  # the fixture's refutations, witnesses and all
    assert docs[0] == docs[1]
