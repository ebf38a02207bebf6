"""Drive the transition stepper (lesson 08) in JupyterLab in a real Chromium: a whole transition, both panels read.

Uses tests/browser.py's server and kernel helpers. ``drive_transition`` opens a notebook that shows a
TransitionStepper on lesson 07's shop (lesson 08's cells: RENAME_STEPS, a Transition of V1 and V2, v1 deployed), runs
all its cells and clicks: deploy v2 (refused), expand, migrate, deploy v2, an order from each version, contract
(refused: v1's query named), retire v1, contract. It asserts what both panels read after each click.
"""

from __future__ import annotations

from pathlib import Path

from tests.browser import ALL_CELLS_EXECUTED, CHROMIUM_FLAGS, kernel_value, open_and_run_all

# JavaScript: a shop panel's table of reads, as rows of [order, written, read, background colour].
READ_PANEL = """(name) => {
  const table = document.querySelector(`.coursekit-shop-${name} table`);
  if (!table) return null;
  return [...table.querySelectorAll('tr')].slice(1).map(r => {
    const cells = [...r.querySelectorAll('td')];
    return [...cells.map(c => c.textContent.trim()), cells[2].style.backgroundColor];
  });
}"""
GREEN, RED = "rgb(212, 247, 212)", "rgb(249, 208, 208)"


def panel(page, name: str) -> list[list[str]]:
    rows = page.evaluate(READ_PANEL, name)
    assert rows, f"the panel of shop {name} shows a table of reads"
    return rows


def click_and_wait(page, button, expected_message: str) -> None:
    button.click()
    page.get_by_text(expected_message, exact=False).first.wait_for(timeout=30_000)


def drive_transition(base_url: str, token: str, chromium: str, artifacts: Path, notebook: str,
                     folder: str = "") -> list[str]:
    """Open ``notebook`` (in ``folder`` under the server's root), Run All Cells, click through a whole transition.

    Returns what was checked."""
    from playwright.sync_api import sync_playwright

    artifacts.mkdir(parents=True, exist_ok=True)
    checked = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1800, "height": 1100})

        def shop(name):
            return page.locator(f".coursekit-shop-{name}")

        def step(label):
            return page.get_by_role("button", name=label, exact=False).first

        def stored_version() -> int:
            return int(kernel_value(base_url, token, "shop.migrator.current()", notebook=notebook))

        try:
            open_and_run_all(page, base_url, token, f"{folder}{notebook}")
            page.wait_for_function(ALL_CELLS_EXECUTED, timeout=300_000)
            step("1. expand").scroll_into_view_if_needed()
            assert stored_version() == 0 and panel(page, "v1")[-1][-1] == GREEN
            page.screenshot(path=str(artifacts / "transition-01-run-all.png"))
            checked.append("Run All: the stepper at version 0, shop v1 deployed and reading right")

            click_and_wait(page, shop("v2").get_by_role("button", name="not deployed"),
                           "cannot be deployed at version 0 of 3")
            checked.append("deploying v2 at version 0 is refused")

            click_and_wait(page, step("1. expand"), "now at version 1 of 3")
            click_and_wait(page, shop("v1").get_by_role("button", name="Place an order"), "Shop v1 ran place_order_v1")
            new_v1 = panel(page, "v2")[0]
            assert new_v1[0] == "NEW-V1-1" and new_v1[2:] == ["10.0", GREEN], new_v1
            assert panel(page, "v2")[-1][2:] == ["NULL", RED], "an old order: total_eur not filled in before migrate"
            page.screenshot(path=str(artifacts / "transition-02-expand.png"))
            checked.append("after expand: v2 (not deployed) would read v1's new order (the trigger), NULL for old rows")

            click_and_wait(page, step("2. migrate"), "now at version 2 of 3")
            assert all(row[-1] == GREEN for row in panel(page, "v2"))
            click_and_wait(page, shop("v2").get_by_role("button", name="not deployed"), "Shop v2 is deployed")
            click_and_wait(page, shop("v2").get_by_role("button", name="Place an order"), "Shop v2 ran place_order_v2")
            new_v2 = panel(page, "v1")[0]
            assert new_v2[0] == "NEW-V2-1" and new_v2[2:] == ["10.0", GREEN], new_v2
            page.screenshot(path=str(artifacts / "transition-03-both-live.png"))
            checked.append("after migrate, v2 deployed: v1 reads v2's order, v2 reads v1's")

            click_and_wait(page, step("3. contract"), "would break shop v1")
            assert page.get_by_text("place_order_v1 runs", exact=False).count() >= 1
            assert stored_version() == 2
            page.screenshot(path=str(artifacts / "transition-04-contract-refused.png"))
            checked.append("contract while v1 is deployed: refused, v1's query named, the database still at 2")

            click_and_wait(page, shop("v1").get_by_role("button", name="deployed: click to retire"),
                           "Shop v1 is retired")
            click_and_wait(page, step("3. contract"), "now at version 3 of 3")
            assert stored_version() == 3
            assert all(row[-1] == GREEN for row in panel(page, "v2")), panel(page, "v2")
            assert all(row[-1] == RED for row in panel(page, "v1")), panel(page, "v1")
            page.screenshot(path=str(artifacts / "transition-05-contracted.png"))
            checked.append("v1 retired, contract applied: v2 reads every order, v1 could read none")
        except Exception:
            page.screenshot(path=str(artifacts / "transition-failure.png"))
            raise
        finally:
            browser.close()
    return checked
