"""Issue 13, section 3, items 1 and 2: what lessons 04 and 09 say about foreign keys and snapshots is true.

Each test does the thing itself (with SQLite, as the lesson does) and checks that the lesson says and shows it:
the recorded outputs hold the numbers and messages that SQLite gives here, and the wrong claims are gone.
"""

import re
import sqlite3

import nbformat
import pytest

from coursekit.dataset import generate_orders, read_orders_csv
from tests.conftest import REPO

LESSON_04 = REPO / "notebooks" / "04-sqlite-alter-table-limits.ipynb"
LESSON_05 = REPO / "notebooks" / "05-sqlite-table-rebuild.ipynb"
LESSON_06 = REPO / "notebooks" / "09-backups-and-restore.ipynb"
LESSON_10 = REPO / "notebooks" / "10-when-a-migration-succeeds-and-is-wrong.ipynb"


def cells(path):
    return nbformat.read(path, as_version=4).cells


def prose(path):
    """All the lesson's markdown, with line breaks and repeated spaces folded, as a learner reads it."""
    return re.sub(r"\s+", " ", " ".join(cell.source for cell in cells(path) if cell.cell_type == "markdown"))


def code_cell(path, fragment):
    """The first code cell whose source contains ``fragment``, with its recorded output as one text."""
    for cell in cells(path):
        if cell.cell_type == "code" and fragment in cell.source:
            texts = [output.get("text", "") or output.get("data", {}).get("text/plain", "") for output in cell.outputs]
            return cell.source, "".join(texts)
    pytest.fail(f"{path.name} has no code cell with {fragment!r}")


def shop_with_foreign_keys(foreign_keys="ON"):
    """Customers and orders with rows, in autocommit mode, foreign keys switched as asked."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(f"PRAGMA foreign_keys = {foreign_keys}")
    conn.execute("CREATE TABLE customers (customer_id TEXT PRIMARY KEY)")
    conn.execute("CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL)")
    conn.executemany("INSERT INTO customers VALUES (?)", [("C-000001",), ("C-000002",)])
    conn.executemany("INSERT INTO orders VALUES (?, ?)", [("ORD-0000001", "C-000001"), ("ORD-0000002", "C-000002")])
    return conn


def refusal(conn, statement, parameters=()):
    try:
        conn.execute(statement, parameters)
    except sqlite3.Error as error:
        return str(error)
    return "ok"


# Lesson 04: ALTER TABLE ... ADD COLUMN ... REFERENCES adds a foreign key; an existing column needs lesson 05's rebuild.

def test_add_column_references_adds_an_enforced_foreign_key():
    conn = shop_with_foreign_keys()
    conn.execute("ALTER TABLE orders ADD COLUMN referred_by TEXT REFERENCES customers")
    keys = [(row[3], row[2]) for row in conn.execute("PRAGMA foreign_key_list(orders)")]
    assert keys == [("referred_by", "customers")]
    refer = "UPDATE orders SET referred_by = ? WHERE order_id = 'ORD-0000001'"
    assert refusal(conn, refer, ("C-000002",)) == "ok"
    assert refusal(conn, refer, ("C-999999",)) == "FOREIGN KEY constraint failed"


def test_a_non_null_default_is_refused_only_while_foreign_keys_are_on():
    statement = "ALTER TABLE orders ADD COLUMN vouched_by TEXT REFERENCES customers DEFAULT 'C-999999'"
    assert "non-NULL default" in refusal(shop_with_foreign_keys("ON"), statement)
    unchecked = shop_with_foreign_keys("OFF")
    assert refusal(unchecked, statement) == "ok"
    assert len(unchecked.execute("PRAGMA foreign_key_check").fetchall()) == 2  # every old row: a broken reference


@pytest.mark.parametrize("lesson", [LESSON_04, LESSON_05], ids=["04", "05"])
def test_lessons_04_and_05_no_longer_say_alter_table_cannot_add_a_foreign_key(lesson):
    text = prose(lesson)
    for wrong in (r"No version of `ALTER TABLE` can add a foreign key", r"or a new foreign key, has no syntax",
                  r"\(a type, a foreign key\) is a rebuild"):
        assert not re.search(wrong, text), f"{lesson.name} still says: {wrong}"
    assert "ADD COLUMN … REFERENCES" in prose(LESSON_04) and "existing" in prose(LESSON_04)


def test_lesson_04_shows_add_column_references_working_and_enforced():
    conn = shop_with_foreign_keys()
    conn.execute("ALTER TABLE orders ADD COLUMN referred_by TEXT REFERENCES customers")
    bad_reference = refusal(conn, "UPDATE orders SET referred_by = 'C-999999'")
    source, output = code_cell(LESSON_04, "ADD COLUMN referred_by TEXT REFERENCES customers")
    assert "build_shop()" in source, "the new column is added to a fresh shop with foreign keys on"
    assert "('referred_by', 'customers')" in output, output
    assert bad_reference in output and "'C-000001': 'ok'" in output, output


def test_lesson_04_shows_a_default_refused_with_sqlites_own_words():
    source, output = code_cell(LESSON_04, "REFERENCES customers DEFAULT")
    statement = re.search(r'"(ALTER TABLE orders ADD COLUMN .*? DEFAULT .*?)"', source)[1]
    said = refusal(shop_with_foreign_keys(), statement)
    assert said != "ok" and said in output, output


def test_lesson_04_tries_a_foreign_key_on_an_existing_column_and_lesson_05s_rebuild_adds_it():
    source, _ = code_cell(LESSON_04, "ATTEMPTS = [")
    statement = re.search(r'"(ALTER TABLE orders ADD CONSTRAINT \w+ FOREIGN KEY \(customer_id\)[^"]*)"', source)
    assert statement, "the table of SQLite's answers tries a foreign key on the existing customer_id"
    assert refusal(shop_with_foreign_keys(), statement[1]) != "ok"
    _, before_rebuild = code_cell(LESSON_04, 'shop.exec_driver_sql("PRAGMA foreign_key_list(orders)")')
    assert before_rebuild.strip().endswith("[]"), before_rebuild
    _, after_rebuild = code_cell(LESSON_05, "orders references:")
    assert "('customer_id', 'customers')" in after_rebuild, after_rebuild


# Lessons 09 and 10: restoring a snapshot after a wrong migration that succeeded throws away the orders written since.

def backup(source, target):
    source.backup(target)


def wrong_cents(conn):
    return conn.execute("SELECT count(*) FROM orders WHERE amount_cents IS NOT CAST(round(amount * 100) AS INTEGER)"
                        ).fetchone()[0]


def test_restoring_a_snapshot_throws_away_the_orders_written_since_and_a_forward_fix_keeps_them():
    shop = sqlite3.connect(":memory:", isolation_level=None)
    shop.execute("CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, country TEXT NOT NULL,"
                 " ordered_at TEXT NOT NULL, amount REAL, shipped_at TEXT, refunded_at TEXT)")
    shop.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)", read_orders_csv())
    snapshot = sqlite3.connect(":memory:")
    backup(shop, snapshot)
    shop.execute("ALTER TABLE orders ADD COLUMN amount_cents INTEGER")
    shop.execute("UPDATE orders SET amount_cents = CAST(round(amount * 10) AS INTEGER)")
    new_orders = generate_orders(1_025)[1_000:]
    shop.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     [(*order, round(order[4] * 100)) for order in new_orders])
    wrong = wrong_cents(shop)
    restored = sqlite3.connect(":memory:")
    backup(snapshot, restored)
    ids = {row[0] for row in shop.execute("SELECT order_id FROM orders")}
    thrown_away = ids - {row[0] for row in restored.execute("SELECT order_id FROM orders")}
    assert thrown_away == {order[0] for order in new_orders} and len(thrown_away) == 25
    shop.execute("UPDATE orders SET amount_cents = CAST(round(amount * 100) AS INTEGER)"
                 " WHERE amount_cents IS NOT CAST(round(amount * 100) AS INTEGER)")
    assert wrong == len(read_orders_csv()) and wrong_cents(shop) == 0
    assert {row[0] for row in shop.execute("SELECT order_id FROM orders")} == ids

    _, shown = code_cell(LESSON_10, "thrown_away = sorted(")
    assert f"thrown away: {len(thrown_away)} orders" in shown, shown
    _, before_fix = code_cell(LESSON_10, "def wrong_cents")
    assert f"{wrong:,} of {len(ids):,} orders hold the wrong cents" in before_fix, before_fix
    _, fixed = code_cell(LESSON_10, "run_steps(busy_shop, [FIX_CENTS])")
    assert f"{wrong:,} before the fix, 0 after" in fixed and f"orders: {len(ids):,}" in fixed, fixed


def test_lesson_09_no_longer_offers_a_snapshot_as_the_cover_for_a_wrong_migration_found_later():
    text = prose(LESSON_06)
    assert not re.search(r"turns out wrong a day later\. A snapshot covers all of them", text)
    assert "lesson 10" in text and "10-when-a-migration-succeeds-and-is-wrong.ipynb" in text
    text = prose(LESSON_10)
    for named in ("forward fix", "point-in-time recovery", "archive_mode", "recovery_target_time", "pg_basebackup",
                  "mysqlbinlog", "binary log", "before the mistake"):
        assert named.lower() in text.lower(), f"lesson 10 should name {named!r}"
