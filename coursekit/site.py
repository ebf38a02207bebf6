"""``make site``: the lessons rendered to HTML with their recorded outputs, and an index page.

For reading without a kernel. Nothing is executed: the pages show exactly what the notebooks hold.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from coursekit.catalog import NOTEBOOKS, lessons

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


def inline_html(markdown_text: str) -> str:
    """Escape a line of the lesson card for HTML, keeping its `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(markdown_text))


def build_site(target: Path, notebooks: Path = NOTEBOOKS) -> list[Path]:
    """Write one HTML page per notebook (the start page included) and ``index.html``; return the pages."""
    target.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter()
    pages = []
    for lesson in lessons(notebooks, include_index=True):
        body, _ = exporter.from_notebook_node(nbformat.read(lesson.path, as_version=4))
        page = target / lesson.path.with_suffix(".html").name
        page.write_text(body.replace('.ipynb"', '.html"'), encoding="utf-8")  # links between lessons
        pages.append(page)
    rows = "\n".join(
        f'<tr><td><a href="{html.escape(page.name)}">{inline_html(lesson.title)}</a></td>'
        + "".join(f"<td>{inline_html(lesson.facts.get(key, ''))}</td>" for key in ("Time", "Level", "Prerequisites"))
        + "</tr>"
        for lesson, page in zip(lessons(notebooks, include_index=True), pages, strict=True)
    )
    (target / "index.html").write_text(INDEX_TEMPLATE.format(rows=rows), encoding="utf-8")
    for stale in set(target.glob("[0-9][0-9]-*.html")) - set(pages):  # a lesson renamed or removed since last time
        stale.unlink()
    return pages


if __name__ == "__main__":
    destination = Path(sys.argv[1] if len(sys.argv) > 1 else "_site")
    built = build_site(destination)
    print(f"wrote {len(built)} lessons and {destination / 'index.html'}")
