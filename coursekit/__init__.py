"""Helpers for the course *Refactoring Databases, hands-on*.

What is not the lesson lives here: the data set, schema display, verification fingerprints,
exercise checks (and, later, the migration engine and its widget). The SQL being taught stays
in the notebooks.
"""

__version__ = "0.1.0"
