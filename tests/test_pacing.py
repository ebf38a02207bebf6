"""The time rule (coursekit.pacing) counts what a lesson asks of a learner, as docs/authoring.md states it."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from coursekit.pacing import LessonLoad, lesson_load, stated_minutes

SOLUTION = "<details><summary>Solution</summary>\n\n```python\nnot counted as prose at all\n```\n</details>"


def write_lesson(tmp_path, cells):
    path = tmp_path / "01-x.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_words_cells_and_exercises_are_counted_from_the_notebook(tmp_path):
    folded = new_code_cell("set_up()")
    folded.metadata["jupyter"] = {"source_hidden": True}
    path = write_lesson(tmp_path, [
        new_markdown_cell("# 01 · A lesson\n\nfour words of prose"),  # 3 + 4 words
        new_code_cell("x = 1"), new_code_cell("   "), folded, new_code_cell("%xmode Minimal"),
        new_code_cell("%%writefile test_x.py\nx = 1"),
        new_markdown_cell("Exercise one.\n\n" + SOLUTION),
    ])
    assert lesson_load(path) == LessonLoad(words=9, code_cells=2, folded_cells=2, exercises=1)


def test_minutes_follow_the_rule_and_round_up_to_five():
    # 1,500 words = 10 min, 20 cells = 15 min, 4 folded = 1 min, 2 exercises = 16 min: 42 min, stated as 45.
    assert LessonLoad(words=1500, code_cells=20, folded_cells=4, exercises=2).minutes == 45
    assert LessonLoad(words=1500, code_cells=20, folded_cells=0, exercises=0).minutes == 25
    assert LessonLoad(words=0, code_cells=0, folded_cells=0, exercises=0).minutes == 0


def test_stated_times_are_read_in_minutes():
    assert stated_minutes("30 minutes") == 30
    assert stated_minutes("1 h 10 min") == 70
    assert stated_minutes("soon") is None
