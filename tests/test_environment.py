"""The environment is pinned, Binder installs the same pins, the README's links lead somewhere, and the
repository's top level holds only what the README explains."""

import re
import subprocess
import sys
from importlib.metadata import version

from tests.conftest import REPO

# Files every Python repository of this kind has at its top level; the README's table explains the rest.
STANDARD_FILES = {"README.md", "Makefile", "pyproject.toml", "requirements.txt", "conftest.py", ".gitignore"}


def pins(path):
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line]


def test_every_requirement_is_pinned_exactly():
    for line in pins(REPO / "requirements.txt"):
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*", line), line


def test_binder_installs_the_same_pins_plus_this_repo():
    binder = pins(REPO / "binder" / "requirements.txt")
    assert binder[-1] == "-e ."
    assert sorted(binder[:-1]) == sorted(pins(REPO / "requirements.txt"))


def test_binder_python_is_pinned_and_is_the_one_we_test_with():
    runtime = (REPO / "binder" / "runtime.txt").read_text().strip()
    assert runtime == "python-3.11"
    assert sys.version_info[:2] >= (3, 11)


def test_installed_versions_match_the_pins():
    for line in pins(REPO / "requirements.txt"):
        name, pinned = line.split("==")
        assert version(re.sub(r"\[.*\]", "", name)) == pinned, name


def test_readme_binder_badge_opens_an_existing_lesson():
    readme = (REPO / "README.md").read_text()
    paths = re.findall(r"urlpath=lab(?:%2F|/)tree(?:%2F|/)([\w%./-]+\.ipynb)", readme)
    assert paths, "the README has a Binder badge that opens JupyterLab on a notebook"
    for path in paths:
        assert (REPO / path.replace("%2F", "/")).is_file(), path


def test_readme_lists_every_lesson():
    readme = (REPO / "README.md").read_text()
    for notebook in sorted((REPO / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        assert notebook.name in readme, f"README does not list {notebook.name}"


def git(*arguments):
    return subprocess.run(["git", *arguments], cwd=REPO, capture_output=True, text=True, timeout=60)


def tracked_top_level():
    """The names at the repository's top level that git tracks (ignored files, such as .venv, do not count)."""
    listed = git("ls-files", "-z")
    assert listed.returncode == 0, listed.stderr
    return {path.split("/", 1)[0] for path in listed.stdout.split("\0") if path}


def readme_repository_table():
    """The paths in the README's table under "What is in the repository", without their trailing slash."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## What is in the repository", 1)[1].split("\n## ", 1)[0]
    return {path.rstrip("/") for path in re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)}


def test_the_top_level_holds_only_what_the_readme_lists():
    listed = readme_repository_table()
    unexplained = tracked_top_level() - listed - STANDARD_FILES
    assert not unexplained, (
        f"tracked at the top level but not in the README's table 'What is in the repository': {sorted(unexplained)}; "
        "remove stray files (git rm), or add a row that says what the path holds"
    )
    assert listed <= tracked_top_level(), f"the README's table lists what is not there: {listed - tracked_top_level()}"


def test_logs_are_ignored():
    for log in ("run.log", "notebooks/nbval.log"):
        assert git("check-ignore", "--quiet", "--no-index", log).returncode == 0, f"git would let {log} be added"
