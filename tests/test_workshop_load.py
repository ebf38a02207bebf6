"""The workshop hub's load test, small: two participants at once through the hub (127.0.0.1 only), each running
lessons 01, 02, 03 and 09 in order and clicking lesson 03's stepper, with the figures benchmarks/workshop_load.py
reports for a room (`python -m benchmarks.workshop_load` measures larger rooms and writes workshop/README.md's table).

It asserts what must hold at any speed: every lesson runs without a failing cell on every participant's server, every
click reaches the kernel and moves the stepper (the database's version agrees), and the figures are there. It does
not fail for slow clicks: on a shared machine that is a measurement, not a defect. It takes half a minute to a minute
(a hub, two servers, four lessons each), so it runs in CI (CI=true) or when asked (WORKSHOP_LOAD=1), and is marked
slow. The sweep's rules (which N is the largest that kept every click under 200 ms, when the sweep stops) are tested
on made-up rooms, quickly, always.
"""

from __future__ import annotations

import os

import pytest

from benchmarks.workshop_load import LESSONS, SIZES, measure, next_room, table, verdict

PARTICIPANTS = 2
CLICKS = 8

slow = pytest.mark.skipif(not (os.environ.get("CI") or os.environ.get("WORKSHOP_LOAD")),
                          reason="the workshop's load test runs in CI (CI=true) or with WORKSHOP_LOAD=1 (about 3 min)")


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    return measure(PARTICIPANTS, clicks=CLICKS, pause=0.3, scratch=tmp_path_factory.mktemp("workshop-load"))


@pytest.mark.slow
@slow
def test_every_participant_runs_the_lessons_in_order_without_a_failing_cell(room):
    assert len(room["reports"]) == PARTICIPANTS
    for report in room["reports"]:
        assert report["failures"] == {}, report["failures"]
        assert list(report["run_all_s"]) == list(LESSONS)
        assert all(seconds > 0 for seconds in report["run_all_s"].values())


@pytest.mark.slow
@slow
def test_every_click_moves_the_stepper_and_is_timed(room):
    assert room["summary"]["clicks"] == PARTICIPANTS * CLICKS
    assert room["summary"]["clicks_moved_the_stepper"]
    for report in room["reports"]:
        clicks = report["clicks"]
        assert len(clicks["latencies_ms"]) == CLICKS and min(clicks["latencies_ms"]) > 0
        # Every click made the kernel redraw panes (more than the toggle's own echo came back).
        assert min(clicks["updates"]) > 1, clicks["updates"]
        # The way through the hub costs something on top of the kernel's own work.
        assert None not in clicks["kernel_busy_ms"], "the kernel's busy/idle status was not seen for every click"
        assert all(total > busy for total, busy in zip(clicks["latencies_ms"], clicks["kernel_busy_ms"], strict=True))


@pytest.mark.slow
@slow
def test_memory_is_measured_per_participant(room):
    for report in room["reports"]:
        # A Jupyter server and a kernel with pandas and SQLAlchemy each hold tens of MB at least.
        assert report["server_peak_mb"] > 50
        assert all(peak > 50 for peak in report["kernel_peak_mb"].values()), report["kernel_peak_mb"]
    assert room["summary"]["participant_mb_max"] > room["summary"]["server_mb_max"]


@pytest.mark.slow
@slow
def test_the_summary_becomes_a_table_row(room):
    text = table({"sweeps": [{"when": "now", "cores": os.cpu_count(), "memory_gb": 1, "clicks_per_participant": CLICKS,
                              "pause_s": 0.3, "runs": [room]}]})
    assert f"| {PARTICIPANTS} | " in text and "participants per GB" in text


# --- The sweep's rules, on made-up rooms (no hub) -------------------------------------------------------------------
def made_up(participants: int, slowest_ms: float, cpu_busy: float = 5.0, seconds: float = 40.0) -> dict:
    """A room as measure() reports it, with what the rules read: its slowest click, memory, duration, the CPU before."""
    latencies = [50.0] * 19 + [slowest_ms]
    return {"participants": participants, "hub_ready_s": 5.0, "seconds": seconds, "cpu_busy_before_percent": cpu_busy,
            "load_before": [cpu_busy / 50, 0.5, 0.5], "reports": [{"clicks": {"latencies_ms": latencies}}],
            "summary": {"clicks_all_under_limit": slowest_ms < 200, "click_ms_max": slowest_ms, "clicks": 20,
                        "click_ms_median": 50.0, "click_ms_p95": 50.0, "click_kernel_busy_ms_median": 40.0,
                        "failures": 0, "server_start_s_max": 4.0, "server_mb_max": 146.0,
                        "run_all_s_median": dict.fromkeys(LESSONS, 2.0),
                        "kernel_mb_max": dict.fromkeys(LESSONS, 117.0), "participant_mb_max": 264.0}}


def sweep_of(*runs: dict) -> dict:
    return {"when": "now", "cores": 2, "memory_gb": 23.5, "clicks_per_participant": 20, "pause_s": 0.5,
            "runs": list(runs), "stopped": "because"}


def test_a_smaller_room_that_failed_under_other_work_does_not_hide_the_larger_rooms_that_passed():
    # As measured on a shared machine: N=1 had one 223 ms click while other work kept the CPU busy; 2 to 6 passed.
    measured = sweep_of(made_up(1, 223, cpu_busy=90), *(made_up(n, 110) for n in (2, 3, 4, 6)))
    found = verdict(measured)
    assert found["largest"] == 6 and [run["participants"] for run in found["failed_below"]] == [1]
    assert found["failed_above"] is None
    text = table({"sweeps": [measured]})
    assert "Every click was under 200 ms up to N=**6**, the largest N measured" in text
    assert "at least **3.0 participants per core**: the limit was not reached (the sweep stopped: because)" in text
    assert "Smaller rooms failed: N=1 (1 of 20 clicks at 200 ms or more, the slowest 223 ms; CPU 90 % busy" in text
    assert "with other work on the machine" in text


def test_the_first_larger_room_that_failed_bounds_the_figure():
    found = verdict(sweep_of(*(made_up(n, 120) for n in (1, 2, 4)), made_up(6, 250), made_up(8, 190)))
    assert found["largest"] == 8 and [run["participants"] for run in found["failed_below"]] == [6]
    text = table({"sweeps": [sweep_of(*(made_up(n, 120) for n in (1, 2, 4)), made_up(6, 250))]})
    assert "Largest N with every click under 200 ms: **4**, i.e. **2.0 participants per core**; the next N measured " \
           "failed: N=6 (1 of 20 clicks at 200 ms or more, the slowest 250 ms; CPU 5 % busy, load average 0.1 " \
           "before it on a quiet machine)" in text
    assert "No N measured kept every click" in table({"sweeps": [sweep_of(made_up(1, 400))]})


def test_the_sweep_goes_on_until_a_room_fails_on_a_quiet_machine():
    sizes = list(SIZES)
    assert sizes[:8] == [1, 2, 4, 6, 8, 12, 16, 24]
    plenty = dict(elapsed_s=0, budget_s=3600, available_mb=20_000, cores=2)
    assert next_room(sizes, [], **plenty) == (1, "")
    passed = [made_up(n, 100) for n in (1, 2, 4, 6)]
    assert next_room(sizes, passed, **plenty) == (8, "")
    # A failure while other work loaded the machine does not stop it; one on a quiet machine does.
    assert next_room(sizes, [*passed, made_up(8, 260, cpu_busy=80)], **plenty) == (12, "")
    size, why = next_room(sizes, [*passed, made_up(8, 260)], **plenty)
    assert size is None and "N=8 had a click of 260 ms" in why


def test_the_sweep_stops_before_a_room_that_would_not_fit_in_memory_or_time():
    passed = [made_up(n, 100, seconds=10 * n) for n in (1, 2, 4, 6, 8, 12, 16, 24, 32)]
    size, why = next_room(list(SIZES), passed, elapsed_s=0, budget_s=36_000, available_mb=15_000, cores=2)
    assert size is None and "N=48 would need about 12.4 GB" in why  # 48 x 264 MB > 80 % of 15 GB
    assert next_room(list(SIZES), passed, elapsed_s=0, budget_s=36_000, available_mb=20_000, cores=2) == (48, "")
    size, why = next_room(list(SIZES), passed[:4], elapsed_s=1000, budget_s=1050, available_mb=20_000, cores=2)
    assert size is None and "N=8 would take about 1 min" in why  # 5 s + 60 s x 8 / 6 = 85 s: past 1050 s
    assert next_room([1, 2], passed[:2], elapsed_s=0, budget_s=3600, available_mb=20_000, cores=2)[0] is None
