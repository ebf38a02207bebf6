"""Verification helpers: fingerprints that show a migration kept every row intact."""

from __future__ import annotations

import hashlib

from sqlalchemy import text


def quote_identifier(bind, name: str) -> str:
    """Quote a table or column name for the bind's dialect, so any name is an identifier, never SQL."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"A table or column name must be a non-empty string; got {name!r}.")
    return bind.dialect.identifier_preparer.quote(name)


def table_fingerprint(conn, table: str = "orders", columns: tuple[str, ...] = ("order_id", "amount")) -> dict:
    """Row count and a SHA-256 over the given columns of every row, in primary-key order.

    Two fingerprints are equal exactly when the table holds the same rows with the same values
    in those columns, whatever else a migration added around them.
    """
    column_list = ", ".join(quote_identifier(conn, c) for c in columns)
    first = quote_identifier(conn, columns[0])
    rows = conn.execute(text(f"SELECT {column_list} FROM {quote_identifier(conn, table)} ORDER BY {first}"))
    digest = hashlib.sha256()
    count = 0
    for row in rows:
        digest.update(repr(tuple(row)).encode())
        count += 1
    return {"rows": count, "sha256": digest.hexdigest()[:16]}
