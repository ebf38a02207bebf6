"""The `alembic` command line on a database file: env.py's own engine, not a connection a notebook passes in.

Python's sqlite3 module runs DDL outside any transaction, and Alembic assumes non-transactional DDL on SQLite, so
an upgrade that failed in revision 0004's rebuild used to leave `_alembic_tmp_orders` behind, committed, and the
retry then failed on it. env.py makes the command line's upgrade one real transaction; these tests hold it to that.
"""

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, inspect, text

from coursekit.dataset import generate_orders, insert_orders
from tests.conftest import REPO, snapshot

ROWS = 50


def alembic(database_url, *arguments):
    """`DATABASE_URL=<url> alembic -c migrations/alembic.ini <arguments>`, run from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", "migrations/alembic.ini", *arguments],
        cwd=REPO, env={**os.environ, "DATABASE_URL": database_url}, capture_output=True, text=True, timeout=120,
    )


def version(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


@pytest.fixture
def shop_at_0003(tmp_path):
    """A database file migrated to 0003 by the command line, holding orders, one of them with the status 'lost'."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    result = alembic(url, "upgrade", "0003")
    assert result.returncode == 0, result.stderr
    engine = create_engine(url)
    with engine.begin() as conn:
        insert_orders(conn, generate_orders(ROWS))
        conn.execute(text("UPDATE orders SET status = 'lost' WHERE order_id = (SELECT min(order_id) FROM orders)"))
    yield url, engine
    engine.dispose()


def test_a_failed_upgrade_leaves_the_database_file_as_it_was(shop_at_0003):
    url, engine = shop_at_0003
    before = snapshot(engine), sorted(inspect(engine).get_table_names())

    failed = alembic(url, "upgrade", "head")

    assert failed.returncode != 0, "a 'lost' status breaks 0004's CHECK: the upgrade must fail"
    assert "CHECK constraint failed" in failed.stderr, failed.stderr[-2000:]
    assert "Will assume transactional DDL" in failed.stderr, failed.stderr[-2000:]
    inspect_after = inspect(engine)
    assert "_alembic_tmp_orders" not in inspect_after.get_table_names(), "the half-done rebuild was left behind"
    assert (snapshot(engine), sorted(inspect_after.get_table_names())) == before
    assert version(engine) == "0003"


def test_after_fixing_the_data_the_same_command_succeeds(shop_at_0003):
    url, engine = shop_at_0003
    assert alembic(url, "upgrade", "head").returncode != 0
    with engine.begin() as conn:
        conn.execute(text("UPDATE orders SET status = 'cancelled' WHERE status = 'lost'"))

    retried = alembic(url, "upgrade", "head")

    assert retried.returncode == 0, retried.stderr[-2000:]
    assert version(engine) == "0005"
    assert sorted(inspect(engine).get_table_names()) == ["alembic_version", "orders"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar_one() == ROWS
