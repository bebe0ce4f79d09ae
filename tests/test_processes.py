"""What must not cross a fork is built again in a forked child; an interruption waits for the write in hand."""

import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.processes import interrupt, per_process, uninterrupted
from tests.conftest import PYTHON, ROOT

PER_PROCESS = """
import itertools, multiprocessing, os
from core.processes import per_process

built = itertools.count()

@per_process(maxsize=2)
def connection(name):
    return name, os.getpid(), next(built)

def child(answers):
    answers.put((connection("library"), connection("library")))

if __name__ == "__main__":
    parent = connection("library")
    assert connection("library") is parent  # built once per process
    forking = multiprocessing.get_context("fork")
    answers = forking.Queue()
    forked = forking.Process(target=child, args=(answers,))
    forked.start()
    first, again = answers.get(timeout=30)
    forked.join(30)
    assert first[1] == forked.pid and first != parent and again == first, (first, parent)
    assert connection("library") is parent  # the parent's own is still the one it uses
    print("built apart")
"""


def test_a_forked_child_builds_its_own_and_leaves_its_parents_alone():
    # In a process of its own: forking this one, which may hold engines by now, is what the product no longer does.
    done = subprocess.run([PYTHON, "-c", PER_PROCESS], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.stdout.strip() == "built apart", done.stderr


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


def test_threads_asking_at_once_get_the_one_built():
    built = []

    @per_process(maxsize=2)
    def library(name):
        time.sleep(0.2)  # opening it takes a while: the others ask meanwhile
        built.append(name)
        return object()

    with ThreadPoolExecutor(8) as threads:
        opened = list(threads.map(lambda _: library("library"), range(8)))
    assert built == ["library"] and all(found is opened[0] for found in opened)
