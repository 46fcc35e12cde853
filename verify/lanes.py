"""Two lanes of checks: the second in a forked process, beside or after the first.

``verify`` spends nearly all of a large guideline's time in checks that need nothing from
each other: what one check learns (witnesses, reached branches) only saves another some
solver queries, and a finding never depends on it (a proved existential obligation carries
no witness; a refuted one gets its own, optimised witness). So the checks fall into two
lanes that start from the same state, the encoding with the domain already checked:

* the first lane runs in this process;
* the second runs in a child made with ``fork`` at that point, which inherits the
  guideline, its encoding and the solvers as they are, and sends back its findings.

With ``jobs`` of 2 or more the two lanes run at the same time, on two cores; with 1, the
child runs to its end before the first lane starts. Either way each lane starts from the
same state and asks the same queries in the same order, so the output does not depend on
``jobs`` (tests compare the two). Z3 is safe to fork between queries: it stops its timer
threads before a fork (``pthread_atfork``), and this package keeps no other thread that
holds a lock (the interrupt watcher only reads a pipe).

The child never returns into its parent's code: it sends one pickled message, the lane's
result or its exception, and ends with ``os._exit`` (no ``atexit`` handlers, no flushing of
buffers it shares with the parent). Ctrl-C reaches both processes; the child dies at once
(default SIGINT handling) and the parent, on its way out, kills and reaps a child still
running. Where ``fork`` is not available the lanes simply run one after the other here.
"""
from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from typing import Any, TypeVar

from .findings import InternalError

T = TypeVar("T")


def can_fork() -> bool:
    return hasattr(os, "fork")


def default_jobs() -> int:
    """The processes verify may use at once: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_lanes(first: Callable[[], T], second: Callable[[], T], jobs: int) -> tuple[T, T]:
    """``first()`` here and ``second()`` in a forked child, both from the state at this
    call; at the same time when ``jobs`` >= 2, else the child first. Returns both results;
    an exception in the child is raised here (:class:`InternalError` when it cannot be sent
    as it is)."""
    if not can_fork():
        return first(), second()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(r)
        _child(second, w)
    os.close(w)
    done = False
    try:
        if jobs >= 2:
            a = first()
            b = _collect(pid, r)
        else:
            b = _collect(pid, r)
            a = first()
        done = True
        return a, b
    finally:
        if not done:
            _stop(pid)
        try:
            os.close(r)
        except OSError:
            pass


def _child(work: Callable[[], Any], w: int) -> None:
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
        except Exception as e:  # an unpicklable result or exception: its text
            data = pickle.dumps(("error", InternalError(f"the second lane's result cannot be sent: {e!r}")))
        with os.fdopen(w, "wb") as out:
            out.write(data)
    except BaseException:  # nothing may escape into the parent's code
        code = 1
    finally:
        os._exit(code)


def _collect(pid: int, r: int) -> Any:
    """The child's result (or its exception raised), once it has ended."""
    chunks = []
    while True:
        chunk = os.read(r, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT:
        raise KeyboardInterrupt
    try:
        kind, value = pickle.loads(b"".join(chunks))
    except Exception:
        raise InternalError(f"the second lane of checks ended without a result ({_ended(status)})") from None
    if kind == "error":
        raise value
    return value


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def _stop(pid: int) -> None:
    """Kill and reap the child (the parent is on its way out with an exception)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
