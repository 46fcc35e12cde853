"""Computed values in verify: a computed value the same for every valid patient is refuted
(GP007), one that varies is proved to, and the answer shows every computed value exactly."""
from __future__ import annotations

from fractions import Fraction

from conftest import FIXTURES, load_text
from guideproof.model.report import answer
from guideproof.verify.checks import verify
from guideproof.verify.findings import Verdict

NUMBERS = (FIXTURES / "numbers.yaml").read_text()


def _gp007(text: str) -> dict[str, tuple[Verdict, str]]:
    return {f.subject: (f.verdict, f.message) for f in verify(load_text(text)) if f.code == "GP007"}


def test_a_computed_value_that_varies_is_proved():
    found = _gp007(NUMBERS)
    assert found["computed value crcl varies"][0] is Verdict.PROVED
    assert found["computed value score varies"][0] is Verdict.PROVED


def test_a_constant_computed_value_is_refuted():
    text = NUMBERS.replace("  low_clearance: crcl < 30\n",
                           "  low_clearance: crcl < 30\n  never: {value: 2 * count(age > 100 and age < 50), unit: points}\n")
    verdict, message = _gp007(text)["computed value never varies"]
    assert verdict is Verdict.REFUTED
    assert message == "computed value 'never' (2 * count(age > 100 and age < 50)) is 0 for every valid patient"


def test_answer_shows_computed_values_exactly():
    g = load_text(NUMBERS)
    p = {"age": 80, "female": True, "weight": Fraction(117, 2), "creatinine": Fraction(7, 5),
         "hypertension": True, "diabetes": False, "heart_failure": False}
    values = {d.name: v for d, v in answer(g, p).computed()}
    # (140 - 80) * 58.5 / (72 * 1.4) * 0.85 = 3315/112
    assert values == {"crcl": Fraction(3315, 112), "score": 3}
