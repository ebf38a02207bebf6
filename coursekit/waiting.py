"""Who waits, and for how long: a migration in a background thread, another writer timed meanwhile.

Lesson 06 measures how long the shop's order waits while a migration holds SQLite's write lock. That takes two
things at once: the migration runs in a thread and says when it holds the lock (it sets a ``threading.Event``), and
only then does the main thread start the clock and place the order. The thread, the event and the clock are not
what the lesson teaches, so they live here; the migrations and the shop's write stay in the lesson's cells.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any


def _name(work: Callable) -> str:
    return getattr(work, "__name__", repr(work))


@contextmanager
def in_background(work: Callable[[threading.Event], Any], timeout: float = 60) -> Iterator[None]:
    """Run ``work(ready)`` in a thread; the ``with`` block starts once ``work`` has called ``ready.set()``.

    Leaving the block waits for ``work`` to finish and raises its exception, if it had one, here in the caller's
    thread, where a notebook shows it (a plain thread would only print it and carry on). If ``work`` ends without
    calling ``ready.set()``, or has not called it after ``timeout`` seconds, the block does not run: a RuntimeError
    says which, at once (a thread cannot be stopped, so one that hangs is left to finish on its own).
    """
    ready = threading.Event()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="in_background")
    future = pool.submit(work, ready)
    deadline = time.monotonic() + timeout
    try:
        while not ready.wait(0.01):  # returns as soon as the event is set
            if future.done():
                future.result()  # raises the work's own exception, if it failed
                raise RuntimeError(f"{_name(work)} ended without calling ready.set(): nothing was timed")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{_name(work)} did not call ready.set() within {timeout} s: nothing was timed")
    except BaseException:
        pool.shutdown(wait=False)
        raise
    try:
        yield
    finally:
        pool.shutdown(wait=True)  # the work ends before the next cell uses its database
    future.result()


def time_during(work: Callable[[threading.Event], Any], action: Callable[[], Any],
                timeout: float = 60) -> tuple[Any, float]:
    """``action()``'s result and the seconds it took, started the moment ``work(ready)`` calls ``ready.set()``.

    ``work`` runs in a background thread (see ``in_background``); for a migration, ``ready.set()`` says "I hold the
    lock now". The clock stops when ``action`` returns, before ``work`` is waited for, so the seconds are the action's
    own: how long it waited for ``work``, plus its own run.
    """
    with in_background(work, timeout):
        started = time.perf_counter()
        result = action()
        seconds = time.perf_counter() - started
    return result, seconds
