"""Lesson 20's exercises: the solutions pass, wrong answers get the hint for their own mistake, and the checks'
scratch shop is the lesson's (its four sync triggers are the notebook's, and they keep both places in step)."""

import nbformat
import pytest
from sqlalchemy import text

from coursekit.exercises import lesson20
from coursekit.exercises.lesson20 import (
    PLANTED,
    SYNC_TRIGGERS,
    check_contract_shipping,
    check_lost_in_the_move,
    moving_shop,
)
from tests.conftest import REPO
from tests.never_crash import row, unrelated
from tests.test_exercises import solutions

LESSON_20 = REPO / "notebooks" / "20-move-a-column-split-a-table.ipynb"


def lesson_20_answers():
    first, second = solutions(LESSON_20)
    namespace = {"text": text}
    exec(first + second, namespace)
    return namespace


def test_lesson_20_solutions_pass_their_checks():
    answers = lesson_20_answers()
    assert check_lost_in_the_move(answers["lost_in_the_move"]).ok
    assert check_contract_shipping(answers["contract_shipping"]).ok


def test_the_checks_triggers_are_the_lessons():
    """The cells that define DIFFERS, V1_TO_V2 and V2_TO_V1, run: the same four statements as the checks' shop."""
    cells = [cell.source for cell in nbformat.read(LESSON_20, as_version=4).cells if cell.cell_type == "code"]
    namespace = {}
    for source in cells:
        if source.startswith(("DIFFERS =", "V2_TO_V1 =")):
            exec(source, namespace)
    assert [" ".join(sql.split()) for sql in namespace["SYNC_TRIGGERS"]] == [
        " ".join(sql.split()) for sql in SYNC_TRIGGERS.values()]


def shipping_of(conn, order_id):
    return (conn.execute(text("SELECT country, shipped_at FROM orders WHERE order_id = :o"), {"o": order_id}).one(),
            conn.execute(text("SELECT country, shipped_at FROM shipments WHERE order_id = :o"), {"o": order_id}).one())


@pytest.mark.parametrize("recursive", ["OFF", "ON"])
def test_the_sync_triggers_copy_every_write_both_ways(recursive):
    with moving_shop().begin() as conn:
        conn.execute(text(f"PRAGMA recursive_triggers = {recursive}"))
        conn.execute(text("INSERT INTO orders (order_id, customer_id, country, ordered_at, amount) "
                          "VALUES ('N-1', 'C-1', 'FR', '2026-01-12', 1.0)"))  # v1's order
        conn.execute(text("INSERT INTO orders (order_id, customer_id, ordered_at, amount) "
                          "VALUES ('N-2', 'C-1', '2026-01-12', 1.0)"))  # v2's order, then its shipment
        conn.execute(text("INSERT INTO shipments (order_id, country) VALUES ('N-2', 'SE')"))
        conn.execute(text("UPDATE orders SET shipped_at = '2026-01-13' WHERE order_id = 'ORD-0000002'"))
        conn.execute(text("UPDATE shipments SET country = 'NL', shipped_at = NULL WHERE order_id = 'ORD-0000001'"))
        assert shipping_of(conn, "N-1") == (("FR", None), ("FR", None))
        assert shipping_of(conn, "N-2") == (("SE", None), ("SE", None))
        assert shipping_of(conn, "ORD-0000002") == (("CA", "2026-01-13"), ("CA", "2026-01-13"))
        assert shipping_of(conn, "ORD-0000001") == (("NL", None), ("NL", None))
        before = conn.execute(text("SELECT total_changes()")).scalar_one()
        conn.execute(text("UPDATE orders SET country = 'SE' WHERE order_id = 'ORD-0000003'"))
        assert conn.execute(text("SELECT total_changes()")).scalar_one() - before == 2  # the guard stops the echo


# --- exercise 1 ------------------------------------------------------------------------------------------------

def test_the_planted_differences_are_what_the_hints_say():
    """Each hint states the two tables' values: they are the scratch shop's, and only these four orders differ."""
    with lesson20.planted_shop().connect() as conn:
        orders = {row[0]: row[1:] for row in conn.execute(text("SELECT order_id, country, shipped_at FROM orders"))}
        shipments = {row[0]: row[1:] for row in conn.execute(text("SELECT order_id, country, shipped_at "
                                                                  "FROM shipments"))}
    differ = {order_id for order_id in orders if shipments.get(order_id) != orders[order_id]}
    assert differ == set(PLANTED) and "ORD-0000003" not in shipments
    assert orders["ORD-0000003"][1] is None  # a waiting order, as the hint says
    assert (orders["ORD-0000005"][0], shipments["ORD-0000005"][0]) == ("FR", "DE")
    assert (orders["ORD-0000007"][1], shipments["ORD-0000007"][1]) == ("2025-10-24", None)
    assert (orders["ORD-0000008"][1], shipments["ORD-0000008"][1]) == (None, "2025-12-01")


def query(sql):
    def lost_in_the_move(conn):
        return conn.execute(text(sql)).scalars().all()
    return lost_in_the_move


RIGHT = ("SELECT o.order_id FROM orders AS o LEFT JOIN shipments AS s USING (order_id) "
         "WHERE s.country IS NOT o.country OR s.shipped_at IS NOT o.shipped_at")
INNER_JOIN = RIGHT.replace("LEFT JOIN", "JOIN")
WITH_NOT_EQUAL = ("SELECT o.order_id FROM orders AS o LEFT JOIN shipments AS s USING (order_id) "
                  "WHERE s.order_id IS NULL OR s.country <> o.country OR s.shipped_at <> o.shipped_at")
COUNTRY_ONLY = ("SELECT o.order_id FROM orders AS o LEFT JOIN shipments AS s USING (order_id) "
                "WHERE s.country IS NOT o.country")
SHIPMENTS_ID = RIGHT.replace("SELECT o.order_id", "SELECT s.order_id")
EVERY_ORDER = "SELECT order_id FROM orders"
NOT_EXISTS_UNION = ("SELECT order_id FROM orders AS o WHERE NOT EXISTS (SELECT 1 FROM shipments AS s "
                    "WHERE s.order_id = o.order_id AND s.country IS o.country AND s.shipped_at IS o.shipped_at)")


def rows_not_scalars(conn):
    return conn.execute(text(RIGHT)).all()


@pytest.mark.parametrize("answer, hint", [
    (query(RIGHT), "you found all four"),
    (query(NOT_EXISTS_UNION), "you found all four"),
    (rows_not_scalars, "you found all four"),
    (query(RIGHT + " UNION ALL " + RIGHT), "came twice"),
    (None, "define a function `lost_in_the_move(conn)`"),
    (lambda conn: [], "your function found no order"),
    (query(INNER_JOIN), "misses ORD-0000003: it has no row in shipments at all"),
    (query(WITH_NOT_EQUAL), "misses ORD-0000007 (and 1 more): its shipped_at is 2025-10-24 in orders"),
    (query(COUNTRY_ONLY), "misses ORD-0000007 (and 1 more)"),
    (query(SHIPMENTS_ID), "your list holds None"),
    (query(EVERY_ORDER), "your list has ORD-0000001, and its shipping facts are the same in both tables"),
    (lambda conn: ["ORD-9999999", *PLANTED], "ORD-9999999, and there is no such order"),
    (lambda conn: "ORD-0000003", "return the order ids as a list"),
    (lambda conn: None, "your function returned NoneType"),
    (query("SELECT order_id FROM shipment"), "no such table: shipment"),
])
def test_exercise_1_answers(answer, hint):
    result = check_lost_in_the_move(answer)
    assert hint in result.message and result.ok == (hint.startswith("you found") or hint == "came twice"), result


# --- exercise 2 ------------------------------------------------------------------------------------------------

NAMES = tuple(SYNC_TRIGGERS)


def drop(conn, triggers=NAMES, columns=("country", "shipped_at")):
    for name in triggers:
        conn.execute(text(f"DROP TRIGGER {name}"))
    for column in columns:
        conn.execute(text(f"ALTER TABLE orders DROP COLUMN {column}"))


def guarded(contract):
    def contract_shipping(conn, running):
        if "v1" in running:
            raise RuntimeError("v1 still runs")
        contract(conn)
    return contract_shipping


def columns_first(conn):
    drop(conn, triggers=())  # the columns first, while the sync triggers still name them
    drop(conn, columns=())


def every_trigger(conn):
    names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
    drop(conn, triggers=names)


def by_pattern(conn):
    names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                              "(name GLOB 'order_to_shipment_*' OR name GLOB 'shipment_to_order_*')")).scalars().all()
    drop(conn, triggers=names)


def quietly(conn, running):
    if "v1" not in running:
        drop(conn)


def drops_then_refuses(conn, running):
    drop(conn)
    if "v1" in running:
        raise RuntimeError("v1 still runs")


def drops_triggers_only_while_v1_runs(conn, running):
    drop(conn, columns=() if "v1" in running else ("country", "shipped_at"))


def always_refuses(conn, running):
    raise RuntimeError("not today")


def drops_shipments(conn, running):
    drop(conn)
    conn.execute(text("DROP TABLE shipments"))


def changes_a_value(conn, running):
    drop(conn)
    conn.execute(text("UPDATE shipments SET country = 'DE'"))


@pytest.mark.parametrize("answer, hint", [
    (guarded(drop), "with v1 running the contract refuses"),
    (guarded(by_pattern), "with v1 running the contract refuses"),
    (drops_then_refuses, "with v1 running the contract refuses"),  # the check's transaction rolls the drops back
    (None, "define a function `contract_shipping(conn, running)`"),
    (lambda conn, running: drop(conn), "your contract ran anyway, and shop v1's next order fails"),
    (lambda conn, running: None, "orders still has country"),
    (guarded(lambda conn: drop(conn, columns=("country",))), "orders still has shipped_at"),
    (guarded(lambda conn: drop(conn, triggers=NAMES[:2])), "A trigger still names the column"),
    (guarded(columns_first), "A trigger still names the column"),
    (guarded(every_trigger), "dropped orders_refund_audit too"),
    (quietly, "it returned quietly"),
    (drops_triggers_only_while_v1_runs, "your contract dropped sync triggers"),
    (always_refuses, "with only v2 running, your code raised RuntimeError: not today"),
    (drops_shipments, "cannot rebuild the orders"),
    (changes_a_value, "never change a value"),
    (lambda conn: drop(conn), "with only v2 running, your code raised TypeError"),
])
def test_exercise_2_answers(answer, hint):
    result = check_contract_shipping(answer)
    assert hint in result.message and result.ok == hint.startswith("with v1 running the contract"), result


def on_conn(function):
    """A contract_shipping(conn, running) that calls a never-crash function of one connection."""
    return (lambda conn, running: function(conn),)


LOST_HINTS = ["an inner JOIN", "IS NOT treats NULL", "your list holds None"]
CONTRACT_HINTS = ["drop the four sync triggers first", "dropped orders_refund_audit", "returned quietly",
                  "ran anyway"]
NEVER_CRASH = [
    *unrelated(lesson20.check_lost_in_the_move, "conn", LOST_HINTS),
    *unrelated(lesson20.check_contract_shipping, "conn", CONTRACT_HINTS, place=on_conn),
    row(lesson20.check_lost_in_the_move, query(INNER_JOIN), ["misses ORD-0000003", "an inner JOIN drops"],
        ["IS NOT treats NULL", "the database refused"], name="inner join"),
    row(lesson20.check_lost_in_the_move, query(WITH_NOT_EQUAL), ["misses ORD-0000007", "IS NOT treats NULL"],
        ["an inner JOIN", "the database refused"], name="<> with NULLs"),
    row(lesson20.check_lost_in_the_move, lambda conn: 42, ["return the order ids as a list", "returned int"],
        ["misses", "your code raised"], name="an int"),
    row(lesson20.check_contract_shipping, lambda conn, running: drop(conn), ["ran anyway", "no column named country"],
        ["drop the four sync triggers first", "returned quietly"], name="contract while v1 runs"),
    row(lesson20.check_contract_shipping, guarded(columns_first),
        ["after drop column", "drop the four sync triggers first"], ["ran anyway", "orders_refund_audit"],
        name="columns before triggers"),
    row(lesson20.check_contract_shipping, "contract", ["define a function `contract_shipping(conn, running)`"],
        ["your code raised"], name="a string"),
]
