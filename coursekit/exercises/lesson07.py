"""Lesson 07's exercise checks (see :mod:`coursekit.exercises`); lesson 08's checks reuse its scratch shop.

They run on a scratch ``orders`` table in the middle of renaming ``country`` to ``country_code``.
"""

from __future__ import annotations

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




def half_migrated_engine():
    """A scratch shop right after the expand of ``country`` to ``country_code``: old rows have no country_code yet,
    the sync triggers are in place, and one order placed by version 2 after the expand has both columns."""
    engine = create_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (order_id TEXT PRIMARY KEY, amount REAL NOT NULL, "
                          "country TEXT, country_code TEXT)"))
        for order_id, country in COUNTRIES.items():
            conn.execute(text("INSERT INTO orders (order_id, amount, country) VALUES (:id, 10.0, :country)"),
                         {"id": order_id, "country": country})
        for statement in _sync_trigger_sql():
            conn.execute(text(statement))
        conn.execute(text("INSERT INTO orders (order_id, amount, country_code) VALUES ('NEW-2', 1.0, 'PL')"))
    return engine


def _run_counting_writes(engine, function) -> int:
    """Run ``function(conn)`` in a transaction; the rows it wrote (SQLite's total_changes, triggers included)."""
    with engine.begin() as conn:
        before = conn.execute(text("SELECT total_changes()")).scalar_one()
        function(conn)
        return conn.execute(text("SELECT total_changes()")).scalar_one() - before


def check_backfill_country(backfill_country) -> Verdict:
    """Exercise 2: the migrate phase of the country rename: fill ``country_code`` of the old rows from ``country``,
    only where it is empty, safe to run twice, and without losing a country."""
    if not callable(backfill_country):
        return Verdict(False, "define a function `backfill_country(conn)` and run its cell first.")
    engine = half_migrated_engine()
    expected = {**COUNTRIES, "NEW-2": "PL"}
    try:
        first = _run_counting_writes(engine, backfill_country)
        second = _run_counting_writes(engine, backfill_country)
    except Exception as error:
        return Verdict(False, f"{explain_error(error)}.")
    with engine.connect() as conn:
        rows = {order_id: (country, code) for order_id, country, code in conn.execute(
            text("SELECT order_id, country, country_code FROM orders ORDER BY order_id")).all()}
    lost = sorted(order_id for order_id, (country, _) in rows.items() if country != expected.get(order_id))
    if lost:
        return Verdict(False, f"the country of {lost} no longer reads what version 1 wrote: data lost. Copy from "
                              "`country` into `country_code`, not the other way.")
    empty = sorted(order_id for order_id, (country, code) in rows.items() if code != country)
    if empty:
        return Verdict(False, f"after your backfill, country_code of {empty} still differs from country; every old "
                              "row needs it filled in.")
    if first > len(COUNTRIES) or second:
        return Verdict(False, f"your backfill wrote {first} rows, and {second} more when run again; only the "
                              f"{len(COUNTRIES)} rows with an empty country_code need it. Add `WHERE country_code IS "
                              "NULL`: on a big table every needless write holds the lock longer.")
    return Verdict(True, f"the {len(COUNTRIES)} old rows filled in, the order v2 placed left alone, and a second run "
                         "wrote nothing.")
