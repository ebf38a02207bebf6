"""Failures injected part-way through every migration step leave the database exactly as before the step.

Kinds of fault, in both directions of every step: an exception after k of the step's statements; the database
interrupted after n rows' worth of work inside a statement, or its k-th row write refused by a trigger (the backfill,
the rebuild's copy); the connection closed or lost at any statement of the step's transaction, or the process killed
before commit, on a file-backed database checked from a new connection; the rebuild with foreign keys on. Then
lesson 06's batched backfill, taken from the notebook's cells, resumed after faults. No row may be lost.
"""

import functools
import itertools
import subprocess
import sys

import nbformat
import pytest
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.pool import NullPool

from coursekit.dataset import generate_orders, insert_orders
from coursekit.migrations import MigrationError, Migrator, Step
from coursekit.order_steps import CREATE_ORDERS, ORDER_STEPS
from coursekit.schema import rules_frame, schema_frame
from coursekit.verify import table_fingerprint
from tests.conftest import REPO

ROWS = 500
ALL_COLUMNS = ("order_id", "customer_id", "country", "ordered_at", "amount", "shipped_at", "refunded_at")
FAILING_STATEMENT = "SELECT * FROM an_injected_fault"


def shop(url="sqlite:///:memory:"):
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, generate_orders(ROWS))
    return engine


def state(engine):
    """Everything a failed step must leave untouched: schema, rules, every row of every column, the version."""
    with engine.connect() as conn:
        columns = [c["name"] for c in inspect(conn).get_columns("orders")]
        fingerprint = table_fingerprint(conn, "orders", tuple(columns))
        tables = sorted(inspect(conn).get_table_names())
    version = Migrator(engine, ORDER_STEPS).current()
    return (schema_frame(engine).to_dict("records"), rules_frame(engine).to_dict("records"), fingerprint, tables,
            version)


def with_fault(step_number, direction, after):
    """ORDER_STEPS with one step's statements cut after ``after`` and followed by a failing statement."""
    step = ORDER_STEPS[step_number - 1]
    statements = step.statements(direction, "sqlite")
    broken = (*statements[:after], FAILING_STATEMENT)
    faulty = Step(step.name, broken if direction == "upgrade" else step.upgrade,
                  broken if direction == "downgrade" else step.downgrade)
    return tuple(faulty if number == step_number else s for number, s in enumerate(ORDER_STEPS, 1))


def statement_faults():
    for number, step in enumerate(ORDER_STEPS, 1):
        for direction in ("upgrade", "downgrade"):
            for after in range(len(step.statements(direction, "sqlite")) + 1):
                yield pytest.param(number, direction, after, id=f"step{number}-{direction}-after{after}")


@pytest.mark.parametrize("number, direction, after", list(statement_faults()))
def test_an_exception_after_k_statements_changes_nothing(number, direction, after):
    engine = shop()
    Migrator(engine, ORDER_STEPS).go_to(number - 1 if direction == "upgrade" else number)
    before = state(engine)
    migrator = Migrator(engine, with_fault(number, direction, after))
    with pytest.raises(MigrationError, match="an_injected_fault"):
        migrator.go_to(number if direction == "upgrade" else number - 1)
    assert state(engine) == before


TICK = 50  # SQLite calls the progress handler every TICK virtual-machine instructions


def work_of_step(number, direction):
    """How many ticks of SQLite work the step takes when nothing goes wrong."""
    engine = shop()
    Migrator(engine, ORDER_STEPS).go_to(number - 1 if direction == "upgrade" else number)
    ticks = []
    driver = engine.raw_connection().driver_connection
    driver.set_progress_handler(lambda: ticks.append(1) and 0, TICK)
    Migrator(engine, ORDER_STEPS).go_to(number if direction == "upgrade" else number - 1)
    driver.set_progress_handler(None, 0)
    return len(ticks)


@pytest.mark.parametrize("number, direction", [(2, "upgrade"), (2, "downgrade"), (3, "upgrade"), (3, "downgrade")])
@pytest.mark.parametrize("fraction", [0.1, 0.4, 0.7, 0.95])
def test_interrupted_inside_a_statement_changes_nothing(number, direction, fraction):
    """Steps 2 (backfill) and 3 (rebuild) stopped part-way through their rows: SQLite aborts the statement."""
    stop_at = max(1, int(work_of_step(number, direction) * fraction))
    engine = shop()
    Migrator(engine, ORDER_STEPS).go_to(number - 1 if direction == "upgrade" else number)
    before = state(engine)
    ticks = []
    driver = engine.raw_connection().driver_connection
    driver.set_progress_handler(lambda: int(ticks.append(1) or len(ticks) >= stop_at), TICK)
    with pytest.raises(MigrationError, match="interrupted"):
        Migrator(engine, ORDER_STEPS).go_to(number if direction == "upgrade" else number - 1)
    driver.set_progress_handler(None, 0)
    assert state(engine) == before


@pytest.mark.parametrize("number, direction", list(itertools.product(range(1, 5), ("upgrade", "downgrade"))))
def test_a_connection_closed_mid_step_leaves_the_file_as_before(tmp_path, number, direction):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = shop(url)
    Migrator(engine, ORDER_STEPS).go_to(number - 1 if direction == "upgrade" else number)
    before = state(engine)
    closed = []
    last_statement = ORDER_STEPS[number - 1].statements(direction, "sqlite")[-1]

    @event.listens_for(engine, "before_cursor_execute")
    def close_before_the_last_statement(conn, cursor, statement, parameters, context, executemany):
        if statement == last_statement:
            conn.connection.driver_connection.close()  # the connection dies with the step half done
            closed.append(statement)

    with pytest.raises(Exception):  # noqa: B017 - whatever the driver says about a closed connection
        Migrator(engine, ORDER_STEPS).go_to(number if direction == "upgrade" else number - 1)
    event.remove(engine, "before_cursor_execute", close_before_the_last_statement)
    engine.dispose()
    assert closed == [last_statement], "the fault was injected"
    assert state(create_engine(url)) == before


# --- A failure at every statement of the step's transaction, on a file, checked from a new connection ---------

def statements_in_the_step_transaction(url, number, direction):
    """The SQL the step's transaction runs from its first statement on (then the version's), by a dry run."""
    engine = shop(url)
    Migrator(engine, ORDER_STEPS).go_to(number - 1 if direction == "upgrade" else number)
    seen = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    Migrator(engine, ORDER_STEPS).go_to(number if direction == "upgrade" else number - 1)
    engine.dispose()
    return seen[seen.index(ORDER_STEPS[number - 1].statements(direction, "sqlite")[0]):]


def transaction_faults():
    for number, direction in itertools.product(range(1, 5), ("upgrade", "downgrade")):
        step_statements = len(ORDER_STEPS[number - 1].statements(direction, "sqlite"))
        for k in range(step_statements + 2):  # every step statement, then the version table's two
            for how in ("close", "raise"):
                yield pytest.param(number, direction, k, how, id=f"step{number}-{direction}-statement{k}-{how}")


@pytest.mark.parametrize("number, direction, k, how", list(transaction_faults()))
def test_a_connection_lost_at_any_statement_leaves_the_file_as_before(tmp_path, number, direction, k, how):
    dry_run = statements_in_the_step_transaction(f"sqlite:///{tmp_path / 'dry.db'}", number, direction)
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = shop(url)
    Migrator(engine, ORDER_STEPS).go_to(number - 1 if direction == "upgrade" else number)
    before = state(engine)
    first = ORDER_STEPS[number - 1].statements(direction, "sqlite")[0]
    seen, injected = [], []

    @event.listens_for(engine, "before_cursor_execute")
    def fail_at_statement_k(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
        if first in seen and len(seen) - seen.index(first) - 1 == k:
            injected.append(statement)
            if how == "close":
                conn.connection.driver_connection.close()  # the connection dies with the step half done
            else:
                raise ConnectionResetError("injected: the connection was lost")

    with pytest.raises(Exception):  # noqa: B017 - whatever the driver says about a closed connection
        Migrator(engine, ORDER_STEPS).go_to(number if direction == "upgrade" else number - 1)
    event.remove(engine, "before_cursor_execute", fail_at_statement_k)
    engine.dispose()
    assert injected == [dry_run[k]], "the fault hit the k-th statement of the step's transaction"
    assert state(create_engine(url)) == before


KILLER = """
import os, sys
from sqlalchemy import create_engine, event
from coursekit.migrations import Migrator
from coursekit.order_steps import ORDER_STEPS

url, number, direction, k = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
first = ORDER_STEPS[number - 1].statements(direction, "sqlite")[0]
engine = create_engine(url)
seen = []

@event.listens_for(engine, "before_cursor_execute")
def die_at_statement_k(conn, cursor, statement, parameters, context, executemany):
    seen.append(statement)
    if first in seen and len(seen) - seen.index(first) - 1 == k:
        os._exit(17)  # the process is killed: no rollback, no close, a journal left behind

Migrator(engine, ORDER_STEPS).go_to(number if direction == "upgrade" else number - 1)
"""


@pytest.mark.parametrize("number, direction", list(itertools.product(range(1, 5), ("upgrade", "downgrade"))))
def test_a_process_killed_before_commit_leaves_the_file_as_before(tmp_path, number, direction):
    """The whole step done but the version not yet stored when the process dies: the next opener rolls it back."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = shop(url)
    Migrator(engine, ORDER_STEPS).go_to(number - 1 if direction == "upgrade" else number)
    before = state(engine)
    engine.dispose()
    last_version_statement = len(ORDER_STEPS[number - 1].statements(direction, "sqlite")) + 1  # its UPDATE
    child = subprocess.run([sys.executable, "-c", KILLER, url, str(number), direction, str(last_version_statement)],
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 17, child.stderr
    assert (tmp_path / "shop.db-journal").exists(), "killed mid-transaction: the rollback journal is left behind"
    assert state(create_engine(url)) == before


# --- The k-th row write of the backfill (step 2) or the rebuild's copy (step 3) refused by a trigger -----------

ROW_FAULT_AT = (1, 2, ROWS // 2, ROWS)


def row_fault_sql(table, operation, row):
    """A temporary counter and trigger, created inside the step's transaction, that abort the ``row``-th write."""
    return (
        "CREATE TEMP TABLE injected_rows (n INTEGER)",
        f"CREATE TEMP TRIGGER injected_row_fault BEFORE {operation} ON {table} BEGIN "
        "INSERT INTO injected_rows VALUES (1); "
        f"SELECT RAISE(ABORT, 'injected fault at row {row}') WHERE (SELECT count(*) FROM injected_rows) >= {row}; "
        "END",
    )


# (step, direction): the statement that writes the rows, just before which the trigger goes in; the table it writes
ROW_WRITES = {
    (2, "upgrade"): (ORDER_STEPS[1].upgrade[0], "orders", "UPDATE"),
    (2, "downgrade"): (ORDER_STEPS[1].downgrade[0], "orders", "UPDATE"),
    (3, "upgrade"): (ORDER_STEPS[2].upgrade[1], "orders_new", "INSERT"),
    (3, "downgrade"): (ORDER_STEPS[2].downgrade[1], "orders_new", "INSERT"),
}


@pytest.mark.parametrize("number, direction", list(ROW_WRITES))
@pytest.mark.parametrize("row", ROW_FAULT_AT)
def test_the_kth_row_write_refused_changes_nothing(number, direction, row):
    engine = shop()
    Migrator(engine, ORDER_STEPS).go_to(number - 1 if direction == "upgrade" else number)
    before = state(engine)
    writing_statement, table, operation = ROW_WRITES[(number, direction)]

    @event.listens_for(engine, "before_cursor_execute")
    def add_the_trigger(conn, cursor, statement, parameters, context, executemany):
        if statement == writing_statement:
            for sql in row_fault_sql(table, operation, row):
                cursor.connection.execute(sql)

    with pytest.raises(MigrationError, match=f"injected fault at row {row}.*still at version"):
        Migrator(engine, ORDER_STEPS).go_to(number if direction == "upgrade" else number - 1)
    event.remove(engine, "before_cursor_execute", add_the_trigger)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sqlite_temp_master")).scalar_one() == 0, "trigger rolled back"
    assert state(engine) == before


# --- The rebuild (step 3) with foreign keys on: child rows survive, a fault keeps them too ---------------------

def shop_with_items(url="sqlite:///:memory:"):
    """The shop with ``PRAGMA foreign_keys=ON`` and order items that cascade when their order is deleted."""
    engine = create_engine(url)
    event.listen(engine, "connect", lambda dbapi_connection, record: dbapi_connection.execute("PRAGMA foreign_keys=ON"))
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, generate_orders(ROWS))
        conn.execute(text("CREATE TABLE order_items (item INTEGER PRIMARY KEY, "
                          "order_id TEXT NOT NULL REFERENCES orders (order_id) ON DELETE CASCADE)"))
        conn.execute(text("INSERT INTO order_items (order_id) SELECT order_id FROM orders"))
    return engine


def items(engine):
    with engine.connect() as conn:
        return (table_fingerprint(conn, "order_items", ("item", "order_id")),
                conn.execute(text("PRAGMA foreign_keys")).scalar_one(),
                conn.execute(text("PRAGMA foreign_key_check")).all())


def test_the_rebuild_with_foreign_keys_on_keeps_every_child_row():
    """DROP TABLE orders inside the rebuild would cascade to every order item; the migrator switches keys off."""
    engine = shop_with_items()
    before = items(engine)
    assert before[0]["rows"] == ROWS and before[1] == 1
    migrator = Migrator(engine, ORDER_STEPS)
    for version in (4, 2, 4, 0):
        migrator.go_to(version)
        assert items(engine) == before, f"at version {version}"


@pytest.mark.parametrize("direction", ["upgrade", "downgrade"])
@pytest.mark.parametrize("after", range(5))
def test_a_fault_in_the_rebuild_with_foreign_keys_on_changes_nothing(direction, after):
    engine = shop_with_items()
    Migrator(engine, ORDER_STEPS).go_to(2 if direction == "upgrade" else 3)
    before = state(engine), items(engine)
    with pytest.raises(MigrationError, match="an_injected_fault"):
        Migrator(engine, with_fault(3, direction, after)).go_to(3 if direction == "upgrade" else 2)
    assert (state(engine), items(engine)) == before


def test_a_step_that_would_orphan_child_rows_is_refused():
    engine = shop_with_items()
    orphaning = Step("Drop an order", ("DELETE FROM orders WHERE order_id = 'ORD-0000001'",), ("SELECT 1",))
    before = state(engine), items(engine)
    with pytest.raises(MigrationError, match="1 row.* of order_items pointing at no row of orders.*version 0"):
        Migrator(engine, (orphaning,)).upgrade()
    assert (state(engine), items(engine)) == before


# --- Lesson 06's batched backfill, as the notebook defines it, resumed after faults ----------------------------

LESSON_04 = REPO / "notebooks" / "06-backfill-in-batches.ipynb"
BACKFILL_FUNCTIONS = ("def start_job", "def backfill_batch", "def run_backfill")
BACKFILL_ROWS, BACKFILL_BATCH = 500, 40
BACKFILL_BATCHES = 13  # the last one short


def lesson_04_backfill(batch_size=BACKFILL_BATCH):
    """The lesson's settings cell and the cells that define its backfill functions, run in a fresh namespace."""
    if not LESSON_04.exists():
        pytest.skip("lesson 06 (notebooks/06-backfill-in-batches.ipynb) is not written yet")
    cells = [cell.source for cell in nbformat.read(LESSON_04, as_version=4).cells if cell.cell_type == "code"]
    wanted = [source for source in cells if "STATUS_RULE =" in source or any(f in source for f in BACKFILL_FUNCTIONS)]
    namespace = {}
    for source in wanted:
        exec(compile(source, str(LESSON_04), "exec"), namespace)  # noqa: S102 - the course's own notebook
    missing = [name for name in BACKFILL_FUNCTIONS if name.removeprefix("def ") not in namespace]
    if missing:
        pytest.skip(f"lesson 06 no longer defines {missing} in its cells")
    namespace["BATCH"] = batch_size
    namespace["tqdm"] = functools.partial(namespace["tqdm"], disable=True)
    return namespace


def backfill_shop(url):
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, generate_orders(BACKFILL_ROWS))
        conn.execute(text("ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'"))
    return engine


def backfill_state(engine, status_rule):
    """Every original column of every order, and how many orders do not (yet) have their rule's status."""
    with engine.connect() as conn:
        fingerprint = table_fingerprint(conn, "orders", ALL_COLUMNS)
        wrong = conn.execute(text(f"SELECT count(*) FROM orders WHERE status <> {status_rule}")).scalar_one()
        batches = conn.execute(text("SELECT batches FROM backfill_progress WHERE job = 'status'")).scalar()
    return fingerprint, wrong, batches


def backfill_faults():
    batches = BACKFILL_BATCHES
    for batch in (1, 2, batches // 2, batches):
        yield pytest.param("crash", batch, id=f"simulated-crash-in-batch{batch}")
    for statement in (1, 2, 3, 4, 7, 10, 20, 3 * batches - 1):
        for how in ("raise", "close"):
            yield pytest.param(how, statement, id=f"{how}-at-statement{statement}")


@pytest.mark.parametrize("how, where", list(backfill_faults()))
def test_lesson_04_backfill_resumes_after_a_fault_without_losing_a_row(tmp_path, how, where):
    backfill = lesson_04_backfill()
    engine = backfill_shop(f"sqlite:///{tmp_path / 'shop.db'}")
    with engine.connect() as conn:
        before = table_fingerprint(conn, "orders", ALL_COLUMNS)
    seen, injected = [], []

    def fail_at_statement(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
        if len(seen) == where:
            injected.append(statement)
            if how == "close":
                conn.connection.driver_connection.close()
            else:
                raise ConnectionResetError("injected: the connection was lost")

    if how != "crash":
        event.listen(engine, "before_cursor_execute", fail_at_statement)
    with pytest.raises(Exception):  # noqa: B017 - the lesson's SimulatedCrash, or whatever the driver says
        backfill["run_backfill"](engine, crash_in_batch=where if how == "crash" else None)
    if how != "crash":
        event.remove(engine, "before_cursor_execute", fail_at_statement)
        assert len(injected) == 1
    with engine.connect() as conn:
        assert table_fingerprint(conn, "orders", ALL_COLUMNS) == before, "no row lost or changed by the fault"
    backfill["run_backfill"](engine)  # resume
    assert backfill_state(engine, backfill["STATUS_RULE"]) == (before, 0, BACKFILL_BATCHES)


def test_lesson_04_backfill_survives_a_crash_in_every_run(tmp_path):
    """Crash inside the second batch of every run, again and again: each run still moves on, and it finishes."""
    backfill = lesson_04_backfill()
    engine = backfill_shop(f"sqlite:///{tmp_path / 'shop.db'}")
    with engine.connect() as conn:
        before = table_fingerprint(conn, "orders", ALL_COLUMNS)
    crashes = 0
    while True:
        try:
            backfill["run_backfill"](engine, crash_in_batch=2)
            break
        except backfill["SimulatedCrash"]:
            crashes += 1
            assert crashes < BACKFILL_BATCHES, "each run commits at least one batch"
    assert crashes == BACKFILL_BATCHES - 1  # every run but the last commits one batch, then crashes
    assert backfill_state(engine, backfill["STATUS_RULE"]) == (before, 0, BACKFILL_BATCHES)
