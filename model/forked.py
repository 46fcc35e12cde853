"""Work done in a forked child process, its result sent back to this one.

Two places use it:

* ``verify`` runs its second lane of checks in a child beside the first (``verify/lanes.py``);
* a large guideline is read in a child (``model/cache.py``): reading makes many short-lived
  objects, whose memory this process would keep (freed but not returned to the system, and
  scattered among the objects that live on). The child sends the guideline pickled, and
  this process rebuilds it compactly.

The child never returns into its parent's code: it sends one pickled message, the work's
result or its exception, and ends with ``os._exit`` (no ``atexit`` handlers, no flushing of
buffers it shares with the parent). Ctrl-C reaches both processes; the child dies at once
(default SIGINT handling) and the parent, on its way out, kills and reaps a child still
running (:meth:`Child.stop`). Z3 can be forked between queries: it stops its timer threads
before a fork (``pthread_atfork``).
"""
from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ChildFailed(Exception):
    """The child ended without a result: killed, out of memory, or a result that cannot be sent."""


def can_fork() -> bool:
    return hasattr(os, "fork")


class Child(Generic[T]):
    """``work()`` running in a forked child, from the state of this process at the fork.
    ``what`` names the work in messages. Call :meth:`result` once, and :meth:`stop` when
    leaving early (an exception here)."""

    def __init__(self, work: Callable[[], T], what: str):
        self.what = what
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(r)
            _child(work, w, what)
        os.close(w)
        self.pid: int | None = pid
        self._r = r

    def result(self) -> T:
        """The child's result (or its exception raised here), once it has ended."""
        pid, r = self.pid, self._r
        assert pid is not None, "result() is read once"
        try:
            chunks = []
            while True:
                chunk = os.read(r, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            _, status = os.waitpid(pid, 0)
            self.pid = None  # reaped
        finally:
            self._close()
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT:
            raise KeyboardInterrupt
        try:
            kind, value = pickle.loads(b"".join(chunks))
        except Exception:
            raise ChildFailed(f"{self.what} ended without a result ({_ended(status)})") from None
        if kind == "error":
            raise value
        result: T = value
        return result

    def stop(self) -> None:
        """Kill and reap the child if it is still there (this process leaves with an exception)."""
        pid, self.pid = self.pid, None
        self._close()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass

    def _close(self) -> None:
        r, self._r = self._r, -1
        if r >= 0:
            os.close(r)


def in_child(work: Callable[[], T], what: str) -> T:
    """``work()`` computed in a forked child; its exception is raised here, and
    :class:`ChildFailed` when it ends without a result."""
    child = Child(work, what)
    try:
        return child.result()
    finally:
        child.stop()


def _child(work: Callable[[], Any], w: int, what: str) -> None:
    code = 0
    try:
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child at once
            signal.set_wakeup_fd(-1)  # the parent's interrupt watcher is not here
        except ValueError:  # forked from another thread than the main one: signals stay as they are
            pass
        try:
            message: tuple[str, Any] = ("ok", work())
        except BaseException as e:  # sent to the parent, which raises it
            message = ("error", e)
        try:
            data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.loads(data)  # what cannot be rebuilt over there is sent as its text
        except Exception as e:
            data = pickle.dumps(("error", ChildFailed(f"the result of {what} cannot be sent: {e!r}")))
        with os.fdopen(w, "wb") as out:
            out.write(data)
    except BaseException:  # nothing may escape into the parent's code
        code = 1
    finally:
        os._exit(code)


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
