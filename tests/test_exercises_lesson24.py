"""The last lesson's exercises are the learner's own revisions, checked by the capstone's grader (tests/test_capstone.py
tests the grader). Here: the lesson's folded solutions are the reference solution's files, word for word, so that what
a learner reads is what the grader passes; and, written out as a chain, they pass every check."""

import re

from coursekit.capstone import CHECKS, PASS, REFERENCE, grade
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_24 = REPO / "notebooks" / "24-capstone-money-in-cents.ipynb"


def test_the_solutions_are_the_reference_files_word_for_word():
    shown = solutions(LESSON_24)
    reference = {path.name: path.read_text(encoding="utf-8") for path in sorted(REFERENCE.glob("*.py"))}
    assert len(shown) == len(reference), "a solution block for each reference file"
    for name, source in reference.items():
        assert source in shown, f"{name} changed: rebuild the lesson's solutions from coursekit/capstone_reference"


def test_the_solutions_written_out_as_a_chain_pass_every_check(tmp_path):
    for block in solutions(LESSON_24):
        revision = re.search(r'^revision = "(\w+)"$', block, flags=re.MULTILINE).group(1)
        (tmp_path / f"{revision}_solution.py").write_text(block, encoding="utf-8")
    card = grade(tmp_path)
    assert card.statuses() == dict.fromkeys(CHECKS, PASS), repr(card)
