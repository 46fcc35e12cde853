"""Work in a forked child (``model/forked.py``): its result, its exception, its death."""
from __future__ import annotations

import os
import threading

import pytest

from guideproof.model.errors import Diagnostic, InputError
from guideproof.model.forked import ChildFailed, can_fork, in_child
from guideproof.model.source import Span

pytestmark = pytest.mark.skipif(not can_fork(), reason="no fork here")


def test_the_result_is_computed_in_another_process():
    here = os.getpid()
    assert in_child(lambda: (os.getpid(), [1, "two", {3: 4.5}]), "a test")[1] == [1, "two", {3: 4.5}]
    assert in_child(os.getpid, "a test") != here


def test_an_exception_is_raised_here_with_its_type_and_details():
    diagnostic = Diagnostic("unknown-name", "unknown name 'x'", Span("g.yaml", 3, 7), "when: x > 1")

    def bad():
        raise InputError([diagnostic])
    with pytest.raises(InputError) as caught:
        in_child(bad, "a test")
    assert caught.value.diagnostics == [diagnostic]
    assert str(caught.value) == str(InputError([diagnostic]))


def test_a_result_that_cannot_be_sent_is_a_failure_naming_it():
    with pytest.raises(ChildFailed, match="the result of a test cannot be sent"):
        in_child(lambda: threading.Lock(), "a test")


class Odd(Exception):
    def __init__(self, a, b):  # pickled by its message alone, which is not enough to rebuild it
        super().__init__(f"{a}{b}")


def test_an_exception_that_cannot_be_rebuilt_here_is_a_failure_naming_it():
    def bad():
        raise Odd(1, 2)
    with pytest.raises(ChildFailed, match="cannot be sent"):
        in_child(bad, "a test")


def test_a_child_that_dies_is_a_failure_naming_how():
    with pytest.raises(ChildFailed, match=r"a test ended without a result \(exit code 7\)"):
        in_child(lambda: os._exit(7), "a test")
    with pytest.raises(ChildFailed, match=r"killed by signal 9"):
        in_child(lambda: os.kill(os.getpid(), 9), "a test")
