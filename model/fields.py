"""Declarative reading of position-keeping YAML nodes into plain values.

A section of the guideline file is described by a tuple of :class:`Field` s (name, reader,
required?, default); :meth:`NodeReader.record` checks a mapping against it — unknown keys
with a "did you mean", missing required keys, each value through its reader — and returns
the values under the field names, ready for a record's constructor. Every problem is
reported to the collector with the author's position, and reading goes on, so one pass
reports every error. Nothing here knows what a guideline means: the meaning (names,
references, the graph) is checked by ``wellformed.py`` on the built records.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .errors import Collector, Span, did_you_mean
from .expr import KEYWORDS
from .record import Record
from .source import YMap, YNode, YScalar, YSeq

IDENT = re.compile(r"[a-z][a-z0-9_]*")
VALUE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class Invalid:
    """The value of a field whose reader reported a problem."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = Invalid()

#: A reader turns one node into a value, or reports a problem and returns INVALID.
Reader = Callable[["NodeReader", YNode, str], Any]


class Field(Record):
    name: str
    read: Reader
    required: bool = False
    #: the value of an optional field that is absent
    default: Any = None


class Values:
    """The fields read from one mapping: ``values`` holds every valid field (absent optional
    ones at their default); ``complete`` is true when every required field is present and
    valid, so the record can be built; ``nodes`` keeps each field's node for positions."""

    def __init__(self, values: dict[str, Any], nodes: dict[str, YNode], complete: bool):
        self.values = values
        self.nodes = nodes
        self.complete = complete

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)

    def span(self, name: str) -> Span | None:
        node = self.nodes.get(name)
        return node.span if node is not None else None


def describe(node: YNode | None) -> str:
    """How a node reads to the author, for "expected X, found Y" messages."""
    if node is None:
        return "nothing"
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    v = node.value
    if v is None:
        return "an empty value"
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if isinstance(v, (int, Decimal)):
        return f"the number {v}"
    return f"the text {v!r}" if len(v) < 40 else "a text"


class NodeReader:
    """Reads nodes for one file, reporting problems to its collector."""

    def __init__(self, col: Collector, root_span: Span):
        self.c = col
        self.root_span = root_span

    def err(self, code: str, msg: str, span: Span | None) -> None:
        self.c.error(code, msg, span)

    def span_of(self, node: YNode | None) -> Span:
        return node.span if node is not None else self.root_span

    # -- shapes ---------------------------------------------------------------------------

    def mapping(self, node: YNode | None, where: str) -> YMap | None:
        if isinstance(node, YMap):
            return node
        self.err("wrong-type", f"{where}: expected a mapping, found {describe(node)}", self.span_of(node))
        return None

    def seq(self, node: YNode | None, where: str) -> YSeq | None:
        if isinstance(node, YSeq):
            return node
        self.err("wrong-type", f"{where}: expected a list, found {describe(node)}", self.span_of(node))
        return None

    def keyed(self, node: YNode | None, where: str) -> list[tuple[str, YScalar, YNode]]:
        """A mapping of id -> body, each id checked as a name."""
        m = self.mapping(node, where)
        if m is None:
            return []
        out = []
        for k, v in m.items:
            name = self.ident(k, f"{where} id")
            if name is not None:
                out.append((name, k, v))
        return out

    def items(self, node: YNode | None, where: str) -> list[tuple[str, YNode]]:
        """The items of a list, each with its ``where`` (``conflicts[2]``: 1-based)."""
        s = self.seq(node, where)
        return [(f"{where}[{i + 1}]", item) for i, item in enumerate(s.items)] if s else []

    def record(self, node: YNode | None, where: str, fields: Sequence[Field]) -> Values | None:
        """Read a mapping against ``fields``; None when the node is not a mapping."""
        m = self.mapping(node, where)
        if m is None:
            return None
        spec = {f.name: f for f in fields}
        present: dict[str, YNode] = {}
        for k, v in m.items:
            name = str(k.value)
            if name not in spec:
                hint = did_you_mean(name, spec) or f"; expected one of {', '.join(sorted(spec))}"
                self.err("unknown-key", f"{where}: unknown key {name!r}{hint}", k.span)
                continue
            present[name] = v
        values: dict[str, Any] = {}
        complete = True
        for f in fields:
            if f.name not in present:
                if f.required:
                    self.err("missing-key", f"{where}: missing required key {f.name!r}", m.span)
                    complete = False
                else:
                    values[f.name] = f.default
                continue
            value = f.read(self, present[f.name], f"{where}.{f.name}")
            if value is INVALID:
                complete = False
            else:
                values[f.name] = value
        return Values(values, present, complete)

    # -- scalars --------------------------------------------------------------------------

    def text(self, node: YNode, where: str) -> Any:
        if isinstance(node, YScalar) and isinstance(node.value, str) and node.value.strip():
            return node.value.strip()
        if isinstance(node, YScalar) and isinstance(node.value, (int, Decimal)) and not isinstance(node.value, bool):
            return str(node.value)
        self.err("wrong-type", f"{where}: expected text, found {describe(node)}", self.span_of(node))
        return INVALID

    def integer(self, node: YNode, where: str) -> Any:
        if isinstance(node, YScalar) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.value
        self.err("wrong-type", f"{where}: expected a whole number, found {describe(node)}", self.span_of(node))
        return INVALID

    def ident(self, node: YNode | None, where: str, pattern: re.Pattern[str] = IDENT) -> str | None:
        if isinstance(node, YScalar) and isinstance(node.value, str) and pattern.fullmatch(node.value):
            if node.value in KEYWORDS:
                self.err("bad-name", f"{where}: {node.value!r} is a word of the condition language "
                                     f"({', '.join(sorted(KEYWORDS))}) and cannot be a name", node.span)
                return None
            return node.value
        if isinstance(node, YScalar) and isinstance(node.value, str):
            self.err("bad-name", f"{where}: {node.value!r} is not a valid name (lower-case letters, digits and '_', starting with a letter)",
                     node.span)
            return None
        self.err("wrong-type", f"{where}: expected a name, found {describe(node)}", self.span_of(node))
        return None

    def names(self, node: YNode, where: str, pattern: re.Pattern[str] = IDENT) -> list[tuple[str, Span]]:
        s = self.seq(node, where)
        if s is None:
            return []
        out = []
        for item in s.items:
            n = self.ident(item, where, pattern)
            if n is not None:
                out.append((n, item.span))
        return out

    def one_of(self, node: YNode, where: str, options: Collection[str]) -> Any:
        if isinstance(node, YScalar) and isinstance(node.value, str) and node.value in options:
            return node.value
        self.err("wrong-type", f"{where}: expected {_words(options)}, found {describe(node)}", self.span_of(node))
        return INVALID


def _words(options: Collection[str]) -> str:
    opts = [f"'{o}'" if len(options) <= 2 else o for o in options]
    return " or ".join(opts) if len(opts) <= 2 else f"{', '.join(opts[:-1])} or {opts[-1]}"


# Readers for the common cases, to name in field tables.

def text(r: NodeReader, node: YNode, where: str) -> Any:
    return r.text(node, where)


def integer(r: NodeReader, node: YNode, where: str) -> Any:
    return r.integer(node, where)


def number(r: NodeReader, node: YNode, where: str) -> Any:
    """A whole or decimal number, kept exact (a :class:`~fractions.Fraction`)."""
    if isinstance(node, YScalar) and isinstance(node.value, (int, Decimal)) and not isinstance(node.value, bool):
        return Fraction(node.value)
    r.err("wrong-type", f"{where}: expected a number, found {describe(node)}", r.span_of(node))
    return INVALID


def identifier(r: NodeReader, node: YNode, where: str) -> Any:
    """An id: lower-case letters, digits and '_', not a word of the condition language."""
    found = r.ident(node, where)
    return INVALID if found is None else found


def boolean(r: NodeReader, node: YNode, where: str) -> Any:
    if isinstance(node, YScalar) and isinstance(node.value, bool):
        return node.value
    r.err("wrong-type", f"{where}: expected true or false, found {describe(node)}", r.span_of(node))
    return INVALID


def one_of(*options: str) -> Reader:
    def read(r: NodeReader, node: YNode, where: str) -> Any:
        return r.one_of(node, where, options)
    return read
