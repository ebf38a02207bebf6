"""The capstone (lesson 24) in a real browser, as a learner meets it: JupyterLab on a temporary copy, Run All Cells,
then the learner's own work in JupyterLab's editor, graded by the lesson's grading cell.

1. Run All: no error output, and the scorecards the lesson prints (the empty chain's, the truncating draft's single
   ❌ data line naming 57 of 1,000, the reference's ✅ line for every check) appear on the page.
2. The learner opens each of their four revisions with the lesson's links, pastes the folded solution into it, saves
   (Ctrl-S), and runs the grading cell: every check passes. Then they replace the backfill's rounding in c002 with the
   truncating CAST, save, run it again: only the data check fails, naming 57 of 1,000; they put ROUND back: all pass.
3. The time from clicking Run on the grading cell to the scorecard on the page is printed for each run (issue 17
   wants under 30 s); the bound asserted is a loose 90 s, for a machine shared with other work.

The copy's workspace is made next to it (the kernel's folder), and named as the lesson names it (capstone/versions/);
the checkout's notebooks/capstone/ is never touched.
Screenshots go to test-artifacts/browser/lesson24/ (git-ignored). Skips only when no Chromium is installed.
"""

import hashlib
import re
import secrets
import sys
import time
from pathlib import Path

import nbformat
import pytest

from coursekit.capstone import CHECKS, REFERENCE
from tests.browser import (
    ALL_CELLS_EXECUTED,
    CHROMIUM_FLAGS,
    copy_without_outputs,
    free_port,
    isolated_jupyter_env,
    kernel_is_idle,
    lab_command,
    open_and_run_all,
    running_lab,
)
from tests.conftest import REPO

pytestmark = pytest.mark.browser
LESSON = "24-capstone-money-in-cents.ipynb"
ARTIFACTS = REPO / "test-artifacts" / "browser" / "lesson24"
GRADING_CELL = 'grade("capstone/versions")'
ROUNDED = "CAST(ROUND(amount * 100) AS INTEGER)"
TRUNCATED = "CAST(amount * 100 AS INTEGER)"
LOOSE_BOUND_S = 90  # the goal is 30 s; this only catches a grader that hangs

# JavaScript: for each cell of the notebook, in order: its prompt, its output text, and how many stderr outputs
# (a traceback or a warning) it shows.
READ_CELLS = """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map(cell => ({
  prompt: (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
  output: [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => o.textContent).join('\\n'),
  stderr: cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').length,
}))"""
# JavaScript: true once cell ``index`` has run again (a new execution count) and shows a scorecard.
GRADED_AGAIN = """([index, before]) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[index];
  const prompt = cell.querySelector('.jp-InputArea-prompt').textContent;
  const output = [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => o.textContent).join('\\n');
  return /\\[\\d+\\]/.test(prompt) && prompt !== before && output.includes('Capstone scorecard');
}"""


def scorecard_lines(text: str) -> dict[str, str]:
    """{check: its line} for the scorecard lines in ``text`` ("✅ data: ..." → {"data": "✅ data: ..."})."""
    return {match.group(2): match.group(0) for match in re.finditer(r"^([✅❌⏸]) (\w+): .*$", text, flags=re.MULTILINE)}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Learner:
    """What a learner does in the capstone's JupyterLab tab, with the page and the folder it runs in."""

    def __init__(self, page, folder: Path, grading_index: int):
        self.page, self.folder, self.grading_index = page, folder, grading_index
        self.timings: list[float] = []

    def cells(self) -> list[dict]:
        return self.page.evaluate(READ_CELLS)

    def open_revision(self, rev_id: str):
        """Click the lesson's link to one of their revisions; returns that editor's text area."""
        self.back_to_the_lesson()
        self.page.locator(".jp-NotebookPanel:visible").get_by_role("link", name=rev_id, exact=True).click()
        editor = self.page.locator(".jp-FileEditor:visible .cm-content")
        editor.wait_for(timeout=30_000)
        assert self.page.locator(".lm-TabBar-tab.lm-mod-current", has_text=f"{rev_id}_").count() >= 1, (
            f"the link {rev_id} opens the learner's {rev_id} file in the editor")
        return editor

    def save_and_wait(self, path: Path, expected: str) -> None:
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + 30
        while path.read_text(encoding="utf-8") != expected:
            assert time.monotonic() < deadline, f"{path.name} was not saved as typed:\n{path.read_text()}"
            time.sleep(0.2)

    def replace_all(self, rev_id: str, source: str) -> Path:
        """Open ``rev_id``, select everything, paste ``source`` (as the folded solution is pasted), save."""
        editor = self.open_revision(rev_id)
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(source)
        path = next((self.folder / "capstone" / "versions").glob(f"{rev_id}_*.py"))
        self.save_and_wait(path, source)
        return path

    def edit_line(self, rev_id: str, containing: str, new_line: str) -> None:
        """Open ``rev_id``, click the line that shows ``containing``, retype it (after its indent) as ``new_line``."""
        editor = self.open_revision(rev_id)
        path = next((self.folder / "capstone" / "versions").glob(f"{rev_id}_*.py"))
        old = path.read_text(encoding="utf-8")
        editor.locator(".cm-line", has_text=containing).first.click()
        self.page.keyboard.press("End")
        self.page.keyboard.press("Home")  # CodeMirror: Home goes to the first character after the indent
        self.page.keyboard.press("Shift+End")
        self.page.keyboard.insert_text(new_line.strip())
        line = next(line for line in old.splitlines() if containing in line)
        self.save_and_wait(path, old.replace(line, line[: len(line) - len(line.lstrip())] + new_line.strip()))

    def back_to_the_lesson(self) -> None:
        self.page.locator(".lm-TabBar-tab", has_text=LESSON.removesuffix(".ipynb")).first.click()
        self.page.locator(".jp-NotebookPanel:visible").wait_for(timeout=30_000)

    def grade(self, screenshot: str) -> dict[str, str]:
        """Select the grading cell, click Run in the toolbar, wait for its new scorecard; the seconds taken are kept."""
        self.back_to_the_lesson()
        cell = self.page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(self.grading_index)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputPrompt").click()  # selects the cell (command mode), as a learner's click does
        before = self.cells()[self.grading_index]["prompt"]
        run = self.page.locator(".jp-NotebookPanel:visible .jp-NotebookPanel-toolbar "
                                "[data-command='notebook:run-cell-and-select-next']").first
        run.click()
        started = time.monotonic()
        self.page.wait_for_function(GRADED_AGAIN, arg=[self.grading_index, before], timeout=LOOSE_BOUND_S * 1000)
        seconds = time.monotonic() - started
        self.timings.append(seconds)
        print(f"{screenshot}: click on Run to scorecard on the page: {seconds:.1f} s")
        cell.scroll_into_view_if_needed()
        self.page.screenshot(path=str(ARTIFACTS / f"{screenshot}.png"))
        shown = self.cells()[self.grading_index]
        assert shown["stderr"] == 0, shown["output"]
        return scorecard_lines(shown["output"])


def tagged(notebook, tag: str) -> set[int]:
    return {index for index, cell in enumerate(notebook.cells) if tag in cell.metadata.get("tags", [])}


def test_a_learner_does_the_capstone_in_jupyterlab_and_the_scorecard_follows_their_edits(chromium, tmp_path, capsys):
    from playwright.sync_api import sync_playwright

    workdir = tmp_path / "course"
    workdir.mkdir()
    copy_without_outputs(REPO / "notebooks" / LESSON, workdir / LESSON)  # JupyterLab autosaves: a copy
    notebook = nbformat.read(workdir / LESSON, as_version=4)
    grading = [index for index, cell in enumerate(notebook.cells) if cell.source.strip() == GRADING_CELL]
    assert len(grading) == 2, "the lesson grades the learner's folder after the trap and at the end"
    may_fail = tagged(notebook, "raises-exception")
    checkout_workspace = REPO / "notebooks" / "capstone"
    untouched = {p: sha(p) for p in checkout_workspace.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    port, token = free_port(), secrets.token_hex(16)
    command = lab_command([sys.executable, "-m", "jupyter"], workdir, port, token)
    with (running_lab(command, isolated_jupyter_env(tmp_path / "jupyter"), port, token, tmp_path / "lab.log") as url,
          sync_playwright() as playwright):
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        learner = Learner(page, workdir, grading[-1])
        try:
            open_and_run_all(page, url, token, LESSON)
            started = time.monotonic()
            page.wait_for_function(ALL_CELLS_EXECUTED, timeout=600_000)
            deadline = time.monotonic() + 60
            while not kernel_is_idle(url, token):
                assert time.monotonic() < deadline, "the kernel is still busy a minute after the last cell ran"
                time.sleep(0.25)
            print(f"Run All Cells: {time.monotonic() - started:.0f} s")
            page.screenshot(path=str(ARTIFACTS / "01-after-run-all.png"), full_page=True)

            # 1. Run All: what the lesson prints, without an error
            cells = learner.cells()
            assert len(cells) == len(notebook.cells)
            errors = {index: cell["output"][:500] for index, cell in enumerate(cells)
                      if cell["stderr"] and index not in may_fail}
            assert not errors, f"error output outside cells tagged raises-exception: {errors}"
            assert (workdir / "capstone" / "versions").is_dir(), "the workspace is made next to the lesson"
            assert len(list((workdir / "capstone" / "versions").glob("c00[1-4]_*.py"))) == 4
            said = [cells[index]["output"].strip() for index, cell in enumerate(notebook.cells)
                    if cell.source.startswith("!alembic")]
            assert said == ["created c001 (expand: add amount_cents) in capstone/versions/",
                                "c001 exists already (capstone/versions/c001_expand_add_amount_cents.py): nothing was "
                                "created, and your file is as you left it. A new step needs a new message and a new "
                                "--rev-id."], f"the copy names its workspace as the lesson does: {said}"
            stepper = next(index for index, cell in enumerate(notebook.cells) if cell.source.startswith("play("))
            assert "c001 expand" in cells[stepper]["output"], "the stepper shows a step for each of the revisions"
            page.locator(".jp-Notebook .jp-Cell").nth(stepper).scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "01-stepper-after-run-all.png"))
            empty = scorecard_lines(cells[grading[0]]["output"])
            assert "Capstone scorecard: 1 of 7 checks pass" in cells[grading[0]]["output"], cells[grading[0]]
            assert empty["structure"].startswith("❌") and empty["goal"].startswith("❌"), empty
            draft = next(cell["output"] for cell in cells if "the draft's backfill" in cell["output"])
            failed = [line for line in scorecard_lines(draft).values() if not line.startswith("✅")]
            assert len(failed) == 1 and failed[0].startswith("❌ data: 57 of 1,000 orders"), draft
            reference = next(cell["output"] for cell in cells if "7 of 7 checks pass" in cell["output"])
            assert {check: line[0] for check, line in scorecard_lines(reference).items()} == dict.fromkeys(CHECKS, "✅")

            # 2. The learner's own chain, written in the editor and graded
            for source in sorted(REFERENCE.glob("*.py")):
                learner.replace_all(source.name[:4], source.read_text(encoding="utf-8"))
            page.screenshot(path=str(ARTIFACTS / "02-c004-in-the-editor.png"))
            card = learner.grade("03-own-chain-graded")
            assert {check: line[0] for check, line in card.items()} == dict.fromkeys(CHECKS, "✅"), card

            learner.edit_line("c002", "UPDATE orders", f'op.execute("UPDATE orders SET amount_cents = {TRUNCATED} '
                                                       'WHERE amount_cents IS NULL")')
            page.screenshot(path=str(ARTIFACTS / "04-c002-truncating.png"))
            card = learner.grade("05-truncating-graded")
            assert [check for check, line in card.items() if not line.startswith("✅")] == ["data"], card
            assert card["data"].startswith("❌ data: 57 of 1,000 orders have a wrong amount_cents"), card["data"]
            assert ROUNDED in card["data"], "the hint says how to convert"

            learner.edit_line("c002", "UPDATE orders", f'op.execute("UPDATE orders SET amount_cents = {ROUNDED} '
                                                       'WHERE amount_cents IS NULL")')
            card = learner.grade("06-rounding-again-graded")
            assert {check: line[0] for check, line in card.items()} == dict.fromkeys(CHECKS, "✅"), card
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()

    with capsys.disabled():
        print(f"\nlesson 24, click on Run to scorecard: {', '.join(f'{s:.1f} s' for s in learner.timings)}")
    assert len(learner.timings) == 3 and max(learner.timings) < LOOSE_BOUND_S
    assert {p: sha(p) for p in untouched if p.exists()} == untouched, "the checkout's notebooks/capstone/ changed"
