import pytest
from sqlalchemy import text

from coursekit.dataset import COLUMNS, ORDERS_CSV, generate_orders, insert_orders, read_orders_csv, write_orders_csv


def test_same_seed_gives_same_orders_and_another_seed_does_not():
    assert generate_orders(200, seed=7) == generate_orders(200, seed=7)
    assert generate_orders(200, seed=7) != generate_orders(200, seed=8)


def test_committed_csv_is_exactly_the_generators_default_output():
    assert read_orders_csv(ORDERS_CSV) == generate_orders()


def test_csv_round_trip(tmp_path):
    rows = generate_orders(50, seed=3)
    assert read_orders_csv(write_orders_csv(rows, tmp_path / "o.csv")) == rows


def test_orders_are_realistic():
    rows = generate_orders(1_000)
    assert len({row[0] for row in rows}) == 1_000, "order ids are unique"
    amounts = [row[4] for row in rows]
    assert min(amounts) >= 1.0 and all(round(a, 2) == a for a in amounts)
    shipped = [row for row in rows if row[5] is not None]
    refunded = [row for row in rows if row[6] is not None]
    assert 0.6 < len(shipped) / len(rows) < 0.95
    assert 0 < len(refunded) < len(shipped) * 0.2
    assert all(row[3] < row[5] for row in shipped), "shipped after ordered"
    assert all(row[5] is not None and row[5] < row[6] for row in refunded), "refunded only after shipping"


@pytest.mark.parametrize("bad", [0, -5, 1_000_001, 2.5, "100", None, True])
def test_generator_refuses_bad_sizes_with_a_clear_message(bad):
    with pytest.raises(ValueError, match="whole number of orders"):
        generate_orders(bad)


def test_insert_orders_loads_all_columns_or_a_subset(memory_engine):
    rows = generate_orders(300)
    with memory_engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (order_id TEXT PRIMARY KEY, amount REAL)"))
        assert insert_orders(conn, rows, columns=("order_id", "amount")) == 300
        conn.execute(text(f"CREATE TABLE full_orders ({', '.join(COLUMNS)})"))
        insert_orders(conn, rows, table="full_orders")
        assert conn.execute(text("SELECT sum(amount) FROM orders")).scalar_one() == pytest.approx(
            sum(row[4] for row in rows)
        )
        stored = conn.execute(text("SELECT * FROM full_orders ORDER BY order_id")).all()
    assert [tuple(row) for row in stored] == rows


def test_insert_orders_refuses_unknown_columns(memory_engine):
    with memory_engine.begin() as conn, pytest.raises(ValueError, match="Unknown order column"):
        insert_orders(conn, generate_orders(3), columns=("order_id", "amount; DROP TABLE orders"))
