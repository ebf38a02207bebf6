"""Capacity of the workshop's JupyterHub on this machine: N participants at once, through the hub, on 127.0.0.1.

Each participant does what a room does in the first hour: logs in with the room's password, gets a server, pulls the
course with the nbgitpuller link, then runs lessons 01, 02, 03 and 09 in order (Restart & Run All: a fresh kernel per
lesson, every code cell in order; the kernel is shut down when the next lesson starts), and in lesson 03 clicks the
migration stepper CLICKS times, PAUSE seconds apart, as a person would. All N start together, so their clicks fall
while the others run their lessons: everybody does the same lesson at the same time, as in a room.

Figures per participant:
- memory: the peak resident set size (RSS) of their Jupyter server (found with psutil) and of each lesson's kernel,
  from Linux's own high-water mark (VmHWM in /proc/<pid>/status, read at the end: exact, no sampling). RSS counts the
  libraries that processes share once per process, so server + largest kernel is an upper bound per person.
- Run All: seconds from the first cell sent to the last cell's reply, per lesson.
- click latency: a click on a step's toggle sends what JupyterLab sends (the ToggleButton's new value, a comm message
  on the kernel's websocket, through the hub's proxy and the participant's server); it is timed until the kernel is
  idle again, i.e. until every widget update that the click caused (the migration run, the schema, rows and SQL
  panes redrawn) has come back over the websocket. It leaves out only the browser's drawing of those updates. The
  kernel's own busy-to-idle time for the click (from its status messages' timestamps) is reported next to it: the
  difference is the way there and back (websocket, proxy, server, ZeroMQ) and the wait for a CPU.

    python -m benchmarks.workshop_load                      # the sweep: N = 1, 2, 4, 6, 8, 12, 16, 24, 32, ...
    python -m benchmarks.workshop_load --participants 1 2   # these N only (no stopping rule)
    python -m benchmarks.workshop_load --table              # only rewrite workshop/README.md's table from the JSON

The sweep goes up until a room has a click of 200 ms or more on a quiet machine, or the next room would not fit in
the memory available (from the largest participant measured so far), or not in the time left (--max-minutes, from
the last room's duration scaled by N). Before each room it waits (at most --settle seconds) until the CPU is quiet
(under 25 % busy over 3 s), and it records how busy the CPU was and the load average: a room that failed while the
machine was busy with other work does not stop the sweep, and the table says which rooms were measured so.

Each sweep is added to workshop/capacity.json (written after every room, so an interrupted sweep keeps what it
measured; --replace starts the file afresh), and workshop/README.md's capacity table is generated from that file.
These are measurements: nothing here fails because a machine is slow.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psutil

from workshop.hubclient import Hub, Participant, install, running_hub
from workshop.link import COURSE_FOLDER, current_branch, pull_query

REPO = Path(__file__).resolve().parent.parent
CAPACITY = REPO / "workshop" / "capacity.json"
README = REPO / "workshop" / "README.md"
LESSONS = ("01-add-a-status-column", "02-migration-steps-in-one-transaction", "03-up-and-down-with-the-stepper",
           "09-backups-and-restore")
STEPPER_LESSON = "03-up-and-down-with-the-stepper"
CLICK_LIMIT_MS = 200
# The sweep's room sizes, and when it stops (see the module's docstring).
SIZES = (1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
QUIET_CPU_PERCENT = 25
MEMORY_SHARE = 0.8  # a room is measured only if it fits in this share of the memory available
FIRST_GUESS_MB = 400  # per participant, before any was measured (measured: about 265 MB)
TABLE_START = "<!-- capacity table: made by `python -m benchmarks.workshop_load --table` from capacity.json -->"
TABLE_END = "<!-- end of the capacity table -->"
MB = 1024 * 1024


def peak_rss_mb(pid: int | str = "self") -> float:
    """A process's peak resident set size over its whole life (Linux keeps it: VmHWM in /proc/<pid>/status), in MB:
    exact, where sampling RSS now and then would miss a short peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmHWM for process {pid}")


# Run in each lesson's kernel before it is shut down: the kernel's own peak RSS.
KERNEL_PEAK = ("print([line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')][0])")


def server_peaks_mb(users: Path) -> dict[str, float]:
    """Each participant's Jupyter server (psutil finds it by its working directory, the participant's folder)."""
    peaks = {}
    for process in psutil.process_iter(["cmdline"]):
        try:
            cwd = Path(process.cwd())
            if cwd.parent == users and "jupyterhub-singleuser" in " ".join(process.info["cmdline"] or []):
                peaks[cwd.name] = peak_rss_mb(process.pid)
        except (psutil.Error, OSError, LookupError):
            continue
    return peaks


def click_the_stepper(kernel, clicks: int, pause: float) -> dict:
    """Clicks on lesson 03's stepper toggles in turn, each setting the opposite of the toggle's current value, so
    every click applies or undoes steps; the kernel's own reading of the version afterwards must agree."""
    listed = kernel.execute("import json; print(json.dumps([[t.model_id, t.value] for t in stepper.toggles]))")
    if listed.status != "ok":
        raise RuntimeError(f"lesson 03 has no stepper to click: {listed.ename}: {listed.evalue}")
    toggles = json.loads(listed.stdout)
    values = {comm_id: value for comm_id, value in toggles}
    latencies, busy, updates = [], [], []
    for number in range(clicks):
        comm_id = toggles[number % len(toggles)][0]
        reply = kernel.widget_update(comm_id, {"value": not values[comm_id]})
        latencies.append(1000 * reply.seconds)
        busy.append(1000 * reply.busy_seconds if reply.busy_seconds is not None else None)
        updates.append(reply.updates)
        for changed, state in reply.states.items():
            if changed in values and "value" in state:
                values[changed] = state["value"]
        time.sleep(pause)
    expected = 0  # the stepper keeps steps 1..k applied: the version is the number of leading toggles that are on
    for comm_id, _ in toggles:
        if not values[comm_id]:
            break
        expected += 1
    version = kernel.execute("print(stepper.migrator.current())")
    return {"latencies_ms": latencies, "kernel_busy_ms": busy, "updates": updates, "expected_version": expected,
            "kernel_version": int(version.stdout) if version.status == "ok" else None}


def participant(hub: Hub, name: str, query: str, clicks: int, pause: float) -> dict:
    person = Participant(hub.url, name)
    started = time.monotonic()
    if not person.log_in(hub.password):
        raise RuntimeError(f"{name} could not log in")
    report: dict = {"name": name, "login_s": time.monotonic() - started, "server_start_s": person.start_server()}
    pulled = time.monotonic()
    person.git_pull(query)
    report["pull_s"] = time.monotonic() - pulled
    report["run_all_s"], report["failures"], report["kernel_peak_mb"] = {}, {}, {}
    for lesson in LESSONS:
        path = f"{COURSE_FOLDER}/notebooks/{lesson}.ipynb"
        kernel = person.open_kernel(path)
        try:
            run = kernel.run_all(path)
            report["run_all_s"][lesson] = run.seconds
            if run.failures:
                report["failures"][lesson] = run.failures
            if lesson == STEPPER_LESSON:
                report["clicks"] = click_the_stepper(kernel, clicks, pause)
            peak = kernel.execute(KERNEL_PEAK)
            report["kernel_peak_mb"][lesson] = int(peak.stdout) / 1024 if peak.status == "ok" else None
        finally:
            kernel.close()
    return report


def cpu_busy_percent(seconds: float = 3.0) -> float:
    """How busy the machine's CPUs are now (all cores, in per cent), over ``seconds``."""
    return psutil.cpu_percent(interval=seconds)


def wait_until_quiet(settle: float) -> float:
    """Waits (at most ``settle`` seconds) until the CPU is under QUIET_CPU_PERCENT busy; returns the last reading."""
    deadline = time.monotonic() + settle
    busy = cpu_busy_percent()
    while busy >= QUIET_CPU_PERCENT and time.monotonic() < deadline:
        busy = cpu_busy_percent()
    return busy


def measure(participants: int, clicks: int = 20, pause: float = 0.5, scratch: Path | None = None) -> dict:
    """One room of ``participants`` on a fresh hub; the figures of every participant and the room's summary."""
    cpu_busy_before, load_before = cpu_busy_percent(), os.getloadavg()  # before our own work (install, clone)
    install()
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        upstream = Path(folder) / "course"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(upstream)], check=True, timeout=300)
        query = pull_query(f"file://{upstream}", current_branch(upstream))
        with running_hub(Path(folder) / "data") as hub:
            started = time.monotonic()
            names = [f"p{number:02d}" for number in range(1, participants + 1)]
            with ThreadPoolExecutor(participants) as pool:
                reports = list(pool.map(lambda name: participant(hub, name, query, clicks, pause), names))
            seconds = time.monotonic() - started
            load_after = os.getloadavg()
            servers = server_peaks_mb(hub.users)
            hub_ready = hub.ready_seconds
    for report in reports:
        report["server_peak_mb"] = servers.get(report["name"])
    return {"participants": participants, "hub_ready_s": hub_ready, "seconds": seconds,
            "cpu_busy_before_percent": cpu_busy_before, "load_before": load_before, "load_after": load_after,
            "reports": reports, "summary": {**summarise(reports), **memory_summary(reports)}}


def summarise(reports: list[dict]) -> dict:
    latencies = sorted(ms for report in reports for ms in report["clicks"]["latencies_ms"])
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    busy = [ms for report in reports for ms in report["clicks"]["kernel_busy_ms"] if ms is not None]
    return {
        "failures": sum(len(cells) for report in reports for cells in report["failures"].values()),
        "server_start_s_max": max(report["server_start_s"] for report in reports),
        "run_all_s_median": {lesson: statistics.median(r["run_all_s"][lesson] for r in reports) for lesson in LESSONS},
        "run_all_s_max": {lesson: max(r["run_all_s"][lesson] for r in reports) for lesson in LESSONS},
        "clicks": len(latencies),
        "click_ms_median": statistics.median(latencies),
        "click_ms_p95": p95,
        "click_ms_max": latencies[-1],
        "click_kernel_busy_ms_median": statistics.median(busy) if busy else None,
        "clicks_all_under_limit": latencies[-1] < CLICK_LIMIT_MS,
        "clicks_moved_the_stepper": all(r["clicks"]["kernel_version"] == r["clicks"]["expected_version"]
                                        and min(r["clicks"]["updates"]) > 1 for r in reports),
    }


def memory_summary(reports: list[dict]) -> dict:
    """The largest peaks among the participants. A participant's server and their largest kernel, added: an upper
    bound of what one participant holds at once (one lesson's kernel running; the earlier ones shut down)."""
    return {
        "server_mb_max": max(r["server_peak_mb"] for r in reports),
        "kernel_mb_max": {lesson: max(r["kernel_peak_mb"][lesson] for r in reports) for lesson in LESSONS},
        "participant_mb_max": max(r["server_peak_mb"] + max(r["kernel_peak_mb"].values()) for r in reports),
    }


def busy_machine(run: dict, cores: int) -> bool:
    """Whether other work loaded the machine when the room started: the CPU 25 % busy or more before it (or, for rooms
    measured before that was recorded, a 1-minute load average above half the cores)."""
    if run.get("cpu_busy_before_percent") is not None:
        return run["cpu_busy_before_percent"] >= QUIET_CPU_PERCENT
    return run["load_before"][0] > cores / 2


def next_room(sizes: list[int], runs: list[dict], elapsed_s: float, budget_s: float, available_mb: float,
              cores: int) -> tuple[int | None, str]:
    """The sweep's next N, or None and why it stops: the first N that failed on a quiet machine, or the next N would
    not fit in the memory available or in the time left."""
    for run in runs:
        if not run["summary"]["clicks_all_under_limit"] and not busy_machine(run, cores):
            return None, (f"N={run['participants']} had a click of {run['summary']['click_ms_max']:.0f} ms "
                          f"({CLICK_LIMIT_MS} ms or more) on a quiet machine")
    measured = {run["participants"] for run in runs}
    left = [size for size in sizes if size not in measured]
    if not left:
        return None, f"every N asked for was measured ({', '.join(map(str, sizes))})"
    size = left[0]
    per_person = max((run["summary"]["participant_mb_max"] for run in runs), default=FIRST_GUESS_MB)
    if size * per_person > MEMORY_SHARE * available_mb:
        return None, (f"N={size} would need about {size * per_person / 1024:.1f} GB ({per_person:.0f} MB each), "
                      f"more than {MEMORY_SHARE:.0%} of the {available_mb / 1024:.1f} GB available")
    if runs:
        last = runs[-1]
        estimate = last["hub_ready_s"] + last["seconds"] * size / last["participants"]
        if elapsed_s + estimate > budget_s:
            return None, (f"N={size} would take about {estimate / 60:.0f} min (scaled from N={last['participants']}), "
                          f"past the sweep's {budget_s / 60:.0f} min")
    return size, ""


def sweep(sizes: list[int], clicks: int, pause: float, stop_rule: bool, max_minutes: float, settle: float,
          save=None) -> dict:
    """Rooms of the given sizes in turn (with ``stop_rule``: until next_room says stop). ``save(measured)`` is called
    after every room."""
    measured = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cores": os.cpu_count(),
                "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1), "clicks_per_participant": clicks,
                "pause_s": pause, "sizes": list(sizes), "max_minutes": max_minutes, "runs": [], "stopped": ""}
    started = time.monotonic()
    while True:
        if stop_rule:
            size, why = next_room(sizes, measured["runs"], time.monotonic() - started, 60 * max_minutes,
                                  psutil.virtual_memory().available / MB, measured["cores"])
        else:
            left = sizes[len(measured["runs"]):]
            size, why = (left[0], "") if left else (None, "every N asked for was measured")
        if size is None:
            measured["stopped"] = why
            break
        quiet = wait_until_quiet(settle)
        print(f"N={size}: starting (CPU {quiet:.0f} % busy before)", flush=True)
        try:
            run = measure(size, clicks, pause)
        except Exception as error:  # noqa: BLE001 (a room that broke ends the sweep; what was measured is kept)
            measured["stopped"] = f"N={size} broke off: {type(error).__name__}: {error}"
            print(measured["stopped"], flush=True)
            break
        measured["runs"].append(run)
        summary = run["summary"]
        print(f"N={size}: clicks median {summary['click_ms_median']:.0f} ms, p95 {summary['click_ms_p95']:.0f} ms, "
              f"max {summary['click_ms_max']:.0f} ms; peak per participant {summary['participant_mb_max']:.0f} MB; "
              f"Run All {', '.join(f'{s:.1f}' for s in summary['run_all_s_median'].values())} s; "
              f"{run['seconds']:.0f} s; CPU {run['cpu_busy_before_percent']:.0f} % busy and load "
              f"{run['load_before'][0]:.1f} before", flush=True)
        if save:
            save(measured)
    measured["minutes"] = (time.monotonic() - started) / 60
    if save:
        save(measured)
    print(f"stopped: {measured['stopped']}", flush=True)
    return measured


def verdict(measured: dict) -> dict:
    """The largest N of a sweep whose every click was under 200 ms, the rooms that failed below it (and whether the
    machine was busy with other work then), and the smallest N above it that failed, if any was measured."""
    runs = sorted(measured["runs"], key=lambda run: run["participants"])
    passed = [run["participants"] for run in runs if run["summary"]["clicks_all_under_limit"]]
    largest = max(passed, default=0)
    failed = [run for run in runs if not run["summary"]["clicks_all_under_limit"]]
    return {"largest": largest,
            "failed_below": [run for run in failed if run["participants"] < largest],
            "failed_above": next((run for run in failed if run["participants"] > largest), None)}


def describe_failure(run: dict, cores: int) -> str:
    s = run["summary"]
    slow = sum(ms >= CLICK_LIMIT_MS for report in run["reports"] for ms in report["clicks"]["latencies_ms"])
    cpu = run.get("cpu_busy_before_percent")
    conditions = (f"CPU {cpu:.0f} % busy, " if cpu is not None else "") + f"load average {run['load_before'][0]:.1f}"
    busy = " with other work on the machine" if busy_machine(run, cores) else " on a quiet machine"
    return (f"N={run['participants']} ({slow} of {s['clicks']} clicks at {CLICK_LIMIT_MS} ms or more, the slowest "
            f"{s['click_ms_max']:.0f} ms; {conditions} before it{busy})")


def table(capacity: dict) -> str:
    """The README's capacity section, from capacity.json only."""
    lines = []
    for sweep_number, measured in enumerate(capacity["sweeps"], 1):
        cores = measured["cores"]
        busy = [run for run in measured["runs"] if busy_machine(run, cores)]
        by_cpu = ", ".join(str(run["participants"]) for run in busy if run.get("cpu_busy_before_percent") is not None)
        by_load = ", ".join(str(run["participants"]) for run in busy if run.get("cpu_busy_before_percent") is None)
        warning = (f" The CPU was {QUIET_CPU_PERCENT} % busy or more with other work when N={by_cpu} started: "
                   "those rows may understate the capacity." if by_cpu else "")
        warning += (" The 1-minute load average was above half the cores when N=" + by_load + " started (other work, "
                    "or the previous room's load fading): those rows may understate the capacity." if by_load else "")
        lines += [f"**Sweep {sweep_number}**, {measured['when']}: {cores} cores, "
                  f"{measured['memory_gb']} GB, {measured['clicks_per_participant']} clicks per participant "
                  f"{measured['pause_s']} s apart."
                  + (f" {measured['note']}" if measured.get("note") else "")
                  + warning, "",
                  "| N | CPU busy before (%) / load before | server start, slowest (s) | "
                  "Run All 01 / 02 / 03 / 09, median (s) | "
                  "memory per participant, peak (MB): server / kernel 01, 02, 03, 09 / both | "
                  "click median / p95 / max (ms) | kernel busy per click, median (ms) | every click < 200 ms |",
                  "| --: | --: | --: | --- | --- | --- | --: | --- |"]
        for run in measured["runs"]:
            s = run["summary"]
            runs = " / ".join(f"{value:.1f}" for value in s["run_all_s_median"].values())
            kernels = ", ".join(f"{value:.0f}" for value in s["kernel_mb_max"].values())
            failures = f" ({s['failures']} failing cells)" if s["failures"] else ""
            cpu = run.get("cpu_busy_before_percent")
            kernel_busy = s.get("click_kernel_busy_ms_median")
            lines.append(f"| {run['participants']} | {f'{cpu:.0f}' if cpu is not None else '-'} / "
                         f"{run['load_before'][0]:.1f} | {s['server_start_s_max']:.1f} | "
                         f"{runs}{failures} | {s['server_mb_max']:.0f} / {kernels} / {s['participant_mb_max']:.0f} | "
                         f"{s['click_ms_median']:.0f} / {s['click_ms_p95']:.0f} / {s['click_ms_max']:.0f} | "
                         f"{f'{kernel_busy:.0f}' if kernel_busy is not None else '-'} | "
                         f"{'yes' if s['clicks_all_under_limit'] else '**no**'} |")
        if not measured["runs"]:
            lines += ["", f"No room was measured (the sweep stopped: {measured.get('stopped') or 'no reason given'}).",
                      ""]
            continue
        found = verdict(measured)
        peak = max(run["summary"]["participant_mb_max"] for run in measured["runs"])
        largest, per_core = found["largest"], found["largest"] / cores
        if largest and found["failed_above"]:
            summary = (f"Largest N with every click under {CLICK_LIMIT_MS} ms: **{largest}**, i.e. "
                       f"**{per_core:.1f} participants per core**; the next N measured failed: "
                       + describe_failure(found["failed_above"], cores))
        elif largest:
            summary = (f"Every click was under {CLICK_LIMIT_MS} ms up to N=**{largest}**, the largest N measured, "
                       f"i.e. at least **{per_core:.1f} participants per core**: the limit was not reached")
        else:
            summary = f"No N measured kept every click under {CLICK_LIMIT_MS} ms"
        if measured.get("stopped"):
            summary += f" (the sweep stopped: {measured['stopped']})"
        if found["failed_below"]:
            summary += (". Smaller rooms failed: " + "; ".join(describe_failure(run, cores)
                                                               for run in found["failed_below"]))
        summary += (f". Memory: at most {peak:.0f} MB per participant (server and one kernel), i.e. "
                    f"**{1024 / peak:.1f} participants per GB**.")
        lines += ["", summary, ""]
    return "\n".join(lines).rstrip() + "\n"


def write_table() -> None:
    capacity = json.loads(CAPACITY.read_text())
    readme = README.read_text()
    before, rest = readme.split(TABLE_START, 1)
    _, after = rest.split(TABLE_END, 1)
    README.write_text(f"{before}{TABLE_START}\n{table(capacity)}{TABLE_END}{after}")


def save(measured: dict, replace: bool) -> None:
    """Writes the sweep into capacity.json: added to the sweeps there (or, with ``replace``, alone)."""
    capacity = {"sweeps": []} if replace or not CAPACITY.exists() else json.loads(CAPACITY.read_text())
    capacity["sweeps"] = [old for old in capacity["sweeps"] if old["when"] != measured["when"]] + [measured]
    CAPACITY.write_text(json.dumps(capacity, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, nargs="+",
                        help=f"room sizes to measure, each once (default: the sweep, {', '.join(map(str, SIZES))} "
                             f"until a click takes {CLICK_LIMIT_MS} ms or more, memory or --max-minutes runs out)")
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between a participant's clicks")
    parser.add_argument("--max-minutes", type=float, default=45, help="the sweep's time budget (default 45)")
    parser.add_argument("--settle", type=float, default=120,
                        help="seconds to wait at most, before each room, for the CPU to be quiet (default 120)")
    parser.add_argument("--note", default="", help="a sentence on how the sweep was run, shown above its table")
    parser.add_argument("--table", action="store_true", help="only rewrite the README's table from capacity.json")
    parser.add_argument("--replace", action="store_true", help="replace the sweeps in capacity.json, not add one")
    arguments = parser.parse_args()
    if not arguments.table:
        replace = arguments.replace

        def keep(measured: dict) -> None:
            nonlocal replace
            if arguments.note:
                measured["note"] = arguments.note
            save(measured, replace)
            replace = False  # the first save replaced the old sweeps; later saves update this one
            write_table()

        sweep(arguments.participants or list(SIZES), arguments.clicks, arguments.pause,
              stop_rule=not arguments.participants, max_minutes=arguments.max_minutes, settle=arguments.settle,
              save=keep)
    write_table()
    print(table(json.loads(CAPACITY.read_text())))


if __name__ == "__main__":
    main()
