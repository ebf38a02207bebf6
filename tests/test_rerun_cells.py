"""Every code cell of every lesson can be run twice in a row, as a learner pressing Shift-Enter twice would.

One fresh kernel per notebook runs the cells in order, each one twice: a cell tagged raises-exception
must raise both times, every other cell must succeed both times. Running on after a cell's second run is also
Restart & Run All from that point. Notebooks added later are covered too. Lessons 15 and 16 run on the course's
own PostgreSQL server (conftest.py), so they never skip.
"""


import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import NOTEBOOKS, REPO

ALL_NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def errors(cell):
    return [output for output in cell.outputs if output.output_type == "error"]


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_can_run_twice_in_a_row(path):
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    reruns = 0
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            expects_error = "raises-exception" in cell.metadata.get("tags", [])
            for attempt in ("first", "second"):
                client.execute_cell(cell, index)
                assert bool(errors(cell)) == expects_error, (
                    f"{path.name} cell {index}, {attempt} run: {errors(cell)[0].evalue if errors(cell) else 'no error'}"
                    f"\n{cell.source[:200]}"
                )
            reruns += 1
    assert reruns > 0
    print(f"{path.name}: {reruns} cells run twice")


def test_the_rerun_test_covers_every_lesson():
    assert set(NOTEBOOKS) <= set(ALL_NOTEBOOKS)
