"""The environment is pinned, Binder installs the same pins, and the README's links lead somewhere."""

import re
import sys
from importlib.metadata import version

from tests.conftest import REPO


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
