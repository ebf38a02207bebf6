"""Schema display: a table's columns as a pandas DataFrame, and a before/after comparison.

These helpers only *show* a schema; the migrations themselves stay in the notebooks' cells.
"""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler
from sqlalchemy import inspect

from coursekit.verify import check_name

SCHEMA_COLUMNS = ["column", "type", "nullable", "default", "primary_key"]
RULE_COLUMNS = ["rule", "definition"]

CHANGE_COLOURS = {
    "added": "background-color: #d4f7d4",
    "removed": "background-color: #f9d0d0; text-decoration: line-through",
    "changed": "background-color: #fff1b8",
    "": "",
}


def _inspect_table(bind, table: str):
    """An inspector for ``bind``, or a LookupError that says which cell to run when ``table`` is missing."""
    inspector = inspect(bind)
    if not inspector.has_table(check_name(table)):
        known = ", ".join(sorted(inspector.get_table_names())) or "none"
        raise LookupError(
            f"There is no table {table!r} in this database (tables: {known}). "
            "Run the cell that creates it first, or Restart & Run All."
        )
    return inspector


def schema_frame(bind, table: str = "orders") -> pd.DataFrame:
    """The columns of ``table`` as a DataFrame: name, type, nullable, database default, primary key.

    ``bind`` is an Engine or a Connection. Reading through a Connection matters for
    ``sqlite:///:memory:`` only in that it sees uncommitted changes of that same connection.
    The ``default`` column is the *database's* default (``server_default``), as the database stores it.
    """
    inspector = _inspect_table(bind, table)
    primary_key = set(inspector.get_pk_constraint(table)["constrained_columns"])
    rows = [
        {
            "column": col["name"],
            "type": str(col["type"]),
            "nullable": bool(col["nullable"]),
            "default": col["default"],
            "primary_key": col["name"] in primary_key,
        }
        for col in inspector.get_columns(table)
    ]
    frame = pd.DataFrame(rows, columns=SCHEMA_COLUMNS)
    # object dtype keeps a missing default as None (not NaN), so two schemas compare equal cell by cell
    frame["default"] = pd.Series([row["default"] for row in rows], dtype=object)
    return frame


def rules_frame(bind, table: str = "orders") -> pd.DataFrame:
    """The indexes and CHECK constraints of ``table``: what a schema holds besides its columns."""
    inspector = _inspect_table(bind, table)
    rows = [
        {"rule": f"index {index['name']}", "definition": f"({', '.join(index['column_names'])})"
         + (" UNIQUE" if index["unique"] else "")}
        for index in sorted(inspector.get_indexes(table), key=lambda index: index["name"] or "")
    ]
    rows += [
        {"rule": f"check {check['name'] or '(unnamed)'}", "definition": check["sqltext"]}
        for check in sorted(inspector.get_check_constraints(table), key=lambda check: check["name"] or "")
    ]
    return pd.DataFrame(rows, columns=RULE_COLUMNS)


def schema_changes(before: pd.DataFrame, after: pd.DataFrame, key: str = "column") -> pd.DataFrame:
    """One row per ``key`` in either frame, with a ``change`` of added, removed, changed or ''."""
    before_rows = {row[key]: row for row in before.to_dict("records")}
    after_rows = {row[key]: row for row in after.to_dict("records")}
    ordered_names = list(after_rows) + [name for name in before_rows if name not in after_rows]
    records = []
    for name in ordered_names:
        old, new = before_rows.get(name), after_rows.get(name)
        if old is None:
            change = "added"
        elif new is None:
            change = "removed"
        elif old != new:
            change = "changed"
        else:
            change = ""
        records.append({**(new or old), "change": change})
    return pd.DataFrame(records, columns=[*after.columns, "change"])


class TableView(Styler):
    """A pandas Styler whose plain-text form is the table itself.

    A plain Styler's text form is ``<pandas.io.formats.style.Styler at 0x7f…>``, an address that changes
    on every run; this one gives the rows, so a notebook's recorded text output says what the table
    holds and stays the same from run to run.
    """

    def __repr__(self) -> str:
        return self.data.to_string(index=False, na_rep="")


def left_aligned_table(frame: pd.DataFrame, uuid: str) -> TableView:
    """``frame`` as a left-aligned table without its index; the fixed ``uuid`` keeps the HTML stable."""
    return (
        TableView(frame)
        .set_table_styles([{"selector": "th, td", "props": "padding: 2px 10px; text-align: left"}])
        .set_uuid(uuid)
        .hide(axis="index")
    )


def highlight_changes(changes: pd.DataFrame, uuid: str = "schema") -> TableView:
    """:func:`schema_changes` as a table with added, removed and changed rows coloured.

    The fixed ``uuid`` keeps the rendered HTML identical from run to run (pandas picks a random
    one otherwise), so the output can be compared by nbval.
    """
    colours = changes["change"].map(CHANGE_COLOURS)
    return (
        left_aligned_table(changes, uuid)
        .apply(lambda column: colours.to_list(), axis=0)
        .format(na_rep="")  # no default: an empty cell, not "nan"
    )


def compare_schemas(before: pd.DataFrame, after: pd.DataFrame, uuid: str = "schema", key: str = "column"):
    """Before/after comparison of two :func:`schema_frame` (or :func:`rules_frame`, ``key="rule"``) results,
    highlighted (a pandas Styler)."""
    return highlight_changes(schema_changes(before, after, key=key), uuid=uuid)
