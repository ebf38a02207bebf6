"""How long a lesson takes, by the course's time rule (docs/authoring.md, "How long a lesson takes").

A lesson's time is what it asks of a learner who reads everything, runs every cell and does the exercises:

- prose: the words of its Markdown cells at 150 words a minute (solutions folded in ``<details>`` are not
  counted here: they are part of an exercise's time);
- code: 45 seconds a code cell to read it, run it and read what it printed; a cell the learner only runs,
  15 seconds: a folded set-up cell (``jupyter.source_hidden``) or one of line magics only (``%xmode Minimal``);
- exercises: 8 minutes each (a ``<summary>Solution</summary>`` block marks one).

The sum is rounded up to the next 5 minutes. A lesson's stated time must equal that (within ``MARGIN_MINUTES``), and
no lesson may take more than ``LONGEST_LESSON_MINUTES``.
Calibrated against a learner's reading of the course in round 2: about 8 hours for the ten lessons it then had.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

WORDS_PER_MINUTE = 150
SECONDS_PER_CODE_CELL = 45
SECONDS_PER_FOLDED_CELL = 15
MINUTES_PER_EXERCISE = 8
ROUND_TO_MINUTES = 5
MARGIN_MINUTES = 5  # a stated time may be one rounding step off, so a few words more need no new header
LONGEST_LESSON_MINUTES = 45
MAX_CELL_LINES = 15  # a code cell's lines, a cell magic's own line (%%writefile) too; folded set-up excepted

_SOLUTION = re.compile(r"<details>.*?</details>", re.DOTALL)
_NOT_READ = re.compile(r"\]\([^)]*\)|<[^>]+>")  # a link's address and HTML tags are not read as words
_WORD = re.compile(r"[\w'’-]+")


@dataclass(frozen=True)
class LessonLoad:
    """What a lesson asks of a learner, counted from its notebook."""

    words: int
    code_cells: int
    folded_cells: int  # cells the learner only runs: folded set-up, line magics
    exercises: int

    @property
    def minutes(self) -> int:
        seconds = (
            self.words / WORDS_PER_MINUTE * 60
            + self.code_cells * SECONDS_PER_CODE_CELL
            + self.folded_cells * SECONDS_PER_FOLDED_CELL
            + self.exercises * MINUTES_PER_EXERCISE * 60
        )
        return ROUND_TO_MINUTES * math.ceil(seconds / 60 / ROUND_TO_MINUTES)


def is_folded(cell) -> bool:
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"))


def code_lines(cell) -> int:
    """A code cell's lines as the learner sees them, a cell magic's own line (``%%writefile test_x.py``) included."""
    return len(cell.source.splitlines())


def is_run_only(cell) -> bool:
    """A cell the learner runs without reading: folded set-up, or line magics only (``%xmode Minimal``)."""
    lines = [line.strip() for line in cell.source.splitlines() if line.strip()]
    magics_only = all(line.startswith("%") and not line.startswith("%%") for line in lines)
    return is_folded(cell) or magics_only


def lesson_load(path: Path) -> LessonLoad:
    cells = nbformat.read(path, as_version=4).cells
    prose = [cell.source for cell in cells if cell.cell_type == "markdown"]
    code = [cell for cell in cells if cell.cell_type == "code" and cell.source.strip()]
    return LessonLoad(
        words=sum(len(_WORD.findall(_NOT_READ.sub(" ", _SOLUTION.sub(" ", text)))) for text in prose),
        code_cells=sum(not is_run_only(cell) for cell in code),
        folded_cells=sum(is_run_only(cell) for cell in code),
        exercises=sum(text.count("<summary>Solution") for text in prose),
    )


def stated_minutes(time_fact: str) -> int | None:
    """The minutes in a lesson's "Time" fact ("30 minutes", "1 hour 10 minutes"), or None if it names none."""
    hours = re.search(r"(\d+)\s*h", time_fact)
    minutes = re.search(r"(\d+)\s*min", time_fact)
    if not hours and not minutes:
        return None
    return 60 * int(hours.group(1) if hours else 0) + int(minutes.group(1) if minutes else 0)


def main() -> None:
    from coursekit.catalog import lessons

    print(f"{'lesson':<48} {'words':>6} {'cells':>6} {'folded':>6} {'exerc.':>6} {'rule':>5} {'stated':>7}")
    total = 0
    for lesson in lessons():
        load = lesson_load(lesson.path)
        total += load.minutes
        print(f"{lesson.path.stem:<48} {load.words:>6} {load.code_cells:>6} {load.folded_cells:>6} "
              f"{load.exercises:>6} {load.minutes:>5} {lesson.facts.get('Time', '?'):>7}")
    print(f"{'in all':<48} {'':>34} {total:>5}")


if __name__ == "__main__":
    main()
