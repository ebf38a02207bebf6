"""Hostile input, typed into a widget or passed to a helper, is refused or stored literally, never executed."""

import re

import pytest
from sqlalchemy import inspect, text

from coursekit.dataset import generate_orders, insert_orders
from coursekit.db import make_engine
from coursekit.migrations import MigrationError, Migrator
from coursekit.order_steps import CREATE_ORDERS, ORDER_STEPS
from coursekit.schema import rules_frame, schema_frame
from coursekit.stepper import MigrationStepper
from coursekit.verify import quote_identifier, table_fingerprint

ALL_COLUMNS = ("order_id", "customer_id", "country", "ordered_at", "amount", "shipped_at", "refunded_at")
HOSTILE = [
    "status'; DROP TABLE orders; --",
    '"; DROP TABLE orders; --',
    "'; DELETE FROM orders; --",
    "1 OR 1=1",
    "' OR '1'='1",
    "orders",
    "orders; DROP TABLE orders",
    "x') ; ATTACH DATABASE '/tmp/evil.db' AS evil; --",
    "); UPDATE orders SET amount = 0; --",
    "pending'); DROP TABLE schema_version; --",
    "\\'; DROP TABLE orders; --",
    "\x00",
    "a\x00b",
    "\n\r\t",
    "",
    " ",
    "x" * 10_000,
    "🙂💥",
    "ОРДЕР",
    "%s%s%s",
    ":status",
    "?",
    "$1",
    "NULL",
    "null",
    "0x41",
    "--",
    "/* comment */ pending",
    "pending\" OR \"1\"=\"1",
    "CHECK",
    "sqlite_master",
    "main.orders",
    "`orders`",
    "[orders]",
]


EXISTING_TABLES = {"orders", "sqlite_master"}  # real names: reading them is allowed and harmless


@pytest.fixture
def shop():
    engine = make_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, generate_orders(50))
    return engine


def intact(engine, before=None):
    """The orders, every column of every row, and the list of tables."""
    with engine.connect() as conn:
        now = (table_fingerprint(conn, "orders", ALL_COLUMNS), sorted(inspect(conn).get_table_names()))
    assert before is None or now == before
    return now


def test_there_are_enough_hostile_inputs():
    assert len(set(HOSTILE)) >= 30


@pytest.mark.parametrize("hostile", HOSTILE)
def test_status_and_order_id_typed_into_the_stepper(shop, hostile):
    stepper = MigrationStepper(Migrator(shop, ORDER_STEPS))
    stepper.toggles[1].value = True
    before = intact(shop)
    stepper.order_box.value, stepper.status_box.value = "ORD-0000001", hostile
    stepper.write_button.click()
    with shop.connect() as conn:
        stored = conn.execute(text("SELECT status FROM orders WHERE order_id = 'ORD-0000001'")).scalar_one()
    if hostile.strip():
        assert stored == hostile, "stored literally"
    else:
        assert "Type a status" in stepper.last_message and stored != hostile
    stepper.write_status(hostile, "cancelled")
    assert "There is no order" in stepper.last_message or hostile == "ORD-0000001"
    intact(shop, before)
    stepper.toggles[2].value = True  # the CHECK refuses a stored hostile status: the step is rolled back
    assert stepper.migrator.current() == (2 if hostile.strip() else 3)
    intact(shop, before)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_targets_and_names_are_refused(shop, hostile):
    before = intact(shop)
    migrator = Migrator(shop, ORDER_STEPS)
    with pytest.raises(MigrationError, match="There is no version"):
        migrator.go_to(hostile)
    if not re.fullmatch(r"[A-Za-z_]\w*", hostile):
        with pytest.raises(MigrationError, match="cannot name the version table"):
            Migrator(shop, ORDER_STEPS, version_table=hostile)
    for helper in (schema_frame, rules_frame):
        if hostile not in EXISTING_TABLES:
            with pytest.raises((LookupError, ValueError), match="There is no table|without NUL"):
                helper(shop, hostile)
    with shop.begin() as conn, pytest.raises(ValueError, match="Unknown order column"):
        insert_orders(conn, generate_orders(1), columns=("order_id", hostile))
    intact(shop, before)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_identifiers_are_quoted_as_names(shop, hostile):
    before = intact(shop)
    if not hostile or "\x00" in hostile:
        with pytest.raises(ValueError, match="without NUL"):
            quote_identifier(shop, hostile)
        return
    quoted = quote_identifier(shop, hostile)
    with shop.connect() as conn:
        if hostile not in EXISTING_TABLES:
            with pytest.raises(LookupError, match="There is no table"):
                table_fingerprint(conn, hostile)
            with pytest.raises(LookupError, match="has no column"):
                table_fingerprint(conn, "orders", ("order_id", hostile))
    assert quoted in (hostile, f'"{hostile}"') or quoted == '"' + hostile.replace('"', '""') + '"'
    intact(shop, before)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_order_id_typed_into_the_stepper_box(shop, hostile):
    stepper = MigrationStepper(Migrator(shop, ORDER_STEPS))
    stepper.toggles[0].value = True
    before = intact(shop)
    stepper.order_box.value, stepper.status_box.value = hostile, "shipped"
    stepper.write_button.click()
    assert "There is no order" in stepper.last_message, "an id that matches nothing changes nothing, and says so"
    stepper.order_box.value, stepper.status_box.value = hostile, hostile  # both boxes at once
    stepper.write_button.click()
    assert "There is no order" in stepper.last_message or "Type a status" in stepper.last_message
    with shop.connect() as conn:
        statuses = conn.execute(text("SELECT DISTINCT status FROM orders")).scalars().all()
    assert statuses == ["pending"]
    intact(shop, before)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_upgrade_and_downgrade_targets_are_refused(shop, hostile):
    before = intact(shop)
    migrator = Migrator(shop, ORDER_STEPS)
    for move in (migrator.upgrade, migrator.downgrade, migrator.go_to):
        with pytest.raises(MigrationError, match="There is no version .*versions 0 .* to 4"):
            move(hostile)
    assert migrator.current() == 0 and migrator.history == []
    intact(shop, before)


@pytest.mark.parametrize("hostile", [name for name in HOSTILE if name not in EXISTING_TABLES])
def test_hostile_table_names_for_loading_are_refused(shop, hostile):
    before = intact(shop)
    with shop.begin() as conn, pytest.raises((LookupError, ValueError), match="no table .* to load into|without NUL"):
        insert_orders(conn, [("ORD-9999999", "C-1", "DE", "2025-01-01", 1.0, None, None)], table=hostile)
    intact(shop, before)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_values_loaded_as_data_are_stored_literally(shop, hostile):
    before = intact(shop)
    row = (f"NEW-{hostile}", hostile, hostile, hostile, 1.0, hostile, None)
    with shop.begin() as conn:
        insert_orders(conn, [row])
    with shop.connect() as conn:
        stored = conn.execute(text("SELECT * FROM orders WHERE order_id = :id"), {"id": row[0]}).one()
        conn.execute(text("DELETE FROM orders WHERE order_id = :id"), {"id": row[0]})
        conn.commit()
    assert tuple(stored) == row
    intact(shop, before)
