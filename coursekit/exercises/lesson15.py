"""Lesson 15's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Exercise 2 (who queues behind a waiting ALTER) needs no server; tests/test_exercises_lesson15.py plays each of its
statements on PostgreSQL to keep the answer key true. Exercise 1 runs the learner's function on the lesson's
PostgreSQL server (``POSTGRES_URL`` if set, else the course's own, see :mod:`coursekit.pgserver`), in a scratch
schema of its own (a fresh name each time, dropped afterwards), with a second session holding a lock. The learner's
function runs in a thread that is never waited for more than a few seconds: the check cannot hang, even if the
function waits for the lock forever.
"""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import contextmanager

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from coursekit.exercises import Verdict, database_words, explain_error
from coursekit.pgserver import postgres_url

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for "canceling statement due to lock timeout"
PATIENCE_SECONDS = 5  # how long the check lets the learner's function wait before it lifts the lock


QUEUED = {"a", "b", "e"}
WHY_QUEUED = {
    "a": "a reader asks for ACCESS SHARE, which conflicts with the ACCESS EXCLUSIVE the migration waits for, so it "
         "queues behind the migration",
    "b": "a writer asks for ROW EXCLUSIVE, which conflicts with the migration's ACCESS EXCLUSIVE: it queues",
    "c": "customers is another table: the queue is per table, and the migration asks for nothing on customers",
    "d": "the report already holds ACCESS SHARE on orders; a lock a transaction holds is granted again at once, "
         "without joining the queue",
    "e": "CREATE INDEX CONCURRENTLY asks for SHARE UPDATE EXCLUSIVE, which conflicts with ACCESS EXCLUSIVE: it queues",
}


def check_queued_behind(queued) -> Verdict:
    """Exercise 2: which statements wait behind a migration that waits for ACCESS EXCLUSIVE on orders (a, b, e)."""
    if isinstance(queued, str) or not isinstance(queued, (list, tuple, set)):
        return Verdict(False, f"give `queued` as a list of letters, e.g. ['a']; you gave {queued!r:.60}.")
    if not all(isinstance(letter, str) for letter in queued):
        return Verdict(False, f"each letter goes in quotes, e.g. ['a']; you gave {queued!r:.60}.")
    letters = {letter.strip().lower() for letter in queued}
    unknown = sorted(letters - set(WHY_QUEUED))
    if unknown:
        return Verdict(False, f"{unknown} are not among the letters a to e.")
    if not letters:
        return Verdict(False, "the list is empty: three of the five statements wait.")
    wrong = sorted(letters - QUEUED)
    if wrong:
        return Verdict(False, f"not {wrong[0]}: {WHY_QUEUED[wrong[0]]}.")
    missing = sorted(QUEUED - letters)
    if missing:
        return Verdict(False, f"{missing[0]} waits too: {WHY_QUEUED[missing[0]]}.")
    return Verdict(True, "a, b and e queue behind the waiting ALTER; c touches another table, and d's report holds "
                         "its lock already.")


@contextmanager
def _scratch_table():
    """An engine whose search_path is a new schema holding ``shop_orders`` (3 rows); dropped afterwards.

    Server-side safety nets: a 3 s lock_timeout unless the learner sets their own, and a 20 s statement_timeout.
    """
    url = postgres_url()
    schema = f"lesson15_check_{uuid.uuid4().hex[:12]}"  # our own name, never the learner's input
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool,
                          connect_args={"connect_timeout": 5, "options": "-clock_timeout=10s"})
    options = f"-csearch_path={schema} -clock_timeout=3s -cstatement_timeout=20s"
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5, "options": options})
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE shop_orders (order_id INTEGER PRIMARY KEY)"))
            conn.execute(text("INSERT INTO shop_orders VALUES (1), (2), (3)"))
        yield engine
    finally:
        engine.dispose()
        try:
            with admin.connect() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        except DBAPIError:
            pass  # no server: nothing was created
        admin.dispose()


def _call_patiently(function, arguments, lift_lock):
    """Run ``function(*arguments)`` in a thread; after PATIENCE_SECONDS call ``lift_lock`` so it can finish."""
    box = {}

    def run():
        started = time.perf_counter()
        try:
            box["result"] = function(*arguments)
        except Exception as error:  # the learner's code may raise anything
            box["error"] = error
        box["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(PATIENCE_SECONDS)
    if thread.is_alive():
        lift_lock()
        thread.join(30)
    return box.get("result"), box.get("error"), box.get("seconds", float("inf"))


def _is_lock_timeout(error) -> bool:
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE


def _columns(engine) -> list[str]:
    return [column["name"] for column in inspect(engine).get_columns("shop_orders")]


def _check_while_locked(engine, try_migration) -> Verdict | None:
    with engine.connect() as blocker:
        blocker.execute(text("SELECT count(*) FROM shop_orders"))  # holds ACCESS SHARE until rolled back
        result, error, seconds = _call_patiently(
            try_migration, (engine, "ALTER TABLE shop_orders ADD COLUMN note TEXT"), blocker.rollback)
        blocker.rollback()
    if seconds > 1.5:
        return Verdict(False, f"while another session read the table, your function waited {seconds:.1f} s. "
                              "Set lock_timeout to 200 ms in its transaction: SET LOCAL lock_timeout = '200ms'.")
    if _is_lock_timeout(error):
        return Verdict(False, "the lock timeout escaped as an error: catch it and return 'busy' "
                              "(its error.orig.sqlstate is '55P03').")
    if error is not None:
        return Verdict(False, f"while another session read the table, {explain_error(error)}.")
    if result != "busy":
        return Verdict(False, f"while another session read the table, it should return 'busy'; it returned {result!r}.")
    return None


def _check_when_free(engine, try_migration) -> Verdict | None:
    try:
        result = try_migration(engine, "ALTER TABLE shop_orders ADD COLUMN note TEXT")
    except Exception as error:
        return Verdict(False, f"with no other session about, {explain_error(error)}.")
    if result != "done":
        return Verdict(False, f"with no other session about, it should return 'done'; it returned {result!r}.")
    if "note" not in _columns(engine):
        return Verdict(False, "it returned 'done' but the column is not there: the ALTER TABLE was not committed "
                              "(or not run). engine.begin() commits at the end of its block.")
    return None


def _check_other_errors(engine, try_migration) -> Verdict | None:
    try:
        result = try_migration(engine, "ALTER TABLE shop_orders ADD COLUMN note TEXT")  # the column exists now
    except Exception:
        return None
    return Verdict(False, f"adding a column that exists already should raise (only a lock timeout means 'busy'); "
                          f"it returned {result!r}.")


def check_try_migration(try_migration) -> Verdict:
    """Exercise 1: run DDL with a 200 ms lock_timeout; 'busy' on a lock timeout, 'done' when it ran, else raise."""
    if not callable(try_migration):
        return Verdict(False, f"define a function try_migration(engine, sql); you gave {try_migration!r:.60}.")
    try:
        with _scratch_table() as engine:
            for step in (_check_while_locked, _check_when_free, _check_other_errors):
                problem = step(engine, try_migration)
                if problem is not None:
                    return problem
    except DBAPIError as error:
        if error.statement is not None:  # the server answered, but refused the check's own SQL
            return Verdict(False, f"the check could not prepare its scratch table: {explain_error(error)}.")
        return Verdict(False, f"no PostgreSQL server to check against ({database_words(error.orig)}); "
                              "run the lesson's first cell, it says how to start one.")
    return Verdict(True, "'busy' after 200 ms while the table is in use, 'done' when it is free, other errors raised.")
