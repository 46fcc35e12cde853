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

The child is made and collected by ``model/forked.py``. Where ``fork`` is not available the
lanes simply run one after the other here.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from ..model.forked import Child, ChildFailed, can_fork
from .findings import InternalError

T = TypeVar("T")


def default_jobs() -> int:
    """The processes verify may use at once: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_lanes(first: Callable[[], T], second: Callable[[], T], jobs: int) -> tuple[T, T]:
    """``first()`` here and ``second()`` in a forked child, both from the state at this
    call; at the same time when ``jobs`` >= 2, else the child first. Returns both results;
    an exception in the child is raised here (:class:`InternalError` when the child ends
    without a result)."""
    if not can_fork():
        return first(), second()
    child = Child(second, "the second lane of checks")
    try:
        if jobs >= 2:
            a = first()
            b = _result(child)
        else:
            b = _result(child)
            a = first()
        return a, b
    finally:
        child.stop()  # a no-op once its result is in


def _result(child: Child[T]) -> T:
    try:
        return child.result()
    except ChildFailed as e:  # the lane is this package's own code: a bug, or the machine
        raise InternalError(str(e)) from None
