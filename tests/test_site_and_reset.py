"""`make site` renders every lesson for reading; `make reset` restores notebooks and keeps a copy of the edits."""

import html
import re
import subprocess
import sys

from coursekit.catalog import lessons
from coursekit.site import build_site, inline_html
from tests.conftest import REPO


def test_site_has_every_lesson_linked_from_the_index(tmp_path):
    pages = build_site(tmp_path / "site")
    index = (tmp_path / "site" / "index.html").read_text()
    assert len(pages) == len(lessons(include_index=True)) >= 3
    for lesson in lessons(include_index=True):
        assert inline_html(lesson.title) in index, lesson.title  # titles may hold quotes, e.g. lesson 03
        assert html.escape(lesson.facts.get("Time", "")) in index, lesson.path.name
    assert "`" not in index, "Markdown code spans become <code>"
    assert inline_html("a `b` & <c>") == "a <code>b</code> &amp; &lt;c&gt;"
    for link in re.findall(r'href="([^"]+)"', index):
        assert (tmp_path / "site" / link).is_file(), link
    lesson_01 = (tmp_path / "site" / "01-add-a-status-column.html").read_text()
    assert "loaded 1,000 orders" in lesson_01, "recorded outputs are in the page"


def test_links_between_pages_resolve(tmp_path):
    for page in build_site(tmp_path):
        for link in re.findall(r'href="([^"#]+)', page.read_text()):
            if not link.startswith(("http:", "https:", "mailto:", "data:")):
                assert (tmp_path / link).is_file(), f"{page.name} links to {link}"


def test_make_site_runs_the_builder_from_the_command_line(tmp_path):
    assert "$(BIN)/python -m coursekit.site $(SITE)" in (REPO / "Makefile").read_text()
    result = subprocess.run([sys.executable, "-m", "coursekit.site", str(tmp_path / "out")], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"wrote {len(lessons(include_index=True))} lessons" in result.stdout
    assert (tmp_path / "out" / "index.html").is_file()


def clone_of_the_course(tmp_path):
    """A fresh clone, with this working tree's Makefile (so the test checks the recipe as it is now)."""
    clone = tmp_path / "course"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    (clone / "Makefile").write_text((REPO / "Makefile").read_text())
    return clone


def make_reset(clone):
    result = subprocess.run(["make", "-s", "reset"], cwd=clone, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_make_reset_restores_notebooks_and_keeps_the_edits(tmp_path):
    clone = clone_of_the_course(tmp_path)
    notebook = clone / "notebooks" / "01-add-a-status-column.ipynb"
    committed = notebook.read_text()
    notebook.write_text(committed.replace("loaded", "LOADED"))
    assert "notebooks/01-add-a-status-column.ipynb" in make_reset(clone)
    assert notebook.read_text() == committed
    backups = list((clone / ".reset-backup").glob("*/01-add-a-status-column.ipynb"))
    assert len(backups) == 1 and "LOADED" in backups[0].read_text()
    assert "already as committed" in make_reset(clone)


def test_make_reset_brings_back_deleted_and_staged_notebooks_and_leaves_new_ones(tmp_path):
    clone = clone_of_the_course(tmp_path)
    deleted = clone / "notebooks" / "02-migration-steps-up-and-down.ipynb"
    staged = clone / "notebooks" / "01-add-a-status-column.ipynb"
    committed = {path: path.read_text() for path in (deleted, staged)}
    deleted.unlink()
    staged.write_text("{}")
    subprocess.run(["git", "add", str(staged)], cwd=clone, check=True)
    new = clone / "notebooks" / "99-my-notes.ipynb"
    new.write_text("{}")
    output = make_reset(clone)
    assert "02-migration-steps-up-and-down.ipynb" in output and "01-add-a-status-column.ipynb" in output
    assert {path: path.read_text() for path in committed} == committed
    assert new.read_text() == "{}", "a learner's new notebook is left alone"


def test_make_reset_refuses_outside_a_git_checkout(tmp_path):
    (tmp_path / "Makefile").write_text((REPO / "Makefile").read_text())
    result = subprocess.run(["make", "-s", "reset"], cwd=tmp_path, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert result.returncode != 0 and "needs a git checkout" in result.stdout
