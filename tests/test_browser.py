"""Lesson 03 (the stepper) in a real browser: JupyterLab on a temporary copy, Run All Cells, clicks on the stepper.

Screenshots go to test-artifacts/browser/ (git-ignored). Skips only when no Chromium is installed.
"""

import secrets
import sys

import pytest

from tests.browser import (
    STEPPER_LESSON,
    copy_without_outputs,
    drive_stepper_lesson,
    free_port,
    isolated_jupyter_env,
    lab_command,
    running_lab,
)
from tests.conftest import REPO

pytestmark = pytest.mark.browser


def test_clicking_the_stepper_changes_the_rendered_schema_and_rows(chromium, tmp_path):
    workdir = tmp_path / "course"
    workdir.mkdir()
    # JupyterLab autosaves: a copy, not the original
    copy_without_outputs(REPO / "notebooks" / STEPPER_LESSON, workdir / STEPPER_LESSON)
    port, token = free_port(), secrets.token_hex(16)
    command = lab_command([sys.executable, "-m", "jupyter"], workdir, port, token)
    artifacts = REPO / "test-artifacts" / "browser"
    with running_lab(command, isolated_jupyter_env(tmp_path / "jupyter"), port, token, tmp_path / "lab.log") as url:
        checked = drive_stepper_lesson(url, token, chromium, artifacts)
    assert len(checked) == 6, checked
