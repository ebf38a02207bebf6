"""Lesson 07's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Both run on a scratch ``orders`` table in the middle of renaming ``country`` to ``country_code``.
"""

from __future__ import annotations

import re

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from coursekit.exercises import Verdict, explain_error

COUNTRIES = {"ORD-1": "DE", "ORD-2": "FR", "ORD-3": "NL"}


def _sync_trigger_sql() -> list[str]:
    """The four triggers that keep ``country`` and ``country_code`` in sync (the lesson's pattern)."""
    statements = []
    for source, target in (("country", "country_code"), ("country_code", "country")):
        statements.append(
            f"CREATE TRIGGER sync_{target}_on_insert AFTER INSERT ON orders WHEN NEW.{target} IS NULL "
            f"BEGIN UPDATE orders SET {target} = NEW.{source} WHERE order_id = NEW.order_id; END"
        )
        statements.append(
            f"CREATE TRIGGER sync_{target}_on_update AFTER UPDATE OF {source} ON orders "
            f"WHEN NEW.{target} IS NOT NEW.{source} "
            f"BEGIN UPDATE orders SET {target} = NEW.{source} WHERE order_id = NEW.order_id; END"
        )
    return statements


def expanded_engine(with_triggers: bool = False):
    """A scratch shop after the expand and migrate phases: both columns, filled; triggers if asked for."""
    engine = create_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (order_id TEXT PRIMARY KEY, amount REAL NOT NULL, "
                          "country TEXT, country_code TEXT)"))
        for order_id, country in COUNTRIES.items():
            conn.execute(text("INSERT INTO orders VALUES (:id, 10.0, :country, :country)"),
                         {"id": order_id, "country": country})
        for statement in _sync_trigger_sql() if with_triggers else ():
            conn.execute(text(statement))
    return engine


# A trigger on orders that has nothing to do with the rename: an audit trail of price changes. It must survive.
AUDIT_TRIGGER = "orders_amount_audit"
AUDIT_SQL = (
    "CREATE TABLE amount_changes (order_id TEXT NOT NULL, old_amount REAL, new_amount REAL)",
    f"CREATE TRIGGER {AUDIT_TRIGGER} AFTER UPDATE OF amount ON orders "
    "BEGIN INSERT INTO amount_changes VALUES (OLD.order_id, OLD.amount, NEW.amount); END",
)


def _columns(conn, order_id: str):
    """``(country, country_code)`` of one order, or None when a trigger deleted it."""
    row = conn.execute(text("SELECT country, country_code FROM orders WHERE order_id = :id"),
                       {"id": order_id}).one_or_none()
    return None if row is None else tuple(row)


# (what the app does, the SQL, its parameters, the order it touches, (country, country_code) expected after it)
SYNC_TRIALS = (
    ("a v1 insert naming only country", "INSERT INTO orders (order_id, amount, country) VALUES (:id, 1.0, 'SE')",
     {"id": "NEW-1"}, "NEW-1", ("SE", "SE")),
    ("a v2 insert naming only country_code",
     "INSERT INTO orders (order_id, amount, country_code) VALUES (:id, 1.0, 'PL')", {"id": "NEW-2"}, "NEW-2",
     ("PL", "PL")),
    ("a v1 update of country", "UPDATE orders SET country = 'IT' WHERE order_id = :id", {"id": "ORD-1"}, "ORD-1",
     ("IT", "IT")),
    ("a v2 update of country_code", "UPDATE orders SET country_code = 'ES' WHERE order_id = :id", {"id": "ORD-2"},
     "ORD-2", ("ES", "ES")),
)


def check_country_triggers(country_triggers) -> Verdict:
    """Exercise 1: CREATE TRIGGER statements that sync ``country`` and ``country_code`` both ways, with guards."""
    if not isinstance(country_triggers, (list, tuple)) or not country_triggers:
        return Verdict(False, "write `country_triggers` as a list of CREATE TRIGGER statements (strings).")
    if not all(isinstance(statement, str) and statement.strip() for statement in country_triggers):
        return Verdict(False, "every item of `country_triggers` should be one CREATE TRIGGER statement, as a string.")
    engine = expanded_engine()
    with engine.connect() as conn:
        try:
            with conn.begin():
                for statement in country_triggers:
                    conn.execute(text(statement))
                conn.execute(text("PRAGMA recursive_triggers = ON"))  # so only guards can stop the echo
        except Exception as error:  # the learner's SQL failing is an answer to explain
            return Verdict(False, f"creating your triggers failed: {explain_error(error)}.")
        for what, sql, parameters, order_id, expected in SYNC_TRIALS:
            try:
                with conn.begin():
                    conn.execute(text(sql), parameters)
                    found = _columns(conn, order_id)
            except Exception as error:
                recursed = isinstance(error, DBAPIError) and "too many levels of trigger recursion" in str(error.orig)
                hint = " Add WHEN guards: copy only when the columns differ." if recursed else ""
                return Verdict(False, f"{what} failed: {explain_error(error)}.{hint}")
            if found != expected:
                return Verdict(False, f"after {what}, (country, country_code) read {found}; both should be "
                                      f"{expected[0]!r}.")
        untouched = _columns(conn, "ORD-3")
    if untouched != ("NL", "NL"):
        return Verdict(False, f"an order nobody wrote to changed: it reads {untouched}, not ('NL', 'NL'). "
                              "A trigger should touch only the row being written.")
    return Verdict(True, "inserts and updates through either name show under both, and the guards stop the echo.")


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
