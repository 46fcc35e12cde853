"""Witness patients written as files that `guideproof query --patient` accepts unchanged."""
from __future__ import annotations

import json
import re
from pathlib import Path
from collections.abc import Iterable
from typing import Any

from ..model.errors import Diagnostic, InputError
from ..model.files import check_folder, same_file, write_unless_foreign
from ..model.guideline import Guideline
from ..model.patient import to_plain
from .findings import Finding

HEADER = "# guideproof witness"


def _filename(f: Finding, region: int = 1) -> str:
    """``GP002-step_x.yaml`` for a finding's witness; ``GP002-step_x-region2.yaml`` for the
    witness of its second problem region (the first region's witness is the finding's);
    ``GP012-temporal_x.history.yaml`` for a temporal counterexample (a history file)."""
    suffix = f"-region{region}" if region > 1 else ".history" if f.course else ""
    return f"{f.code}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', f.subject).strip('_')}{suffix}.yaml"


def is_witness(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a witness guideproof wrote."""
    return head.startswith(HEADER.encode())


def check_witness_dir(directory: Path) -> None:
    """Refuse, before any work, a witness folder that cannot be used: it is created when
    missing, but its parent must exist (a mistyped path is reported, not created)."""
    if directory.exists() or directory.is_symlink():
        check_folder(directory, "--witness-dir")
    else:
        check_folder(directory.parent, "--witness-dir")


def write_witnesses(g: Guideline, findings: list[Finding], directory: Path,
                    inputs: Iterable[Path] = ()) -> list[Path]:
    """Write one patient file per finding with a witness (a history file, for ``query
    --history``, per temporal counterexample). A file that exists and was not
    written by guideproof is never overwritten (the run stops with exit 2 instead); files
    are written atomically, so runs sharing the folder never see each other's half-written
    files."""
    with_witness = [f for f in findings if f.witness is not None]
    if not with_witness:
        return []
    check_witness_dir(directory)
    try:
        directory.mkdir(exist_ok=True)
    except OSError as e:
        raise InputError([Diagnostic("bad-output", f"--witness-dir: cannot create the folder {str(directory)!r}: {e.strerror}")]) from None
    check_folder(directory, "--witness-dir")
    targets: list[tuple[Finding, str, dict[str, Any], Path]] = []
    for f in with_witness:
        assert f.witness is not None  # with_witness holds the findings with a witness
        targets.append((f, f.message, f.witness, directory / _filename(f)))
        targets.extend((f, f"{f.message} (problem region {i}: {r.condition})", r.witness, directory / _filename(f, i))
                       for i, r in enumerate(f.regions[1:], 2))
    sources = list(inputs) + [Path(g.file)]
    for *_, path in targets:
        for source in sources:
            if same_file(path, source):
                raise InputError([Diagnostic("output-is-input", f"--witness-dir: {str(path)!r} is the input file "
                                                                f"{str(source)!r}; refusing to overwrite it")])
    for *_, path in targets:  # refuse before writing any file, not half-way through
        if _foreign(path):
            raise InputError([Diagnostic("bad-output", f"--witness-dir: {str(path)!r} exists and was not "
                                                       "written by guideproof; not overwriting it")])
    written = []
    for f, message, witness, path in targets:
        lines = [f"{HEADER}: {f.code} {f.check}: {f.subject}", f"# {message}", f"# guideline: {g.file}"]
        if f.course:
            from ..model.course import course_of, history_yaml

            text = "\n".join(lines) + "\n" + history_yaml(g, course_of(g, f.course))
            write_unless_foreign(path, text.encode(), is_witness, "--witness-dir")
            written.append(path)
            continue
        # JSON values are valid YAML flow values, and keep strings like "none" unambiguous;
        # a decimal is written bare (``70``, ``1.25``, ``875/18``), as an author writes it.
        body = [f"{k}: {v if g.variables[k].type.kind == 'decimal' else json.dumps(v)}"
                for k, v in to_plain(g, witness).items()]
        write_unless_foreign(path, ("\n".join(lines + body) + "\n").encode(), is_witness, "--witness-dir")
        written.append(path)
    return written


def _foreign(path: Path) -> bool:
    """Whether ``path`` exists and is not a witness guideproof wrote."""
    try:
        with open(path, "rb") as f:
            return not is_witness(f.read(len(HEADER)))
    except FileNotFoundError:
        return False
    except OSError:
        return True
