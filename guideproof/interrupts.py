"""Ctrl-C ends a run promptly wherever it is, including inside a Z3 check.

Z3's default is to catch SIGINT itself during a check and answer *unknown*, which would turn
Ctrl-C into an inconclusive verdict and carry on (``model/encode.py`` switches that off). With
it off, Python only sees the signal once the running check returns, which may take the whole
per-obligation timeout. :func:`install` therefore has the signal written to a pipe as it
arrives (``signal.set_wakeup_fd``); a watcher thread reading the pipe interrupts Z3's running
check, so the main thread gets its ``KeyboardInterrupt`` at once. The CLI turns that into the
message "interrupted" and exit 130; files being written are removed (``model/files.py``) and a
running Graphviz ``dot`` is killed by ``subprocess`` on the way out.
"""
from __future__ import annotations

import os
import signal
import sys
import threading


def install() -> None:
    """Watch for SIGINT (main thread only; a no-op where SIGINT is ignored, as in background
    jobs of non-interactive shells, or already handled by someone else)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        previous = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    except ValueError:  # pragma: no cover - not the main thread after all
        os.close(r)
        os.close(w)
        return
    if previous != -1:  # someone else listens already: leave their arrangement alone
        signal.set_wakeup_fd(previous)
        os.close(r)
        os.close(w)
        return
    threading.Thread(target=_watch, args=(r,), name="guideproof-interrupt", daemon=True).start()


def _watch(fd: int) -> None:
    while True:
        try:
            data = os.read(fd, 64)
        except OSError:  # pragma: no cover - the pipe went away at exit
            return
        if not data:
            return
        if signal.SIGINT in data:
            z3 = sys.modules.get("z3")
            if z3 is not None:
                try:
                    z3.main_ctx().interrupt()
                except Exception:  # pragma: no cover - nothing to interrupt
                    pass


def reap_children(patience: float = 1.0) -> None:
    """Collect child processes that were killed on the way out (``subprocess`` kills a running
    ``dot`` when interrupted but, by design, does not wait for it), so none is left behind as
    a zombie; gives up after ``patience`` seconds if a child is still running."""
    import time

    deadline = time.monotonic() + patience
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # no children at all
        if pid == 0:  # children, none finished yet
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
