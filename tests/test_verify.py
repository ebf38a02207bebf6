import pytest
from sqlalchemy import text

from coursekit.verify import quote_identifier, table_fingerprint


@pytest.fixture
def orders(memory_engine):
    with memory_engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (order_id TEXT PRIMARY KEY, amount REAL)"))
        conn.execute(text("INSERT INTO orders VALUES ('a', 1.5), ('b', 2.25)"))
    return memory_engine


def test_fingerprint_ignores_added_columns_but_sees_any_changed_value(orders):
    with orders.begin() as conn:
        before = table_fingerprint(conn)
        conn.execute(text("ALTER TABLE orders ADD COLUMN status TEXT DEFAULT 'x'"))
        assert table_fingerprint(conn) == before
        conn.execute(text("UPDATE orders SET amount = 2.26 WHERE order_id = 'b'"))
        assert table_fingerprint(conn) != before
    assert before["rows"] == 2


def test_fingerprint_sees_a_lost_row(orders):
    with orders.begin() as conn:
        before = table_fingerprint(conn)
        conn.execute(text("DELETE FROM orders WHERE order_id = 'a'"))
        assert table_fingerprint(conn)["rows"] == 1 != before["rows"]


def test_identifiers_are_quoted_never_executed(orders):
    hostile = 'orders"; DROP TABLE orders; --'
    assert quote_identifier(orders, hostile) == '"orders""; DROP TABLE orders; --"'
    with orders.connect() as conn:
        with pytest.raises(LookupError, match="There is no table"):
            table_fingerprint(conn, hostile)
        with pytest.raises(LookupError, match="has no column 'NULL'"):
            table_fingerprint(conn, "orders", ("order_id", "NULL"))
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar_one() == 2
    with pytest.raises(ValueError):
        quote_identifier(orders, "")
