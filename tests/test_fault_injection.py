"""Failures injected part-way through every migration step leave the database exactly as before the step.

Three kinds of fault, in both directions of every step: an exception after k of the step's statements;
the database interrupted after n rows' worth of work inside a statement (the backfill, the rebuild's copy);
and the connection closed mid-transaction on a file-backed database, checked from a new connection.
"""

import itertools

import pytest
from sqlalchemy import create_engine, event, inspect, text

from coursekit.dataset import generate_orders, insert_orders
from coursekit.migrations import MigrationError, Migrator, Step
from coursekit.order_steps import CREATE_ORDERS, ORDER_STEPS
from coursekit.schema import rules_frame, schema_frame
from coursekit.verify import table_fingerprint

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
