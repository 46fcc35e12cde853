from __future__ import annotations

import os
from pathlib import Path

import pytest

from guideproof.guideline import EXAMPLES, SHIPPED
from guideproof.model.loader import load_guideline
from guideproof.model.source import SourceText
from guideproof.model.loader import load_guideline_text

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
MINI = FIXTURES / "mini.yaml"
GOLDEN = TESTS / "golden"
#: the explicit switch that lets golden files be written; without it a missing or differing
#: golden file fails the test
REGENERATE_ENV = "GUIDEPROOF_REGENERATE"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """The guideline cache of this test session (and the processes it starts) lives in a
    temporary folder, never in the user's own cache."""
    os.environ["GUIDEPROOF_CACHE_DIR"] = str(tmp_path_factory.mktemp("guideline-cache"))


@pytest.fixture(scope="session")
def shipped():
    return load_guideline(SHIPPED)


@pytest.fixture(scope="session")
def mini():
    return load_guideline(MINI)


@pytest.fixture(scope="session")
def shipped_encoding(shipped):
    from guideproof.model.encode import Encoding

    return Encoding(shipped)


def load_text(text: str, name: str = "snippet.yaml"):
    return load_guideline_text(SourceText(name, text))


def example_paths() -> list[Path]:
    return sorted(EXAMPLES.glob("*.yaml"))


def check_golden(path: Path, text: str) -> None:
    """``text`` must equal the committed golden file ``path``.

    Only with ``GUIDEPROOF_REGENERATE=1`` is the file (re)written; otherwise a missing file
    fails like a differing one, so deleting a golden file can never make a test pass.
    """
    if os.environ.get(REGENERATE_ENV) == "1":
        path.write_text(text)
    elif not path.exists():
        pytest.fail(f"golden file {path.name} is missing; create it with {REGENERATE_ENV}=1 "
                    f"and review it before committing", pytrace=False)
    assert text == path.read_text(), f"{path.name} differs; run with {REGENERATE_ENV}=1 if the change is intended"
