"""`make site` renders every lesson for reading; `make reset` restores notebooks and keeps a copy of the edits."""

import contextlib
import functools
import html
import http.server
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser

import nbformat
import pytest

from coursekit.catalog import lessons
from coursekit.site import CACHE, STATIC, add_alt_text, build_site, description, inline_html, site_links
from tests.browser import CHROMIUM_FLAGS, READ_STEPPER_TABLES, free_port
from tests.conftest import REPO

ARTIFACTS = REPO / "test-artifacts" / "site-offline"


def needs_npm_or_cache():
    """The site's scripts come from npm packages: installed once (npm ci) into a cache that later builds reuse."""
    if shutil.which("npm") is None and not (CACHE / "installed.sha256").is_file():
        pytest.skip("no npm: install Node.js (Debian's nodejs and npm) to build the site's scripts once")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built once, the way `make site` builds it: the builder's command line."""
    assert "$(BIN)/python -m coursekit.site $(SITE)" in (REPO / "Makefile").read_text()
    needs_npm_or_cache()
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
    needs_npm_or_cache()
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


def test_a_rebuild_renders_only_the_pages_whose_notebook_changed(tmp_path):
    needs_npm_or_cache()
    notebooks, target = tmp_path / "notebooks", tmp_path / "site"
    notebooks.mkdir()
    for name in ("01-add-a-status-column.ipynb", "02-migration-steps-in-one-transaction.ipynb"):
        shutil.copy(REPO / "notebooks" / name, notebooks)
    first, second = build_site(target, notebooks)
    made = {page: page.stat().st_mtime_ns for page in (first, second)}
    notebook = notebooks / "02-migration-steps-in-one-transaction.ipynb"
    notebook.write_text(notebook.read_text().replace("Migration steps", "MIGRATION STEPS"))
    assert build_site(target, notebooks) == [first, second]
    assert first.stat().st_mtime_ns == made[first], "an unchanged lesson's page is kept"
    assert second.stat().st_mtime_ns != made[second] and "MIGRATION STEPS" in second.read_text()
    first.unlink()
    build_site(target, notebooks)
    assert first.is_file(), "a page deleted by hand is made again"


def test_site_links_point_at_pages_and_unlink_files_a_lesson_makes():
    body = ('<a href="02-migration-steps-in-one-transaction.ipynb">Next</a> '
            '<a href="capstone/versions/c001_expand.py">c001</a> <a href="https://example.org">out</a> '
            '<a class="anchor-link" href="#Summary">¶</a>')
    assert site_links(body) == (
        '<a href="02-migration-steps-in-one-transaction.html">Next</a> '
        '<span title="capstone/versions/c001_expand.py (made when you run the lesson in JupyterLab)">c001</span> '
        '<a href="https://example.org">out</a> <a class="anchor-link" href="#Summary">¶</a>')


def test_inline_html_escapes_and_keeps_code_spans():
    assert inline_html("a `b` & <c>") == "a <code>b</code> &amp; &lt;c&gt;"


class PageParts(HTMLParser):
    """The addresses a page loads (scripts, styles, images, frames) and the alt text of each <img>."""

    LOADS = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src", "video": "src",
             "embed": "src", "object": "data", "link": "href"}

    def __init__(self):
        super().__init__()
        self.loads, self.alts = [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "link" and "stylesheet" not in (attributes.get("rel") or "") and "icon" not in (
                attributes.get("rel") or ""):
            return
        if attributes.get(self.LOADS.get(tag, "")):
            self.loads.append(attributes[self.LOADS[tag]])
        if tag == "img":
            self.alts.append(attributes.get("alt"))


def parts_of(page):
    parser = PageParts()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_pages_load_nothing_from_outside_the_site(site):
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        for address in parts_of(page).loads:
            assert not re.match(r"^([a-z][a-z0-9+.-]*:|//)", address) or address.startswith("data:"), (
                f"{page.name} loads {address}")
            if not address.startswith("data:"):
                assert (site / address).is_file(), f"{page.name} loads {address}, which the site does not have"
        assert "unpkg.com" not in text and "cdn.jsdelivr.net" not in text, page.name
        # nbconvert fetches Mermaid from a CDN only for a page with a diagram: no lesson has one (vendor it first).
        assert 'class="jp-Mermaid"' not in text, f"{page.name} has a Mermaid diagram, whose script is not vendored"
    lesson_03 = (site / "03-up-and-down-with-the-stepper.html").read_text(encoding="utf-8")
    for script in ("requirejs/require.js", "mathjax/tex-chtml-full.js", "html-manager/embed-amd.js"):
        assert f"{STATIC}/{script}" in lesson_03, script


def test_every_image_in_every_page_has_alt_text(site):
    alts = {page.name: parts_of(page).alts for page in sorted(site.glob("*.html"))}
    assert sum(map(len, alts.values())) >= 3, "lessons 14 and 15 plot figures"
    for name, texts in alts.items():
        assert all(text and text.strip() for text in texts), f"{name}: an <img> without alt text: {texts}"
    assert alts["14-cost-versus-table-size.html"][0].startswith("What the plot shows: four lines")
    assert all(text.startswith("In words: ") and not text.endswith(":")
               for text in alts["15-migrating-a-live-server.html"])


ONE_PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="  # a PNG


def figure_notebook(*cells):
    """A notebook of Markdown cells (strings) and figure cells (None: a code cell that showed a PNG)."""
    notebook = nbformat.v4.new_notebook()
    for cell in cells:
        if cell is None:
            code = nbformat.v4.new_code_cell("plt.show()")
            code.outputs = [nbformat.v4.new_output("display_data", {"image/png": ONE_PIXEL, "text/plain": "<Figure>"})]
            notebook.cells.append(code)
        else:
            notebook.cells.append(nbformat.v4.new_markdown_cell(cell))
    return notebook


def alt_of(notebook):
    return [out.metadata.get("alt") for cell in notebook.cells for out in cell.get("outputs", [])]


def test_alt_text_is_the_description_next_to_the_figure():
    after = figure_notebook("## A plot", None, "*What the plot shows:* a `status` line that [rises](x.html).\n\n"
                            "More about it.")
    assert add_alt_text(after) == 1 and alt_of(after) == ["What the plot shows: a status line that rises."]
    before = figure_notebook("Intro.\n\nThe bars, one per session: grey waits. The waits:", None)
    add_alt_text(before)
    assert alt_of(before) == ["The bars, one per session: grey waits."], "the sentence leading to a table is not"
    chosen = figure_notebook(None, "Text after.")
    chosen.cells[0].metadata["alt"] = "What the lesson chose."
    add_alt_text(chosen)
    assert alt_of(chosen) == ["What the lesson chose."]
    with pytest.raises(ValueError, match="cell 1: a figure with no description"):
        add_alt_text(figure_notebook("# Title only", None), "mine.ipynb")
    assert description("## Heading\n\n<b>Bold</b> & _em_ text.") == "Bold & em text."


@contextlib.contextmanager
def served(folder):
    """The folder on a local HTTP server; yields its base address and the list of (path, status) it answered."""
    answered = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_request(self, code="-", size="-"):
            answered.append((self.path, int(code)))

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/", answered
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def offline_browser(chromium, base):
    """Chromium whose every request not to ``base`` is aborted and recorded: the network cut, as in a classroom."""
    from playwright.sync_api import sync_playwright

    left = []

    def only_local(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            left.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route("**/*", only_local)
        try:
            yield context, left
        finally:
            browser.close()


# JavaScript: the recorded widget views in the page, and how many the widget manager has drawn.
WIDGETS_DRAWN = """() => [document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
  document.querySelectorAll('.jupyter-widgets.jp-OutputArea-output > .widget-subarea').length]"""
MATHJAX_READY = "() => window.MathJax && MathJax.startup && MathJax.startup.promise.then(() => MathJax.version)"


@pytest.mark.browser
def test_every_page_works_offline_and_the_recorded_stepper_renders(site, chromium):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with served(site) as (base, answered), offline_browser(chromium, base) as (context, left):
        page = context.new_page()
        drawn = {}
        for html_page in sorted(site.glob("*.html")):
            page.goto(base + html_page.name, wait_until="load")
            if html_page.name != "index.html":
                assert page.evaluate(MATHJAX_READY) == "3.2.2", html_page.name
            views = page.evaluate(WIDGETS_DRAWN)[0]
            if views:
                page.wait_for_function(f"() => ({WIDGETS_DRAWN})()[1] === {views}", timeout=30_000)
                drawn[html_page.name] = views
        page.goto(base + "03-up-and-down-with-the-stepper.html")
        step = page.get_by_role("button", name="1. Add a status column").first
        step.wait_for(state="visible", timeout=30_000)
        step.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "03-stepper-offline.png"))
        tables = page.evaluate(READ_STEPPER_TABLES)
        page.wait_for_load_state("networkidle")
    assert left == [], f"requests that would have left the machine: {left}"
    assert not [entry for entry in answered if entry[1] >= 400], f"missing from the site: {answered}"
    assert {"03-up-and-down-with-the-stepper.html", "08-contract-and-the-transition-live.html"} <= set(drawn), drawn
    assert any(path.startswith(f"/{STATIC}/html-manager/") and path.endswith(".woff2") for path, _ in answered), (
        "the widgets' icon font comes from the site")
    assert tables and len(tables) == 3 and tables[0][0][0] == "column", "the stepper shows its three tables"


@pytest.mark.browser
def test_mathjax_typesets_a_formula_offline(tmp_path, chromium):
    """No lesson has a formula yet (lesson 24's $$ are PL/pgSQL in code), so a page of one is built to show it."""
    needs_npm_or_cache()
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    notebook = figure_notebook("# 01 · Formulas\n\n*Time: 1 min · Level: any · Prerequisites: none*",
                               "Sorting costs $n \\log n$ comparisons:\n\n$$\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}$$",
                               None, "What the plot shows: nothing, a test figure.")
    nbformat.write(notebook, notebooks / "01-formulas.ipynb")
    build_site(tmp_path / "site", notebooks)
    with served(tmp_path / "site") as (base, answered), offline_browser(chromium, base) as (context, left):
        page = context.new_page()
        page.goto(base + "01-formulas.html")
        assert page.evaluate(MATHJAX_READY) == "3.2.2"
        page.wait_for_load_state("networkidle")
        formulas = page.evaluate("() => [...document.querySelectorAll('mjx-container')].map(f => "
                                 "[f.getAttribute('display') === 'true', f.getBoundingClientRect().width > 20])")
        fonts = page.evaluate("() => document.fonts.ready.then(set => [...set].filter(f => f.status === 'loaded')"
                              ".map(f => f.family))")
        page.screenshot(path=str(ARTIFACTS / "mathjax-offline.png"))
    assert formulas == [[False, True], [True, True]], formulas
    assert any(family.startswith("MJXTEX") or family.startswith("MJXZERO") for family in fonts), fonts
    assert left == [] and not [entry for entry in answered if entry[1] >= 400], (left, answered)


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
