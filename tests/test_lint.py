"""The code is ruff-clean: the package, the tests, the benchmarks, and the notebooks through nbqa."""

import shutil
import subprocess
import sys

from tests.conftest import REPO


def run(*command):
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True)


def test_python_code_is_ruff_clean():
    result = run(shutil.which("ruff") or "ruff", "check", "coursekit", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_notebooks_are_ruff_clean():
    result = run(sys.executable, "-m", "nbqa", "ruff", "notebooks")
    assert result.returncode == 0, result.stdout + result.stderr
