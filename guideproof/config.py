"""Project configuration: ``[tool.guideproof]`` in ``pyproject.toml``, or the top level of
``guideproof.toml``, found in the working folder or the nearest folder above it that has
one (``guideproof.toml`` wins when both are there).

Keys (all optional; an option given on the command line wins)::

    guidelines   = ["guideline/", "extra/other.yaml"]  # what `verify` checks when given no paths
    timeout      = 10        # seconds per obligation
    rlimit       = 5000000   # Z3 resource limit per obligation
    max-findings = 20        # problem regions listed per obligation
    select       = ["GP001", "GP002"]   # only these checks (codes or names)
    ignore       = ["GP009"]            # every check but these
    jobs         = 1         # processes `verify` runs at once (default: the cores available)

Paths in ``guidelines`` are relative to the configuration file's folder. A key that is not
one of these, or a value of the wrong type, is an input error (exit 2) naming the file,
the line and the key.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from .model.errors import Diagnostic, InputError, Span, did_you_mean
from .model.record import Record
from .model.source import is_dmn

KEYS = ("guidelines", "timeout", "rlimit", "max-findings", "select", "ignore", "jobs")
#: Z3 takes its timeout in milliseconds and its resource limit as unsigned 32-bit integers.
MAX_TIMEOUT_S = 4_294_967
MAX_RLIMIT = 4_294_967_295
MAX_FINDINGS = 100_000
MAX_JOBS = 256


class Config(Record):
    guidelines: tuple[Path, ...] = ()
    timeout: float | None = None
    rlimit: int | None = None
    max_findings: int | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    jobs: int | None = None


def find(start: Path | None = None) -> Path | None:
    """The configuration file for ``start`` (default: the working folder), or None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        own = folder / "guideproof.toml"
        if own.is_file():
            return own
        py = folder / "pyproject.toml"
        if py.is_file() and _has_section(py):
            return py
    return None


def _has_section(path: Path) -> bool:
    try:
        return re.search(r"(?m)^\s*\[\s*tool\s*\.\s*guideproof\s*\]", path.read_text(encoding="utf-8")) is not None
    except (OSError, UnicodeDecodeError):
        return False


def _span(path: Path, text: str, key: str | None) -> Span:
    """Where ``key`` is written (its first assignment), else the file's first line."""
    if key is not None:
        m = re.search(rf"(?m)^[ \t]*(?:\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})[ \t]*=", text)
        if m is not None:
            line = text.count("\n", 0, m.start()) + 1
            col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
            col += len(m.group()) - len(m.group().lstrip())
            return Span(str(path), line, col)
    return Span(str(path), 1, 1)


def load(path: Path | None = None) -> Config:
    """The configuration in ``path`` (default: :func:`find`); an empty one when there is none."""
    path = path if path is not None else find()
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError([Diagnostic("config", f"cannot read configuration {str(path)!r}: {e}")]) from None
    lines = text.splitlines()

    def fail(key: str | None, message: str) -> InputError:
        span = _span(path, text, key)
        excerpt = lines[span.line - 1] if 0 < span.line <= len(lines) else None
        return InputError([Diagnostic("config", message, span, excerpt)])

    import tomllib

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        span = Span(str(path), int(m.group(1)), int(m.group(2))) if m else Span(str(path), 1, 1)
        excerpt = lines[span.line - 1] if 0 < span.line <= len(lines) else None
        raise InputError([Diagnostic("config", f"not valid TOML: {e}", span, excerpt)]) from None
    values = doc if path.name == "guideproof.toml" else doc.get("tool", {}).get("guideproof", {})
    where = "guideproof.toml" if path.name == "guideproof.toml" else "[tool.guideproof]"
    if not isinstance(values, dict):
        raise fail(None, f"{where}: expected a table of settings")
    for key in values:
        if key not in KEYS:
            raise fail(key, f"{where}: unknown key {key!r}{did_you_mean(key, KEYS)} (known: {', '.join(KEYS)})")

    def strings(key: str) -> tuple[str, ...]:
        v = values.get(key, [])
        if not (isinstance(v, list) and all(isinstance(x, str) and x.strip() for x in v)):
            raise fail(key, f"{where}: {key}: expected a list of strings, found {v!r}")
        return tuple(v)

    def number(key: str, kind: type, low: float, high: float) -> Any:
        v = values.get(key)
        if v is None:
            return None
        ok = not isinstance(v, bool) and (isinstance(v, kind) or (kind is float and isinstance(v, int)))
        if not ok or not (math.isfinite(v) and low <= v <= high):
            raise fail(key, f"{where}: {key}: expected a {'number' if kind is float else 'whole number'} "
                            f"from {low:g} to {high:,g}, found {v!r}")
        return kind(v)

    return Config(
        guidelines=tuple(path.parent / p for p in strings("guidelines")),
        timeout=number("timeout", float, 0.001, MAX_TIMEOUT_S),
        rlimit=number("rlimit", int, 1, MAX_RLIMIT),
        max_findings=number("max-findings", int, 0, MAX_FINDINGS),
        select=strings("select"),
        ignore=strings("ignore"),
        jobs=number("jobs", int, 1, MAX_JOBS),
    )


def is_guideline_file(path: Path) -> bool:
    """A DMN model, or a YAML file whose top level has a ``guideline`` key (overlays and
    patient files have none): what a folder given to ``verify`` contributes."""
    if is_dmn(path):
        return True
    if path.suffix not in (".yaml", ".yml"):
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(1 << 20)
    except OSError:
        return False
    return re.search(r"(?m)^guideline[ \t]*:", head) is not None


def expand(paths: list[Path]) -> list[Path]:
    """Files as given (in order), and for each folder the guideline files below it (sorted).
    A path that does not exist is kept: loading it reports it."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and is_guideline_file(f))
            if not found:
                raise InputError([Diagnostic("file-not-found", f"folder {str(p)!r} holds no guideline file "
                                                                "(a .dmn file, or a .yaml or .yml file with a top-level "
                                                                "'guideline' key)")])
            out.extend(found)
        else:
            out.append(p)
    return list(dict.fromkeys(out))
