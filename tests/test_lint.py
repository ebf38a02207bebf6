"""The code is ruff-clean: the package, the tests, the benchmarks, and the notebooks through nbqa."""

import subprocess
import sys

from tests.conftest import REPO


def run(*command):
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True)


def test_python_code_is_ruff_clean():
    folders = [name for name in ("coursekit", "tests", "benchmarks", "migrations") if (REPO / name).is_dir()]
    result = run(sys.executable, "-m", "ruff", "check", *folders)
    assert result.returncode == 0, result.stdout + result.stderr


def test_notebooks_are_ruff_clean():
    result = run(sys.executable, "-m", "nbqa", "ruff", "notebooks")
    assert result.returncode == 0, result.stdout + result.stderr
