"""Locations and diagnostics: the one vocabulary every layer uses to speak to authors."""
from __future__ import annotations

import re
from collections.abc import Iterable

from .record import Record


class Span(Record):
    """A position in a file the user wrote. ``line`` and ``column`` are 1-based."""

    file: str
    line: int
    column: int

    def __lt__(self, other: Span) -> bool:
        return (self.file, self.line, self.column) < (other.file, other.line, other.column)


    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Diagnostic(Record):
    """One problem in the user's input.

    ``code`` is stable (tests and scripts match on it); ``excerpt`` is the author's own line,
    captured when the diagnostic is made, so rendering never has to re-read the file.
    ``span`` is None when no position is known: it is never faked as line 1.
    """

    code: str
    message: str
    span: Span | None = None
    excerpt: str | None = None
    severity: str = "error"

    def render(self) -> str:
        head = f"{self.span}: " if self.span else ""
        text = f"{head}{self.severity}[{self.code}]: {self.message}"
        if self.span is not None and self.excerpt is not None:
            line, column = _window(self.excerpt.rstrip("\n"), self.span.column)
            # Control characters would act on the terminal: each is shown as one '?'.
            line = _CONTROL.sub("?", line)
            # Tabs keep their width in the caret line so the caret sits under the right column.
            pad = "".join(c if c == "\t" else " " for c in line[: column - 1])
            text += f"\n    {line}\n    {pad}^"
        return text


#: Longest excerpt shown; a longer line is cut to a window around the column, marked '...'.
EXCERPT_WIDTH = 120
#: Anything but a tab and printable text (YAML's printable set without its line breaks).
#: Characters an excerpt does not print as they are: C0 and C1 controls except tab,
#: surrogates and non-characters. Written as the set itself, not as the complement of the
#: printable ranges: Python compiles that negated class in about 9 ms, on every run.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _window(line: str, column: int) -> tuple[str, int]:
    """``line`` cut to at most about EXCERPT_WIDTH characters around ``column`` (1-based),
    and the column within the cut line."""
    if len(line) <= EXCERPT_WIDTH:
        return line, column
    half = EXCERPT_WIDTH // 2
    start = max(0, min(column - 1 - half, len(line) - EXCERPT_WIDTH))
    end = start + EXCERPT_WIDTH
    head = "..." if start > 0 else ""
    tail = "..." if end < len(line) else ""
    return head + line[start:end] + tail, column - start + len(head)


class InputError(Exception):
    """Bad input: one or more diagnostics. The CLI renders them and exits 2."""

    def __init__(self, diagnostics: list[Diagnostic]):
        assert diagnostics, "an InputError needs at least one diagnostic"
        self.diagnostics = sorted(
            diagnostics, key=lambda d: (d.span is None, d.span or Span("", 0, 0), d.code)
        )
        super().__init__("\n".join(d.render() for d in self.diagnostics))

    def __reduce__(self) -> tuple[type[InputError], tuple[list[Diagnostic]]]:
        """Pickled by its diagnostics (a guideline read in a child process, ``model/cache.py``)."""
        return InputError, (self.diagnostics,)


class Collector:
    """Collects diagnostics for one file so a loader can report every error in one pass."""

    def __init__(self, file: str, lines: list[str] | None = None):
        self.file = file
        self.lines = lines or []
        self.diagnostics: list[Diagnostic] = []
        #: the lines of every other file whose positions it reports (included files)
        self.others: dict[str, list[str]] = {}
        #: the text of every other file read into the result (included files), by name
        self.included: dict[str, str] = {}

    def excerpt(self, span: Span | None) -> str | None:
        lines = self.lines if span is None or span.file == self.file else self.others.get(span.file, [])
        if span is None or not (1 <= span.line <= len(lines)):
            return None
        return lines[span.line - 1]

    def error(self, code: str, message: str, span: Span | None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, self.excerpt(span)))

    def raise_if_any(self) -> None:
        if self.diagnostics:
            raise InputError(self.diagnostics)


def did_you_mean(name: str, names: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``names``, or ``""`` when none is close.

    The one spelling helper every layer uses (loader, expressions, patient files)."""
    import difflib  # only on the error path: it is slow to import

    close = difflib.get_close_matches(name, list(names), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
