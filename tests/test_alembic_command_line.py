"""The `alembic` command line on a database file: env.py's own engine, not a connection a notebook passes in.

Python's sqlite3 module runs DDL outside any transaction, and Alembic assumes non-transactional DDL on SQLite, so
an upgrade that failed in revision 0004's rebuild used to leave `_alembic_tmp_orders` behind, committed, and the
retry then failed on it. env.py makes the command line's upgrade one real transaction; these tests hold it to that.

The same holds for the script `--sql` writes, applied as a DBA applies it (Debian's `sqlite3` shell with `-bail`, or
Python's `executescript`); and a command that names no database refuses, saying what to set.
"""

import io
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest
from alembic import command
from sqlalchemy import create_engine, exc, inspect, text

from coursekit.alembic_setup import alembic_config
from coursekit.dataset import generate_orders, insert_orders
from tests.conftest import REPO, snapshot

ROWS = 50


def alembic(database_url, *arguments):
    """`DATABASE_URL=<url> alembic -c migrations/alembic.ini <arguments>`, run from the repository root.

    With ``database_url=None``, DATABASE_URL is not set at all."""
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    if database_url is not None:
        environment["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", "migrations/alembic.ini", *arguments],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=120,
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


def test_a_config_naming_the_file_runs_as_the_command_line_does(shop_at_0003):
    """Lesson 12 upgrades a file from Python with `alembic_config(url=...)`: env.py's own engine, one transaction."""
    url, engine = shop_at_0003
    before = snapshot(engine), sorted(inspect(engine).get_table_names())

    with pytest.raises(exc.IntegrityError, match="CHECK constraint failed"):
        command.upgrade(alembic_config(url=url), "head")

    assert (snapshot(engine), sorted(inspect(engine).get_table_names())) == before, "the failed upgrade left changes"
    assert version(engine) == "0003"


# --- The offline script, applied by a DBA -------------------------------------------------------------------------


def offline_upgrade_script():
    """What a developer hands over: `DATABASE_URL=sqlite:// alembic ... upgrade 0003:head --sql` (no database)."""
    written = alembic("sqlite://", "upgrade", "0003:head", "--sql")
    assert written.returncode == 0, written.stderr[-2000:]
    return written.stdout


def statements(script):
    """The script's SQL lines, without comments and blank lines."""
    return [line for line in script.splitlines() if line.strip() and not line.startswith("--")]


def test_the_offline_sqlite_script_is_one_transaction():
    script = offline_upgrade_script()
    assert statements(script)[0] == "BEGIN;", script[:500]
    assert statements(script)[-1] == "COMMIT;", script[-500:]
    assert script.count("BEGIN;") == script.count("COMMIT;") == 1, "one transaction for the whole script"
    assert "sqlite3 -bail" in script.splitlines()[0], "the script says how to apply it: stop at the first error"


def test_the_script_written_from_a_passed_connection_is_one_transaction_too():
    """Lesson 12 writes its offline SQL in Python: through a Config holding the notebook's own connection."""
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        config = alembic_config(conn)
        config.output_buffer = io.StringIO()
        command.upgrade(config, "0003:head", sql=True)
    engine.dispose()
    script = config.output_buffer.getvalue()
    assert (statements(script)[0], statements(script)[-1]) == ("BEGIN;", "COMMIT;"), script
    assert "sqlite3 -bail" in script.splitlines()[0]


def with_sqlite3_shell(path, script):
    """`sqlite3 -bail shop.db < upgrade.sql`: stops at the first error; its exit rolls back what was not committed."""
    if shutil.which("sqlite3") is None:
        pytest.skip("Debian's sqlite3 shell is not installed (apt-get install sqlite3; .ci/run installs it)")
    applied = subprocess.run(["sqlite3", "-bail", str(path)], input=script, capture_output=True, text=True, timeout=60)
    return applied.returncode == 0, applied.stderr


def with_executescript(path, script):
    """Python's sqlite3 module: executescript stops at the first error; closing without a commit rolls back."""
    with closing(sqlite3.connect(path)) as dba:
        try:
            dba.executescript(script)
        except sqlite3.Error as error:
            return False, str(error)
    return True, ""


def database_as_it_is(path):
    """Everything a script could change: every object's SQL, every order's every column, the version."""
    with closing(sqlite3.connect(path)) as conn:
        return {
            "schema": conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall(),
            "orders": conn.execute("SELECT * FROM orders ORDER BY order_id").fetchall(),
            "version": conn.execute("SELECT version_num FROM alembic_version").fetchall(),
        }


@pytest.mark.parametrize("apply", [with_sqlite3_shell, with_executescript], ids=["sqlite3 -bail", "executescript"])
def test_a_dba_applying_the_offline_script_to_a_bad_row_changes_nothing_and_can_retry(shop_at_0003, apply):
    url, engine = shop_at_0003
    engine.dispose()  # the DBA's tool has the file to itself
    path = url.removeprefix("sqlite:///")
    script = offline_upgrade_script()
    before = database_as_it_is(path)

    succeeded, message = apply(path, script)

    assert not succeeded, "a 'lost' status breaks 0004's CHECK: the script must stop"
    assert "CHECK constraint failed" in message, message
    after = database_as_it_is(path)
    assert "_alembic_tmp_orders" not in [name for _, name, _, _ in after["schema"]], "the half-done rebuild was left"
    assert after == before, "the failed script changed the database"

    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE orders SET status = 'cancelled' WHERE status = 'lost'")
    succeeded, message = apply(path, script)

    assert succeeded, message
    after_fix = database_as_it_is(path)
    assert after_fix["version"] == [("0005",)]
    assert sorted(name for kind, name, _, _ in after_fix["schema"] if kind == "table") == ["alembic_version", "orders"]
    assert len(after_fix["orders"]) == ROWS
    assert any(name == "ix_orders_status" for _, name, _, _ in after_fix["schema"])


def test_why_the_script_says_bail_the_shell_without_it_goes_on_and_commits_the_rest(shop_at_0003):
    url, engine = shop_at_0003
    engine.dispose()
    if shutil.which("sqlite3") is None:
        pytest.skip("Debian's sqlite3 shell is not installed (apt-get install sqlite3; .ci/run installs it)")
    path = url.removeprefix("sqlite:///")

    subprocess.run(["sqlite3", str(path)], input=offline_upgrade_script(), capture_output=True, text=True, timeout=60)

    after = database_as_it_is(path)
    assert after["version"] == [("0005",)] and after["orders"] == [], "without -bail: DROP TABLE orders, then COMMIT"


# --- A command that names no database --------------------------------------------------------------------------------


@pytest.mark.parametrize("arguments", [("upgrade", "head"), ("current",), ("downgrade", "base")])
def test_without_a_database_url_the_command_refuses_and_says_what_to_set(arguments):
    refused = alembic(None, *arguments)

    assert refused.returncode != 0, f"`alembic {' '.join(arguments)}` ran on no database: {refused.stderr[-1000:]}"
    assert "DATABASE_URL" in refused.stderr and "sqlite:///shop.db" in refused.stderr, refused.stderr[-2000:]
    assert "Traceback" not in refused.stderr, refused.stderr[-2000:]
    assert "Running upgrade" not in refused.stderr


def test_without_a_database_url_the_offline_script_refuses_and_names_the_dialects():
    refused = alembic(None, "upgrade", "head", "--sql")

    assert refused.returncode != 0, "--sql wrote SQL for a dialect nobody named"
    assert "CREATE TABLE" not in refused.stdout and "BEGIN" not in refused.stdout, "no SQL is written"
    for words in ("DATABASE_URL", "sqlite://", "postgresql"):
        assert words in refused.stderr, refused.stderr[-2000:]
    assert "Traceback" not in refused.stderr, refused.stderr[-2000:]
