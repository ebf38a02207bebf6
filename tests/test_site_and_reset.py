"""`make site` renders every lesson for reading; `make reset` restores notebooks and keeps a copy of the edits."""

import html
import re
import shutil
import subprocess
import sys

import pytest

from coursekit.catalog import lessons
from coursekit.site import build_site, inline_html
from tests.conftest import REPO


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built once, the way `make site` builds it: the builder's command line."""
    assert "$(BIN)/python -m coursekit.site $(SITE)" in (REPO / "Makefile").read_text()
    target = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "coursekit.site", str(target)], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"wrote {len(lessons(include_index=True))} lessons" in result.stdout
    return target


def test_site_has_every_lesson_linked_from_the_index(site):
    index = (site / "index.html").read_text()
    assert len(list(site.glob("[0-9][0-9]-*.html"))) == len(lessons(include_index=True)) >= 3
    for lesson in lessons(include_index=True):
        assert inline_html(lesson.title) in index, lesson.title  # titles may hold quotes, e.g. lesson 04
        assert html.escape(lesson.facts.get("Time", "")) in index, lesson.path.name
        assert f'href="{lesson.path.with_suffix(".html").name}"' in index
    assert "`" not in index, "Markdown code spans become <code>"
    lesson_01 = (site / "01-add-a-status-column.html").read_text()
    assert "loaded 1,000 orders" in lesson_01, "recorded outputs are in the page"


def test_links_in_every_page_resolve(site):
    for page in site.glob("*.html"):
        for link in re.findall(r'href="([^"#]+)', page.read_text()):
            if not link.startswith(("http:", "https:", "mailto:", "data:")):
                assert (site / link).is_file(), f"{page.name} links to {link}"


def test_a_rebuild_drops_pages_of_lessons_that_are_gone(tmp_path):
    notebooks, target = tmp_path / "notebooks", tmp_path / "site"
    notebooks.mkdir()
    shutil.copy(REPO / "notebooks" / "01-add-a-status-column.ipynb", notebooks)
    target.mkdir()
    (target / "07-an-old-name.html").write_text("old")
    (target / "notes.html").write_text("not ours")
    pages = build_site(target, notebooks)
    assert [page.name for page in pages] == ["01-add-a-status-column.html"]
    assert sorted(target.glob("*.html")) == [target / "01-add-a-status-column.html", target / "index.html",
                                             target / "notes.html"]


def test_inline_html_escapes_and_keeps_code_spans():
    assert inline_html("a `b` & <c>") == "a <code>b</code> &amp; &lt;c&gt;"


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
    deleted = clone / "notebooks" / "02-migration-steps-in-one-transaction.ipynb"
    staged = clone / "notebooks" / "01-add-a-status-column.ipynb"
    committed = {path: path.read_text() for path in (deleted, staged)}
    deleted.unlink()
    staged.write_text("{}")
    subprocess.run(["git", "add", str(staged)], cwd=clone, check=True)
    new = clone / "notebooks" / "99-my-notes.ipynb"
    new.write_text("{}")
    output = make_reset(clone)
    assert "02-migration-steps-in-one-transaction.ipynb" in output and "01-add-a-status-column.ipynb" in output
    assert {path: path.read_text() for path in committed} == committed
    assert new.read_text() == "{}", "a learner's new notebook is left alone"


def test_make_reset_refuses_outside_a_git_checkout(tmp_path):
    (tmp_path / "Makefile").write_text((REPO / "Makefile").read_text())
    result = subprocess.run(["make", "-s", "reset"], cwd=tmp_path, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert result.returncode != 0 and "needs a git checkout" in result.stdout
