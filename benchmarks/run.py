"""`make bench`: the course's speed figures, printed as one table and written to benchmarks/results/latest.json.

Each figure is the median of ``--runs`` runs (ADD COLUMN's of five, three with ``--quick``; the test suite runs
once); a ratio is measured side by side in the same run. These are measurements, not tests: nothing here fails
because a machine is slow.

    python -m benchmarks.run                 # everything but the set-up: sizes up to 1M, notebooks, the test suite
    python -m benchmarks.run --with-setup    # also time `make setup` into a fresh venv with uv and with pip (~1 min)
    python -m benchmarks.run --quick         # tiny sizes, one run, no notebooks and no test suite (seconds)

The course's own PostgreSQL server (coursekit.pgserver) is timed in fresh processes, as a kernel meets it: a cold start
(initdb and start, in a new folder) and a warm start (its data kept, the server stopped by the last process's exit).
The transition stepper (lesson 07's shop, coursekit.transition_stepper) is clicked through a whole transition and back
(TRANSITION_CLICKS: expand, migrate, deploy v2, orders from both, a too-early contract refused, retire v1, contract,
and undone); its click latency is reported with the migrate step's write transaction (the table locked meanwhile).
The capstone's grader (coursekit.capstone.grade) is timed on the reference solution and on a wrong one.
Lessons 15 and 16's times in the notebooks' table are a Run All on that server (unless POSTGRES_URL names another).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from sqlalchemy import text

from coursekit.dataset import COLUMNS, generate_orders, insert_orders
from coursekit.db import make_engine
from coursekit.migrations import Migrator
from coursekit.order_steps import CREATE_ORDERS, ORDER_STEPS
from coursekit.stepper import MigrationStepper
from coursekit.transition_stepper import TransitionStepper
from tests.transition_shop import make_transition

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "latest.json"
ORDERS_DDL = "CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id TEXT, country TEXT, ordered_at TEXT, " \
             "amount REAL, shipped_at TEXT, refunded_at TEXT)"
BACKFILL = "UPDATE orders SET status = CASE WHEN refunded_at IS NOT NULL THEN 'refunded' " \
           "WHEN shipped_at IS NOT NULL THEN 'shipped' ELSE 'pending' END"


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_of(runs: int, action) -> float:
    return statistics.median(timed(action) for _ in range(runs))


def loaded_engine(rows: int):
    engine = make_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text(ORDERS_DDL))
        insert_orders(conn, generate_orders(rows))
    return engine


def raw_executemany_seconds(rows: list[tuple]) -> float:
    """The floor: plain sqlite3, one prepared INSERT for every row, one transaction."""
    connection = sqlite3.connect(":memory:")
    connection.execute(ORDERS_DDL)
    placeholders = ", ".join("?" * len(COLUMNS))
    started = time.perf_counter()
    connection.executemany(f"INSERT INTO orders VALUES ({placeholders})", rows)
    connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def generate_and_load_seconds(rows: int) -> float:
    """The course's way: generate the orders and bulk-load them through SQLAlchemy in one transaction."""
    engine = make_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text(ORDERS_DDL))
    started = time.perf_counter()
    with engine.begin() as conn:
        orders = generate_orders(rows)
        insert_orders(conn, orders)
    elapsed = time.perf_counter() - started  # before the rows are freed, as for the raw executemany
    engine.dispose()
    del orders
    return elapsed


def bench_generator(rows: int, runs: int) -> dict:
    """Generating and loading orders with the course's code, against a raw executemany of the same rows."""
    raw_times, course_times = [], []
    for _ in range(runs):  # alternate the two, so both see the same machine
        raw_times.append(raw_executemany_seconds(generate_orders(rows)))
        course_times.append(generate_and_load_seconds(rows))
    raw_s, course_s = statistics.median(raw_times), statistics.median(course_times)
    return {"rows": rows, "raw_executemany_s": raw_s, "generate_and_load_s": course_s, "ratio": course_s / raw_s}


def add_column_seconds(rows: int, runs: int) -> float:
    engine = loaded_engine(rows)
    times = []
    for _ in range(runs):
        with engine.begin() as conn:
            times.append(timed(lambda: conn.execute(text("ALTER TABLE orders ADD COLUMN status TEXT DEFAULT 'x'"))))
            conn.execute(text("ALTER TABLE orders DROP COLUMN status"))
    engine.dispose()
    return statistics.median(times)


def bench_add_column(small: int, large: int, runs: int) -> dict:
    small_s, large_s = add_column_seconds(small, runs), add_column_seconds(large, runs)
    return {"small_rows": small, "large_rows": large, "small_s": small_s, "large_s": large_s,
            "ratio": large_s / small_s}


def bench_backfill(rows: int, batch: int, runs: int) -> dict:
    """Rows per second: the backfill as one UPDATE, and in batches of ``batch`` keys, each batch committed."""
    engine = loaded_engine(rows)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'"))
        keys = conn.execute(text("SELECT order_id FROM orders ORDER BY order_id")).scalars().all()
    bounds = [(keys[i], keys[min(i + batch, len(keys)) - 1]) for i in range(0, len(keys), batch)]

    def single():
        with engine.begin() as conn:
            conn.execute(text(BACKFILL))

    def batched():
        for first, last in bounds:
            with engine.begin() as conn:
                conn.execute(text(f"{BACKFILL} WHERE order_id BETWEEN :first AND :last"),
                             {"first": first, "last": last})

    single_s, batched_s = median_of(runs, single), median_of(runs, batched)
    engine.dispose()
    return {"rows": rows, "batch": batch, "single_rows_per_s": rows / single_s, "batched_rows_per_s": rows / batched_s}


CLICKS = ((3, True), (2, False), (2, True), (0, False), (1, True), (3, True), (0, False))


def bench_stepper(rows: int, runs: int) -> dict:
    """Latency of a click on the stepper (the migration and the redraw of every pane), over a fixed sequence."""
    engine = make_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, generate_orders(rows))
    stepper = MigrationStepper(Migrator(engine, ORDER_STEPS))
    latencies = []
    for _ in range(runs):
        for index, value in CLICKS:
            latencies.append(timed(lambda index=index, value=value: setattr(stepper.toggles[index], "value", value)))
    engine.dispose()
    return {"rows": rows, "clicks": len(latencies), "median_ms": 1000 * statistics.median(latencies),
            "max_ms": 1000 * max(latencies)}


# A whole transition on lesson 07's shop and back, as a learner clicks it: (what is clicked, on which version/step).
TRANSITION_CLICKS = (
    ("step on", 1), ("step on", 2), ("deploy", "v2"), ("place", "v1"), ("place", "v2"), ("step on", 3),  # refused
    ("retire", "v1"), ("step on", 3), ("step off", 3), ("deploy", "v1"), ("retire", "v2"), ("step off", 2),
    ("step off", 1),
)


def transition_click(stepper: TransitionStepper, what: str, which) -> None:
    if what.startswith("step"):
        stepper.toggles[which - 1].value = what == "step on"
    elif what == "place":
        stepper.panels[which].place_button.click()
    else:
        stepper.panels[which].deployed.value = what == "deploy"


def bench_transition(rows: int, runs: int) -> dict:
    """Latency of a click on lesson 07's transition stepper (the move or deploy, its rehearsal, every pane redrawn)."""
    stepper = TransitionStepper(make_transition(rows))
    latencies, migrate_locks = [], []
    for _ in range(runs):
        for what, which in TRANSITION_CLICKS:
            latencies.append(timed(lambda what=what, which=which: transition_click(stepper, what, which)))
            if (what, which) == ("step on", 2):
                migrate_locks.append(stepper.migrator.history[-1].seconds)
    stepper.close()
    stepper.migrator.engine.dispose()
    return {"rows": rows, "clicks": len(latencies), "median_ms": 1000 * statistics.median(latencies),
            "max_ms": 1000 * max(latencies), "migrate_lock_ms": 1000 * statistics.median(migrate_locks)}


# A fresh process asks for the course's server in a given folder and prints how long that took.
START_SERVER = "import sys, time; from pathlib import Path; from coursekit.pgserver import embedded_url; " \
               "t = time.perf_counter(); embedded_url(Path(sys.argv[1])); print(time.perf_counter() - t)"


def server_start_seconds(folder: Path) -> float:
    """Seconds for a new process to get the course's server on ``folder``; the server stops when that process ends."""
    done = subprocess.run([sys.executable, "-c", START_SERVER, str(folder)], capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def bench_pgserver(runs: int) -> dict:
    """The course's PostgreSQL: cold start (init + start, new folder each run), warm start (data kept, stopped)."""
    with tempfile.TemporaryDirectory(prefix="bench-pg-") as scratch:
        cold = statistics.median(server_start_seconds(Path(scratch) / f"cold{run}") for run in range(runs))
        warm = statistics.median(server_start_seconds(Path(scratch) / "cold0") for _ in range(runs))
    return {"cold_start_s": cold, "warm_start_s": warm}


def bench_capstone(runs: int) -> dict:
    """The capstone's grader (coursekit.capstone.grade, every check): its first call in a process (the course's server
    asked for), then the median of ``runs`` more on the reference solution, and on a wrong one (the truncating cast)."""
    from coursekit.capstone import REFERENCE, grade

    first = timed(lambda: grade(REFERENCE))
    with tempfile.TemporaryDirectory(prefix="bench-capstone-") as scratch:
        wrong = Path(scratch)
        for source in REFERENCE.glob("*.py"):
            text_of = source.read_text(encoding="utf-8")
            (wrong / source.name).write_text(text_of.replace("CAST(ROUND(amount * 100) AS INTEGER) WHERE",
                                                             "CAST(amount * 100 AS INTEGER) WHERE"), encoding="utf-8")
        return {"first_s": first, "reference_s": median_of(runs, lambda: grade(REFERENCE)),
                "truncating_cast_s": median_of(runs, lambda: grade(wrong)), "target_s": 30}


def execute_copy(path: Path) -> None:
    """Run a notebook in a fresh kernel, on a copy in memory: the file is not written."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(path.parent)}}).execute()


def notebook_seconds(path: Path, runs: int) -> float | str:
    """Median seconds to execute one notebook, kernel start-up included; a failing notebook is reported, not timed."""
    try:
        return median_of(runs, lambda: execute_copy(path))
    except Exception as error:  # another lesson's failure must not stop the whole benchmark
        return f"failed: {type(error).__name__}"


def bench_notebooks(runs: int, folder: Path = REPO / "notebooks") -> dict:
    """Median seconds to execute each lesson notebook, kernel start-up included."""
    return {path.name: notebook_seconds(path, runs) for path in sorted(folder.glob("[0-9][0-9]-*.ipynb"))}


# What `make test` runs after its set-up (the Makefile's XDIST default: two workers, one file per worker at a time).
TEST_COMMAND = [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile"]


def setup_seconds(installer: str) -> float:
    """`make setup` into a fresh venv with one installer, as a fresh clone's `make lab` or `make test` starts.

    The venv is scratch; its editable install points at this checkout, and nothing else changes. uv's and pip's
    download caches are whatever this machine has (warm after the first run).
    """
    with tempfile.TemporaryDirectory() as scratch:
        venv = Path(scratch) / "venv"
        return timed(lambda: subprocess.run(["make", "-s", "setup", f"VENV={venv}", f"INSTALLER={installer}"],
                                            cwd=REPO, check=True, capture_output=True))


FIRST_LESSON = "notebooks/01-add-a-status-column.ipynb"


def lab_start_seconds(limit: float = 180) -> float:
    """A fresh clone's `make lab`: seconds from the command to lesson 01 served (its set-up included).

    The clone is of this checkout's HEAD, in a scratch folder; JupyterLab runs on a free loopback port, no browser,
    and is stopped (with its process group) once the lesson's file is served by the contents API.
    """
    import urllib.request

    from tests.browser import free_port

    with tempfile.TemporaryDirectory() as scratch:
        clone = Path(scratch) / "course"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        port, token = free_port(), "bench"
        flags = f"--no-browser --port={port} --ip=127.0.0.1 --ServerApp.token={token}"
        start = time.perf_counter()
        lab = subprocess.Popen(["make", "-s", "lab", f"JUPYTER_ARGS={flags}"], cwd=clone, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/api/contents/{FIRST_LESSON}?content=0&token={token}"
        try:
            while time.perf_counter() - start < limit:
                try:
                    with urllib.request.urlopen(url, timeout=2) as answer:
                        if answer.status == 200:
                            return time.perf_counter() - start
                except OSError:
                    time.sleep(0.1)
            raise TimeoutError(f"make lab did not serve lesson 01 within {limit} s")
        finally:
            os.killpg(lab.pid, 15)
            lab.wait(timeout=30)


def bench_make_test(with_setup: bool) -> dict:
    """`make test` in two parts: the set-up (a fresh venv with the pins and the course) and the pytest run."""
    figures = {}
    if with_setup:
        for installer in ("uv", "pip"):
            figures[f"setup_{installer}_s"] = setup_seconds(installer)
        figures["fresh_clone_make_lab_s"] = lab_start_seconds()
    result = {}  # the run gets its own session: a test that signals its process group must not stop the benchmark
    figures["run_s"] = timed(lambda: result.update(run=subprocess.run(TEST_COMMAND, cwd=REPO, capture_output=True,
                                                                      text=True, start_new_session=True)))
    summary = result["run"].stdout.strip().splitlines()
    figures["run_summary"] = summary[-1].strip("= ") if summary else f"exit code {result['run'].returncode}"
    return figures


def collect(quick: bool, with_setup: bool, runs: int) -> dict:
    if quick:
        runs = 1
    return {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "sqlite": sqlite3.sqlite_version,
                    "runs": runs},
        "generator": bench_generator(1_000 if quick else 1_000_000, runs),
        "add_column": bench_add_column(1_000, 10_000 if quick else 1_000_000, 3 if quick else 5),
        "backfill": bench_backfill(1_000 if quick else 100_000, 100 if quick else 10_000, runs),
        "stepper": [bench_stepper(rows, runs) for rows in ((1_000,) if quick else (1_000, 100_000))],
        "transition": [bench_transition(rows, runs) for rows in ((1_000,) if quick else (1_000, 100_000))],
        "pgserver": bench_pgserver(runs),
        "capstone": bench_capstone(runs),
        "notebooks_s": {} if quick else bench_notebooks(runs),
        "make_test": {} if quick else bench_make_test(with_setup),
    }


def stepper_line(figures: dict) -> tuple[str, str]:
    name = f"stepper click at {figures['rows']:,} rows"
    return name, (f"median {figures['median_ms']:.0f} ms, max {figures['max_ms']:.0f} ms over {figures['clicks']} "
                  "clicks (target < 200 ms)")


def transition_lines(figures: dict) -> list[tuple[str, str]]:
    rows = f"{figures['rows']:,} rows"
    return [(f"transition stepper click at {rows}", f"median {figures['median_ms']:.0f} ms, max "
             f"{figures['max_ms']:.0f} ms over {figures['clicks']} clicks (target < 200 ms at 1,000 rows)"),
            (f"transition: migrate's write lock at {rows}", f"{figures['migrate_lock_ms']:.1f} ms (median)")]


def table(results: dict) -> str:
    gen, add, fill = results["generator"], results["add_column"], results["backfill"]
    lines = [
        ("generator + load vs raw executemany", f"{gen['generate_and_load_s']:.2f} s vs "
         f"{gen['raw_executemany_s']:.2f} s at {gen['rows']:,} rows: ratio {gen['ratio']:.2f} (target < 1.5)"),
        ("ADD COLUMN, large/small", f"{add['large_s'] * 1e3:.2f} ms at {add['large_rows']:,} vs "
         f"{add['small_s'] * 1e3:.2f} ms at {add['small_rows']:,}: ratio {add['ratio']:.1f}"),
        ("backfill rows/s, one UPDATE", f"{fill['single_rows_per_s']:,.0f} ({fill['rows']:,} rows)"),
        ("backfill rows/s, batched", f"{fill['batched_rows_per_s']:,.0f} (batches of {fill['batch']:,})"),
    ]
    lines += [stepper_line(figures) for figures in results["stepper"]]
    lines += [line for figures in results.get("transition", []) for line in transition_lines(figures)]
    if "pgserver" in results:
        server = results["pgserver"]
        lines += [("PostgreSQL (course's own): cold start", f"{server['cold_start_s']:.2f} s (initdb + start)"),
                  ("PostgreSQL (course's own): warm start", f"{server['warm_start_s']:.2f} s (data kept)")]
    if "capstone" in results:
        grader = results["capstone"]
        lines += [("capstone grader, first call", f"{grader['first_s']:.2f} s (the course's server asked for)"),
                  ("capstone grader, reference / wrong", f"{grader['reference_s']:.2f} s / "
                   f"{grader['truncating_cast_s']:.2f} s (median; target < {grader['target_s']} s)")]
    lines += [(f"notebook {name}", f"{seconds:.1f} s" if isinstance(seconds, float) else seconds)
              for name, seconds in results["notebooks_s"].items()]
    lines += [(f"make test: {key}", f"{value:.1f} s" if isinstance(value, float) else str(value))
              for key, value in results["make_test"].items()]
    width = max(len(name) for name, _ in lines)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run, no notebooks or make test")
    parser.add_argument("--with-setup", action="store_true", help="also time make setup (uv, pip) and make lab")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = collect(args.quick, with_setup=args.with_setup, runs=max(1, args.runs))
    print(table(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {args.output.relative_to(REPO) if args.output.is_relative_to(REPO) else args.output}")
    return results


if __name__ == "__main__":
    main()
