"""Reading the user's YAML without losing where anything was written.

``yaml.safe_load`` forgets positions and silently keeps the last of two duplicate keys, so
this module composes the node graph itself and converts it into small position-carrying
values (:class:`YMap`, :class:`YSeq`, :class:`YScalar`). PyYAML's 0-based marks become
1-based :class:`Span` here, once. Files are refused before parsing when they are too large,
not text, or build more aliases than a guideline ever needs (a "billion laughs" file).
"""
from __future__ import annotations

import bisect
import os
from pathlib import Path
from typing import Any, Union

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.resolver import Resolver

from .errors import Collector, Diagnostic, InputError, Span
from .record import Record

#: Largest input accepted, in bytes. The shipped guideline is ~40 KB; 2 MiB leaves room for
#: generated guidelines while a 50 MB file is refused after reading 2 MiB + 1 bytes.
MAX_BYTES = 2 * 1024 * 1024
#: Aliases allowed in one document. Anchors are legal YAML, but each alias can double the
#: expanded size; a small bound makes exponential expansion impossible.
MAX_ALIASES = 64
#: Deepest nesting accepted (PyYAML's composer recurses per level).
MAX_DEPTH = 64


class YScalar(Record):
    value: Any  # str | int | float | bool | None, as YAML 1.1 safe resolution gives it
    span: Span
    text: "SourceText"
    start: int  # character index of the node in the document
    end: int

    def span_at(self, offset: int) -> Span:
        """The file position of character ``offset`` of ``str(self.value)``.

        Expressions are tokenised on the scalar's value; this maps a token back into the
        file. Non-space characters of the value appear in order in the raw text (plain,
        quoted and block scalars alike), so they are matched greedily.
        """
        value = str(self.value)
        raw = self.text.text
        j = self.start
        # Skip a block indicator line or opening quote before the content.
        for i, ch in enumerate(value):
            if ch.isspace():
                continue
            k = raw.find(ch, j, self.end + 1)
            if k < 0:
                return self.span
            if i >= offset:
                return self.text.span_of(k)
            j = k + 1
        return self.text.span_of(min(j, max(self.end - 1, self.start)))


class YMap(Record):
    items: tuple[tuple[YScalar, "YNode"], ...]
    span: Span

    def get(self, key: str) -> "YNode | None":
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
    items: tuple["YNode", ...]
    span: Span


YNode = Union[YScalar, YMap, YSeq]


class SourceText:
    """The decoded text of one file with a line index for position lookups."""

    def __init__(self, file: str, text: str):
        self.file = file
        self.text = text
        self.lines = text.splitlines()
        self._starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self._starts.append(i + 1)

    def span_of(self, index: int) -> Span:
        line = bisect.bisect_right(self._starts, index) - 1
        return Span(self.file, line + 1, index - self._starts[line] + 1)

    def collector(self) -> Collector:
        return Collector(self.file, self.lines)


def read_text(path: str | os.PathLike, what: str = "file") -> SourceText:
    """Read a UTF-8 text file, refusing oversized or binary input with a diagnostic."""
    name = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError([Diagnostic("file-not-found", f"{what} {name!r} does not exist")])
    except IsADirectoryError:
        raise InputError([Diagnostic("file-unreadable", f"{what} {name!r} is a directory")])
    except OSError as e:
        raise InputError([Diagnostic("file-unreadable", f"cannot read {what} {name!r}: {e.strerror}")])
    if len(data) > MAX_BYTES:
        raise InputError([Diagnostic(
            "file-too-large",
            f"{what} {name!r} is larger than the {MAX_BYTES // (1024 * 1024)} MiB limit",
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
            span, st.lines[span.line - 1] if span.line <= len(st.lines) else None)])
    if text.startswith("\ufeff"):
        text = text[1:]
    nul = text.find("\x00")
    if nul >= 0:
        st = SourceText(name, text)
        span = st.span_of(nul)
        raise InputError([Diagnostic("not-text", "expected text, found a NUL byte (is this a binary file?)", span)])
    return SourceText(name, text)


try:  # libyaml's C parser produces the events ten times faster than the pure-Python one
    from yaml._yaml import CParser as _EventSource
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.loader import Reader, Scanner, Parser

    class _EventSource(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


class _CountingLoader(Composer, _EventSource, SafeConstructor, Resolver):
    """PyYAML's Python composer over the fastest event source available, refusing documents
    with too many aliases or too deep nesting. Composition stays in Python so these limits
    apply before any node is built; marks carry character indices either way."""

    def __init__(self, stream: str):
        _EventSource.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise _Refused("too-many-aliases",
                               f"more than {MAX_ALIASES} YAML aliases; refusing a document that may expand exponentially",
                               mark)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused("too-deep", f"nesting deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Refused(Exception):
    def __init__(self, code: str, message: str, mark):
        self.code, self.message, self.mark = code, message, mark


def parse_yaml(src: SourceText) -> YNode | None:
    """Compose ``src`` and convert it to position-carrying nodes (None for an empty file).

    Duplicate keys, non-scalar keys and recursive aliases are reported together.
    """
    col = src.collector()
    loader = _CountingLoader(src.text)
    try:
        node = loader.get_single_node()
    except _Refused as r:
        col.error(r.code, r.message, src.span_of(r.mark.index))
        col.raise_if_any()
        raise AssertionError("unreachable")
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = (e.problem or str(e)).strip()
        ctx = f" ({e.context})" if e.context else ""
        col.error("yaml-syntax", f"{problem}{ctx}", src.span_of(mark.index) if mark else None)
        col.raise_if_any()
        raise AssertionError("unreachable")
    except yaml.YAMLError as e:
        col.error("yaml-syntax", str(e).strip(), None)
        col.raise_if_any()
        raise AssertionError("unreachable")
    if node is None:
        return None
    out = _convert(node, src, col, loader, set())
    col.raise_if_any()
    return out


def _convert(node: yaml.Node, src: SourceText, col: Collector, loader, path: set[int]) -> YNode:
    # Marks carry 0-based line and column (in characters) already: converted here, once.
    span = Span(src.file, node.start_mark.line + 1, node.start_mark.column + 1)
    if id(node) in path:
        col.error("recursive-alias", "an alias refers to a node that contains it", span)
        return YScalar(None, span, src, node.start_mark.index, node.end_mark.index)
    if isinstance(node, yaml.ScalarNode):
        try:
            value = loader.construct_object(node, deep=True)
        except yaml.YAMLError as e:
            col.error("yaml-syntax", f"cannot read scalar: {getattr(e, 'problem', e)}", span)
            value = node.value
        if not isinstance(value, (str, int, float, bool, type(None))):
            value = node.value  # timestamps, binary: keep the text; the schema reports the type
        return YScalar(value, span, src, node.start_mark.index, node.end_mark.index)
    path = path | {id(node)}
    if isinstance(node, yaml.SequenceNode):
        return YSeq(tuple(_convert(n, src, col, loader, path) for n in node.value), span)
    assert isinstance(node, yaml.MappingNode)
    seen: dict[Any, YScalar] = {}
    items = []
    for knode, vnode in node.value:
        key = _convert(knode, src, col, loader, path)
        value = _convert(vnode, src, col, loader, path)
        if not isinstance(key, YScalar) or isinstance(key.value, (float,)) or key.value is None:
            col.error("bad-key", "mapping keys must be names or numbers", key.span)
            continue
        if knode.tag == "tag:yaml.org,2002:merge":
            col.error("merge-key", "YAML merge keys ('<<') are not supported; write the fields out", key.span)
            continue
        marker = (type(key.value) is bool, key.value)
        if marker in seen:
            first = seen[marker].span
            col.error("duplicate-key", f"key {key.value!r} is repeated (first given at line {first.line}, column {first.column})", key.span)
            continue
        seen[marker] = key
        items.append((key, value))
    return YMap(tuple(items), span)


def plain(node: YNode | None) -> Any:
    """The plain Python value of a node (positions dropped), for values such as patient facts."""
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [plain(x) for x in node.items]
    if isinstance(node, YMap):
        return {str(k.value): plain(v) for k, v in node.items}
    return None
