"""coursekit.locks: the waits read back from samples, the timeline drawn from them, and lesson 15's scene played on
the course's own PostgreSQL (a migration that waits makes the shop wait; one under a lock_timeout does not)."""

import secrets
import time

import matplotlib
import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from coursekit.dataset import generate_orders, insert_orders
from coursekit.locks import (
    _tidy,
    attempt,
    draw_timeline,
    during,
    intervals,
    lock_queue,
    locks_held,
    longest_wait,
    set_lock_timeout,
    waits,
)
from coursekit.order_steps import CREATE_ORDERS
from coursekit.pgserver import embedded_url

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

WHO_WAITS = """
SELECT a.application_name AS session, a.state, a.wait_event_type = 'Lock' AS waiting,
       (SELECT l.mode FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted LIMIT 1) AS wants,
       ARRAY(SELECT b.application_name FROM pg_stat_activity b
             WHERE b.pid = ANY (pg_blocking_pids(a.pid))) AS blocked_by
FROM pg_stat_activity a WHERE starts_with(a.application_name, :tag)"""
ADD_NOTE = "ALTER TABLE orders ADD COLUMN IF NOT EXISTS note TEXT"


def sample(rows):
    return pd.DataFrame(rows, columns=["seconds", "session", "doing", "wants", "blocked_by"])


SAMPLES = sample([
    (0.00, "report", "holds", None, ""), (0.01, "report", "holds", None, ""), (0.02, "report", "holds", None, ""),
    (0.01, "migration", "waits", "AccessExclusiveLock", "report"),
    (0.02, "migration", "waits", "AccessExclusiveLock", "report"),
    (0.01, "shop 1", "waits", "AccessShareLock", "migration"), (0.02, "shop 1", "runs", None, ""),
    (0.03, "shop 1", "waits", "AccessShareLock", "migration"),  # a second wait, after a gap
    (0.04, "shop 1", "runs", None, ""),
])


def test_a_wait_lasts_from_its_first_sample_to_the_next_sample_that_no_longer_shows_it():
    found = waits(SAMPLES)
    assert found.to_dict("records")[0] == pytest.approx(
        {"session": "migration", "start": 0.01, "end": 0.03, "seconds": 0.02, "blocked_by": "report"})
    shop = found[found["session"] == "shop 1"]
    assert sorted(shop["start"]) == [0.01, 0.03] and list(shop["seconds"]) == pytest.approx([0.01, 0.01])
    assert longest_wait(SAMPLES, "shop") == pytest.approx(0.01)
    assert longest_wait(SAMPLES, "nobody") == 0.0


def test_holding_is_one_stretch_and_blockers_of_one_wait_are_joined():
    assert intervals(SAMPLES, "holds")[["session", "start"]].values.tolist() == [["report", 0.0]]
    both = sample([(0.0, "shop 1", "waits", None, "migration"), (0.01, "shop 1", "waits", None, "migration, report"),
                   (0.02, "shop 1", "runs", None, "")])
    assert waits(both)["blocked_by"].tolist() == ["migration, report"]


def test_the_timeline_has_a_row_per_session_and_an_arrow_per_long_enough_wait():
    long_waits = sample([(t / 100, "migration", "waits", None, "report") for t in range(10)]
                        + [(t / 100, "report", "holds", None, "") for t in range(11)])
    fig, ax = plt.subplots()
    draw_timeline(long_waits, ax, "test")
    assert [label.get_text() for label in ax.get_yticklabels()] == ["report", "migration"]
    assert len(ax.texts) == 1, "one wait of 50 ms or more, one arrow from its blocker"
    plt.close(fig)


def test_a_session_still_starting_up_is_left_out_and_names_lose_the_scenes_tag():
    raw = pd.DataFrame([(0.0, "t:report", "idle in transaction", False, None, []),
                        (0.0, "t:shop 1", None, None, None, None),  # pg_stat_activity's state is NULL at start-up
                        (0.0, "t:migration", "active", True, "AccessExclusiveLock", ["t:report"]),
                        (0.0, "t:shop 2", "idle", False, None, [])],
                       columns=["seconds", "session", "state", "waiting", "wants", "blocked_by"])
    tidy = _tidy(raw, "t:", "done")
    assert tidy[["session", "doing", "blocked_by"]].values.tolist() == [["report", "holds", ""],
                                                                       ["migration", "waits", "report"]]
    assert tidy.attrs["migration"] == "done"


@pytest.fixture
def shop_schema():
    url, schema = embedded_url(), f"locks_test_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, generate_orders(2_000))
    yield url, schema, engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.mark.server
def test_during_and_attempt_report_the_locks_and_the_timeout(shop_schema):
    _, _, engine = shop_schema
    held, outcome = during(engine, "SELECT count(*) FROM orders", ADD_NOTE)
    assert held == ["AccessShareLock"] and outcome == "failed: canceling statement due to lock timeout"
    with engine.connect() as conn:
        set_lock_timeout(conn, 100)
        assert attempt(conn, ADD_NOTE) == "done"
        assert locks_held(conn) == []  # committed: nothing held any more


def waits_as_long_as_it_takes(engine):
    with engine.connect() as conn:
        return attempt(conn, ADD_NOTE)


def gives_up_and_retries(engine, pause=0.1):
    for _ in range(8):
        with engine.connect() as conn:
            set_lock_timeout(conn, 100)
            if attempt(conn, ADD_NOTE) == "done":
                return "done"
        time.sleep(pause)
        pause *= 2
    return "gave up"


@pytest.mark.server
def test_the_shop_waits_behind_a_waiting_migration_and_not_behind_one_that_gives_up(shop_schema):
    url, schema, _ = shop_schema
    queued = lock_queue(url, schema, waits_as_long_as_it_takes, WHO_WAITS)
    retried = lock_queue(url, schema, gives_up_and_retries, WHO_WAITS)
    assert queued.attrs["migration"] == retried.attrs["migration"] == "done"
    blockers = waits(queued).groupby("session")["blocked_by"].agg(set).to_dict()
    assert blockers == {"migration": {"report"}, "shop 1": {"migration"}, "shop 2": {"migration"},
                        "shop 3": {"migration"}}
    wants = queued.dropna(subset=["wants"]).groupby("session")["wants"].agg(set).to_dict()
    assert wants["migration"] == {"AccessExclusiveLock"} and wants["shop 1"] == {"AccessShareLock"}
    assert longest_wait(queued) > 0.6 and longest_wait(retried) < 0.45


@pytest.mark.server
def test_an_error_in_the_scene_is_raised_after_it(shop_schema):
    url, schema, _ = shop_schema

    def broken(engine):
        raise ValueError("the migration broke")

    with pytest.raises(ValueError, match="the migration broke"):
        lock_queue(url, schema, broken, WHO_WAITS, report_seconds=0.2)
