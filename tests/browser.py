"""Drive lesson 03 (the stepper) in JupyterLab in a real Chromium: start a server, Run All Cells, click the stepper.

Shared by the browser test and the Binder replay test, which start JupyterLab in different ways.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

STEPPER_LESSON = "03-up-and-down-with-the-stepper.ipynb"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# JavaScript: the stepper's three tables (columns, rules, sample rows) as lists of rows of cell texts.
READ_STEPPER_TABLES = """() => {
  const toggle = [...document.querySelectorAll('button')].find(b => b.textContent.includes('1. Add a status column'));
  let box = toggle;
  while (box && box.querySelectorAll('table').length < 3) box = box.parentElement;
  if (!box) return null;
  return [...box.querySelectorAll('table')].map(t => [...t.querySelectorAll('tr')].map(
    r => [...r.querySelectorAll('th,td')].map(c => c.textContent.trim())));
}"""


def copy_without_outputs(source: Path, target: Path) -> Path:
    """Copy a notebook with its outputs cleared, so every output the browser shows comes from this run."""
    import nbformat

    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, target)
    return target


def find_chromium() -> str | None:
    """The path of an installed Chromium or Chrome, or None."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab_command(jupyter: list[str], root: Path, port: int, token: str) -> list[str]:
    command = [
        *jupyter, "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1", f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
        "jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")
    return command


# JavaScript: whether each step button of the first stepper on the page shows as on (ipywidgets' mod-active).
READ_STEP_BUTTONS = """() => {
  const steps = [...document.querySelectorAll('button')].filter(b => /^\\d+\\. /.test(b.textContent.trim()));
  const first = [];
  for (const button of steps) {
    const number = parseInt(button.textContent.trim(), 10);
    if (number <= first.length) break;
    first.push(button.classList.contains('mod-active'));
  }
  return first;
}"""


def shown_version(page) -> int:
    """The version the stepper's buttons show: steps 1..k on, the rest off (anything else fails)."""
    states = page.evaluate(READ_STEP_BUTTONS)
    version = sum(states)
    assert len(states) == 4 and states == [True] * version + [False] * (4 - version), states
    return version


def kernel_value(base_url: str, token: str, expression: str, timeout: float = 30,
                 notebook: str = STEPPER_LESSON) -> str:
    """``expression`` evaluated in ``notebook``'s kernel, as text: read straight from the kernel, not from the page.

    A silent execute request with a user expression, over a second websocket to the kernel: it runs no cell,
    so IPython's post_run_cell event (which the stepper follows) does not fire.
    """
    import websocket

    with urllib.request.urlopen(f"{base_url}/api/sessions?token={token}", timeout=5) as response:
        sessions = json.load(response)
    kernel_id = next(s["kernel"]["id"] for s in sessions if str(s.get("path", "")).endswith(notebook))
    message_id = uuid.uuid4().hex
    request = {
        "header": {"msg_id": message_id, "msg_type": "execute_request", "username": "browser-test",
                   "session": uuid.uuid4().hex, "version": "5.3", "date": datetime.now(UTC).isoformat()},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": "", "silent": True, "store_history": False, "user_expressions": {"value": expression},
                    "allow_stdin": False, "stop_on_error": False},
    }
    connection = websocket.create_connection(
        f"{base_url.replace('http', 'ws', 1)}/api/kernels/{kernel_id}/channels?token={token}", timeout=timeout)
    try:
        connection.send(json.dumps(request))
        while True:
            reply = json.loads(connection.recv())
            if reply.get("parent_header", {}).get("msg_id") == message_id and reply["msg_type"] == "execute_reply":
                break
    finally:
        connection.close()
    value = reply["content"]["user_expressions"]["value"]
    assert value["status"] == "ok", value
    return value["data"]["text/plain"]


def stored_version(base_url: str, token: str) -> int:
    """The version the lesson's database holds, read by a Migrator of its own (not the stepper's)."""
    return int(kernel_value(base_url, token, "Migrator(engine, ORDER_STEPS).current()"))


# JupyterLab settings for the test: render every cell (JupyterLab 4 otherwise leaves cells outside the
# window out of the page) and do not ask about news.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none",
                                                                    "autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}
# JavaScript: true once every code cell shows an execution count, i.e. Run All has finished.
ALL_CELLS_EXECUTED = """() => {
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
  return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""


def isolated_jupyter_env(home: Path) -> dict[str, str]:
    """Environment with Jupyter's config, runtime, settings and workspace folders of its own."""
    env = dict(os.environ)
    for variable, folder in {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_RUNTIME_DIR": "runtime",
                             "JUPYTERLAB_WORKSPACES_DIR": "workspaces", "JUPYTERLAB_SETTINGS_DIR": "settings",
                             "IPYTHONDIR": "ipython"}.items():
        (home / folder).mkdir(parents=True, exist_ok=True)
        env[variable] = str(home / folder)
    for name, values in LAB_SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return env


def wait_for_server(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {process.returncode} before it answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer {url} within {timeout} s")


@contextlib.contextmanager
def running_lab(command: list[str], env: dict[str, str], port: int, token: str, log_path: Path):
    """Start JupyterLab, wait until it answers, and stop it afterwards."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_server(f"http://127.0.0.1:{port}/api/status?token={token}", process)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def stepper_tables(page) -> dict[str, list[list[str]]]:
    tables = page.evaluate(READ_STEPPER_TABLES)
    assert tables and len(tables) == 3, f"the stepper shows its three tables; found {tables!r}"
    return dict(zip(("columns", "rules", "rows"), tables, strict=True))


def changes(table: list[list[str]]) -> dict[str, str]:
    """{first cell: change} for a comparison table whose last column is 'change'."""
    header, *rows = table
    assert header[-1] == "change", header
    return {row[0]: row[-1] for row in rows}


def click_step(page, label: str, expected_message: str) -> None:
    page.get_by_role("button", name=label, exact=False).first.click()
    page.get_by_text(expected_message, exact=False).first.wait_for(timeout=30_000)


def kernel_is_idle(base_url: str, token: str) -> bool:
    with urllib.request.urlopen(f"{base_url}/api/sessions?token={token}", timeout=5) as response:
        sessions = json.load(response)
    return any((session.get("kernel") or {}).get("execution_state") == "idle" for session in sessions)


def wait_for_kernel(page, base_url: str, token: str, seconds: float = 90) -> None:
    """Wait until the notebook's kernel runs and is idle; accept the kernel dialog if JupyterLab asks."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
        if dialog.count():
            dialog.locator("button.jp-mod-accept").click()
        elif kernel_is_idle(base_url, token):
            return
        time.sleep(0.25)
    raise TimeoutError(f"no idle kernel for the notebook after {seconds} s")


def open_and_run_all(page, base_url: str, token: str, path: str) -> None:
    """Open the notebook at ``path`` (under the server's root) in JupyterLab, wait for its kernel, and click
    *Run → Run All Cells*, as a learner does; the caller waits for what it needs (ALL_CELLS_EXECUTED, say)."""
    page.goto(f"{base_url}/lab/tree/{path}?token={token}", timeout=90_000)
    page.locator(".jp-Notebook").first.wait_for(timeout=90_000)
    wait_for_kernel(page, base_url, token)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator("li[data-command='runmenu:run-all']").click()


def drive_stepper_lesson(base_url: str, token: str, chromium: str, artifacts: Path, folder: str = "") -> list[str]:
    """Open lesson 03 (in ``folder`` under the server's root), Run All Cells, click through the stepper.

    Returns what was checked."""
    from playwright.sync_api import sync_playwright

    artifacts.mkdir(parents=True, exist_ok=True)
    checked = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        try:
            open_and_run_all(page, base_url, token, f"{folder}{STEPPER_LESSON}")
            page.wait_for_function(ALL_CELLS_EXECUTED, timeout=180_000)
            page.get_by_role("button", name="1. Add a status column").first.scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / "01-after-run-all.png"))
            checked.append("Run All Cells ran the whole lesson in the browser")

            shown, stored = shown_version(page), stored_version(base_url, token)
            assert shown == stored, f"after Run All the buttons show version {shown}, the database is at {stored}"
            assert shown >= 1, "the lesson leaves steps applied, so the first click below undoes them"
            checked.append(f"after Run All the buttons show version {shown}, the version the database holds")

            # Step 1 shows on; its label says "Off: undo step 1 and every later step".
            click_step(page, "1. Add a status column", "now at version 0 of 4")
            assert stored_version(base_url, token) == 0 and shown_version(page) == 0
            tables = stepper_tables(page)
            assert changes(tables["columns"]).get("status") == "removed"
            assert "status" not in tables["rows"][0]
            page.screenshot(path=str(artifacts / "02-step-1-off.png"))
            checked.append("step 1 off: status removed from the schema and the rows")

            click_step(page, "4. Index orders by status", "now at version 4 of 4")
            tables = stepper_tables(page)
            assert changes(tables["columns"]).get("status") == "added"
            assert changes(tables["rules"]) == {"index ix_orders_status": "added", "check ck_orders_status": "added"}
            assert "status" in tables["rows"][0]
            statuses = {row[tables["rows"][0].index("status")] for row in tables["rows"][1:]}
            assert statuses <= {"pending", "shipped", "refunded"} and "shipped" in statuses
            page.screenshot(path=str(artifacts / "03-step-4-on.png"))
            checked.append("step 4 on: status, the CHECK and the index added; rows backfilled")

            click_step(page, "3. Allow only known statuses", "now at version 2 of 4")
            tables = stepper_tables(page)
            removed_rules = {"index ix_orders_status": "removed", "check ck_orders_status": "removed"}
            assert changes(tables["rules"]) == removed_rules
            assert changes(tables["columns"]).get("status") == ""
            page.screenshot(path=str(artifacts / "04-step-3-off.png"))
            checked.append("step 3 off: the CHECK and the index removed, status kept")

            page.get_by_role("button", name="Undo all steps").first.click()
            page.get_by_text("now at version 0 of 4", exact=False).first.wait_for(timeout=30_000)
            tables = stepper_tables(page)
            assert changes(tables["columns"]).get("status") == "removed" and "status" not in tables["rows"][0]
            page.screenshot(path=str(artifacts / "05-undo-all.png"))
            checked.append("Undo all steps: back to version 0")
        except Exception:
            page.screenshot(path=str(artifacts / "failure.png"))
            raise
        finally:
            browser.close()
    return checked
