"""verify's two lanes of checks (``verify/lanes.py``): the second runs in a forked process;
the findings are the same whether the lanes run one after the other or at once, and a
failure or an interruption in the child reaches the parent as such."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guideproof.model.loader import load_guideline
from guideproof.verify import checks as checks_module
from guideproof.verify.checks import Coverage, verify
from guideproof.verify.findings import InternalError
from guideproof.verify.render import as_doc
from conftest import FIXTURES, children
import mutants as M

ROOT = Path(__file__).resolve().parents[1]
LITERAL = FIXTURES / "literal_source.yaml"
AF = ROOT / "guideline" / "af_anticoagulation.yaml"
SHIPPED = ROOT / "guideline" / "l1_l2_compression_fracture.yaml"

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the lanes need fork")


def _doc(g, **kw) -> str:
    return json.dumps(as_doc(g, verify(g, **kw), False), sort_keys=True, default=str)


#: One verify in a fresh interpreter, with the lanes for any guideline: a guideline file, the
#: name of one of its mutants (tests/mutants.py) or "", and the jobs. The models Z3 returns
#: depend on everything its context has built before (a second verify in the same process
#: may list a problem set in other regions), so runs are compared from a fresh start, as a
#: user runs them.
_FRESH = """
import json, sys
sys.path.insert(0, sys.argv[4])
from guideproof.model.loader import load_guideline
from guideproof.verify import checks
from guideproof.verify.render import as_doc
import mutants
g = load_guideline(sys.argv[1])
if sys.argv[2]:
    g = dict(mutants.systematic(g))[sys.argv[2]]
checks.LANES_FROM_EDGES = 0
forks = []
run_lanes = checks.run_lanes
checks.run_lanes = lambda *a: forks.append(a) or run_lanes(*a)
doc = as_doc(g, checks.verify(g, jobs=int(sys.argv[3])), False)
assert forks, "the lanes were not used"
print(json.dumps(doc, sort_keys=True, default=str))
"""


def _fresh_doc(path: Path, mutant: str, jobs: int) -> str:
    p = subprocess.run([sys.executable, "-c", _FRESH, str(path), mutant, str(jobs), str(Path(__file__).parent)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return p.stdout


def _same_whatever_the_jobs(path: Path, mutant: str = "") -> str:
    one, two = _fresh_doc(path, mutant, 1), _fresh_doc(path, mutant, 2)
    assert one == two, f"{path.name} {mutant}: --jobs 1 and --jobs 2 disagree"
    return one


@pytest.fixture
def lanes_always(monkeypatch):
    """The lanes for any guideline, however small."""
    monkeypatch.setattr(checks_module, "LANES_FROM_EDGES", 0)


def test_the_lanes_give_the_same_findings_one_after_the_other_or_at_once(monkeypatch):
    doc = json.loads(_same_whatever_the_jobs(LITERAL))
    assert doc["summary"]["refuted"] > 0  # with witnesses, the part that could differ
    # every check's findings, in the checks' order, as without the lanes
    monkeypatch.setattr(checks_module, "LANES_FROM_EDGES", 10**9)
    alone = json.loads(_doc(load_guideline(LITERAL)))
    assert [(o["code"], o["subject"], o["verdict"]) for o in alone["obligations"]] == \
        [(o["code"], o["subject"], o["verdict"]) for o in doc["obligations"]]


def _verdicts(doc: str) -> list[tuple[str, str, str, str]]:
    return [(o["code"], o["subject"], o["verdict"], o["message"]) for o in json.loads(doc)["obligations"]]


@pytest.mark.slow
@pytest.mark.parametrize("path", [AF, SHIPPED, LITERAL], ids=lambda p: p.stem)
def test_mutants_get_the_same_findings_whatever_the_jobs(path):
    """The shipped guidelines give the same output, witnesses and regions included; so
    do their mutants, compared by each obligation's verdict and message: a refuted
    obligation's region listing follows the models Z3 returns, and one mutant's listing
    was once seen cut into 17 regions instead of 16 (both complete) between two fresh
    runs with the same jobs; its cause is not found yet."""
    _same_whatever_the_jobs(path)
    names = [name for name, _ in M.systematic(load_guideline(path))]
    for name in names[::max(1, len(names) // 3)]:
        assert _verdicts(_fresh_doc(path, name, 1)) == _verdicts(_fresh_doc(path, name, 2)), name


def test_lanes_run_only_for_large_guidelines(monkeypatch):
    forks = []
    monkeypatch.setattr(checks_module, "run_lanes", lambda *a: forks.append(a) or pytest.fail("forked"))
    verify(load_guideline(LITERAL), jobs=2)  # a few dozen edges: everything here, in order
    assert forks == []


def test_an_error_in_the_second_lane_is_raised_in_the_parent(lanes_always, monkeypatch):
    def broken(self, ctx):
        raise InternalError("the second lane broke")
        yield
    monkeypatch.setattr(Coverage, "run", broken)
    for jobs in (1, 2):
        with pytest.raises(InternalError, match="the second lane broke"):
            verify(load_guideline(LITERAL), jobs=jobs)
        assert children(os.getpid()) == []  # reaped, not left as a zombie


def test_a_second_lane_that_dies_is_an_internal_error(lanes_always, monkeypatch):
    def dies(self, ctx):
        os._exit(7)
        yield
    monkeypatch.setattr(Coverage, "run", dies)
    with pytest.raises(InternalError, match=r"ended without a result \(exit code 7\)"):
        verify(load_guideline(LITERAL), jobs=2)
    assert children(os.getpid()) == []


def test_an_error_in_the_first_lane_stops_the_second(lanes_always, monkeypatch):
    def slow(self, ctx):
        time.sleep(60)
        yield
    monkeypatch.setattr(Coverage, "run", slow)
    monkeypatch.setattr(checks_module.Reachability, "run", lambda self, ctx: (_ for _ in ()).throw(InternalError("first")))
    t = time.monotonic()
    with pytest.raises(InternalError, match="first"):
        verify(load_guideline(LITERAL), jobs=2)
    assert time.monotonic() - t < 30  # the child was killed, not waited for
    assert children(os.getpid()) == []


def test_the_lanes_run_from_a_thread_other_than_the_main_one(lanes_always):
    import threading

    g = load_guideline(LITERAL)
    out: list[list] = []
    t = threading.Thread(target=lambda: out.append(verify(g, jobs=2)))
    t.start()
    t.join(300)
    assert out and any(f.verdict == "refuted" for f in out[0])
    assert children(os.getpid()) == []
