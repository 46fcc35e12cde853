"""Exact unit conversions for observations read from a health record (``query --fhir``).

A binding names the UCUM unit a variable is kept in and, optionally, a conversion family;
an observation in another unit of that family is converted exactly (Fractions, never
floats). Any other unit is an error: guideproof never guesses a factor. Each factor cites
where it was looked up.
"""
from __future__ import annotations

from fractions import Fraction

#: family -> UCUM unit -> how many of the family's base unit one of it is
FAMILIES: dict[str, dict[str, Fraction]] = {
    # Serum creatinine, base mg/dL: 1 mg/dL = 88.4 umol/L (molar mass 113.12 g/mol). Source:
    # the creatinine unit converters at cal53.calculator.city ("the conversion factor between
    # mg/dL and umol/L is 88.4") and the AF guideline's own reference 16, which cites the
    # same factor and checks it against the label pairs 1.5 mg/dL = 133 umol/L.
    "creatinine": {"mg/dL": Fraction(1), "umol/L": 1 / Fraction("88.4")},
    # Serum calcium, base mg/dL: 1 mmol/L = 4.0078 mg/dL (standard atomic weight of calcium
    # 40.078 g/mol: 1 mmol/L = 40.078 mg/L). Source: procalculator.co.uk, "Calcium mmol/L to
    # mg/dL Converter" ("calcium mg/dL = calcium mmol/L x 4.0078").
    "calcium": {"mg/dL": Fraction(1), "mmol/L": Fraction("4.0078")},
    # Body mass, base kg: the international avoirdupois pound is exactly 0.45359237 kg (the
    # 1959 international yard and pound agreement; as quoted by several unit-conversion pages).
    "mass": {"kg": Fraction(1), "[lb_av]": Fraction("0.45359237")},
}

#: how records commonly write a UCUM code in ``Quantity.unit`` (display text)
ALIASES = {"µmol/L": "umol/L", "μmol/L": "umol/L", "mmHg": "mm[Hg]", "lb": "[lb_av]", "lbs": "[lb_av]"}


def ucum(unit: str) -> str:
    """The UCUM code of a unit as a record writes it."""
    return ALIASES.get(unit.strip(), unit.strip())


def convert(value: Fraction, unit: str, to: str, family: str) -> Fraction | None:
    """``value`` in ``unit`` expressed in ``to``, exactly; None when no declared conversion
    relates them (the caller reports it)."""
    unit, to = ucum(unit), ucum(to)
    if unit == to:
        return value
    table = FAMILIES.get(family, {})
    if unit not in table or to not in table:
        return None
    return value * table[unit] / table[to]
