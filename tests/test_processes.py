"""What must not cross a fork is built again in a forked child; an interruption waits for the write in hand."""

import itertools
import multiprocessing
import os
import signal
import time

import pytest

from core.processes import interrupt, per_process, uninterrupted

_built = itertools.count()


@per_process(maxsize=2)
def _connection(name: str) -> tuple[str, int, int]:
    return name, os.getpid(), next(_built)


def _in_a_forked_child(answers) -> None:
    answers.put((_connection("library"), _connection("library")))


def test_a_forked_child_builds_its_own_and_leaves_its_parents_alone():
    parent = _connection("library")
    assert _connection("library") is parent  # built once per process
    forking = multiprocessing.get_context("fork")
    answers = forking.Queue()
    child = forking.Process(target=_in_a_forked_child, args=(answers,))
    child.start()
    first, again = answers.get(timeout=30)
    child.join(30)
    assert first[1] == child.pid and first is not parent and again == first
    assert _connection("library") is parent  # the parent's own is still the one it uses


def test_an_interruption_waits_for_the_write_in_hand():
    previous = signal.signal(signal.SIGALRM, lambda *_: interrupt(TimeoutError("the time limit")))
    try:
        finished = []
        with pytest.raises(TimeoutError), uninterrupted():
            signal.setitimer(signal.ITIMER_REAL, 0.01)
            while not finished:  # the alarm arrives while this "write" is still going on
                time.sleep(0.05)
                finished.append("the write")
        assert finished == ["the write"]
        with pytest.raises(TimeoutError):  # outside a write it is raised at once
            signal.setitimer(signal.ITIMER_REAL, 0.01)
            while True:
                time.sleep(0.05)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
