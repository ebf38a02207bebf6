"""Lesson 23's harness on MariaDB: finding the server (or saying how to get one), and the metadata-lock scene.

``find_mariadb`` returns an engine on the lesson's own database, or ``None`` and why not, in the driver's words;
``SKIPPED`` is what each of the lesson's MariaDB cells prints when none answers; ``attempt`` runs a statement and
returns "done" or the server's refusal in its own words. ``mdl_scene`` plays lesson 15's scene
on MariaDB in threads: a report reads ``orders`` and keeps its transaction open (and so its shared metadata lock), a
migration runs ``migrate(engine)``, and the shop's sessions keep reading. Meanwhile an observer runs the lesson's own
query on ``information_schema.processlist`` every few milliseconds. The samples have the columns that
:mod:`coursekit.locks` draws and reads (``draw_timeline``, ``waits``, ``longest_wait``). Every session waits for a
lock at most ``lock_wait_timeout`` = 20 s and every thread is joined with a time limit, so no cell can hang.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

DEFAULT_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
SHOP_QUERY = "SELECT count(*) FROM orders WHERE country = 'DE'"
MAX_WAIT_SECONDS = 20  # every session of the scene: lock_wait_timeout, so nothing waits forever
HOW_TO_GET = ("To get one: on Binder a MariaDB starts with the session (give it a minute); on Debian or Ubuntu "
              "`sudo apt-get install mariadb-server`, then a database named test; or a server of your own: "
              "%env MARIADB_URL=mysql+pymysql://user:password@host/test. Then run the set-up cell again.")
SKIPPED = "Skipped: no MariaDB answers (see the set-up cell). " + HOW_TO_GET


def attempt(conn, sql: str) -> str:
    """Run ``sql`` and commit: ``"done"``, or ``"refused: "`` and the server's own words (then roll back).

    Lesson 15's ``attempt`` for both servers: PyMySQL's error carries (code, message), psycopg's (message,).
    """
    try:
        conn.execute(text(sql))
        conn.commit()
        return "done"
    except DBAPIError as error:
        conn.rollback()
        return "refused: " + _words(error)


def mariadb_url() -> str:
    """``MARIADB_URL`` if set, else root without a password at 127.0.0.1:3306, database ``test``."""
    return os.environ.get("MARIADB_URL") or DEFAULT_URL


def _words(error: DBAPIError) -> str:
    return str(error.orig.args[-1] if error.orig.args else error.orig).splitlines()[0]  # the driver's own words


def _bounded(pool: bool = True) -> dict:
    """Engine settings under which no session waits for a lock more than MAX_WAIT_SECONDS, nor more than 60 s for
    the server's answer."""
    bounded = f"SET SESSION lock_wait_timeout = {MAX_WAIT_SECONDS}"
    options = {"connect_args": {"connect_timeout": 5, "read_timeout": 60, "init_command": bounded}}
    return options if pool else {**options, "poolclass": NullPool}


def session_engine(url) -> Engine:
    """An engine without a pool whose sessions wait for a lock at most MAX_WAIT_SECONDS."""
    return create_engine(url, **_bounded(pool=False))


def find_mariadb(database: str, url: str | None = None) -> tuple[Engine | None, str]:
    """A fresh, empty database ``database`` on the MariaDB at ``url`` and an engine on it, with the server's version;
    or None and why not (no server, or no driver). Its sessions wait for a lock at most MAX_WAIT_SECONDS.

    Raises RuntimeError when the server answers but cannot make the database (another session keeps it in use).
    """
    url = url or mariadb_url()
    try:
        admin = session_engine(url)
        with admin.connect() as conn:
            version = conn.execute(text("SELECT version()")).scalar_one()
    except DBAPIError as error:
        return None, f"No answer from MariaDB at MARIADB_URL: {_words(error)}\n{HOW_TO_GET}"
    except Exception as error:  # a malformed URL, a driver that is not installed
        return None, f"Cannot use MARIADB_URL ({url!r}): {error}\n{HOW_TO_GET}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {database}"))
            conn.execute(text(f"CREATE DATABASE {database}"))
    except DBAPIError as error:
        raise RuntimeError(f"MariaDB answers but could not make the database {database} afresh: {_words(error)}. "
                           "Is another session using it (another copy of this lesson)? Restart its kernel, then run "
                           "this cell again.") from None
    return create_engine(make_url(url).set(database=database), **_bounded()), version


def _report(engine: Engine, seconds: float, ids: dict, started: float, window: list,
            holding: threading.Event) -> None:
    with engine.connect() as conn:
        ids[conn.execute(text("SELECT connection_id()")).scalar_one()] = "report"
        conn.execute(text("SELECT count(*) FROM orders"))  # its transaction holds a shared metadata lock until the end
        window.append(time.perf_counter() - started)
        holding.set()
        time.sleep(seconds)
        conn.commit()
        window.append(time.perf_counter() - started)


def _shop(engine: Engine, name: str, until: threading.Event, pause: float, ids: dict) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        ids[conn.execute(text("SELECT connection_id()")).scalar_one()] = name
        while not until.is_set():
            conn.execute(text(SHOP_QUERY))
            time.sleep(pause)


def _migration(engine: Engine, migrate: Callable[[Engine], str], result: dict) -> None:
    result["migration"] = migrate(engine)  # every connection it opens is the migration's (the others are named)


def _keeping_errors(errors: list, target: Callable, *arguments) -> None:
    try:
        target(*arguments)
    except Exception as error:
        errors.append(error)


def _sample(engine: Engine, sql: str, database: str, until: threading.Event, every: float, into: list,
            ids: dict, started: float) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        ids[conn.execute(text("SELECT connection_id()")).scalar_one()] = None  # the observer: not drawn
        while not until.is_set():
            seconds = time.perf_counter() - started
            for row in conn.execute(text(sql), {"db": database}).mappings():
                into.append({"seconds": seconds, **{key.lower(): value for key, value in row.items()}})
            time.sleep(every)


def mdl_scene(engine: Engine, migrate: Callable, sample_sql: str, report_seconds: float = 2.5, shops: int = 3,
              every: float = 0.01) -> pd.DataFrame:
    """Play the scene on MariaDB and return what the observer saw: one row per session and sample.

    First the report reads ``orders`` and keeps its transaction open for ``report_seconds``; 0.2 s after its read
    ``migrate(engine)`` starts on a connection of its own; 0.1 s later ``shops`` sessions run SHOP_QUERY every 50 ms
    until the migration has returned and the report has ended. ``sample_sql`` runs every ``every`` seconds with
    ``:db`` bound to the database's name; it returns at least ``id`` (the connection id), ``command`` and ``state``.
    Returns ``seconds``, ``session``, ``doing`` ("holds", "waits" or "runs"), ``wants`` (what a waiting session's
    state says it waits for), ``blocked_by`` (empty: the processlist does not say who holds a lock), ``command``,
    ``state`` and the query's other columns, and the migration's result in ``.attrs["migration"]``. The processlist
    shows the report's open transaction as ``Sleep``; "holds" comes from the report's own clock (from its read to its
    commit), not from the server.
    """
    database = engine.url.database
    sessions, observer = session_engine(engine.url), session_engine(engine.url)
    stop_sampling, stop_shop, rows, result, errors, ids = (threading.Event(), threading.Event(), [], {}, [], {})
    started, window = time.perf_counter(), []  # the report's open transaction: from its read to its commit

    def thread(target, *arguments):  # an error in a thread is raised again after the scene
        return threading.Thread(target=_keeping_errors, args=(errors, target, *arguments), daemon=True)

    sampler = thread(_sample, observer, sample_sql, database, stop_sampling, every, rows, ids, started)
    holding = threading.Event()
    report = thread(_report, sessions, report_seconds, ids, started, window, holding)
    migration = thread(_migration, sessions, migrate, result)
    shop = [thread(_shop, sessions, f"shop {n}", stop_shop, 0.05, ids) for n in range(1, shops + 1)]
    sampler.start()
    report.start()
    holding.wait(MAX_WAIT_SECONDS)  # the report has read: from now on it holds its metadata lock
    time.sleep(0.2)
    migration.start()
    time.sleep(0.1)
    for each in shop:
        each.start()
    for each in (migration, report):
        each.join(MAX_WAIT_SECONDS + 10)
    time.sleep(0.1)  # the shop goes on a little after everyone is done
    stop_shop.set()
    for each in shop:
        each.join(MAX_WAIT_SECONDS + 10)
    stop_sampling.set()
    sampler.join(10)
    for each in (sessions, observer):
        each.dispose()
    if errors:
        raise errors[0]
    return _tidy(pd.DataFrame(rows), ids, window, result.get("migration"))


def _doing(session, command, state, seconds, window) -> str | None:
    if isinstance(state, str) and state.startswith("Waiting for") and "lock" in state:
        return "waits"
    if command == "Query":
        return "runs"
    if session == "report" and len(window) == 2 and window[0] <= seconds <= window[1]:
        return "holds"  # the processlist shows it as Sleep: the report's own clock says its transaction is open
    return None


def _tidy(samples: pd.DataFrame, ids: dict, window: list, migration_result) -> pd.DataFrame:
    samples = samples.assign(session=[ids.get(number, "migration") for number in samples["id"]])
    samples = samples.dropna(subset=["session"])  # the observer itself
    samples = samples.assign(
        doing=[_doing(*values, window) for values in zip(samples["session"], samples["command"], samples["state"],
                                                         samples["seconds"], strict=True)],
        wants=[state.removeprefix("Waiting for ") if isinstance(state, str) and state.startswith("Waiting for")
               else None for state in samples["state"]],
        blocked_by="")
    columns = ["seconds", "session", "doing", "wants", "blocked_by", "command", "state"]
    samples = samples.dropna(subset=["doing"])[[*columns, *samples.columns.difference([*columns, "id"])]]
    samples = samples.reset_index(drop=True)
    samples.attrs["migration"] = migration_result
    return samples
