"""Exact numbers as text: the one place that writes a fraction the way an author reads it.

Values are ints or :class:`~fractions.Fraction` everywhere (never binary floats). A number
with a finite decimal form is written as that decimal (``3``, ``1.25``, ``-0.5``); one with
none (a denominator with a prime factor other than 2 and 5) as its fraction (``875/18``),
which patient files accept back.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction


def exact_text(x: Fraction | int) -> str:
    """The exact text of a number: ``1.25``, or ``875/18`` when no decimal is exact."""
    x = Fraction(x)
    if x.denominator == 1:
        return str(x.numerator)
    d = x.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        return f"{x.numerator}/{x.denominator}"
    places = max(twos, fives)
    digits = str(abs(x.numerator) * 10 ** places // x.denominator).rjust(places + 1, "0")
    return f"{'-' if x < 0 else ''}{digits[:-places]}.{digits[-places:]}"


def format_number(x: Fraction | int) -> str:
    """A number for people: its exact text, and a rounded decimal beside a fraction
    (``875/18 (about 48.6111)``)."""
    text = exact_text(x)
    if "/" not in text:
        return text
    x = Fraction(x)
    return f"{text} (about {round(Decimal(x.numerator) / Decimal(x.denominator), 4)})"
