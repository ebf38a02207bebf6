"""Lesson 14's exercise checks (see :mod:`coursekit.exercises` for how checks behave)."""

from __future__ import annotations

import math

import pandas as pd

from coursekit.exercises import Verdict

LINEAR = {"backfill, one statement", "backfill, in batches", "table rebuild", "create an index"}
CONSTANT = {"add a column"}


def check_linear_operations(linear_operations) -> Verdict:
    """Exercise 1: what grows with the table: the two backfills and the rebuild (O(n)), the index (O(n log n))."""
    if isinstance(linear_operations, str) or not isinstance(linear_operations, (list, tuple, set)):
        return Verdict(False, f"give a list of names, e.g. ['table rebuild']; you gave {linear_operations!r}.")
    if not all(isinstance(name, str) for name in linear_operations):
        return Verdict(False, f"write each name in quotes, e.g. 'table rebuild'; you gave {linear_operations!r}.")
    names = set(linear_operations)
    if not names:
        return Verdict(False, "the list is empty: which lines rise from left to right on the plot?")
    unknown = names - LINEAR - CONSTANT
    if unknown:
        return Verdict(False, f"{sorted(map(str, unknown))} are not operation names; use {sorted(LINEAR | CONSTANT)}.")
    if names & CONSTANT:
        return Verdict(False, "'add a column' stayed flat on the plot: with a constant default it is O(1).")
    if names != LINEAR:
        return Verdict(False, f"some operations that touch every row are missing: {sorted(LINEAR - names)}.")
    return Verdict(True, "every operation that reads or writes each row grows with the table: the backfills and the "
                   "rebuild are O(n), the index, which sorts, O(n log n); only ADD COLUMN is O(1).")


def _not_the_rate(rows_per_second: float, timings: pd.DataFrame, column: str) -> str:
    """What a wrong rate is, when it is the rate at a smaller size; else only that it is not rows / seconds."""
    for rows, seconds in timings[column].iloc[:-1].items():
        if seconds and math.isclose(rows_per_second, rows / seconds, rel_tol=0.01):
            return f"that is the rate at {rows:,} rows: take the last row of `timings` (the largest size)."
    return (f"{rows_per_second:,.0f} is not the rows divided by the seconds of '{column}' in the last row of "
            "`timings` (the largest size).")


def check_throughput(rows_per_second, timings) -> Verdict:
    """Exercise 2: rows per second of the one-statement backfill at the largest size."""
    column = "backfill, one statement"
    if not isinstance(timings, pd.DataFrame) or column not in timings or timings.empty:
        return Verdict(False, "run the measurement cell first: `timings` should hold the measured seconds.")
    if isinstance(rows_per_second, bool) or not isinstance(rows_per_second, (int, float)):
        return Verdict(False, f"`rows_per_second` should be a number; it is {type(rows_per_second).__name__}.")
    expected = timings.index[-1] / timings[column].iloc[-1]
    if not math.isfinite(rows_per_second) or rows_per_second <= 0:
        return Verdict(False, "rows per second is a positive number: rows divided by seconds.")
    if math.isclose(rows_per_second, 1 / expected, rel_tol=0.01):
        return Verdict(False, "that is seconds per row; divide the rows by the seconds instead.")
    if not math.isclose(rows_per_second, expected, rel_tol=0.01):
        return Verdict(False, _not_the_rate(rows_per_second, timings, column))
    return Verdict(True, f"about {expected:,.0f} rows per second on this machine.")
