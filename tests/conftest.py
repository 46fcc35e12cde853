from __future__ import annotations

from pathlib import Path

import pytest

from guideproof.guideline import EXAMPLES, SHIPPED
from guideproof.model.loader import load_guideline
from guideproof.model.source import SourceText
from guideproof.model.loader import load_guideline_text

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
MINI = FIXTURES / "mini.yaml"


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
