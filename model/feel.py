"""FEEL simple unary tests and literals: the cells of a DMN decision table this project analyses.

Grammar (DMN 1.1-1.5, "simple unary tests"), as accepted here::

    unary tests    := "-" | "not" "(" positive tests ")" | positive tests | (empty: any value)
    positive tests := positive ("," positive)*
    positive       := ("<" | "<=" | ">" | ">=") endpoint | interval | endpoint
    interval       := ("[" | "]" | "(") endpoint ".." endpoint ("]" | "[" | ")")
    endpoint       := number | "-" number | string | "true" | "false"

``[1..5)``, ``]1..5]`` and ``(1..5)`` mark open and closed ends as the standard does (``]a`` and
``(a`` open a start, ``b[`` and ``b)`` open an end). An empty cell is read as ``-``, as the
DMN modellers write it. Anything else (names, ``null``, ``date(...)``, arithmetic, ``?``) is
outside the analysed subset: :class:`Unsupported` says why, and the importer reports the
table as NOT ANALYSED instead of guessing. Numbers are exact (:class:`~fractions.Fraction`).
"""
from __future__ import annotations

import re
from fractions import Fraction

from .record import Record


class Literal(Record):
    """A FEEL literal: ``kind`` number (a Fraction), string or boolean; ``text`` as written."""

    kind: str
    value: object
    text: str


class Comparison(Record):
    """``op endpoint``; a bare endpoint is the comparison ``=``."""

    op: str  # "=", "<", "<=", ">", ">="
    value: Literal


class Interval(Record):
    low: Literal
    low_closed: bool
    high: Literal
    high_closed: bool


Positive = Comparison | Interval


class UnaryTests(Record):
    """A cell: every value (``any``), or the values one of ``tests`` admits, or (``negated``)
    the values none of them admits."""

    tests: tuple[Positive, ...] = ()
    negated: bool = False
    any: bool = False

    def literals(self) -> list[Literal]:
        out: list[Literal] = []
        for t in self.tests:
            out.extend([t.value] if isinstance(t, Comparison) else [t.low, t.high])
        return out


class Unsupported(Exception):
    """The text is not a simple unary test (or literal) of the analysed subset."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset


_TOKEN = re.compile(r"""\s*(?:
    (?P<number>\d+(?:\.\d+)?|\.\d+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<op><=|>=|!=|\.\.|[<>=,()\[\]\-])
  | (?P<name>[A-Za-z_?][A-Za-z0-9_?]*)
  | (?P<other>\S)
)""", re.VERBOSE)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "'": "'"}


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup is None:
            break  # only trailing space is left
        kind = m.lastgroup
        out.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    out.append(("end", "", len(text)))
    return out


def _string(raw: str, offset: int) -> str:
    out: list[str] = []
    i = 1
    while i < len(raw) - 1:
        ch = raw[i]
        if ch == "\\":
            nxt = raw[i + 1]
            if nxt not in _ESCAPES:
                raise Unsupported(f"the escape \\{nxt} in a string", offset + i)
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str, allow_null: bool = False):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.allow_null = allow_null

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i]

    def take(self) -> tuple[str, str, int]:
        t = self.toks[self.i]
        self.i += 1
        return t

    def fail(self, expected: str) -> Unsupported:
        kind, tok, off = self.peek()
        found = "the end of the cell" if kind == "end" else repr(tok)
        return Unsupported(f"expected {expected}, found {found}", off)

    def expect(self, op: str) -> None:
        kind, tok, _ = self.peek()
        if kind != "op" or tok != op:
            raise self.fail(repr(op))
        self.take()

    def endpoint(self) -> Literal:
        kind, tok, off = self.peek()
        if kind == "op" and tok == "-" and self.toks[self.i + 1][0] == "number":
            self.take()
            _, num, _ = self.take()
            return Literal("number", -Fraction(num), "-" + _number_text(num))
        if kind == "number":
            self.take()
            return Literal("number", Fraction(tok), _number_text(tok))
        if kind == "string":
            self.take()
            return Literal("string", _string(tok, off), tok)
        if kind == "name" and tok in ("true", "false"):
            self.take()
            return Literal("boolean", tok == "true", tok)
        if kind == "name" and tok == "null" and self.allow_null:
            self.take()
            return Literal("null", None, tok)
        if kind == "name" and tok == "null":
            raise Unsupported("null (absent inputs are not modelled: every input has a value)", off)
        if kind == "name":
            raise Unsupported(f"the name or function {tok!r} (only literals are analysed)", off)
        raise self.fail("a number, a string, true or false")

    def positive(self) -> Positive:
        kind, tok, _ = self.peek()
        if kind == "op" and tok in ("<", "<=", ">", ">="):
            self.take()
            return Comparison(tok, self.endpoint())
        if kind == "op" and tok in ("[", "]", "("):
            self.take()
            low = self.endpoint()
            self.expect("..")
            high = self.endpoint()
            kind2, end, _ = self.peek()
            if kind2 != "op" or end not in ("]", "[", ")"):
                raise self.fail("']', '[' or ')' to end the interval")
            self.take()
            return Interval(low, tok == "[", high, end == "]")
        return Comparison("=", self.endpoint())

    def positives(self) -> tuple[Positive, ...]:
        out = [self.positive()]
        while self.peek()[:2] == ("op", ","):
            self.take()
            out.append(self.positive())
        return tuple(out)

    def unary_tests(self) -> UnaryTests:
        kind, tok, _ = self.peek()
        if kind == "end" or (kind == "op" and tok == "-" and self.toks[self.i + 1][0] == "end"):
            return UnaryTests(any=True)
        if kind == "name" and tok == "not" and self.toks[self.i + 1][:2] == ("op", "("):
            self.take()
            self.take()
            tests = self.positives()
            self.expect(")")
            self.at_end()
            return UnaryTests(tests, negated=True)
        tests = self.positives()
        self.at_end()
        return UnaryTests(tests)

    def at_end(self) -> None:
        if self.peek()[0] != "end":
            raise self.fail("',' or the end of the cell")


def _number_text(tok: str) -> str:
    return "0" + tok if tok.startswith(".") else tok


def parse_unary_tests(text: str) -> UnaryTests:
    """The unary tests of an input entry; raises :class:`Unsupported` (with the offset in
    ``text``) for anything outside the subset."""
    return _Parser(text).unary_tests()


def parse_allowed(text: str) -> UnaryTests:
    """Allowed values (of an item definition or an input): unary tests, where a ``null``
    among them (the value may be absent) is dropped, as inputs are taken to be present."""
    tests = _Parser(text, allow_null=True).unary_tests()
    kept = tuple(t for t in tests.tests if not (isinstance(t, Comparison) and t.value.kind == "null"))
    if any(lit.kind == "null" for t in kept for lit in ([t.value] if isinstance(t, Comparison) else [t.low, t.high])):
        raise Unsupported("null as the end of a range", 0)
    return tests.replace(tests=kept, any=tests.any or not kept)


def parse_literal(text: str) -> Literal:
    """The literal of an output entry (or a default output)."""
    p = _Parser(text)
    if p.peek()[0] == "end":
        raise Unsupported("an empty output entry", 0)
    lit = p.endpoint()
    p.at_end()
    return lit


def same(a: Literal, b: Literal) -> bool:
    """FEEL equality of two literals (a number and a string are never equal)."""
    return a.kind == b.kind and a.value == b.value


def _compare(op: str, value: Literal, bound: Literal) -> bool:
    if op == "=":
        return same(value, bound)
    if value.kind != "number" or bound.kind != "number":
        return False  # FEEL gives null for an ordering of different kinds: the test fails
    v, b = value.value, bound.value
    assert isinstance(v, Fraction) and isinstance(b, Fraction)
    return {"<": v < b, "<=": v <= b, ">": v > b, ">=": v >= b}[op]


def admits(tests: UnaryTests, value: Literal) -> bool:
    """Whether the cell admits ``value`` (how a table reads a value another table computed)."""
    if tests.any:
        return True
    hit = False
    for t in tests.tests:
        if isinstance(t, Comparison):
            hit = _compare(t.op, value, t.value)
        else:
            hit = (_compare(">=" if t.low_closed else ">", value, t.low)
                   and _compare("<=" if t.high_closed else "<", value, t.high))
        if hit:
            break
    return hit != tests.negated
