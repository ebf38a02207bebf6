"""The lessons as a catalogue: each notebook's title and its "Time · Level · Prerequisites" line.

Read from the notebooks themselves, so the index notebook, the static site and the README test
never disagree with the lessons.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@dataclass(frozen=True)
class Lesson:
    path: Path
    title: str
    facts: dict  # "Time", "Level", "Prerequisites"


def lesson_card(path: Path) -> Lesson:
    """A lesson's first cell holds its title, a blank line, then ``*Time: … · Level: … · Prerequisites: …*``."""
    lines = nbformat.read(path, as_version=4).cells[0].source.splitlines()
    title = lines[0].lstrip("# ").strip()
    facts_line = " ".join(itertools.takewhile(str.strip, lines[2:]))  # the facts may wrap over several lines
    facts = {}
    if facts_line.startswith("*Time:"):
        facts = dict(part.strip(" *").split(": ", 1) for part in facts_line.split(" · "))
    return Lesson(Path(path), title, facts)


def lessons(folder: Path = NOTEBOOKS, include_index: bool = False) -> list[Lesson]:
    """Every numbered notebook in ``folder``, in order; the index (00) only when asked for."""
    paths = sorted(Path(folder).glob("[0-9][0-9]-*.ipynb"))
    return [lesson_card(path) for path in paths if include_index or not path.name.startswith("00-")]


def markdown_table(folder: Path = NOTEBOOKS) -> str:
    """The lessons as a Markdown table with links relative to ``folder``."""
    rows = ["| Lesson | Time | Level | Prerequisites |", "|---|---|---|---|"]
    for lesson in lessons(folder):
        facts = lesson.facts
        rows.append(
            f"| [{lesson.title}]({lesson.path.name}) | {facts.get('Time', '')} | {facts.get('Level', '')} "
            f"| {facts.get('Prerequisites', '')} |"
        )
    return "\n".join(rows)
