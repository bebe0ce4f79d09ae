"""What must not cross a fork, what must not be cut in the middle, and children that start clean.

RQ forks a process for every job from its worker, and a forked child starts as a copy of its parent: the parent's
database connections, HTTP clients and engines come with it, without the threads that served them. Used on both
sides of the fork they break (two processes writing into one Postgres connection clash on its prepared statements;
an engine's thread pool exists only in the parent). Whatever holds a socket, a thread or a native engine is built
per process with `per_process`: a child builds its own on first use. What it inherited stays referenced, never
used and never closed, since closing a connection from the child could end the parent's (libpq's goodbye goes over
the shared socket).
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
import threading
import types
from collections.abc import Callable
from contextlib import contextmanager
from multiprocessing import forkserver, resource_tracker
from pathlib import Path
from typing import TypeVar

Built = TypeVar("Built")


def per_process(maxsize: int) -> Callable[[Callable[..., Built]], Callable[..., Built]]:
    """`functools.lru_cache(maxsize)`, with one cache per process: a forked child never gets its parent's values.
    Threads asking at once wait for the one building (lru_cache alone would build it once per thread: a server's
    first requests, and what it prepares as it starts, each opening a store of their own)."""

    def decorate(build: Callable[..., Built]) -> Callable[..., Built]:
        # By pid; a parent's stay here, in the child, unused, with their lock (which a thread of the parent may have
        # held as it forked).
        caches: dict[int, tuple[Callable[..., Built], threading.RLock]] = {}

        @functools.wraps(build)
        def cached(*args, **kwargs) -> Built:
            entry = caches.get(os.getpid())
            if entry is None:
                entry = caches.setdefault(os.getpid(), (functools.lru_cache(maxsize=maxsize)(build), threading.RLock()))
            cache, building = entry
            with building:
                return cache(*args, **kwargs)

        def cache_clear() -> None:
            if os.getpid() in caches:
                caches[os.getpid()][0].cache_clear()

        cached.cache_clear = cache_clear
        return cached

    return decorate


# --- interruptions that wait for a write to end -------------------------------------------------------------------

class _Writing(threading.local):
    depth = 0
    pending: BaseException | None = None


_writing = _Writing()


@contextmanager
def uninterrupted():
    """Work a deadline must not cut in the middle, such as a database transaction: an interruption raised meanwhile
    by `interrupt` (from a signal handler) waits until the work ends, then is raised."""
    _writing.depth += 1
    try:
        yield
    finally:
        _writing.depth -= 1
        if _writing.depth == 0 and _writing.pending is not None:
            pending, _writing.pending = _writing.pending, None
            raise pending


def interrupt(exception: BaseException) -> None:
    """Raise `exception` now, in the thread this runs in (a signal handler's: the main thread), or as soon as the
    uninterrupted work in hand there ends."""
    if _writing.depth:
        _writing.pending = exception
        return
    raise exception


# --- children that start clean ----------------------------------------------------------------------------------
# A child process that must not share what its parent holds (a download, in a process that has run the engines or
# holds database connections and threads) starts from multiprocessing's forkserver: a process started afresh, not
# forked, the first time one is needed, which imports what the children use and then forks each of them.

_clean = multiprocessing.get_context("forkserver")
_forkserver_lock = threading.Lock()
_forkserver_started_in: int | None = None  # the pid of the process that started the forkserver


@contextmanager
def _without_main_script():
    """multiprocessing has a child run the program's main script again (as `__mp_main__`) when it has one, so that
    what it defines can be unpickled there; what clean children run lives in modules, and the main script can be
    anything (Streamlit installs each page as `__main__` while it runs). It is kept out of what a child is told."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def start_forkserver(preload: list[str]) -> None:
    """Start the forkserver now, if this process has none, importing the `preload` modules; it does so while this
    process goes on."""
    global _forkserver_started_in
    with _forkserver_lock:
        if _forkserver_started_in is not None:
            return
        _clean.set_forkserver_preload(preload)
        # Python 3.11's forkserver starts without this process's sys.path: it is told where the app lives.
        project = str(Path(__file__).resolve().parent.parent)
        before = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [project, before]))
        try:
            with _without_main_script():
                forkserver.ensure_running()
        finally:
            if before is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = before
        _forkserver_started_in = os.getpid()


def _share_forkserver_with_forked_child() -> None:
    """In a child forked from a process that started the forkserver (a worker's job), keep using that server, which
    the parent keeps running, instead of starting one more in every job. CPython's own liveness check waits on the
    server as on a child of its own, which it is not here, and fails (python/cpython#86354); the server stays up as
    long as one process that shares it lives, and `start_clean_child` starts one of this process's own if it is gone
    all the same."""
    server = forkserver._forkserver
    if _forkserver_started_in is not None and getattr(server, "_forkserver_pid", None) is not None:
        server.ensure_running = resource_tracker.ensure_running


os.register_at_fork(after_in_child=_share_forkserver_with_forked_child)


def start_clean_child(target: Callable, args: tuple, preload: list[str]) -> multiprocessing.process.BaseProcess:
    """`target(*args)` in a new process forked from the forkserver (started with `preload` if this process has none
    yet), never from this process. `target` and `args` travel pickled."""
    global _forkserver_started_in
    start_forkserver(preload)
    try:
        return _start(target, args)
    except OSError:  # the forkserver shared from the parent is gone: this process starts its own
        server = forkserver._forkserver
        if server.__dict__.pop("ensure_running", None) is None:
            raise
        server._forkserver_pid = None
        _forkserver_started_in = None
        start_forkserver(preload)
        return _start(target, args)


def _start(target: Callable, args: tuple) -> multiprocessing.process.BaseProcess:
    child = _clean.Process(target=target, args=args, daemon=True)
    with _forkserver_lock, _without_main_script():
        child.start()
    return child
