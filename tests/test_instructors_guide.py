"""The instructor guide agrees with the lessons: their times, the agendas' clocks, the README's Binder link."""

import re

import pytest

from coursekit.catalog import lessons
from tests.conftest import REPO

GUIDE = (REPO / "docs" / "instructors.md").read_text(encoding="utf-8")


def table_after(heading):
    """The rows (lists of cells) of the first Markdown table after ``heading`` in the guide."""
    rest = GUIDE[GUIDE.index(heading):]
    lines = rest[rest.index("\n|"):].strip().splitlines()
    rows = []
    for line in lines[2:]:  # skip the header and the |---| line
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def minutes(cell):
    return int(re.fullmatch(r"(\d+) min", cell)[1])


def test_every_lesson_has_a_time():
    numbers = [row[0][:2] for row in table_after("## Lessons and times")]
    assert numbers == [lesson.path.name[:2] for lesson in lessons()]


def test_the_times_are_the_lessons_own():
    guide_times = {row[0][:2]: minutes(row[1]) for row in table_after("## Lessons and times")}
    for lesson in lessons():
        lesson_minutes = int(lesson.facts["Time"].split()[0])
        assert guide_times[lesson.path.name[:2]] == lesson_minutes, lesson.path.name


AGENDAS = [("**90 minutes**", 90), ("**Half day**", 240), ("**Refactorings at work**", 240), ("**Capstone**", 90)]


@pytest.mark.parametrize("heading, total", AGENDAS)
def test_each_agenda_adds_up(heading, total):
    clock = 0
    for start, _, length in table_after(heading):
        hours, mins = map(int, start.split(":"))
        assert hours * 60 + mins == clock, f"{start} should be {clock // 60}:{clock % 60:02d}"
        clock += minutes(length)
    assert clock == total


def test_binder_link_is_the_readmes():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    badge = re.search(r"\]\((https://mybinder\.org/v2/[^)]+)\)", readme)[1]
    assert f"<{badge}>" in GUIDE


def test_reset_site_and_offline_install_are_explained():
    for command in ("make reset", "make site", "pip download", "--no-index --find-links wheelhouse"):
        assert command in GUIDE, command


@pytest.mark.parametrize("heading", [heading for heading, _ in AGENDAS])
def test_an_agenda_gives_each_lesson_its_own_time(heading):
    stated = {lesson.path.name[:2]: int(lesson.facts["Time"].split()[0]) for lesson in lessons()}
    for _, what, length in table_after(heading):
        number = re.match(r"Lesson (\d\d) · ", what)
        if number:
            assert minutes(length) == stated[number[1]], f"{what}: the lesson states {stated[number[1]]} min"
