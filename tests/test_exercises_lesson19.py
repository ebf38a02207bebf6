"""Lesson 19's exercise checks: the solutions pass; the wrong answers a learner gives get a verdict naming them.

One test (marked server) runs the lesson's merge on the course's own PostgreSQL, as the lesson's paragraph on
PostgreSQL says it runs, with a BEFORE trigger that normalises, and compares lower() there and in SQLite.
"""

import ast
import secrets
import sqlite3

import nbformat
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from coursekit.customers import load_customers
from coursekit.dataset import insert_orders, read_orders_csv
from coursekit.exercises.lesson19 import (
    ACCOUNTS,
    SURVIVORS,
    check_merge_most_orders,
    check_survivor_query,
    scratch_shop,
)
from coursekit.order_steps import CREATE_ORDERS
from coursekit.pgserver import embedded_url
from tests.conftest import REPO
from tests.never_crash import row, unrelated
from tests.test_exercises import solutions

LESSON_19 = REPO / "notebooks" / "19-clean-duplicates-before-a-unique-index.ipynb"


def solution_namespace():
    found = solutions(LESSON_19)
    assert len(found) == 2
    namespace = {"text": text}
    exec("\n".join(found), namespace)
    return namespace


SOLUTION = solution_namespace()
SURVIVORS_SQL = SOLUTION["survivors_sql"]
RULE = "ORDER BY orders DESC, signed_up_at, customer_id"


def test_lesson_19_solutions_pass_their_checks():
    assert check_survivor_query(SURVIVORS_SQL).ok
    assert check_merge_most_orders(SOLUTION["merge_most_orders"]).ok


def test_the_scratch_shop_tells_the_rules_apart():
    """The most orders is not the oldest account, a tie is broken by the date, the date is not the id's order."""
    oldest = {a: min((b for b in SURVIVORS if SURVIVORS[b] == SURVIVORS[a]), key=lambda b: ACCOUNTS[b][2])
              for a in SURVIVORS}
    assert oldest != SURVIVORS
    assert ACCOUNTS["B-2"][3] == ACCOUNTS["B-7"][3] and ACCOUNTS["B-7"][2] < ACCOUNTS["B-2"][2]
    with scratch_shop().connect() as conn:
        orphans = conn.execute(text("SELECT count(*) FROM orders WHERE customer_id NOT IN "
                                    "(SELECT customer_id FROM customers)")).scalar_one()
    assert orphans == 2


def survivors(replace=None, by=None):
    sql = SURVIVORS_SQL if replace is None else SURVIVORS_SQL.replace(replace, by)
    assert sql != SURVIVORS_SQL or replace is None, f"{replace!r} is not in the solution"
    return sql


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "as a string"), ("  ", "as a string"), ("SELEC 1", 'near "SELEC": syntax error'),
     ("DELETE FROM customers", "returns no rows"), ("SELECT customer_id FROM customers", "name them customer_id"),
     (survivors(RULE, "ORDER BY signed_up_at, customer_id"), "keeps the oldest account (the lesson's rule)"),
     (survivors(RULE, "ORDER BY signed_up_at DESC"), "keeps the newest account"),
     (survivors(RULE, "ORDER BY customer_id"), "keeps the lowest customer_id"),
     (survivors(RULE, "ORDER BY orders DESC, signed_up_at DESC"), "a tie goes to the newest"),
     (survivors("count(o.order_id)", "count(*)"), "count(*) counts the row a LEFT JOIN makes"),
     (survivors("LEFT JOIN", "JOIN"), "use LEFT JOIN"),
     (survivors("lower(trim(c.email))", "lower(c.email)"), "spaces around them"),
     (survivors("lower(trim(c.email))", "trim(c.email)"), "capitals in them"),
     (survivors("FROM counted\n)", "FROM counted JOIN orders USING (customer_id)\n)"), "one row per account"),
     ("SELECT DISTINCT customer_id, customer_id AS survivor_id FROM orders ORDER BY 1", "X-9 is no account"),
     (survivors(), "B-7 wins a tie")],
)
def test_survivor_queries(answer, hint):
    verdict = check_survivor_query(answer)
    assert hint in verdict.message, verdict.message
    assert verdict.ok == (hint == "B-7 wins a tie")


# --- Exercise 2: merges a learner writes ---------------------------------------------------------------------------

AUDIT = ("CREATE TABLE IF NOT EXISTS customer_merges (merged_id TEXT PRIMARY KEY, survivor_id TEXT NOT NULL, "
         "merged_at TEXT NOT NULL, reason TEXT NOT NULL)")
RECORD = ("INSERT INTO customer_merges (merged_id, survivor_id, merged_at, reason) SELECT customer_id, survivor_id, "
          "CURRENT_TIMESTAMP, 'same address' FROM ({survivors}) WHERE customer_id <> survivor_id")
REPOINT = ("UPDATE orders SET customer_id = (SELECT survivor_id FROM customer_merges "
           "WHERE merged_id = orders.customer_id) WHERE customer_id IN (SELECT merged_id FROM customer_merges)")
DELETE = "DELETE FROM customers WHERE customer_id IN (SELECT merged_id FROM customer_merges)"
NORMALISE = "UPDATE customers SET email = lower(trim(email)) WHERE email <> lower(trim(email))"
INDEX = "CREATE UNIQUE INDEX ux_customers_email ON customers (lower(trim(email)))"
REPOINT_FROM_CUSTOMERS = ("UPDATE orders SET customer_id = (SELECT survivor_id FROM ({survivors}) AS s "
                          "WHERE s.customer_id = orders.customer_id) "
                          "WHERE customer_id IN (SELECT customer_id FROM ({survivors}) "
                          "WHERE customer_id <> survivor_id)")


def merge(*statements, survivors_sql=SURVIVORS_SQL):
    def merge_most_orders(conn):
        for statement in statements:
            conn.execute(text(statement.format(survivors=survivors_sql)))
    return merge_most_orders


RIGHT = (AUDIT, RECORD, REPOINT, DELETE, NORMALISE, INDEX)


def without(*left_out):
    return merge(*(statement for statement in RIGHT if statement not in left_out))


def right_but(old, new):
    return merge(*(new if statement == old else statement for statement in RIGHT))


def drops_the_orders(conn):
    conn.execute(text("DROP TABLE orders"))


WRONG_MERGES = [
    (merge(), "changed nothing"),
    (without(), "five accounts merged"),
    (drops_the_orders, "no table orders"),
    (merge(AUDIT, RECORD, DELETE, REPOINT_FROM_CUSTOMERS, NORMALISE, INDEX),
     "re-point the orders before you delete the accounts"),
    (merge(AUDIT, RECORD, REPOINT, DELETE, NORMALISE, INDEX,
           survivors_sql=survivors(RULE, "ORDER BY signed_up_at, customer_id")),
     "Your merge keeps the oldest account (the lesson's rule)"),
    (merge(*RIGHT, survivors_sql=survivors(RULE, "ORDER BY signed_up_at DESC")), "Your merge keeps the newest account"),
    (merge(*RIGHT, survivors_sql=survivors("lower(trim(c.email))", "lower(c.email)")),
     "merge by the same expression the index uses. Your whole merge was rolled back"),
    (merge(AUDIT, RECORD, REPOINT, DELETE, "UPDATE customers SET email = lower(email)",
           "CREATE UNIQUE INDEX ux_customers_email ON customers (lower(email))",
           survivors_sql=survivors("lower(trim(c.email))", "lower(c.email)")), "are all still there"),
    (right_but(REPOINT, "UPDATE orders SET customer_id = (SELECT survivor_id FROM customer_merges "
                        "WHERE merged_id = orders.customer_id)"), "NOT NULL constraint failed: orders.customer_id"),
    (merge(*RIGHT, "DELETE FROM orders WHERE customer_id NOT IN (SELECT customer_id FROM customers)"),
     "orphans: lesson 18 decides"),
    (merge(*RIGHT, "UPDATE orders SET customer_id = 'C-1' WHERE customer_id = 'X-9'"), "named X-9"),
    (merge(*RIGHT, "UPDATE orders SET customer_id = 'C-1' WHERE order_id = 'O-01'"), "belonged to ann@example.com"),
    (merge(*RIGHT, "DELETE FROM customers WHERE customer_id = 'C-1'"),
     "1 order names C-1, which your merge deleted though no other account"),
    (merge(*RIGHT, "UPDATE orders SET amount = amount + 1 WHERE order_id = 'O-02'"), "the amount of O-02 changed"),
    (without(NORMALISE), "A-2 still stores 'Ann@Example.com'"),
    (merge("CREATE TABLE merges_to_do AS SELECT customer_id AS merged_id, survivor_id FROM ({survivors}) "
           "WHERE customer_id <> survivor_id", REPOINT.replace("customer_merges", "merges_to_do"),
           DELETE.replace("customer_merges", "merges_to_do"), NORMALISE, INDEX), "there is no table customer_merges"),
    (merge(AUDIT, RECORD, REPOINT, DELETE, NORMALISE, INDEX, "DELETE FROM customer_merges WHERE merged_id = 'A-3'"),
     "the audit does not say so"),
    (merge(AUDIT, RECORD.replace("'same address'", "''"), REPOINT, DELETE, NORMALISE, INDEX),
     "no merged_at or no reason"),
    (without(INDEX), "customers has no unique index"),
    (right_but(INDEX, "CREATE UNIQUE INDEX ux_customers_email ON customers (email)"), "was accepted"),
    (right_but(INDEX, "CREATE UNIQUE INDEX ux_customers_name ON customers (lower(trim(email)), name)"),
     "Make it UNIQUE on lower(trim(email))"),
]


@pytest.mark.parametrize("answer, hint", WRONG_MERGES, ids=[hint[:40] for _, hint in WRONG_MERGES])
def test_merges(answer, hint):
    verdict = check_merge_most_orders(answer)
    assert hint in verdict.message, verdict.message
    assert verdict.ok == (hint == "five accounts merged")


def test_a_merge_that_fails_part_way_leaves_the_scratch_shop_as_it_was():
    """The check runs the learner's merge in one transaction (DDL included): the failed index takes the audit along."""
    verdict = check_merge_most_orders(merge(*RIGHT, survivors_sql=survivors("lower(trim(c.email))", "lower(c.email)")))
    assert "UNIQUE constraint failed: index 'ux_customers_email'" in verdict.message


MERGE_HINTS = ["re-point the orders before", "Your merge keeps", "rolled back", "changed nothing"]
NEVER_CRASH = [
    row(check_survivor_query, "SELEC customer_id FROM customers", ['near "SELEC": syntax error'],
        ["your code raised", "missing"]),
    row(check_survivor_query, "SELECT customer_id, survivor_id FROM nowhere", ["no such table: nowhere"], ["(at line"]),
    row(check_survivor_query, "SELECT :x AS customer_id, 1 AS survivor_id", ["SQLAlchemy could not run"],
        ["syntax error"]),
    row(check_survivor_query, survivors(RULE, "ORDER BY signed_up_at DESC"), ["keeps the newest account"],
        ["missing", "oldest account"]),
    row(check_survivor_query, survivors("lower(trim(c.email))", "lower(c.email)"), ["spaces around them"],
        ["LEFT JOIN", "keeps"]),
    *unrelated(check_merge_most_orders, "conn", MERGE_HINTS),
    row(check_merge_most_orders, merge(AUDIT, RECORD, DELETE, REPOINT_FROM_CUSTOMERS, NORMALISE, INDEX),
        ["re-point the orders before you delete"], ["Your merge keeps", "rolled back"]),
    row(check_merge_most_orders, merge(*RIGHT, survivors_sql=survivors(RULE, "ORDER BY signed_up_at DESC")),
        ["Your merge keeps the newest account"], ["re-point", "rolled back"]),
    row(check_merge_most_orders, merge(*RIGHT, survivors_sql=survivors("lower(trim(c.email))", "lower(c.email)")),
        ["UNIQUE constraint failed", "rolled back"], ["re-point", "Your merge keeps"]),
    row(check_merge_most_orders, merge(AUDIT, "INSERT INTO customer_merges VALUES (1)"),
        ["table customer_merges has 4 columns but 1 values were supplied"], ["rolled back", "re-point"]),
]


# --- The lesson's claims about PostgreSQL (its paragraph "On PostgreSQL"), on the course's own server -------------

def lesson_constants():
    """The lesson's SQL as its cells define it: every top-level assignment to an upper-case name (RANKED, MERGE...)."""
    namespace = {}
    for cell in nbformat.read(LESSON_19, as_version=4).cells:
        if cell.cell_type != "code" or cell.source.startswith("%"):
            continue
        constants = [node for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
                     and all(isinstance(target, ast.Name) and target.id.isupper() for target in node.targets)]
        exec(compile(ast.Module(body=constants, type_ignores=[]), "lesson 19", "exec"), namespace)
    return namespace


@pytest.mark.server
def test_on_postgresql_the_merge_runs_as_it_is_and_a_before_trigger_normalises():
    lesson = lesson_constants()
    schema = f"lesson19_{secrets.token_hex(4)}"
    engine = create_engine(embedded_url(), connect_args={"options": f"-csearch_path={schema}"})
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
        load_customers(conn)
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, read_orders_csv())
    try:
        with engine.connect() as conn:
            with pytest.raises(IntegrityError, match="could not create unique index"):
                conn.execute(text(lesson["MERGE"]["unique index"]))
            conn.rollback()
        with engine.begin() as conn:
            changed = {step: conn.execute(text(sql.format(person="lower(trim(email))"))).rowcount
                       for step, sql in lesson["MERGE"].items()}
            conn.execute(text("CREATE FUNCTION normalise_email() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                              "NEW.email := lower(trim(NEW.email)); RETURN NEW; END $$"))
            conn.execute(text("CREATE TRIGGER customers_email BEFORE INSERT OR UPDATE OF email ON customers "
                              "FOR EACH ROW EXECUTE FUNCTION normalise_email()"))
            conn.execute(text("INSERT INTO customers VALUES ('C-000201', 'Vera Novak', ' Vera.Novak@Example.COM', "
                              "'2025-06-02')"))
            stored = conn.execute(text("SELECT email FROM customers WHERE customer_id = 'C-000201'")).scalar_one()
            folded = conn.execute(text("SELECT lower('ÅB')")).scalar_one()
        with engine.connect() as conn, pytest.raises(IntegrityError, match="duplicate key value"):
            conn.execute(text("INSERT INTO customers VALUES ('C-000202', 'X', 'UMAR.costa4@example.com ', 'x')"))
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
    assert (changed["record merges"], changed["re-point orders"], changed["delete duplicates"]) == (7, 47, 7)
    assert stored == "vera.novak@example.com"
    assert folded == "åb", "PostgreSQL's lower() follows the locale"
    assert sqlite3.connect(":memory:").execute("SELECT lower('ÅB')").fetchone() == ("Åb",), "SQLite's: A to Z only"
