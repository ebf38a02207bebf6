"""Verification helpers: fingerprints that show a migration kept every row intact."""

from __future__ import annotations

import hashlib

from sqlalchemy import inspect, text


def check_name(name) -> str:
    """A table or column name must be a non-empty string without NUL characters; anything else is refused."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ValueError(f"A table or column name must be a non-empty string without NUL characters; got {name!r}.")
    return name


def quote_identifier(bind, name: str) -> str:
    """Quote a table or column name for the bind's dialect, so any name is an identifier, never SQL."""
    return bind.dialect.identifier_preparer.quote(check_name(name))


def _column_names(conn, table: str) -> list[str]:
    """The columns of ``table``, or a LookupError that says which cell to run when there is no such table."""
    inspector = inspect(conn)
    if not inspector.has_table(check_name(table)):
        raise LookupError(f"There is no table {table!r}. Run the cell that creates it first, or Restart & Run All.")
    return [column["name"] for column in inspector.get_columns(table)]


def table_fingerprint(conn, table: str = "orders", columns: tuple[str, ...] = ("order_id", "amount")) -> dict:
    """Row count and a SHA-256 over the given columns of every row, in primary-key order.

    Two fingerprints are equal exactly when the table holds the same rows with the same values
    in those columns, whatever else a migration added around them. Names are checked against the
    table first: SQLite would read an unknown double-quoted name as a string, silently.
    """
    if isinstance(columns, str):
        columns = (columns,)  # one column name, not its letters
    if not isinstance(columns, (tuple, list)) or not columns:
        raise ValueError(f"Name the columns to fingerprint as a tuple, e.g. ('order_id', 'amount'); got {columns!r}.")
    known = _column_names(conn, table)
    missing = [column for column in columns if column not in known]
    if missing:
        raise LookupError(f"Table {table!r} has no column {missing[0]!r}; it has {known}.")
    column_list = ", ".join(quote_identifier(conn, c) for c in columns)
    first = quote_identifier(conn, columns[0])
    rows = conn.execute(text(f"SELECT {column_list} FROM {quote_identifier(conn, table)} ORDER BY {first}"))
    digest = hashlib.sha256()
    count = 0
    for row in rows:
        digest.update(repr(tuple(row)).encode())
        count += 1
    return {"rows": count, "sha256": digest.hexdigest()[:16]}
