"""Lesson 23's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Exercise 1 (which changes MariaDB does with ``ALGORITHM=INSTANT``) needs no server; tests/test_exercises_lesson23.py
runs each of its statements on MariaDB to keep the answer key true. Exercise 2 runs the learner's function on the
lesson's MariaDB (``MARIADB_URL`` if set, else root at 127.0.0.1:3306), in a scratch database of its own (a fresh
name each time, dropped afterwards), with a second session holding a read open. The learner's function runs in a
thread that is never waited for more than a few seconds, and the check's own sessions wait for a lock at most 20 s:
the check cannot hang, even if the function waits for the lock with no limit.
"""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import contextmanager

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from coursekit.exercises import Verdict, database_words, explain_error
from coursekit.onlineddl import HOW_TO_GET, MAX_WAIT_SECONDS, mariadb_url, session_engine

LOCK_WAIT_TIMEOUT = 1205  # MariaDB's "Lock wait timeout exceeded; try restarting transaction"
PATIENCE_SECONDS = 5  # how long the check lets the learner's function wait before it lifts the lock

INSTANT = {"a", "b", "c"}
WHY_INSTANT = {
    "a": "renaming a column changes only the table's definition: INSTANT",
    "b": "adding a column, even AFTER another one, is INSTANT on MariaDB 10.4 and later",
    "c": "dropping a column is INSTANT on MariaDB 10.4 and later",
    "d": "a CHECK must read every row to check it: MariaDB refuses INSTANT and says Try ALGORITHM=COPY",
    "e": "an index is built from the rows: MariaDB refuses INSTANT (Reason: ADD INDEX. Try ALGORITHM=NOCOPY)",
}


def check_instant_changes(instant) -> Verdict:
    """Exercise 1: which changes MariaDB 10.11 accepts with ALGORITHM=INSTANT (a, b, c)."""
    if isinstance(instant, str) or not isinstance(instant, (list, tuple, set)):
        gave = f"the function {instant.__name__}" if callable(instant) else f"{instant!r:.60}"
        return Verdict(False, f"give `instant` as a list of letters, e.g. ['a']; you gave {gave}.")
    if not all(isinstance(letter, str) for letter in instant):
        return Verdict(False, f"each letter goes in quotes, e.g. ['a']; you gave {instant!r:.60}.")
    letters = {letter.strip().lower() for letter in instant}
    unknown = sorted(letters - set(WHY_INSTANT))
    if unknown:
        return Verdict(False, f"{unknown} are not among the letters a to e.")
    if not letters:
        return Verdict(False, "the list is empty: three of the five changes are instant.")
    wrong = sorted(letters - INSTANT)
    if wrong:
        return Verdict(False, f"not {wrong[0]}: {WHY_INSTANT[wrong[0]]}.")
    missing = sorted(INSTANT - letters)
    if missing:
        return Verdict(False, f"{missing[0]} is instant too: {WHY_INSTANT[missing[0]]}.")
    return Verdict(True, "renaming, adding (anywhere) and dropping a column are instant; a CHECK and an index read "
                         "the rows.")


@contextmanager
def _scratch_table(url: str | None = None):
    """An engine on a new database holding ``shop_orders`` (3 rows); the database is dropped afterwards."""
    url = url or mariadb_url()
    database = f"lesson23_check_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    engine = session_engine(make_url(url).set(database=database))
    created = False
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {database}"))
            created = True
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE shop_orders (order_id INTEGER PRIMARY KEY)"))
            conn.execute(text("INSERT INTO shop_orders VALUES (1), (2), (3)"))
        yield engine
    finally:
        engine.dispose()
        if created:
            try:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {database}"))
            except DBAPIError:
                pass  # the server went away meanwhile: nothing more to do
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
        thread.join(MAX_WAIT_SECONDS + 10)
    return box.get("result"), box.get("error"), box.get("seconds", float("inf"))


def _is_lock_wait_timeout(error) -> bool:
    args = getattr(getattr(error, "orig", None), "args", ())
    return isinstance(error, DBAPIError) and bool(args) and args[0] == LOCK_WAIT_TIMEOUT


def _columns(engine) -> list[str]:
    return [column["name"] for column in inspect(engine).get_columns("shop_orders")]


def _check_while_locked(engine, try_alter) -> Verdict | None:
    with engine.connect() as blocker:
        blocker.execute(text("SELECT count(*) FROM shop_orders"))  # holds a shared metadata lock until rolled back
        result, error, seconds = _call_patiently(
            try_alter, (engine, "ALTER TABLE shop_orders ADD COLUMN note VARCHAR(200)"), blocker.rollback)
        blocker.rollback()
    if seconds > 2.5:
        return Verdict(False, f"while another session held a read open, your function waited {seconds:.1f} s. "
                              "Wait at most one second: SET SESSION lock_wait_timeout = 1 first, or WAIT 1 in the "
                              "statement.")
    if _is_lock_wait_timeout(error):
        return Verdict(False, "the lock wait timeout escaped as an error: catch it and return 'busy' "
                              "(its error.orig.args[0] is 1205).")
    if error is not None:
        return Verdict(False, f"while another session held a read open, {explain_error(error)}.")
    if result != "busy":
        return Verdict(False, f"while another session held a read open, it should return 'busy'; it returned "
                              f"{result!r:.60}.")
    return None


def _check_when_free(engine, try_alter) -> Verdict | None:
    try:
        result = try_alter(engine, "ALTER TABLE shop_orders ADD COLUMN note VARCHAR(200)")
    except Exception as error:
        return Verdict(False, f"with no other session about, {explain_error(error)}.")
    if result != "done":
        return Verdict(False, f"with no other session about, it should return 'done'; it returned {result!r:.60}.")
    if "note" not in _columns(engine):
        return Verdict(False, "it returned 'done' but the column is not there: the ALTER TABLE was not run.")
    return None


def _check_other_errors(engine, try_alter) -> Verdict | None:
    try:
        result = try_alter(engine, "ALTER TABLE shop_orders ADD COLUMN note VARCHAR(200)")  # the column exists now
    except Exception:
        return None
    return Verdict(False, f"adding a column that exists already should raise (only a lock wait timeout means "
                          f"'busy'); it returned {result!r:.60}.")


def check_try_alter(try_alter) -> Verdict:
    """Exercise 2: run DDL waiting at most 1 s for the metadata lock; 'busy' on error 1205, 'done' when it ran."""
    if not callable(try_alter):
        return Verdict(False, f"define a function try_alter(engine, sql); you gave {try_alter!r:.60}.")
    try:
        with _scratch_table() as engine:
            for step in (_check_while_locked, _check_when_free, _check_other_errors):
                problem = step(engine, try_alter)
                if problem is not None:
                    return problem
    except DBAPIError as error:
        if error.statement is not None:  # the server answered, but refused the check's own SQL
            return Verdict(False, f"the check could not prepare its scratch table: {explain_error(error)}.")
        return Verdict(False, f"no MariaDB to check against ({database_words(error.orig)}). {HOW_TO_GET}")
    return Verdict(True, "'busy' after a second while the table is in use, 'done' when it is free, other errors "
                         "raised.")
