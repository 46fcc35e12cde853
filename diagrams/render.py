"""Writing a chart: DOT text as is, other formats through Graphviz's ``dot`` program.

The output format comes from the file's extension. The file is written atomically (a
temporary file renamed into place, see ``model/files.py``), so a failed or interrupted
render never leaves a truncated chart, and never onto an input file.
"""
from __future__ import annotations

from pathlib import Path
from collections.abc import Iterable

from ..model.errors import Diagnostic, InputError
from ..model.files import write_atomic

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
        # graphviz.pipe runs `dot` through subprocess.run, which kills it when we are
        # interrupted; Source.pipe feeds it line by line and would leave it running.
        out: bytes = graphviz.pipe("dot", fmt, dot_text.encode("utf-8"))
        return out
    except graphviz.ExecutableNotFound:
        raise InputError([Diagnostic(
            "graphviz-missing",
            f"rendering {fmt.upper()} needs Graphviz's 'dot' program, which is not on PATH: install the "
            "Debian package 'graphviz' (apt-get install graphviz); '.dot' output works without it")]) from None
    except graphviz.CalledProcessError as e:  # pragma: no cover - a bug in our DOT text
        raise RuntimeError(f"Graphviz failed: {(e.stderr or b'').decode(errors='replace')[:500]}") from e


def write_chart(dot_text: str, out: Path, inputs: Iterable[Path] = ()) -> str:
    fmt = output_format(out)
    data = render_bytes(dot_text, fmt)
    write_atomic(out, data, inputs, "--output")
    return fmt
