"""Every notebook carries the genuine outputs of one fresh Restart & Run All, and nothing private."""

import json
import re

import pytest

from tests.conftest import NOTEBOOKS, REPO

MAX_OUTPUT_BYTES = 200_000
# Absolute paths of someone's machine: home and temp folders, virtualenvs, Windows drives.
MACHINE_PATH = re.compile(r"(/home/|/root/|/Users/|/tmp/|/private/var/|/site-packages/|[A-Z]:\\\\)")


def code_cells(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return notebook, [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_there_are_lessons():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_in_order_from_one_in_one_fresh_run(path):
    _, cells = code_cells(path)
    counts = [cell["execution_count"] for cell in cells if cell["source"]]
    assert counts == list(range(1, len(counts) + 1)), f"re-record {path.name} with `make record`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_errors_only_where_tagged(path):
    _, cells = code_cells(path)
    for cell in cells:
        tagged = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        errors = [out for out in cell["outputs"] if out["output_type"] == "error"]
        assert bool(errors) == tagged, f"{path.name}: {''.join(cell['source'])[:80]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_python3_kernel(path):
    notebook, _ = code_cells(path)
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    assert notebook["metadata"]["kernelspec"]["language"] == "python"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_small_and_hold_no_machine_paths(path):
    _, cells = code_cells(path)
    for cell in cells:
        for output in cell["outputs"]:
            serialised = json.dumps(output)
            assert len(serialised.encode()) <= MAX_OUTPUT_BYTES, f"{path.name}: an output over 200 kB"
            assert not MACHINE_PATH.search(serialised), f"{path.name}: {MACHINE_PATH.search(serialised)[0]!r}"
            assert str(REPO) not in serialised


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_file_name_is_numbered(path):
    assert re.fullmatch(r"\d\d-[a-z0-9-]+\.ipynb", path.name)
