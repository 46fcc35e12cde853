"""Witness patients written as files that `guideproof query --patient` accepts unchanged."""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..model.errors import Diagnostic, InputError
from ..model.guideline import Guideline
from ..model.patient import to_plain
from .findings import Finding

HEADER = "# guideproof witness"


def _filename(f: Finding) -> str:
    return f"{f.code}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', f.subject).strip('_')}.yaml"


def write_witnesses(g: Guideline, findings: list[Finding], directory: Path) -> list[Path]:
    """Write one patient file per finding with a witness. A file that exists and was not
    written by guideproof is never overwritten (the run stops with exit 2 instead)."""
    with_witness = [f for f in findings if f.witness is not None]
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError([Diagnostic("witness-dir", f"cannot create witness directory {str(directory)!r}: {e.strerror}")])
    targets = [(f, directory / _filename(f)) for f in with_witness]
    for _, path in targets:
        if path.exists():
            try:
                first = path.read_text(errors="replace").split("\n", 1)[0]
            except OSError:
                first = ""
            if not first.startswith(HEADER):
                raise InputError([Diagnostic("witness-dir", f"{str(path)!r} exists and was not written by guideproof; not overwriting it")])
    written = []
    for f, path in targets:
        lines = [f"{HEADER}: {f.code} {f.check}: {f.subject}", f"# {f.message}", f"# guideline: {g.file}"]
        # JSON values are valid YAML flow values, and keep strings like "none" unambiguous.
        body = [f"{k}: {json.dumps(v)}" for k, v in to_plain(g, f.witness).items()]
        path.write_text("\n".join(lines + body) + "\n")
        written.append(path)
    return written
