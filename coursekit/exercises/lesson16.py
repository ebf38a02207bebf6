"""Lesson 16's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Neither needs a server: exercise 1 asks which statements are catalogue only, exercise 2 the safe order of the steps
that make ``orders.warehouse``, a nullable column, NOT NULL.
"""

from __future__ import annotations

from coursekit.exercises import Verdict

WHY = {
    "a": "a constant default, like any non-volatile one (now() too), is evaluated once and kept in the catalogue",
    "b": "gen_random_uuid() is volatile: every row gets its own value, so the table is rewritten",
    "c": "NOT VALID records the constraint without checking the existing rows",
    "d": "VALIDATE reads every row (under a weaker lock, but it scans the table)",
    "e": "a type change rewrites every row",
}
SAFE_ORDER = ["c", "b", "a", "d"]


def _letters(answer, name: str):
    if isinstance(answer, str) or not isinstance(answer, (list, tuple)):
        return None, Verdict(False, f"give `{name}` as a list of letters, e.g. ['a']; you gave {answer!r}.")
    if not all(isinstance(letter, str) for letter in answer):
        return None, Verdict(False, f"each letter goes in quotes, e.g. ['a']; you gave {answer!r}.")
    letters = [letter.strip().lower() for letter in answer]
    unknown = sorted(set(letters) - set(WHY))
    if unknown:
        return None, Verdict(False, f"{unknown} are not among the letters a to e.")
    return letters, None


def check_metadata_only(metadata_only) -> Verdict:
    """Exercise 1: the catalogue-only statements are a and c."""
    letters, problem = _letters(metadata_only, "metadata_only")
    if problem is not None:
        return problem
    if not letters:
        return Verdict(False, "the list is empty: two of the five statements leave the rows alone.")
    wrong = sorted(set(letters) - {"a", "c"})
    if wrong:
        return Verdict(False, f"not {wrong[0]}: {WHY[wrong[0]]}.")
    missing = sorted({"a", "c"} - set(letters))
    if missing:
        return Verdict(False, f"{missing[0]} is catalogue only too: {WHY[missing[0]]}.")
    return Verdict(True, "a and c touch no row; b and e rewrite the table, d scans it.")


def check_safe_not_null_order(safe_order) -> Verdict:
    """Exercise 2, orders.warehouse made NOT NULL: NOT VALID check, validate, SET NOT NULL, drop the check."""
    letters, problem = _letters(safe_order, "safe_order")
    if problem is not None:
        return problem
    if sorted(letters) != sorted(SAFE_ORDER):
        return Verdict(False, "use each of the four letters a, b, c, d exactly once.")
    if letters[0] != "c":
        return Verdict(False, "start with the constraint: it must exist before it can be validated or used.")
    if letters.index("b") > letters.index("a"):
        return Verdict(False, "validate before SET NOT NULL, or SET NOT NULL reads every row for a NULL warehouse "
                              "while it holds ACCESS EXCLUSIVE.")
    if letters[-1] != "d":
        return Verdict(False, "drop the CHECK last: SET NOT NULL needs the validated constraint to skip its scan.")
    return Verdict(True, "the scan happens under VALIDATE's weaker lock; SET NOT NULL then skips it, so it holds "
                         "ACCESS EXCLUSIVE only for a moment (as do c and d: run them under a short lock_timeout).")
