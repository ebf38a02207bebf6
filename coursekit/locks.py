"""Sessions and locks on PostgreSQL: the harnesses lessons 15 and 16 call in one line.

Lesson 15 writes ``set_lock_timeout``, ``attempt``, ``locks_on_orders`` and ``during`` in its cells (what they show is
the lesson); lesson 16 imports them from here, where ``locks_held`` takes any table and ``during`` takes the engine and
can commit A's statement (``keep_a``). ``lock_queue`` plays lesson 15's scene in threads: a report reads ``orders``
and keeps its transaction open, a migration asks for ``ACCESS EXCLUSIVE``, the shop's sessions keep reading. Meanwhile
an observer runs the lesson's own query (``pg_stat_activity``, ``pg_locks``, ``pg_blocking_pids()``) every few
milliseconds. ``draw_timeline`` draws those samples; ``waits`` and ``longest_wait`` read the waits back from them.
Each session is named by its ``application_name`` (a tag, then "report", "migration", "shop 1"...), so the samples
name sessions, not process ids, and two copies of the lesson on one server do not see each other's sessions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pandas as pd
from matplotlib.patches import Patch
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

SHOP_QUERY = "SELECT count(*) FROM orders WHERE country = 'DE'"  # what each shop session runs, again and again
COLOURS = {"holds": "#bbbbbb", "waits": "#d62728", "runs": "#2ca02c"}


def set_lock_timeout(conn: Connection, milliseconds: int) -> None:
    """``lock_timeout`` for the rest of this transaction (``set_config(..., true)``); the value is a bound parameter."""
    conn.execute(text("SELECT set_config('lock_timeout', :value, true)"), {"value": f"{int(milliseconds)}ms"})


def attempt(conn: Connection, sql: str) -> str:
    """Run ``sql`` and commit: ``"done"``, or ``"failed: "`` and the server's first line (rolled back)."""
    try:
        conn.execute(text(sql))
        conn.commit()
        return "done"
    except DBAPIError as error:
        conn.rollback()
        return "failed: " + str(error.orig).splitlines()[0]


def locks_held(conn: Connection, table: str = "orders") -> list[str]:
    """The lock modes this session holds on ``table`` (from ``pg_locks``), sorted."""
    return sorted(set(conn.execute(text(
        "SELECT mode FROM pg_locks WHERE relation = CAST(:table AS regclass) AND pid = pg_backend_pid()"),
        {"table": table}).scalars()))


def during(engine: Engine, sql_a: str, sql_b: str, keep_a: bool = False, timeout_ms: int = 200):
    """Session A runs ``sql_a`` and keeps its transaction open while B tries ``sql_b`` under a lock_timeout.

    Returns A's locks on ``orders`` and B's outcome; then A rolls back (or commits, with ``keep_a``).
    """
    with engine.connect() as session_a, engine.connect() as session_b:
        session_a.execute(text(sql_a))
        held_by_a = locks_held(session_a)
        set_lock_timeout(session_b, timeout_ms)
        outcome_b = attempt(session_b, sql_b)
        if keep_a:
            session_a.commit()
    return held_by_a, outcome_b


def _session_engine(url: str, schema: str, name: str) -> Engine:
    # A session's own engine: its name in pg_stat_activity, and a statement_timeout so that nothing waits forever.
    options = f"-csearch_path={schema} -cstatement_timeout=20s"
    return create_engine(url, poolclass=NullPool, connect_args={"options": options, "application_name": name})


def _report(engine: Engine, seconds: float) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM orders"))  # takes ACCESS SHARE, kept until the transaction ends
        time.sleep(seconds)
        conn.commit()


def _shop(engine: Engine, until: threading.Event, pause: float) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        while not until.is_set():
            conn.execute(text(SHOP_QUERY))
            time.sleep(pause)


def _keeping_errors(errors: list, target: Callable, *arguments) -> None:
    try:
        target(*arguments)
    except Exception as error:
        errors.append(error)


def _sample(engine: Engine, sql: str, tag: str, until: threading.Event, every: float, into: list) -> None:
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # a fresh snapshot each time
        while not until.is_set():
            seconds = time.perf_counter() - started
            for row in conn.execute(text(sql), {"tag": tag}).mappings():
                into.append({"seconds": seconds, **row})
            time.sleep(every)


def lock_queue(url: str, schema: str, migrate: Callable[[Engine], str], sample_sql: str, report_seconds: float = 1.2,
               shops: int = 3, every: float = 0.005) -> pd.DataFrame:
    """Play the scene and return what the observer saw: one row per session and sample.

    At 0 s the report reads ``orders`` and keeps its transaction open for ``report_seconds``; at 0.2 s
    ``migrate(engine)`` starts, on an engine of its own named "migration"; from 0.3 s ``shops`` sessions run
    SHOP_QUERY every 50 ms until the migration has returned and the report has ended. ``sample_sql`` is run every
    ``every`` seconds with ``:tag`` bound to the prefix of this scene's session names; it must return the columns
    ``session``, ``state``, ``waiting``, ``wants`` and ``blocked_by`` (names of blocking sessions).
    Returns columns ``seconds``, ``session``, ``doing`` ("holds", "waits" or "runs"), ``wants``, ``blocked_by`` (the
    blockers' names, joined by ", "), and the migration's result in ``.attrs["migration"]``.
    """
    tag = f"{schema}:"
    named = {name: _session_engine(url, schema, tag + name)
             for name in ("report", "migration", *(f"shop {n}" for n in range(1, shops + 1)))}
    observer = create_engine(url, poolclass=NullPool)
    stop_sampling, stop_shop, rows, result, errors = threading.Event(), threading.Event(), [], {}, []

    def thread(target, *arguments):  # an error in a thread is raised again by lock_queue, after the scene
        return threading.Thread(target=_keeping_errors, args=(errors, target, *arguments))

    sampler = thread(_sample, observer, sample_sql, tag, stop_sampling, every, rows)
    report = thread(_report, named["report"], report_seconds)
    migration = thread(lambda: result.update(migration=migrate(named["migration"])))
    shop = [thread(_shop, named[f"shop {n}"], stop_shop, 0.05) for n in range(1, shops + 1)]
    sampler.start()
    report.start()
    time.sleep(0.2)
    migration.start()
    time.sleep(0.1)
    for thread in shop:
        thread.start()
    for thread in (migration, report):
        thread.join(30)
    time.sleep(0.1)  # the shop goes on a little after everyone is done
    stop_shop.set()
    for thread in shop:
        thread.join(30)
    stop_sampling.set()
    sampler.join(30)
    for engine in (*named.values(), observer):
        engine.dispose()
    if errors:
        raise errors[0]
    return _tidy(pd.DataFrame(rows), tag, result.get("migration"))


def _doing(state, waiting) -> str | None:
    # pg_stat_activity's state is NULL (NaN here) for a session still starting up: not yet anything to draw.
    if pd.notna(waiting) and waiting:
        return "waits"
    if state == "active":
        return "runs"
    if isinstance(state, str) and state.startswith("idle in transaction"):
        return "holds"
    return None


def _tidy(samples: pd.DataFrame, tag: str, migration_result) -> pd.DataFrame:
    samples = samples.assign(
        session=samples["session"].str.removeprefix(tag),
        blocked_by=[", ".join(sorted(name.removeprefix(tag) for name in names or ()))
                    for names in samples["blocked_by"]],
        doing=[_doing(state, waiting) for state, waiting in zip(samples["state"], samples["waiting"], strict=True)])
    samples = samples.dropna(subset=["doing"])[["seconds", "session", "doing", "wants", "blocked_by"]]
    samples = samples.reset_index(drop=True)
    samples.attrs["migration"] = migration_result
    return samples


def _names(blocked_by: str) -> set[str]:
    return set(filter(None, blocked_by.split(", ")))


def intervals(samples: pd.DataFrame, doing: str) -> pd.DataFrame:
    """Each stretch of time a session spent ``doing`` one thing: session, start, end, seconds, blocked_by.

    A stretch ends at the first sample that no longer shows it (so it is known to within one sampling period).
    """
    ticks = sorted(samples["seconds"].unique())
    next_tick = dict(zip(ticks, [*ticks[1:], ticks[-1]], strict=True))
    stretches = []
    for session, rows in samples.groupby("session", sort=False):
        current = None
        for seconds, what, blockers in zip(rows["seconds"], rows["doing"], rows["blocked_by"], strict=True):
            if what == doing and current is not None and current["end"] == seconds:
                current["end"], current["blocked_by"] = next_tick[seconds], current["blocked_by"] | _names(blockers)
            elif what == doing:
                current = {"session": session, "start": seconds, "end": next_tick[seconds],
                           "blocked_by": _names(blockers)}
                stretches.append(current)
            else:
                current = None
    table = pd.DataFrame(stretches, columns=["session", "start", "end", "blocked_by"])
    table["blocked_by"] = [", ".join(sorted(names)) for names in table["blocked_by"]]
    return table.assign(seconds=table["end"] - table["start"])[["session", "start", "end", "seconds", "blocked_by"]]


def waits(samples: pd.DataFrame) -> pd.DataFrame:
    """Every wait for a lock seen in the samples, longest first, with who blocked it (for reading, not only seeing)."""
    return intervals(samples, "waits").sort_values("seconds", ascending=False, kind="stable").reset_index(drop=True)


def longest_wait(samples: pd.DataFrame, who: str = "shop") -> float:
    """The longest single wait (seconds) of the sessions whose names start with ``who``; 0 if none waited."""
    found = waits(samples)
    found = found[found["session"].str.startswith(who)]
    return float(found["seconds"].max()) if len(found) else 0.0


def draw_timeline(samples: pd.DataFrame, ax, title: str) -> None:
    """One row per session: grey while it holds an open transaction, red while it waits, green while it runs.

    An arrow goes from each blocker to the session it keeps waiting, at the start of every wait of 50 ms or more.
    """
    sessions = sorted(samples["session"].unique(), key=lambda name: (name.startswith("shop"), name != "report", name))
    row = {name: len(sessions) - 1 - index for index, name in enumerate(sessions)}
    for doing, colour in COLOURS.items():
        for stretch in intervals(samples, doing).itertuples():
            ax.broken_barh([(stretch.start, stretch.seconds)], (row[stretch.session] - 0.35, 0.7), color=colour)
    for stretch in waits(samples).itertuples():
        for blocker in _names(stretch.blocked_by):
            if stretch.seconds >= 0.05 and blocker in row:
                ax.annotate("", xy=(stretch.start, row[stretch.session]), xytext=(stretch.start, row[blocker]),
                            arrowprops={"arrowstyle": "->", "color": "black", "lw": 0.8})
    ax.set_yticks(list(row.values()), list(row))
    ax.set_title(title, loc="left")
    ax.set_xlabel("seconds")
    ax.set_xlim(left=0)
    ax.legend(handles=[Patch(color=colour, label=doing) for doing, colour in COLOURS.items()],
              loc="lower right", bbox_to_anchor=(1, 1), ncols=3, fontsize="small", frameon=False)
