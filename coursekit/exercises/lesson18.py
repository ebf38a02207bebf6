"""Lesson 18's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Both run the learner's answer on a small SQLite shop of their own, whose orders name customers that do not exist:

- exercise 1, a query for the orphans: its shop also has a customer row with a NULL id (a SQLite primary key accepts
  NULL, lesson 04), so ``NOT IN (SELECT customer_id FROM customers)`` finds no orphan at all;
- exercise 2, ``fix_and_constrain(conn)``: one shared placeholder customer ``C-DELETED``, the orphans re-pointed to
  it and each recorded in ``repointed_orders``, then the foreign key by a rebuild; every order is kept, every other
  value too, and ``customer_id`` stays ``NOT NULL``.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import suppress

from sqlalchemy import create_engine, text

from coursekit.customers import CREATE_CUSTOMERS
from coursekit.exercises import Verdict, explain_error
from coursekit.order_steps import CREATE_ORDERS

ORDER_ROWS = [  # order_id, customer_id, country, ordered_at, amount, shipped_at, refunded_at
    ("ORD-1", "C-1", "DE", "2025-01-03", 12.5, "2025-01-05", None),
    ("ORD-2", "C-7", "FR", "2025-01-04", 30.0, None, None),
    ("ORD-3", "C-2", "NL", "2025-01-06", 8.75, "2025-01-08", None),
    ("ORD-4", "C-8", "DE", "2025-01-09", 99.9, "2025-01-10", "2025-01-20"),
    ("ORD-5", "C-1", "DE", "2025-01-11", 5.0, None, None),
    ("ORD-6", "C-7", "FR", "2025-01-12", 41.2, "2025-01-15", None),
    ("ORD-7", "C-3", "SE", "2025-01-14", 17.0, None, None),
]
CUSTOMER_ROWS = [
    ("C-1", "Anna Berg", "anna.berg1@example.com", "2024-02-01"),
    ("C-2", "Ben Costa", "ben.costa2@example.com", "2024-03-05"),
    ("C-3", "Chloé Dubois", "chloe.dubois3@example.com", "2024-04-09"),
    ("C-4", "David Eriksson", "david.eriksson4@example.com", "2024-06-12"),  # no orders yet
]
ORPHANS = {order[0]: order[1] for order in ORDER_ROWS if order[1] not in {c[0] for c in CUSTOMER_ROWS}}
OTHER_COLUMNS = "order_id, country, ordered_at, amount, shipped_at, refunded_at"
PLACEHOLDER = "C-DELETED"
NOT_IN = re.compile(r"\bNOT\s+IN\s*\(", re.I)
NEW_ORDER = ("INSERT INTO orders (order_id, customer_id, country, ordered_at, amount)"
             " VALUES ('ORD-99', {}, 'DE', '2025-02-01', 10)")  # columns named: theirs may be in another order
NEW_ORPHAN, NO_CUSTOMER = NEW_ORDER.format("'C-99'"), NEW_ORDER.format("NULL")


def _scratch_shop(customer_with_null_id: bool = False):
    """An autocommit SQLite connection with foreign keys on, like the lesson's ``db``: customers and orders."""
    conn = create_engine("sqlite:///:memory:").connect().execution_options(isolation_level="AUTOCOMMIT")
    conn.exec_driver_sql("PRAGMA foreign_keys = ON")
    conn.exec_driver_sql(CREATE_ORDERS)
    conn.exec_driver_sql(CREATE_CUSTOMERS)
    conn.exec_driver_sql("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)", ORDER_ROWS)
    customers = CUSTOMER_ROWS + ([(None, "Lost Id", "lost.id@example.com", "2024-05-01")]
                                 if customer_with_null_id else [])
    conn.exec_driver_sql("INSERT INTO customers VALUES (?, ?, ?, ?)", customers)
    return conn


# --- Exercise 1 -----------------------------------------------------------------------------------------------------

def _listed(names) -> str:
    return ", ".join(str(name) for name in sorted(names, key=str))


def check_orphans_query(orphans_sql) -> Verdict:
    """Exercise 1: a query whose first column is the order_id of every order that names no customer, once each."""
    if not isinstance(orphans_sql, str) or not orphans_sql.strip():
        return Verdict(False, "write the query as a string, e.g. \"SELECT o.order_id FROM orders o ...\".")
    conn = _scratch_shop(customer_with_null_id=True)
    try:
        result = conn.execute(text(orphans_sql))
        if not result.returns_rows:
            return Verdict(False, "that statement returns no rows: write a SELECT that lists the orders' ids.")
        found = [row[0] for row in result]
    except Exception as error:  # the learner's SQL failing is an answer to explain
        return Verdict(False, f"the query failed: {explain_error(error)}.")
    finally:
        conn.close()
    customers_named = {order[1] for order in ORDER_ROWS} | {customer[0] for customer in CUSTOMER_ROWS}
    if set(found) - {None} and set(found) <= customers_named | {None}:
        return Verdict(False, f"your query lists customer ids ({_listed(set(found))}): its first column should be "
                              "the order_id of each order whose customer is missing (orders without a customer, "
                              "not customers without an order).")
    repeated = sorted({order for order in found if found.count(order) > 1}, key=str)
    if repeated:
        return Verdict(False, f"{repeated[0]} appears {found.count(repeated[0])} times: list each order once.")
    if not found and NOT_IN.search(orphans_sql):
        return Verdict(False, f"your query found no orders, but {len(ORPHANS)} name a customer that does not exist. "
                              "This shop has a customer whose id is NULL (a SQLite primary key accepts NULL), and "
                              "x NOT IN (a list holding a NULL) is never true: use NOT EXISTS or LEFT JOIN ... "
                              "IS NULL.")
    extra = set(found) - set(ORPHANS)
    if extra:
        first = sorted(extra, key=str)[0]
        owner = dict((order[0], order[1]) for order in ORDER_ROWS).get(first)
        said = f"{first} names {owner}, who is a customer" if owner else f"{first!r} is not an order of this shop"
        return Verdict(False, f"your query also lists {_listed(extra)}: {said}. Keep only the orders with no "
                              "matching customer (a LEFT JOIN needs WHERE c.customer_id IS NULL).")
    missing = set(ORPHANS) - set(found)
    if missing:
        first = sorted(missing)[0]
        return Verdict(False, f"your query misses {_listed(missing)}: {first} names {ORPHANS[first]}, and no customer "
                              f"has that id.")
    return Verdict(True, f"{len(ORPHANS)} orders ({_listed(ORPHANS)}) name customers that do not exist, even with a "
                         "NULL id among the customers.")


# --- Exercise 2 -----------------------------------------------------------------------------------------------------

def _is_open(driver) -> bool:
    try:
        driver.total_changes  # noqa: B018 - raises on a closed sqlite3 connection
    except sqlite3.ProgrammingError:
        return False
    return True


def _tables(conn) -> set[str]:
    return {row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_schema WHERE type = 'table'")}


def _refused(conn, statement: str) -> str | None:
    """None if SQLite accepts ``statement``, else its first line; rolled back either way."""
    conn.exec_driver_sql("SAVEPOINT probe")
    try:
        conn.exec_driver_sql(statement)
        return None
    except Exception as error:  # SQLite's refusal is what the check reads
        return str(getattr(error, "orig", error)).splitlines()[0]
    finally:
        conn.exec_driver_sql("ROLLBACK TO probe")
        conn.exec_driver_sql("RELEASE probe")


def _orders_problem(conn) -> str | None:
    """What happened to the orders, other than the orphans' re-pointing, if anything."""
    before = {order[0]: order for order in ORDER_ROWS}
    try:
        rows = conn.exec_driver_sql(f"SELECT {OTHER_COLUMNS}, customer_id FROM orders").all()
    except Exception as error:  # a column renamed or dropped
        return f"orders cannot be read as before: {explain_error(error)}"
    after = {row[0]: tuple(row) for row in rows}
    lost = sorted(set(before) - set(after))
    if lost:
        return (f"{len(lost)} of {len(before)} orders are gone ({_listed(lost)}): an order is a sale the shop made; "
                f"re-point it to {PLACEHOLDER}, don't delete it.")
    added = sorted(set(after) - set(before))
    if added:
        return f"orders now holds orders that were not there: {_listed(added)}."
    for order_id, (_, customer, *others) in before.items():
        if tuple(after[order_id][1:6]) != tuple(others):
            return f"{order_id} changed in a column other than customer_id: copy every value as it was."
        now = after[order_id][6]
        if order_id in ORPHANS and now == customer:
            placeholder_of_its_own = conn.exec_driver_sql(
                "SELECT count(*) FROM customers WHERE customer_id = ?", (customer,)).scalar_one()
            if placeholder_of_its_own:
                return (f"{order_id} still names {customer}, which you added as a customer of its own, as the lesson "
                        f"did; this exercise asks for the other choice: one placeholder {PLACEHOLDER} for every "
                        "missing customer, the orders re-pointed to it.")
            return f"{order_id} still names {customer}, which no customer has: re-point it to {PLACEHOLDER}."
        if order_id in ORPHANS and now != PLACEHOLDER:
            return f"{order_id} now names {now!r}; re-point the orders of missing customers to {PLACEHOLDER}."
        if order_id not in ORPHANS and now != customer:
            return (f"{order_id} belonged to {customer}, who exists, and now names {now!r}: re-point only the orders "
                    "whose customer does not exist.")
    return None


def _customers_problem(conn) -> str | None:
    rows = set(conn.exec_driver_sql("SELECT customer_id, name, email, signed_up_at FROM customers").all())
    gone = sorted(customer[0] for customer in CUSTOMER_ROWS if customer not in rows)
    if gone:
        return f"customer {gone[0]} is gone or changed: leave the real customers as they were."
    if PLACEHOLDER not in {row[0] for row in rows}:
        return f"there is no customer {PLACEHOLDER}: insert the placeholder before the orders point at it."
    return None


def _audit_problem(conn) -> str | None:
    if "repointed_orders" not in _tables(conn):
        return ("there is no table repointed_orders: record each re-pointed order (order_id, old_customer_id) "
                "before you change it, so anyone can see, and undo, what was done.")
    try:
        recorded = conn.exec_driver_sql("SELECT order_id, old_customer_id FROM repointed_orders").all()
    except Exception as error:  # columns named otherwise
        return f"repointed_orders cannot be read: {explain_error(error)}"
    recorded = [tuple(row) for row in recorded]
    expected = set(ORPHANS.items())
    missing, extra = sorted(expected - set(recorded)), sorted(set(recorded) - expected, key=str)
    if missing:
        order_id, old = missing[0]
        return f"repointed_orders has no row ({order_id!r}, {old!r}): record every re-pointed order with its old id."
    if extra:
        return f"repointed_orders holds {extra[0]!r}, which is not an order that was re-pointed with its old id."
    if len(recorded) != len(expected):
        return "repointed_orders holds some orders more than once: one row per re-pointed order."
    return None


def _constraint_problem(conn) -> str | None:
    keys = [(key[3], key[2]) for key in conn.exec_driver_sql("PRAGMA foreign_key_list(orders)")]
    if ("customer_id", "customers") not in keys:
        return ("orders has no foreign key from customer_id to customers yet: rebuild orders with "
                "customer_id TEXT NOT NULL REFERENCES customers (lesson 05's recipe).")
    if conn.exec_driver_sql("PRAGMA foreign_key_check").all():
        return "PRAGMA foreign_key_check finds broken references."
    if _refused(conn, NO_CUSTOMER) is None:
        return ("orders.customer_id now accepts NULL: the new table must keep customer_id NOT NULL (a column added "
                "with ADD COLUMN ... REFERENCES cannot be NOT NULL; the rebuild keeps it).")
    refusal = _refused(conn, NEW_ORPHAN)
    if refusal is None:
        return "a new order for a customer that does not exist was accepted: the foreign key is not enforced."
    if "FOREIGN KEY" not in refusal:
        return f"a new order for a customer that does not exist was refused, but not by the foreign key: {refusal}."
    return None


def check_fix_and_constrain(fix_and_constrain) -> Verdict:
    """Exercise 2: orphans re-pointed to C-DELETED, audited in repointed_orders, then the foreign key by a rebuild."""
    if not callable(fix_and_constrain):
        return Verdict(False, "define a function `fix_and_constrain(conn)` and run its cell first.")
    conn = _scratch_shop()
    driver = conn.connection.driver_connection
    try:
        fix_and_constrain(conn)
    except Exception as error:  # the learner's code failing is an answer to explain
        return Verdict(False, f"{explain_error(error)}.")
    if conn.closed or conn.invalidated or not _is_open(driver):
        return Verdict(False, "your function closed the connection it was given: leave it open, the check reads "
                              "the shop through it.")
    if driver.in_transaction:
        with suppress(sqlite3.Error):
            driver.rollback()
        return Verdict(False, "a transaction is still open at the end: finish with COMMIT.")
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() != 1:
        return Verdict(False, "foreign keys are off at the end: switch them on again after the COMMIT.")
    if not {"orders", "customers"} <= _tables(conn):
        return Verdict(False, f"after your function there are the tables {sorted(_tables(conn))}: the shop needs "
                              "orders and customers.")
    for problem in (_orders_problem, _customers_problem, _audit_problem, _constraint_problem):
        said = problem(conn)
        if said:
            return Verdict(False, said)
    return Verdict(True, f"{len(ORPHANS)} orders re-pointed to {PLACEHOLDER} and recorded, no order or value lost, "
                         "and orders.customer_id now references customers.")
