"""The course's e-commerce orders data set: a seeded generator, the CSV in ``data/`` and a bulk loader.

The same seed always gives the same orders, so every notebook output that depends on the data is
reproducible. ``data/orders.csv`` is ``generate_orders(1_000)`` written with :func:`write_orders_csv`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from sqlalchemy import inspect

from coursekit.verify import check_name

DEFAULT_SEED = 2024
DEFAULT_ROWS = 1_000
MAX_ROWS = 1_000_000

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
ORDERS_CSV = DATA_DIR / "orders.csv"

COLUMNS = ("order_id", "customer_id", "country", "ordered_at", "amount", "shipped_at", "refunded_at")

COUNTRIES = ("DE", "FR", "GB", "NL", "ES", "IT", "PL", "SE", "US", "CA")
COUNTRY_WEIGHTS = (0.22, 0.14, 0.14, 0.08, 0.08, 0.08, 0.06, 0.05, 0.10, 0.05)

FIRST_DAY = np.datetime64("2025-01-01")
DAYS_IN_YEAR = 365


def _date_strings(days: int) -> list[str]:
    """``YYYY-MM-DD`` for day 0 (2025-01-01) to ``days - 1``: looked up per order instead of formatted per order."""
    return (FIRST_DAY + np.arange(days)).astype(str).tolist()


def _lookup(table: list, indexes: np.ndarray, present: np.ndarray | None = None) -> list:
    """``table[i]`` for each index (``None`` where ``present`` is false): the fast way to build a column of strings."""
    column = np.array(table, dtype=object)[indexes]
    if present is not None:
        column[~present] = None
    return column.tolist()


def _order_ids(n: int) -> list[str]:
    """``ORD-0000001`` … ``ORD-{n:07d}``, built from 10,000 heads and 1,000 tails (far faster than a format per id)."""
    heads = [f"ORD-{i:04d}" for i in range((n // 1000) + 1)]
    tails = [f"{i:03d}" for i in range(1000)]
    return [head + tail for head in heads for tail in tails][1 : n + 1]


def generate_orders(n: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> list[tuple]:
    """Return ``n`` orders as tuples in the order of :data:`COLUMNS`, the same for the same seed.

    About 80 % of orders are shipped one to five days after they were placed (fewer among the
    newest), and about 6 % of shipped orders are refunded later. Amounts are log-normal, in euros,
    rounded to cents. The random draws are vectorised with NumPy and the text columns are built by
    table look-ups, so a million rows take well under a second.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 1 <= n <= MAX_ROWS:
        raise ValueError(f"n must be a whole number of orders from 1 to {MAX_ROWS:,}; got {n!r}.")
    rng = np.random.default_rng(seed)
    n = int(n)
    ordered = np.sort(rng.integers(0, DAYS_IN_YEAR, n))
    amounts = np.maximum(np.round(rng.lognormal(mean=3.6, sigma=0.8, size=n), 2), 1.0)
    countries = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_WEIGHTS)
    customer_count = max(50, n // 8)
    customers = rng.integers(1, customer_count + 1, n)
    ship_chance = np.where(ordered > DAYS_IN_YEAR - 8, 0.3, 0.85)
    shipped = rng.random(n) < ship_chance
    shipped_day = ordered + rng.integers(1, 6, n)
    refunded = shipped & (rng.random(n) < 0.06)
    refunded_day = shipped_day + rng.integers(3, 31, n)

    dates = _date_strings(DAYS_IN_YEAR + 40)
    customer_ids = [f"C-{c:06d}" for c in range(customer_count + 1)]
    columns = (
        _order_ids(n),
        _lookup(customer_ids, customers),
        _lookup(COUNTRIES, countries),
        _lookup(dates, ordered),
        amounts.tolist(),
        _lookup(dates, shipped_day, shipped),
        _lookup(dates, refunded_day, refunded),
    )
    return list(zip(*columns, strict=True))


def _csv_field(value) -> str:
    if value is None:
        return ""
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def write_orders_csv(rows: list[tuple], path: Path = ORDERS_CSV) -> Path:
    """Write orders to CSV; a missing date is an empty field."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_csv_field(value) for value in row])
    return path


def read_orders_csv(path: Path = ORDERS_CSV) -> list[tuple]:
    """Read the orders CSV back into tuples like :func:`generate_orders` returns."""
    if not Path(path).exists():
        raise FileNotFoundError(
            f"The data set {path} is missing. Run the notebooks from a checkout of the course "
            "(the package is installed with `pip install -e .`), or regenerate it with "
            "`python -m coursekit.dataset`."
        )
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = tuple(next(reader))
        if header != COLUMNS:
            raise ValueError(f"{path} has columns {header}, expected {COLUMNS}.")
        return [
            (oid, cust, country, ordered, float(amount), shipped or None, refunded or None)
            for oid, cust, country, ordered, amount, shipped, refunded in reader
        ]


def insert_orders(conn, rows: list[tuple], table: str = "orders", columns: tuple[str, ...] = COLUMNS) -> int:
    """Bulk-insert ``rows`` (tuples in the order of :data:`COLUMNS`) into ``table`` in one statement.

    ``conn`` is a SQLAlchemy ``Connection`` inside a transaction (``engine.begin()``). Only the
    requested ``columns`` are inserted, so the two-column table of lesson 01 loads from the same rows.
    Uses the driver's ``executemany`` directly: one prepared statement, no per-row commits.
    """
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ValueError(f"Unknown order column(s) {unknown}; the data set has {list(COLUMNS)}.")
    check_name(table)
    if not rows:
        return 0
    if len(rows[0]) != len(COLUMNS):
        raise ValueError(f"Each row needs {len(COLUMNS)} values in the order of {list(COLUMNS)}; got {rows[0]!r}.")
    if not inspect(conn).has_table(table):
        raise LookupError(f"There is no table {table!r} to load into. Run the cell that creates it first.")
    positions = [COLUMNS.index(c) for c in columns]
    if positions != list(range(len(COLUMNS))):
        rows = [tuple(row[p] for p in positions) for row in rows]
    quoted_table = conn.dialect.identifier_preparer.quote(table)
    column_list = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    paramstyle = conn.dialect.paramstyle
    marker = "?" if paramstyle == "qmark" else "%s"
    placeholders = ", ".join([marker] * len(columns))
    conn.exec_driver_sql(f"INSERT INTO {quoted_table} ({column_list}) VALUES ({placeholders})", rows)
    return len(rows)


if __name__ == "__main__":
    written = write_orders_csv(generate_orders())
    print(f"wrote {written}")
