"""Writing a chart: DOT text as is, other formats through Graphviz's ``dot`` program.

The output format comes from the file's extension. The file is written atomically (a
temporary file renamed into place), so a failed render never leaves a truncated chart.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..model.errors import Diagnostic, InputError

FORMATS = ("svg", "png", "pdf", "dot")


def output_format(path: Path) -> str:
    ext = path.suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise InputError([Diagnostic("bad-output", f"cannot tell the format of {str(path)!r}: "
                                                   f"use one of the extensions .{', .'.join(FORMATS)}")])
    return ext


def render_bytes(dot_text: str, fmt: str) -> bytes:
    if fmt == "dot":
        return dot_text.encode("utf-8")
    import graphviz

    try:
        return graphviz.Source(dot_text).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise InputError([Diagnostic(
            "graphviz-missing",
            f"rendering {fmt.upper()} needs Graphviz's 'dot' program, which is not on PATH: install the "
            "Debian package 'graphviz' (apt-get install graphviz); '.dot' output works without it")])
    except graphviz.CalledProcessError as e:  # pragma: no cover - a bug in our DOT text
        raise RuntimeError(f"Graphviz failed: {(e.stderr or b'').decode(errors='replace')[:500]}") from e


def write_chart(dot_text: str, out: Path) -> str:
    fmt = output_format(out)
    data = render_bytes(dot_text, fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return fmt
