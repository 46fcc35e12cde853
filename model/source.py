"""Reading the user's YAML without losing where anything was written.

``yaml.safe_load`` forgets positions and silently keeps the last of two duplicate keys, so
this module composes the node graph itself and converts it into small position-carrying
values (:class:`YMap`, :class:`YSeq`, :class:`YScalar`). PyYAML's 0-based marks become
1-based :class:`Span` here, once. Files are refused before parsing when they are too large,
not text, or build more aliases than a guideline ever needs (a "billion laughs" file).

Numbers follow YAML 1.2's core schema rather than PyYAML's YAML 1.1 resolution: an integer is
plain decimal digits (``72``, ``-3``), so ``010`` (octal 8 in YAML 1.1), ``1:12`` (sexagesimal
72), ``0x1A``, ``0b101``, ``1_000`` and ``+5`` stay the text the author wrote, and whoever reads
the value reports it as "expected a whole number, found '010'" instead of silently using 8.
Integers longer than :data:`MAX_INT_DIGITS` digits are refused where they are written.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
import gc
import math
import os
import re
from functools import cached_property
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (AliasEvent, MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent,
                         SequenceStartEvent, StreamEndEvent)
from yaml.resolver import Resolver

from .errors import Collector, Diagnostic, InputError, Span
from .expr import MAX_INT_DIGITS
from .record import Record

#: Default largest input, in bytes. The shipped guideline is ~40 KB and a generated
#: 20,000-branch guideline about 2.5 MB; 64 MiB leaves room for larger generated guidelines,
#: while a bigger file is refused after reading the limit + 1 bytes. Configurable with
#: ``--max-input-mb`` or the environment variable :data:`MAX_INPUT_ENV` (MiB).
MAX_BYTES = 64 * 1024 * 1024
MAX_INPUT_ENV = "GUIDEPROOF_MAX_INPUT_MB"
#: Largest limit that may be configured, in MiB.
MAX_INPUT_MB_CEILING = 65536
#: Aliases allowed in one document. Anchors are legal YAML, but each alias can double the
#: expanded size; a small bound makes exponential expansion impossible.
MAX_ALIASES = 64
#: Nodes that aliases may add to a document in total, counting what each alias expands to
#: (an alias of a list of 1,000 items adds 1,001 nodes). Sixty-three aliases nesting lists
#: stay under :data:`MAX_ALIASES` yet expand to billions of nodes; this budget refuses them
#: while they are composed, before anything is expanded.
MAX_ALIAS_EXPANSION = 10_000
#: Deepest nesting accepted (PyYAML's composer recurses per level).
MAX_DEPTH = 64

#: YAML 1.2 core schema integers, restricted to plain decimal: no sign '+', no leading zeros.
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)")
#: Plain decimal fractions (``2.5``, ``-0.5``) are the only non-integers kept as numbers, and
#: they are kept exactly, as :class:`~decimal.Decimal` (never a binary float).
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+")
#: Line breaks as YAML (and libyaml's marks) count them.
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
#: Characters YAML does not allow in a document (its printable set, complemented).
#: (Written as the disallowed set itself: the complement of the printable ranges compiles in
#: about 9 ms, paid by every run.)
_NON_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")

#: Control characters a quoted scalar can still spell with escapes (tab and line breaks are text).
_CONTROL_IN_VALUE = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")

_limit_override: int | None = None


def set_input_limit(mib: float | None) -> None:
    """Set the input size limit in MiB for this process (None: the environment or default)."""
    global _limit_override
    _limit_override = None if mib is None else _mib_to_bytes(mib, "--max-input-mb")


def input_limit() -> int:
    """The largest input accepted, in bytes: set by :func:`set_input_limit`, else by the
    environment variable :data:`MAX_INPUT_ENV`, else :data:`MAX_BYTES`."""
    if _limit_override is not None:
        return _limit_override
    raw = os.environ.get(MAX_INPUT_ENV, "").strip()
    if not raw:
        return MAX_BYTES
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    return _mib_to_bytes(value, MAX_INPUT_ENV, raw)


def _mib_to_bytes(mib: float, where: str, raw: str | None = None) -> int:
    if not (math.isfinite(mib) and 0 < mib <= MAX_INPUT_MB_CEILING):
        shown = raw if raw is not None else f"{mib:g}"
        raise InputError([Diagnostic(
            "bad-option", f"{where}: expected a size in MiB between 0 and {MAX_INPUT_MB_CEILING}, found {shown!r}")])
    return max(1, int(mib * 1024 * 1024))


def _size_words(n: int) -> str:
    mib = n / (1024 * 1024)
    return f"{mib:g} MiB" if mib >= 1 else f"{n} bytes"


class YScalar(Record):
    value: Any  # str | int | Decimal | bool | None (numbers as described in the module doc)
    span: Span
    text: SourceText
    start: int  # character index of the node in the document
    end: int

    @property
    def raw(self) -> str:
        """The scalar as written in the file (quotes included)."""
        return self.text.text[self.start:self.end]

    @cached_property
    def _offsets(self) -> tuple[list[int], list[int], int, bool]:
        """Where each non-space character of ``str(self.value)`` sits in the file, in one pass:
        (value offsets, file indices, index after the last match, whether matching stopped).

        Non-space characters of the value appear in order in the raw text (plain, quoted and
        block scalars alike), so they are matched greedily; an escape sequence in a quoted
        scalar stops the matching (later offsets fall back to the scalar's own position).
        Computed once per scalar, so locating every token of a long condition stays linear.
        """
        value = str(self.value)
        raw = self.text.text
        offsets: list[int] = []
        indices: list[int] = []
        j = self.start
        for i, ch in enumerate(value):
            if ch.isspace():
                continue
            k = raw.find(ch, j, self.end + 1)
            if k < 0:
                return offsets, indices, j, True
            offsets.append(i)
            indices.append(k)
            j = k + 1
        return offsets, indices, j, False

    def span_at(self, offset: int) -> Span:
        """The file position of character ``offset`` of ``str(self.value)``.

        Expressions are tokenised on the scalar's value; this maps a token back into the file
        (the first non-space character at or after ``offset``).
        """
        offsets, indices, j, stopped = self._offsets
        n = bisect.bisect_left(offsets, offset)
        if n < len(offsets):
            return self.text.span_of(indices[n])
        if stopped:
            return self.span
        return self.text.span_of(min(j, max(self.end - 1, self.start)))


class YMap(Record):
    items: tuple[tuple[YScalar, YNode], ...]
    span: Span

    def get(self, key: str) -> YNode | None:
        for k, v in self.items:
            if k.value == key:
                return v
        return None

    def key(self, key: str) -> YScalar | None:
        for k, _ in self.items:
            if k.value == key:
                return k
        return None


class YSeq(Record):
    items: tuple[YNode, ...]
    span: Span


YNode = YScalar | YMap | YSeq


class SourceText:
    """The decoded text of one file with a line index for position lookups.

    Lines end where YAML says they do (``\\n``, ``\\r\\n``, ``\\r``, NEL, U+2028, U+2029), so
    positions computed from a character index agree with the parser's own marks.
    """

    def __init__(self, file: str, text: str):
        self.file = file
        self.text = text
        breaks = list(_BREAK.finditer(text))
        self._starts = [0] + [m.end() for m in breaks]
        ends = [m.start() for m in breaks] + [len(text)]
        self.lines = [text[a:b] for a, b in zip(self._starts, ends, strict=True)]
        if breaks and breaks[-1].end() == len(text):
            self.lines.pop()  # a final line break ends the last line; it does not start one

    def span_of(self, index: int) -> Span:
        line = bisect.bisect_right(self._starts, index) - 1
        return Span(self.file, line + 1, index - self._starts[line] + 1)

    def collector(self) -> Collector:
        return Collector(self.file, self.lines)


def is_dmn(path: str | os.PathLike[str]) -> bool:
    """A DMN decision model (read by ``dmn.py``), by its suffix; every other file is YAML."""
    return os.fspath(path).lower().endswith(".dmn")


def read_text(path: str | os.PathLike[str], what: str = "file") -> SourceText:
    """Read a UTF-8 text file, refusing oversized or binary input with a diagnostic."""
    name = str(path)
    limit = input_limit()
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise InputError([Diagnostic("file-not-found", f"{what} {name!r} does not exist")]) from None
    except IsADirectoryError:
        raise InputError([Diagnostic("file-unreadable", f"{what} {name!r} is a directory")]) from None
    except OSError as e:
        raise InputError([Diagnostic("file-unreadable", f"cannot read {what} {name!r}: {e.strerror}")]) from None
    if len(data) > limit:
        raise InputError([Diagnostic(
            "file-too-large",
            f"{what} {name!r} is larger than the {_size_words(limit)} input limit "
            f"(raise it with --max-input-mb or {MAX_INPUT_ENV})",
            Span(name, 1, 1),
        )])
    return decode(name, data)


def decode(name: str, data: bytes) -> SourceText:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        good = data[: e.start].decode("utf-8", "replace")
        st = SourceText(name, good)
        span = st.span_of(len(good))
        raise InputError([Diagnostic(
            "not-text", f"expected UTF-8 text, found byte 0x{data[e.start]:02x} (is this a binary file?)",
            span, st.lines[span.line - 1] if span.line <= len(st.lines) else None)]) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    nul = text.find("\x00")
    if nul >= 0:
        st = SourceText(name, text)
        span = st.span_of(nul)
        raise InputError([Diagnostic("not-text", "expected text, found a NUL byte (is this a binary file?)", span)])
    st = SourceText(name, text)
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        span = st.span_of(bad.start())
        raise InputError([Diagnostic(
            "control-character", f"control character U+{ord(bad.group()):04X} is not allowed in YAML text",
            span, st.lines[span.line - 1] if span.line <= len(st.lines) else None)])
    return st


try:  # libyaml's C parser produces the events ten times faster than the pure-Python one
    from yaml._yaml import CParser as _EventSource
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _EventSource(Reader, Scanner, Parser):  # type: ignore[no-redef]  # the same interface
        def __init__(self, stream: str):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Builder(Resolver):
    """Builds position-carrying nodes straight from the parser's events (no intermediate
    ``yaml.Node`` graph), refusing documents with too many aliases, aliases that expand too
    far, or too deep nesting while they are read, before anything is expanded.

    Mirrors PyYAML's composer (anchors, aliases, implicit tag resolution, one document per
    stream) and reports what it refuses at the parser's marks, which carry character indices.
    """

    def __init__(self, src: SourceText, col: Collector):
        Resolver.__init__(self)
        self.events: Any = _EventSource(src.text)  # libyaml's parser: untyped
        self.src = src
        self.col = col
        self.constructor = SafeConstructor()
        self.aliases = 0
        self.depth = 0
        #: nodes the document holds with every alias expanded, counted as it is read
        self.expanded = 0
        #: nodes aliases have added so far (bounded by MAX_ALIAS_EXPANSION)
        self.alias_nodes = 0
        #: anchor -> (its node, or None while that node is being read; its start; its expanded size)
        self.anchors: dict[str, tuple[YNode | None, Any, int]] = {}

    def document(self) -> YNode | None:
        events = self.events
        events.get_event()  # stream start
        node = None
        if not isinstance(events.peek_event(), StreamEndEvent):
            events.get_event()  # document start
            first = events.peek_event()
            node = self.node()
            events.get_event()  # document end
            if not isinstance(events.peek_event(), StreamEndEvent):
                raise yaml.composer.ComposerError("expected a single document in the stream", first.start_mark,
                                                  "but found another document", events.get_event().start_mark)
        return node

    def span(self, mark: Any) -> Span:
        # Marks carry 0-based line and column (in characters): converted here, once.
        return Span(self.src.file, mark.line + 1, mark.column + 1)

    def node(self) -> YNode:
        event: Any = self.events.get_event()
        if isinstance(event, AliasEvent):
            return self.alias(event)
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            raise yaml.composer.ComposerError(f"found duplicate anchor {anchor!r}; first occurrence",
                                              self.anchors[anchor][1], "second occurrence", event.start_mark)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused("too-deep", f"nesting deeper than {MAX_DEPTH} levels", event.start_mark)
        before = self.expanded
        self.expanded += 1
        if anchor is not None:
            self.anchors[anchor] = (None, event.start_mark, 1)
        span = self.span(event.start_mark)
        node: YNode
        if isinstance(event, ScalarEvent):
            node = self.scalar(event, span)
        elif isinstance(event, SequenceStartEvent):
            items = []
            while not isinstance(self.events.peek_event(), SequenceEndEvent):
                items.append(self.node())
            self.events.get_event()
            node = YSeq(tuple(items), span)
        else:
            assert isinstance(event, MappingStartEvent)
            node = self.mapping(span)
        self.depth -= 1
        if anchor is not None:
            self.anchors[anchor] = (node, event.start_mark, self.expanded - before)
        return node

    def alias(self, event: Any) -> YNode:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise _Refused("too-many-aliases",
                           f"more than {MAX_ALIASES} YAML aliases; refusing a document that may expand exponentially",
                           event.start_mark)
        anchor = str(event.anchor)
        if anchor not in self.anchors:
            raise yaml.composer.ComposerError(None, None, f"found undefined alias {anchor!r}", event.start_mark)
        node, start, size = self.anchors[anchor]
        self.expanded += size
        self.alias_nodes += size
        if self.alias_nodes > MAX_ALIAS_EXPANSION:
            raise _Refused("alias-expansion",
                           f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION:,} nodes; "
                           "refusing a document that grows when its aliases are expanded (write the values out)",
                           event.start_mark)
        if node is None:  # the anchored node is still being read: it would contain itself
            span = self.span(start)
            self.col.error("recursive-alias", "an alias refers to a node that contains it", span)
            return YScalar(None, span, self.src, start.index, event.end_mark.index)
        return node

    def mapping(self, span: Span) -> YMap:
        seen: dict[Any, YScalar] = {}
        items = []
        col = self.col
        while not isinstance(self.events.peek_event(), MappingEndEvent):
            key_event = self.events.peek_event()
            key = self.node()
            value = self.node()
            if not isinstance(key, YScalar) or isinstance(key.value, Decimal) or key.value is None:
                col.error("bad-key", "mapping keys must be names or numbers", key.span)
                continue
            if isinstance(key_event, ScalarEvent) and self.tag(key_event) == _MERGE_TAG:
                col.error("merge-key", "YAML merge keys ('<<') are not supported; write the fields out", key.span)
                continue
            marker = (type(key.value) is bool, key.value)
            if marker in seen:
                first = seen[marker].span
                col.error("duplicate-key",
                          f"key {key.value!r} is repeated (first given at line {first.line}, column {first.column})",
                          key.span)
                continue
            seen[marker] = key
            items.append((key, value))
        self.events.get_event()
        return YMap(tuple(items), span)

    def tag(self, event: Any) -> str:
        tag = event.tag
        if tag is None or tag == "!":
            return str(self.resolve(yaml.ScalarNode, event.value, event.implicit))  # type: ignore[no-untyped-call]
        return str(tag)

    def scalar(self, event: Any, span: Span) -> YScalar:
        return YScalar(self.value(event, span), span, self.src, event.start_mark.index, event.end_mark.index)

    def value(self, event: Any, span: Span) -> Any:
        """The value of a scalar, numbers read as the module doc describes."""
        tag = self.tag(event)
        text = event.value
        col = self.col
        if tag == _STR_TAG:
            value: Any = text
        elif tag == _INT_TAG:
            if _DECIMAL.fullmatch(text):
                if len(text.lstrip("-")) > MAX_INT_DIGITS:
                    col.error("number-too-large",
                              f"number too large: {len(text.lstrip('-')):,} digits (at most {MAX_INT_DIGITS})", span)
                    return text
                return int(text)
            return text  # 010, 0x1A, 1:12, 1_000, +5: kept as written; the reader reports it
        elif tag == _FLOAT_TAG:
            if _FLOAT.fullmatch(text) and len(text) <= MAX_INT_DIGITS:
                return Decimal(text)
            return text  # .inf, .nan, 1_000.5, 1:30.5, 1.0e+400: kept as written
        else:
            node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, style=event.style)
            try:
                value = self.constructor.construct_object(node, deep=True)
            except yaml.YAMLError as e:
                col.error("yaml-syntax", f"cannot read scalar: {getattr(e, 'problem', e)}", span)
                return text
            except ValueError as e:  # e.g. a malformed explicitly tagged value
                col.error("yaml-syntax", f"cannot read scalar: {e}", span)
                return text
            if not isinstance(value, (str, int, bool, type(None))):
                return text  # floats by tag, timestamps, binary: keep the text; the schema reports the type
        if isinstance(value, str):
            bad = _CONTROL_IN_VALUE.search(value)
            if bad is not None:  # written as an escape ("\x1b"): it would act on a terminal
                col.error("control-character", f"the value contains control character U+{ord(bad.group()):04X} "
                                               "(written as an escape); it is not allowed in text", span)
        return value


class _Refused(Exception):
    def __init__(self, code: str, message: str, mark: Any):
        self.code, self.message, self.mark = code, message, mark


def parse_yaml(src: SourceText) -> YNode | None:
    """Read ``src`` into position-carrying nodes (None for an empty file).

    Duplicate keys, non-scalar keys, recursive aliases and unreadable numbers are reported
    together; a syntax error or a refused document is reported alone.
    """
    col = src.collector()
    try:
        out = _Builder(src, col).document()
    except _Refused as r:
        col = src.collector()
        col.error(r.code, r.message, src.span_of(r.mark.index))
        col.raise_if_any()
        raise AssertionError("unreachable") from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow (decode() reports most)
        col = src.collector()
        char = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        span = src.span_of(e.position) if isinstance(e.position, int) and 0 <= e.position <= len(src.text) else None
        col.error("control-character", f"character {char} is not allowed in YAML text", span)
        col.raise_if_any()
        raise AssertionError("unreachable") from None
    except yaml.MarkedYAMLError as e:
        col = src.collector()
        mark = e.problem_mark or e.context_mark
        problem = (e.problem or str(e)).strip()
        ctx = f" ({e.context})" if e.context else ""
        col.error("yaml-syntax", f"{problem}{ctx}", src.span_of(mark.index) if mark else None)
        col.raise_if_any()
        raise AssertionError("unreachable") from None
    except yaml.YAMLError as e:
        col = src.collector()
        col.error("yaml-syntax", str(e).strip(), None)
        col.raise_if_any()
        raise AssertionError("unreachable") from None
    col.raise_if_any()
    return out


def plain(node: YNode | None) -> Any:
    """The plain Python value of a node (positions dropped), for values such as patient facts."""
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [plain(x) for x in node.items]
    if isinstance(node, YMap):
        return {str(k.value): plain(v) for k, v in node.items}
    return None


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cycle collector off while a document's objects are built, as it was after.

    Reading a guideline builds hundreds of thousands of small objects that all stay alive;
    each full collection walks every one of them, and the collector runs one whenever the
    heap has grown by a quarter. On a 5,000-branch guideline that was 3.5 s of a 7 s load
    (nine full collections). Paused, that load and its verify peaked at the same memory
    (322 against 323 MiB), so reading leaves no garbage cycles worth collecting early; any
    it leaves are collected once the collector runs again."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
