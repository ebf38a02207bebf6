"""coursekit.waiting: an action is timed from the moment the background work says it is ready, and what goes wrong
in the background is raised where the learner runs the cell, not lost in a thread."""

import sqlite3
import threading
import time

import pytest

from coursekit.waiting import in_background, time_during


def holds_a_lock_for(seconds, lock):
    def work(ready):
        with lock:
            ready.set()
            time.sleep(seconds)
    return work


def test_the_action_waits_for_the_work_that_holds_the_lock():
    lock = threading.Lock()
    result, seconds = time_during(holds_a_lock_for(0.3, lock), lambda: lock.acquire(timeout=5))
    lock.release()
    assert result is True and 0.25 < seconds < 3, seconds


def test_the_clock_starts_at_ready_not_when_the_work_starts():
    def slow_to_get_ready(ready):
        time.sleep(0.3)
        ready.set()

    _, seconds = time_during(slow_to_get_ready, lambda: None)
    assert seconds < 0.1, seconds


def test_the_clock_stops_when_the_action_returns_not_when_the_work_ends():
    def ready_then_busy(ready):
        ready.set()
        time.sleep(0.3)

    started = time.perf_counter()
    _, seconds = time_during(ready_then_busy, lambda: None)
    assert seconds < 0.1 and time.perf_counter() - started >= 0.3, "the work was waited for, outside the clock"


def test_sqlite_makes_a_second_writer_wait_for_the_lock_holder(tmp_path):
    """The lesson's use: one connection holds SQLite's write lock, the other waits until it commits."""
    path = tmp_path / "shop.db"
    sqlite3.connect(path, isolation_level=None).execute("CREATE TABLE orders (order_id TEXT)")

    def migration(ready):
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # the write lock
        ready.set()
        time.sleep(0.3)
        conn.execute("COMMIT")

    def place_order():
        sqlite3.connect(path, timeout=10, isolation_level=None).execute("INSERT INTO orders VALUES ('ORD-1')")
        return "placed"

    outcome, seconds = time_during(migration, place_order)
    assert outcome == "placed" and seconds > 0.2, seconds


def test_an_error_in_the_work_is_raised_in_the_callers_thread():
    def fails_while_holding(ready):
        ready.set()
        raise ValueError("the migration failed")

    with pytest.raises(ValueError, match="the migration failed"):
        time_during(fails_while_holding, lambda: None)


def test_an_error_before_ready_is_raised_at_once_not_after_the_timeout():
    def fails_at_once(ready):
        raise ValueError("no such table: orders")

    started = time.perf_counter()
    with pytest.raises(ValueError, match="no such table"):
        time_during(fails_at_once, lambda: pytest.fail("the action must not run"), timeout=30)
    assert time.perf_counter() - started < 5


def test_work_that_never_says_ready_is_named_and_nothing_is_timed():
    def forgets_to_signal(ready):
        pass

    with pytest.raises(RuntimeError, match="forgets_to_signal ended without calling ready.set()"):
        time_during(forgets_to_signal, lambda: pytest.fail("the action must not run"))


def test_work_that_is_not_ready_in_time_is_reported_after_the_timeout():
    release = threading.Event()

    def waits_too_long(ready):
        release.wait(5)

    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="did not call ready.set\\(\\) within 0.2 s"):
        time_during(waits_too_long, lambda: None, timeout=0.2)
    assert time.perf_counter() - started < 2
    release.set()


def test_leaving_the_block_waits_for_the_work():
    finished = []

    def slow(ready):
        ready.set()
        time.sleep(0.2)
        finished.append(True)

    with in_background(slow):
        assert finished == []
    assert finished == [True]
