"""The shop's customers: a seeded generator, ``data/customers.csv`` and a loader, with the flaws real data has.

The orders (``data/orders.csv``) name 125 customers, ``C-000001`` to ``C-000125``. This table describes them, as a
shop's customer table looks after some years, so the lessons on constraints have something real to fix:

- **deleted customers**: three customers' rows are gone (an account clean-up that forgot their orders), so some
  orders name a customer that does not exist: a foreign key on ``orders.customer_id`` would refuse the data;
- **duplicates**: six people signed up twice (one of them three times) under new customer ids, with the same
  e-mail address written differently (capitals, spaces around it), so a ``UNIQUE`` index on the e-mail as stored
  would accept them and one on ``lower(trim(email))`` would refuse the data.

The same seed always gives the same customers; ``data/customers.csv`` is :func:`generate_customers` written with
:func:`write_customers_csv`, and a test keeps the two equal.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from sqlalchemy import text

from coursekit.dataset import DATA_DIR, DEFAULT_SEED

CUSTOMERS_CSV = DATA_DIR / "customers.csv"
CUSTOMER_COLUMNS = ("customer_id", "name", "email", "signed_up_at")
CUSTOMER_COUNT = 125  # the ids that data/orders.csv names
DELETED = 3  # customers whose rows are gone, while their orders remain
DUPLICATE_PEOPLE = 6  # people with a second account; the first of them has a third

FIRST_NAMES = ("Anna", "Ben", "Chloé", "David", "Elif", "Finn", "Greta", "Hugo", "Ines", "Jan", "Karin", "Luca",
               "Maja", "Noah", "Olga", "Pablo", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wim", "Yara", "Zoltan")
LAST_NAMES = ("Berg", "Costa", "Dubois", "Eriksson", "Fischer", "García", "Horvat", "Jansen", "Kowalski", "Larsen",
              "Martin", "Novak", "Olsen", "Petit", "Rossi", "Schmidt", "Smith", "Weber", "Young", "Zielinski")
ASCII = str.maketrans("éí", "ei")

CREATE_CUSTOMERS = """
CREATE TABLE customers (
    customer_id  TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    email        TEXT NOT NULL,
    signed_up_at TEXT NOT NULL
)"""


def _email(name: str, number: int) -> str:
    first, last = name.lower().translate(ASCII).split(" ", 1)
    return f"{first}.{last}{number}@example.com"


def _written_differently(email: str, how: int) -> str:
    """The same address as a person types it again: with capitals, with spaces around it, or a shouted domain."""
    local, domain = email.split("@")
    capitals = ".".join(part.capitalize() for part in local.split(".")) + "@" + domain
    return (capitals, f" {email} ", f"{local}@{domain.upper()}  ")[how % 3]


def generate_customers(seed: int = DEFAULT_SEED) -> list[tuple]:
    """Return the customers as tuples in the order of :data:`CUSTOMER_COLUMNS`, the same for the same seed.

    Ids are the orders' ``C-000001`` … ``C-000125`` minus :data:`DELETED` deleted ones. A duplicate account is a later
    id with the first account's name and e-mail address written differently, signed up later.
    """
    rng = np.random.default_rng(seed + 1)  # not the orders' stream: the orders stay as they are
    ids = np.arange(1, CUSTOMER_COUNT + 1)
    shuffled = rng.permutation(ids)
    deleted = set(shuffled[:DELETED].tolist())
    pool = shuffled[DELETED:].tolist()
    pairs = [sorted(pool[k:k + 2]) for k in range(0, 2 * DUPLICATE_PEOPLE, 2)]  # (first account, second account)
    copies = {second: first for first, second in pairs}
    third = next(i for i in pool[2 * DUPLICATE_PEOPLE:] if i > pairs[0][0])
    copies[third] = pairs[0][0]  # the first person signed up a third time
    first = rng.integers(0, len(FIRST_NAMES), CUSTOMER_COUNT + 1)
    last = rng.integers(0, len(LAST_NAMES), CUSTOMER_COUNT + 1)
    signed_up = np.sort(rng.integers(0, 700, CUSTOMER_COUNT + 1))  # days from 2023-01-01, rising with the id
    days = (np.datetime64("2023-01-01") + signed_up).astype(str).tolist()
    names = {i: f"{FIRST_NAMES[first[i]]} {LAST_NAMES[last[i]]}" for i in ids.tolist()}
    emails = {i: _email(names[i], i) for i in ids.tolist()}
    rows = []
    for i in ids.tolist():
        if i in deleted:
            continue
        name, email = names[i], emails[i]
        if i in copies:
            original = copies[i]
            name, email = names[original], _written_differently(emails[original], sorted(copies).index(i))
        rows.append((f"C-{i:06d}", name, email, days[i]))
    return rows


def write_customers_csv(rows: list[tuple], path: Path = CUSTOMERS_CSV) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CUSTOMER_COLUMNS)
        writer.writerows(rows)
    return path


def read_customers_csv(path: Path = CUSTOMERS_CSV) -> list[tuple]:
    """The customers as tuples like :func:`generate_customers` returns (e-mail addresses kept exactly as stored)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = tuple(next(reader))
        if header != CUSTOMER_COLUMNS:
            raise ValueError(f"{path} has columns {header}, expected {CUSTOMER_COLUMNS}.")
        return [tuple(row) for row in reader]


def load_customers(conn, table: str = "customers") -> int:
    """Create ``customers`` (when missing) and insert the data set's customers; returns how many."""
    if table != "customers":
        raise ValueError("load_customers makes the table `customers`; rename it afterwards if you need another name.")
    conn.execute(text(CREATE_CUSTOMERS.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS")))
    rows = read_customers_csv()
    conn.execute(text("INSERT INTO customers VALUES (:customer_id, :name, :email, :signed_up_at)"),
                 [dict(zip(CUSTOMER_COLUMNS, row, strict=True)) for row in rows])
    return len(rows)


if __name__ == "__main__":
    print(f"wrote {write_customers_csv(generate_customers())}")
