"""The transition stepper in a real browser: JupyterLab, Run All, a whole transition clicked through both panels.

Twice: in lesson 08 itself (a copy without outputs, Run All of the whole lesson, then the clicks its text asks for),
and on a two-cell notebook made from the tests' copy of the shop (tests/transition_shop.py), which shows a failure of
the widget apart from one of the lesson. Screenshots go to test-artifacts/browser/ (git-ignored). Skips only when no
Chromium is installed.
"""

import secrets
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tests.browser import (
    copy_without_outputs,
    free_port,
    isolated_jupyter_env,
    lab_command,
    running_lab,
)
from tests.browser_transition import drive_transition
from tests.conftest import REPO

pytestmark = pytest.mark.browser
NOTEBOOK = "transition.ipynb"
LESSON = "08-contract-and-the-transition-live.ipynb"
CELLS = [
    "from coursekit.transition_stepper import TransitionStepper\nfrom tests.transition_shop import make_transition",
    "shop = make_transition(1_000)\nTransitionStepper(shop)",
]


def test_a_whole_transition_clicked_in_the_browser_shows_every_cross_version_read(chromium, tmp_path):
    workdir = tmp_path / "course"
    workdir.mkdir()
    notebook = new_notebook(cells=[new_code_cell(source) for source in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, workdir / NOTEBOOK)
    port, token = free_port(), secrets.token_hex(16)
    env = isolated_jupyter_env(tmp_path / "jupyter") | {"PYTHONPATH": str(REPO)}  # the kernel imports tests/
    command = lab_command([sys.executable, "-m", "jupyter"], workdir, port, token)
    with running_lab(command, env, port, token, tmp_path / "lab.log") as url:
        checked = drive_transition(url, token, chromium, REPO / "test-artifacts" / "browser", NOTEBOOK)
    assert len(checked) == 6, checked


def test_lesson_08s_stepper_after_run_all_plays_the_transition_its_text_describes(chromium, tmp_path):
    workdir = tmp_path / "course"
    workdir.mkdir()
    copy_without_outputs(REPO / "notebooks" / LESSON, workdir / LESSON)  # JupyterLab autosaves: a copy
    port, token = free_port(), secrets.token_hex(16)
    command = lab_command([sys.executable, "-m", "jupyter"], workdir, port, token)
    with running_lab(command, isolated_jupyter_env(tmp_path / "jupyter"), port, token, tmp_path / "lab.log") as url:
        checked = drive_transition(url, token, chromium, REPO / "test-artifacts" / "browser" / "lesson08", LESSON)
    assert len(checked) == 6, checked
