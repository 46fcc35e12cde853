"""The character sets written out for speed are exactly the complements they replace: YAML's
printable set (for a document) and printable text (for an excerpt), over every code point."""
from __future__ import annotations

import re
import sys

import pytest

from guideproof.model import errors, source

YAML_PRINTABLE = re.compile("[\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
EXCERPT_PRINTABLE = re.compile("[\t\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _mismatches(refused: re.Pattern[str], printable: re.Pattern[str]) -> list[int]:
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    flagged = {m.start() for m in refused.finditer(every)}
    allowed = {m.start() for m in printable.finditer(every)}
    return sorted(set(range(sys.maxunicode + 1)) - (flagged ^ allowed))


@pytest.mark.slow
def test_document_characters_refused_are_yamls_non_printable_set():
    assert _mismatches(source._NON_PRINTABLE, YAML_PRINTABLE) == []


@pytest.mark.slow
def test_excerpt_characters_replaced_are_the_non_printable_ones():
    assert _mismatches(errors._CONTROL, EXCERPT_PRINTABLE) == []
