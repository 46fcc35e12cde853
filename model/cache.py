"""A cache of checked guidelines, so repeated queries do not re-read the same files.

Reading and checking a guideline (YAML, expressions, types, the whole-guideline checks) is
most of a complete query's own time; a clinician queries one guideline over and over. After a
guideline loads *without error*, its checked model is stored under a key made of everything
the result depends on:

* the file name as given and, for a relative name, the working directory (messages and
  ``include`` paths depend on both);
* the exact text of the guideline file;
* the Python version and the name, size and modification time of every module of this
  package (a changed or reinstalled loader never reuses an old result);
* the input size limit in force.

Each entry also lists every file the guideline included, with a hash of its text; an entry
is used only while each of them still reads the same. A guideline with an error is never
stored, so its diagnostics are computed afresh every time.

Entries are pickles, and unpickling runs code: an entry is read only from a folder and a
file owned by the current user and writable by nobody else, the folder being created with
mode 0700. Anything unexpected (unreadable, corrupt, wrong owner, a full disk) means "no
cache": the guideline is loaded from its files as if the cache did not exist. The folder is
``$GUIDEPROOF_CACHE_DIR``, else ``$XDG_CACHE_HOME/guideproof``, else
``~/.cache/guideproof``; ``GUIDEPROOF_CACHE=off`` (or ``guideproof --no-cache``) turns it off.
At most :data:`MAX_ENTRIES` entries are kept (the least recently written go first).
"""
from __future__ import annotations

import os
import pickle
import stat
import sys
from functools import partial
from pathlib import Path

from .guideline import Guideline
from .errors import InputError
from .forked import ChildFailed, can_fork, in_child
from .source import SourceText, input_limit, is_dmn, paused_gc, read_text

try:  # CPython's own SHA-256: importing hashlib loads OpenSSL, a few ms of every query
    from _sha256 import sha256  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - other Pythons
    from hashlib import sha256

CACHE_DIR_ENV = "GUIDEPROOF_CACHE_DIR"
CACHE_ENV = "GUIDEPROOF_CACHE"
#: entries kept; each is the size of its guideline's model (about 80-200 KB for the shipped ones)
MAX_ENTRIES = 32
#: bumped when the entry layout changes
FORMAT = 1
#: Guideline texts from this many characters on are read in a forked child, which sends
#: back the cache entry (the guideline pickled). Reading makes many short-lived objects; in
#: this process their memory would stay, freed but not returned to the system and scattered
#: among the objects that live on, for the rest of the run: at 20,000 branches the process
#: held 540 MiB after reading, 215 MiB after rebuilding the same guideline from its entry.
#: Below this size (about 1,500 branches; the shipped guidelines are far below) files are read
#: here, as before: what reading leaves behind is small there. The cut-off is a judgement,
#: not a measured break-even.
READ_APART_FROM = 512 * 1024

_disabled = False


def disable() -> None:
    """Turn the cache off for this process (``guideproof --no-cache``)."""
    global _disabled
    _disabled = True


def enabled() -> bool:
    return not _disabled and os.environ.get(CACHE_ENV, "").strip().lower() not in ("off", "0", "no", "false")


def folder() -> Path:
    explicit = os.environ.get(CACHE_DIR_ENV, "").strip()
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "guideproof"


def _code_fingerprint() -> bytes:
    h = sha256(f"{FORMAT}|{sys.version}|{sys.implementation.cache_tag}".encode())
    here = Path(__file__).parent
    for entry in sorted(os.scandir(here), key=lambda e: e.name):
        if entry.name.endswith(".py"):
            st = entry.stat()
            h.update(f"|{entry.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return bytes(h.digest())


def _text_hash(text: str) -> str:
    return str(sha256(text.encode("utf-8", "surrogatepass")).hexdigest())


def _key(src: SourceText) -> str:
    h = sha256(_code_fingerprint())
    where = "" if os.path.isabs(src.file) else os.getcwd()
    h.update(f"|{src.file}\0{where}\0{input_limit()}\0".encode("utf-8", "surrogateescape"))
    h.update(_text_hash(src.text).encode())
    return str(h.hexdigest())


def _owned(path: Path, kind: int) -> bool:
    """``path`` is a ``kind`` (stat.S_IFREG, S_IFDIR; links are not followed) owned by this
    user and writable by nobody else."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (stat.S_IFMT(st.st_mode) == kind and st.st_uid == os.getuid()
            and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _trusted(path: Path) -> bool:
    """An entry this user wrote in a folder only this user can write to."""
    return _owned(path.parent, stat.S_IFDIR) and _owned(path, stat.S_IFREG)


def _fresh(included: list[tuple[str, str]]) -> bool:
    """Every included file still reads as it did when the entry was stored."""
    for name, digest in included:
        try:
            if _text_hash(read_text(name, "included file").text) != digest:
                return False
        except InputError:  # unreadable now: load afresh, which reports it
            return False
    return True


def _read(path: Path) -> Guideline | None:
    if not _trusted(path):
        return None
    try:
        with open(path, "rb") as f, paused_gc():  # as when loading: no full collections midway
            entry = pickle.load(f)
    except Exception:  # a corrupt or foreign entry is as good as none
        return None
    if not (isinstance(entry, tuple) and len(entry) == 3 and entry[0] == FORMAT
            and isinstance(entry[2], Guideline) and _fresh(entry[1])):
        return None
    return entry[2]


def _entry(included: dict[str, str], g: Guideline) -> bytes:
    """A cache entry: the format, the included files' hashes and the guideline, pickled.
    Raises ``pickle.PicklingError`` or ``RecursionError`` (a very deep expression)."""
    return pickle.dumps((FORMAT, sorted((name, _text_hash(text)) for name, text in included.items()), g),
                        protocol=pickle.HIGHEST_PROTOCOL)


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _owned(path.parent, stat.S_IFDIR):
            return
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(path.parent)
    except OSError:  # no cache this time; the result stands
        return


def _prune(where: Path) -> None:
    entries = sorted((e for e in os.scandir(where) if e.name.endswith(".pickle")),
                     key=lambda e: e.stat().st_mtime_ns, reverse=True)
    for e in entries[MAX_ENTRIES:]:
        try:
            os.unlink(e.path)
        except OSError:
            pass


def load_guideline(path: str | os.PathLike[str]) -> Guideline:
    """Read and check a guideline file; raises :class:`~.errors.InputError` with every
    problem. A guideline read before from exactly the same files comes from the cache, and
    the loader (with everything it imports) is not even imported then."""
    if is_dmn(path):  # a DMN model imports in milliseconds: never cached
        from .loader import load_guideline as uncached

        return uncached(path)
    src = read_text(path, "guideline")
    entry = folder() / f"{_key(src)}.pickle" if enabled() else None
    g = _read(entry) if entry is not None else None
    if g is not None:
        return g
    data = _read_apart(src) if len(src.text) >= READ_APART_FROM and can_fork() else None
    if data is not None:  # the entry as the child made it: the guideline, compact
        with paused_gc():
            g = pickle.loads(data)[2]
    else:
        from .loader import build_guideline

        g, included = build_guideline(src)
        if entry is None:
            return g
        try:
            data = _entry(included, g)
        except (pickle.PicklingError, RecursionError):  # no cache this time; the result stands
            return g
    if entry is not None:
        _write(entry, data)
    return g


def _read_apart(src: SourceText) -> bytes | None:
    """The cache entry of the guideline ``src``, read in a forked child (``model/forked.py``);
    None when it cannot be sent back (read it here). Its :class:`InputError` is raised here."""
    try:
        return in_child(partial(_built, src), "reading the guideline")
    except ChildFailed:  # e.g. killed by the system: read it here, which reports what goes wrong
        return None


def _built(src: SourceText) -> bytes | None:
    """In the child: the guideline read and checked, as a cache entry."""
    from .loader import build_guideline

    g, included = build_guideline(src)
    try:
        return _entry(included, g)
    except (pickle.PicklingError, RecursionError):
        return None
