"""The capstone's checks as a pytest run, for instructors: the grader (coursekit.capstone.grade) on a learner's folder
of revisions, one test per check, each failing with the scorecard's hint (a check not run fails too, with its reason):

    CAPSTONE=path/to/capstone/versions .venv/bin/pytest -n 0 -q tests/capstone_check.py

Without CAPSTONE it grades this checkout's own workspace, notebooks/capstone/versions (made by lesson 24). `make test`
does not collect this file (its name is not test_*.py); tests/test_capstone.py runs it on the reference solution and
on a wrong one.
"""

import os
from pathlib import Path

import pytest

from coursekit.capstone import CHECKS, PASS, grade
from tests.conftest import REPO

FOLDER = Path(os.environ.get("CAPSTONE") or REPO / "notebooks" / "capstone" / "versions")


@pytest.fixture(scope="module")
def card():
    return grade(FOLDER)


@pytest.mark.parametrize("check", CHECKS)
def test_capstone(card, check):
    lines = {line.check: line for line in card.lines}
    line = lines.get(check) or lines["structure"]  # a folder that is not one has only structure's line
    assert line.status == PASS, f"{check} ({line.status}) for {FOLDER}: {line.hint}"
