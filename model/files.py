"""Writing files the user asked for without ever losing one they already have.

Every output is written to a temporary file in the target's own folder and renamed into
place, so a reader (or a second run) sees the old file or the complete new one, never a
truncated one; on any failure, including Ctrl-C, the temporary file is removed and the
old file is untouched. New files get the mode the umask gives (not mkstemp's 0600); a
replaced file keeps its mode. Nothing is ever written onto one of the run's input files
(compared by device and inode, so symbolic and hard links count), and an output folder
must exist: a mistyped path is reported, not silently created.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Callable, Iterable, Iterator

from .errors import Diagnostic, InputError


def _refuse(code: str, message: str) -> InputError:
    return InputError([Diagnostic(code, message)])


def _why(e: OSError) -> str:
    return e.strerror or str(e)


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one existing file (through links of either kind)."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def check_folder(folder: Path, what: str) -> None:
    """``folder`` exists, is a folder, and this process may create files in it."""
    shown = str(folder) or "."
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        raise _refuse("bad-output", f"{what}: the folder {shown!r} does not exist (create it first)") from None
    except NotADirectoryError:
        raise _refuse("bad-output", f"{what}: {shown!r} is not a folder (part of the path is a file)") from None
    except OSError as e:
        raise _refuse("bad-output", f"{what}: cannot use the folder {shown!r}: {_why(e)}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise _refuse("bad-output", f"{what}: {shown!r} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _refuse("bad-output", f"{what}: cannot write in the folder {shown!r}: permission denied")


def check_output(path: Path, inputs: Iterable[Path], what: str) -> None:
    """Refuse, before any work, an output path that cannot be written or is an input."""
    if path.name in ("", ".", ".."):
        raise _refuse("bad-output", f"{what}: {str(path)!r} names a folder, not a file")
    for source in inputs:
        if same_file(path, source):
            raise _refuse("output-is-input", f"{what}: {str(path)!r} is the input file {str(source)!r}; "
                                             "refusing to overwrite it (choose another output file)")
    if path.is_dir():
        raise _refuse("bad-output", f"{what}: {str(path)!r} is a folder, not a file")
    try:
        check_folder(path.parent, what)
    except InputError as e:  # name the file the user asked for, then why its folder will not do
        (d,) = e.diagnostics
        raise _refuse(d.code, f"{what}: cannot write {str(path)!r}: " + d.message.removeprefix(f"{what}: ")) from None


def _new_file_mode() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _temporary(path: Path, data: bytes, what: str) -> str:
    """A complete temporary copy of ``data`` beside ``path``, with the mode ``path`` will have."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = _new_file_mode()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise _refuse("bad-output", f"{what}: cannot write {str(path)!r}: {_why(e)}") from None
    with _removed_on_failure(tmp, path, what):
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
    return tmp


@contextmanager
def _removed_on_failure(tmp: str, path: Path, what: str) -> Iterator[None]:
    """Remove ``tmp`` if the block fails in any way (Ctrl-C included); report OS errors as
    failing to write ``path`` (the user's name for it, never the temporary one)."""
    try:
        yield
    except BaseException as e:
        _remove(tmp)
        if isinstance(e, OSError):
            raise _refuse("bad-output", f"{what}: cannot write {str(path)!r}: {_why(e)}") from None
        raise


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def write_atomic(path: Path, data: bytes, inputs: Iterable[Path] = (), what: str = "output") -> None:
    """Replace ``path`` by ``data`` atomically (see the module doc)."""
    check_output(path, inputs, what)
    tmp = _temporary(path, data, what)
    with _removed_on_failure(tmp, path, what):
        os.replace(tmp, path)


def write_unless_foreign(path: Path, data: bytes, ours: Callable[[bytes], bool], what: str) -> None:
    """Write ``path`` atomically if it does not exist or holds a file ``ours`` recognises
    (one this program wrote); refuse a file it did not write. Safe when several runs write
    the same files at once: a new file is created by linking the complete temporary file
    into place (atomic and exclusive), an existing one is replaced by renaming."""
    tmp = _temporary(path, data, what)
    try:
        try:
            os.link(tmp, path)  # creates path only if it does not exist yet
            return
        except FileExistsError:
            pass
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            if not path.exists():  # a file system without hard links: rename instead
                os.replace(tmp, path)
                return
        try:
            with open(path, "rb") as f:
                head = f.read(4096)
        except IsADirectoryError:
            raise _refuse("bad-output", f"{what}: {str(path)!r} is a folder; not replacing it") from None
        if not ours(head):
            raise _refuse("bad-output", f"{what}: {str(path)!r} exists and was not written by guideproof; "
                                        "not overwriting it")
        os.replace(tmp, path)
    except OSError as e:
        raise _refuse("bad-output", f"{what}: cannot write {str(path)!r}: {_why(e)}") from None
    finally:
        _remove(tmp)
