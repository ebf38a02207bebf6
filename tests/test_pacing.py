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
        new_markdown_cell("<b>[Next](02-a-long-file-name.ipynb)</b>"),  # 1 word: addresses and tags are not read
    ])
    assert lesson_load(path) == LessonLoad(words=10, code_cells=2, folded_cells=2, exercises=1)


def test_minutes_follow_the_rule_and_round_up_to_five():
    # 1,500 words = 10 min, 20 cells = 15 min, 4 folded = 1 min, 2 exercises = 16 min: 42 min, stated as 45.
    assert LessonLoad(words=1500, code_cells=20, folded_cells=4, exercises=2).minutes == 45
    assert LessonLoad(words=1500, code_cells=20, folded_cells=0, exercises=0).minutes == 25
    assert LessonLoad(words=0, code_cells=0, folded_cells=0, exercises=0).minutes == 0


def test_stated_times_are_read_in_minutes():
    assert stated_minutes("30 minutes") == 30
    assert stated_minutes("1 h 10 min") == 70
    assert stated_minutes("soon") is None


# The course itself follows the rule: the stated times, the 45-minute limit and short cells.

import re  # noqa: E402

import pytest  # noqa: E402

from coursekit.catalog import lessons  # noqa: E402
from coursekit.pacing import LONGEST_LESSON_MINUTES, MARGIN_MINUTES, MAX_CELL_LINES, code_lines  # noqa: E402
from tests.conftest import REPO  # noqa: E402

LESSONS = lessons()


def readme_minutes():
    """The README's Lessons table: notebook file name → the minutes in its Time column."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| \[`(\d\d-[^`]+\.ipynb)`\]\([^)]*\) \|.*\| (\d+) min \|$", readme, re.M)
    return {name: int(minutes) for name, minutes in rows}


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.path.stem for lesson in LESSONS])
def test_the_stated_time_is_the_rules(lesson):
    rule = lesson_load(lesson.path).minutes
    stated = stated_minutes(lesson.facts.get("Time", ""))
    assert stated is not None, f"{lesson.path.name}: its first line states no time"
    assert abs(stated - rule) <= MARGIN_MINUTES, f"{lesson.path.name} states {stated} min; the time rule gives {rule}"


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.path.stem for lesson in LESSONS])
def test_no_lesson_is_longer_than_45_minutes(lesson):
    rule = lesson_load(lesson.path).minutes
    assert rule <= LONGEST_LESSON_MINUTES, f"{lesson.path.name} takes {rule} min by the rule: split it in two"


def test_the_readme_states_the_lessons_own_times():
    in_readme = readme_minutes()
    for lesson in LESSONS:
        assert in_readme.get(lesson.path.name) == stated_minutes(lesson.facts["Time"]), lesson.path.name


@pytest.mark.parametrize("lesson", lessons(include_index=True), ids=lambda lesson: lesson.path.stem)
def test_code_cells_are_short_or_folded_set_up(lesson):
    """At most 15 lines of code a cell (a cell magic's own line, such as %%writefile, counted), except a folded
    set-up cell tagged `setup` whose first line says what it sets up."""
    long_cells = []
    for index, cell in enumerate(nbformat.read(lesson.path, as_version=4).cells):
        if cell.cell_type != "code" or code_lines(cell) <= MAX_CELL_LINES:
            continue
        folded_set_up = (cell.metadata.get("jupyter", {}).get("source_hidden")
                         and "setup" in cell.metadata.get("tags", [])
                         and cell.source.startswith("# Set-up"))
        if not folded_set_up:
            long_cells.append(f"cell {index} ({code_lines(cell)} lines): {cell.source.splitlines()[0]}")
    assert not long_cells, f"{lesson.path.name}: " + "; ".join(long_cells)
