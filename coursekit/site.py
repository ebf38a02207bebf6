"""``make site``: the lessons rendered to HTML with their recorded outputs, and an index page.

For reading without a kernel. Nothing is executed: the pages show exactly what the notebooks hold.

The pages work without internet (a classroom's Wi-Fi may be down): the scripts they load (require.js, MathJax and
the Jupyter widgets' HTML manager, which draws the recorded widgets such as the stepper) are served by the site
itself, from ``_static/``. They come from the npm packages pinned in ``coursekit/site_assets/package-lock.json``,
installed once with ``npm ci`` into ``build/site-assets/`` (a cache: later builds use it without the network).
Every image an output makes gets alt text: the description the lesson gives next to the figure.
"""

from __future__ import annotations

import fcntl
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbconvert
import nbformat
from nbconvert import HTMLExporter

from coursekit.catalog import NOTEBOOKS, lessons

ASSETS = Path(__file__).with_name("site_assets")  # package.json, package-lock.json and the page template
CACHE = Path(__file__).resolve().parents[1] / "build" / "site-assets"  # npm ci installs here (git ignores build/)
STATIC = "_static"
# What the pages load, from the installed packages: (folder in node_modules, files, folder under _static).
VENDORED = (
    ("requirejs", ("require.js",), "requirejs"),
    ("mathjax/es5", ("tex-chtml-full.js", "output/chtml/fonts/woff-v2/*.woff"), "mathjax"),
    ("@jupyter-widgets/html-manager/dist", ("embed-amd.js", "*.woff2", "*.woff", "*.ttf", "*.eot", "*.svg"),
     "html-manager"),
)
# nbconvert's HTMLExporter options for where the page loads its scripts from (relative: pages sit next to _static).
SCRIPT_URLS = {
    "require_js_url": f"{STATIC}/requirejs/require.js",
    "mathjax_url": f"{STATIC}/mathjax/tex-chtml-full.js",
    "widget_renderer_url": f"{STATIC}/html-manager/embed-amd.js",
}
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
MANIFEST = ".site-build.json"  # in the site's folder: what each page was made from, so a rebuild skips it

INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Refactoring Databases, hands-on</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.5}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:.3em .8em;text-align:left}}</style>
</head><body>
<h1>Refactoring Databases, hands-on</h1>
<p>The lessons with their recorded outputs, for reading. To run them, clone the course and use
<code>make lab</code>, or open it on Binder.</p>
<table><tr><th>Lesson</th><th>Time</th><th>Level</th><th>Prerequisites</th></tr>
{rows}
</table></body></html>
"""


class SiteAssetsError(RuntimeError):
    """The pinned scripts could not be installed (no npm, or no registry on a first build)."""


def inline_html(markdown_text: str) -> str:
    """Escape a line of the lesson card for HTML, keeping its `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(markdown_text))


def install_assets(cache: Path = CACHE) -> Path:
    """``node_modules`` with the pinned packages: ``npm ci`` into ``cache`` once per lock file; return its path."""
    pins = [ASSETS / "package.json", ASSETS / "package-lock.json"]
    stamp = hashlib.sha256(b"".join(path.read_bytes() for path in pins)).hexdigest()
    cache.mkdir(parents=True, exist_ok=True)
    installed = cache / "installed.sha256"
    with open(cache / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two builds at once install once
        if installed.is_file() and installed.read_text() == stamp:
            return cache / "node_modules"
        npm = shutil.which("npm")
        if npm is None:
            raise SiteAssetsError("make site needs npm (Node.js) once, to install the scripts the pages serve "
                                  f"themselves into {cache}; install Node.js and run it again")
        installed.unlink(missing_ok=True)
        for path in pins:
            shutil.copyfile(path, cache / path.name)
        result = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                                cwd=cache, capture_output=True, text=True)
        if result.returncode != 0:
            raise SiteAssetsError(f"npm ci in {cache} failed (a first build needs the npm registry):\n"
                                  + result.stderr[-2000:])
        installed.write_text(stamp)
    return cache / "node_modules"


def copy_assets(modules: Path, target: Path) -> list[Path]:
    """Copy the files the pages load into ``target/_static`` (only those that changed); drop any others there."""
    static = target / STATIC
    wanted = []
    for package, patterns, folder in VENDORED:
        source = modules / package
        for pattern in patterns:
            found = sorted(source.glob(pattern))
            if not found:
                raise SiteAssetsError(f"{package}/{pattern} is not in {modules}: delete {modules.parent} and build "
                                      "again")
            for file in found:
                copy = static / folder / file.relative_to(source)
                wanted.append(copy)
                if not copy.is_file() or (copy.stat().st_size, copy.stat().st_mtime_ns) != (
                        file.stat().st_size, file.stat().st_mtime_ns):
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(file, copy)
    for stale in {path for path in static.rglob("*") if path.is_file()} - set(wanted):
        stale.unlink()
    return wanted


def plain_text(markdown: str) -> str:
    """A Markdown paragraph as plain text: links and images by their text, no emphasis, code or HTML marks."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"(\*\*|__|\*|`)", "", text)
    text = re.sub(r"(?<!\w)_(\S.*?)_(?!\w)", r"\1", text)
    return html.unescape(" ".join(text.split()))


def description(markdown: str, first: bool = True) -> str:
    """The figure's description in a Markdown cell: its first (or last) paragraph that is not a heading, as plain
    text, less a closing sentence that ends in a colon (that one leads to what follows, e.g. a table)."""
    paragraphs = [part for part in re.split(r"\n\s*\n", markdown.strip()) if part and not part.startswith("#")]
    if not paragraphs:
        return ""
    sentences = re.split(r"(?<=[.!?:])\s+", plain_text(paragraphs[0 if first else -1]))
    while len(sentences) > 1 and sentences[-1].endswith(":"):
        sentences.pop()
    return " ".join(sentences)


def add_alt_text(notebook, name: str = "notebook") -> int:
    """Give every image output ``metadata.alt`` (the page template writes it as the <img>'s alt); return how many.

    The text is the cell's own ``alt`` metadata when the lesson sets one, else the description next to the
    figure, as the course asks for every plot: the Markdown cell right after the figure's cell (its first
    paragraph), else the one right before (its last paragraph). A figure with neither stops the build.
    """
    cells, count = notebook.cells, 0
    for index, cell in enumerate(cells):
        outputs = [out for out in cell.get("outputs", []) if any(kind in out.get("data", {}) for kind in IMAGE_TYPES)]
        if not outputs:
            continue
        alt = str(cell.metadata.get("alt", "")).strip()
        after = cells[index + 1] if index + 1 < len(cells) else None
        before = cells[index - 1] if index > 0 else None
        if not alt and after is not None and after.cell_type == "markdown":
            alt = description(after.source)
        if not alt and before is not None and before.cell_type == "markdown":
            alt = description(before.source, first=False)
        if not alt:
            raise ValueError(f"{name}, cell {index}: a figure with no description next to it; write what it shows "
                             "in a Markdown cell right after it (or set the cell's metadata \"alt\")")
        for output in outputs:
            output.setdefault("metadata", {})["alt"] = alt
            count += 1
    return count


LINK = re.compile(r'<a href="(?![a-z]+:|#|/|_static/)([^"]+)"[^>]*>(.*?)</a>', re.DOTALL)


def site_links(body: str) -> str:
    """Links between lessons point at their pages; a link to a file that a lesson makes when it runs (the capstone's
    own revisions in ``capstone/``, opened in JupyterLab's editor) has no page here, so it becomes its text, with the
    path as a tooltip. A link to a lesson that does not exist stays a link, and the site's link test finds it."""
    body = body.replace('.ipynb"', '.html"')

    def unless_a_page(match: re.Match) -> str:
        href, label = match.groups()
        if href.split("#")[0].endswith(".html"):
            return match.group(0)
        return f'<span title="{href} (made when you run the lesson in JupyterLab)">{label}</span>'

    return LINK.sub(unless_a_page, body)


def exporter() -> HTMLExporter:
    """nbconvert's HTML exporter with the course's template: scripts from _static, alt text on images."""
    return HTMLExporter(template_name="course-site", extra_template_basedirs=[str(ASSETS / "templates")],
                        **SCRIPT_URLS)


def recipe() -> str:
    """A fingerprint of how pages are made (this module, the template, the pinned scripts, nbconvert's version)."""
    parts = [Path(__file__), *sorted((ASSETS / "templates").rglob("*.j2")), *sorted(ASSETS.glob("*.json"))]
    digest = hashlib.sha256(nbconvert.__version__.encode())
    for path in parts:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_site(target: Path, notebooks: Path = NOTEBOOKS, cache: Path = CACHE) -> list[Path]:
    """Write one HTML page per notebook (the start page included), ``index.html`` and the scripts the pages load
    (in ``_static``); return the pages.

    A page whose notebook and recipe are as at the last build into ``target`` is kept as it is (a rebuild of an
    unchanged course takes about a second)."""
    target.mkdir(parents=True, exist_ok=True)
    copy_assets(install_assets(cache), target)
    manifest_path, how = target / MANIFEST, recipe()
    try:
        made_from = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        made_from = {}
    html_exporter = exporter()
    catalogue = lessons(notebooks, include_index=True)
    pages, now_from = [], {}
    for lesson in catalogue:
        page = target / lesson.path.with_suffix(".html").name
        source = lesson.path.read_bytes()
        now_from[page.name] = hashlib.sha256(how.encode() + source).hexdigest()
        pages.append(page)
        if page.is_file() and made_from.get(page.name) == now_from[page.name]:
            continue
        notebook = nbformat.reads(source.decode("utf-8"), as_version=4)
        notebook.metadata["title"] = plain_text(lesson.title)  # the page's <title>, which nbconvert escapes
        add_alt_text(notebook, lesson.path.name)
        body, _ = html_exporter.from_notebook_node(notebook)
        page.write_text(site_links(body), encoding="utf-8")
    rows = "\n".join(
        f'<tr><td><a href="{html.escape(page.name)}">{inline_html(lesson.title)}</a></td>'
        + "".join(f"<td>{inline_html(lesson.facts.get(key, ''))}</td>" for key in ("Time", "Level", "Prerequisites"))
        + "</tr>"
        for lesson, page in zip(catalogue, pages, strict=True)
    )
    (target / "index.html").write_text(INDEX_TEMPLATE.format(rows=rows), encoding="utf-8")
    for stale in set(target.glob("[0-9][0-9]-*.html")) - set(pages):  # a lesson renamed or removed since last time
        stale.unlink()
    manifest_path.write_text(json.dumps(now_from, indent=1, sort_keys=True))
    return pages


if __name__ == "__main__":
    destination = Path(sys.argv[1] if len(sys.argv) > 1 else "_site")
    try:
        built = build_site(destination)
    except SiteAssetsError as error:
        sys.exit(f"make site: {error}")
    print(f"wrote {len(built)} lessons and {destination / 'index.html'}; the scripts the pages load are in "
          f"{destination / STATIC}, so the site works without internet")
