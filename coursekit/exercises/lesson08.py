"""Lesson 08's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Both run on lesson 07's scratch shop in the middle of renaming ``country`` to ``country_code``.
"""

from __future__ import annotations

import re

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from coursekit.exercises import Verdict, explain_error
from coursekit.exercises.lesson07 import COUNTRIES, SYNC_TRIALS, _columns, expanded_engine

# A trigger on orders that has nothing to do with the rename: an audit trail of price changes. It must survive.
AUDIT_TRIGGER = "orders_amount_audit"
AUDIT_SQL = (
    "CREATE TABLE amount_changes (order_id TEXT NOT NULL, old_amount REAL, new_amount REAL)",
    f"CREATE TRIGGER {AUDIT_TRIGGER} AFTER UPDATE OF amount ON orders "
    "BEGIN INSERT INTO amount_changes VALUES (OLD.order_id, OLD.amount, NEW.amount); END",
)


def _trigger_still_using_country(error: BaseException) -> str:
    """The hint for SQLite's refusal to drop a column that a trigger still names, and only for that."""
    found = isinstance(error, DBAPIError) and re.search(r"error in trigger (\w+) after drop column", str(error.orig))
    return f" The trigger `{found[1]}` still uses the column: drop it before the column." if found else ""


def check_contract_country(contract_country) -> Verdict:
    """Exercise 2: drop the sync triggers (only those), then the old column ``country``; the data stays in
    ``country_code``, and the shop's audit trigger on ``amount`` keeps working."""
    if not callable(contract_country):
        return Verdict(False, "define a function `contract_country(conn)` and run its cell first.")
    engine = expanded_engine(with_triggers=True)
    with engine.begin() as conn:
        for statement in AUDIT_SQL:
            conn.execute(text(statement))
    try:
        with engine.begin() as conn:
            contract_country(conn)
    except Exception as error:
        return Verdict(False, f"{explain_error(error)}.{_trigger_still_using_country(error)}")
    with engine.connect() as conn:
        columns = conn.execute(text("SELECT name FROM pragma_table_info('orders') ORDER BY cid")).scalars().all()
        triggers = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
                                ).scalars().all()
    if "country" in columns:
        return Verdict(False, "orders still has the old column `country`; drop it (after the triggers).")
    if columns != ["order_id", "amount", "country_code"]:
        return Verdict(False, f"orders has columns {columns}; only `country` should have gone.")
    if AUDIT_TRIGGER not in triggers:
        return Verdict(False, f"the trigger `{AUDIT_TRIGGER}` (an audit trail of price changes) is gone too. It has "
                              "nothing to do with the rename: drop only the sync triggers of `country`.")
    if left := [name for name in triggers if name != AUDIT_TRIGGER]:
        return Verdict(False, f"sync triggers are left: {left}. Drop every sync trigger of `country`.")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO orders (order_id, amount, country_code) VALUES ('NEW-2', 1.0, 'PL')"))
        conn.execute(text("UPDATE orders SET amount = 12.5 WHERE order_id = 'ORD-1'"))
        audited = conn.execute(text("SELECT count(*) FROM amount_changes")).scalar_one()
        kept = dict(conn.execute(text("SELECT order_id, country_code FROM orders ORDER BY order_id")).all())
    if kept != {**COUNTRIES, "NEW-2": "PL"}:
        return Verdict(False, f"the countries read {kept}; they should be the old ones plus the new order's.")
    if audited != 1:
        return Verdict(False, f"a price change left {audited} rows in amount_changes, not 1: leave the audit "
                              f"trigger `{AUDIT_TRIGGER}` as it was.")
    return Verdict(True, "the sync triggers first, then the column: every country kept, the audit trail still "
                         "records price changes, and v2 places orders as before.")


def contracted_engine():
    """A scratch shop after the contract of the country rename: ``country_code`` only, no sync triggers."""
    engine = create_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (order_id TEXT PRIMARY KEY, amount REAL NOT NULL, country_code TEXT)"))
        for order_id, country in COUNTRIES.items():
            conn.execute(text("INSERT INTO orders VALUES (:id, 10.0, :country)"), {"id": order_id, "country": country})
    return engine


def check_uncontract_country(uncontract_country) -> Verdict:
    """Exercise 2: undo the contract, so version 1 can be deployed again: ``country`` back, filled from
    ``country_code``, and kept in sync with it both ways."""
    if not callable(uncontract_country):
        return Verdict(False, "define a function `uncontract_country(conn)` and run its cell first.")
    engine = contracted_engine()
    try:
        with engine.begin() as conn:
            uncontract_country(conn)
    except Exception as error:
        return Verdict(False, f"{explain_error(error)}.")
    with engine.connect() as conn:
        columns = conn.execute(text("SELECT name FROM pragma_table_info('orders') ORDER BY cid")).scalars().all()
    if "country" not in columns or "country_code" not in columns:
        return Verdict(False, f"orders has columns {columns}; version 1 needs `country` back, next to `country_code`.")
    with engine.connect() as conn:
        old = {order_id: _columns(conn, order_id) for order_id in COUNTRIES}
    if wrong := {order_id: found for order_id, found in old.items() if found != (COUNTRIES[order_id],) * 2}:
        return Verdict(False, f"old orders read (country, country_code) = {wrong}: version 1 would read them "
                              "wrong. Fill `country` from `country_code`.")
    for what, sql, parameters, order_id, expected in SYNC_TRIALS:
        try:
            with engine.begin() as conn:
                conn.execute(text(sql), parameters)
                found = _columns(conn, order_id)
        except Exception as error:
            return Verdict(False, f"{what} failed: {explain_error(error)}.")
        if found != expected:
            return Verdict(False, f"after {what}, (country, country_code) read {found}; both should be "
                                  f"{expected[0]!r}. Both versions run again: the sync triggers must come back too.")
    return Verdict(True, "country is back with every old value, and writes through either name show under both: "
                         "version 1 can be deployed again.")
