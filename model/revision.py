"""A guideline as committed: ``git:REV:path`` read with ``git show``, overlays included
from the same revision.

``path`` is what ``git show REV:path`` takes: relative to the top of the repository, or to
the current folder when it starts with ``./`` or ``../``. Messages name the file as
``git:REV:path``, so an error in a committed version points into that version. Git missing,
a folder outside a repository, an unknown revision, a path the revision lacks and a folder
instead of a file are each an input error (exit 2), never a traceback.
"""
from __future__ import annotations

import posixpath
import subprocess

from .errors import Diagnostic, InputError
from .guideline import Guideline
from .loader import load_guideline, load_guideline_text
from .source import SourceText, decode, input_limit

PREFIX = "git:"


def is_revision(spec: str) -> bool:
    return spec.startswith(PREFIX)


def load_version(spec: str) -> Guideline:
    """A guideline file, or ``git:REV:path`` for one committed in the current repository."""
    if not is_revision(spec):
        return load_guideline(spec)
    rev, sep, path = spec[len(PREFIX):].partition(":")
    if not sep or not rev or not path:
        raise _error(f"{spec!r}: expected git:REV:path (a revision and a file in it, e.g. git:HEAD~1:guideline.yaml)")
    folder = posixpath.dirname(path)

    def opener(name: str) -> SourceText:
        joined = posixpath.join(folder, name)
        # git resolves "REV:./x" against the current folder: keep that prefix when normalising
        keep = "./" if path.startswith(("./", "../")) and not joined.startswith("../") else ""
        return _show(rev, keep + posixpath.normpath(joined))

    return load_guideline_text(_show(rev, path), opener)


def _show(rev: str, path: str) -> SourceText:
    """The text of ``path`` at ``rev`` (``git show``), named ``git:REV:path``."""
    name = f"{PREFIX}{rev}:{path}"
    kind = _git(["cat-file", "-t", f"{rev}:{path}"], name)
    if kind.strip() != b"blob":
        raise _error(f"{name!r} is a {kind.decode(errors='replace').strip()}, not a file")
    return decode(name, _git(["show", "--no-textconv", f"{rev}:{path}"], name, limit=input_limit()))


def _git(args: list[str], name: str, limit: int | None = None) -> bytes:
    try:
        p = subprocess.run(["git", "--no-pager", *args], capture_output=True, stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError:
        raise _error(f"{name!r}: reading a committed version needs git, which is not installed (Debian package 'git')") from None
    except OSError as e:
        raise _error(f"{name!r}: cannot run git: {e.strerror}") from None
    if p.returncode != 0:
        why = p.stderr.decode(errors="replace").strip().removeprefix("fatal: ") or f"git exited {p.returncode}"
        raise _error(f"{name!r}: git cannot read it: {why}")
    if limit is not None and len(p.stdout) > limit:
        raise InputError([Diagnostic("file-too-large", f"guideline {name!r} is larger than the input limit "
                                                      "(raise it with --max-input-mb)")])
    return p.stdout


def _error(message: str) -> InputError:
    return InputError([Diagnostic("git-unreadable", message)])
