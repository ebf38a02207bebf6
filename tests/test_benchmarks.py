"""The benchmark code runs (at tiny sizes) and writes its figures as JSON, so it cannot rot unnoticed.

These are not timing tests: no figure is compared with a limit, so a slow machine cannot fail them.
"""

import json
import re

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from benchmarks.run import CLICKS, bench_notebooks, main, table


def test_quick_benchmark_prints_one_table_and_writes_the_same_figures_as_json(tmp_path, capsys):
    output = tmp_path / "bench.json"
    results = main(["--quick", "--output", str(output)])
    assert json.loads(output.read_text()) == json.loads(json.dumps(results))
    printed = capsys.readouterr().out
    assert table(results) in printed
    assert "generator + load vs raw executemany" in printed and "stepper click at 1,000 rows" in printed
    assert results["generator"]["rows"] == 1_000 and results["generator"]["ratio"] > 0
    assert results["add_column"]["ratio"] > 0 and results["backfill"]["batched_rows_per_s"] > 0
    assert results["stepper"][0]["clicks"] == len(CLICKS) and results["stepper"][0]["max_ms"] > 0
    assert results["pgserver"]["cold_start_s"] > 0 and results["pgserver"]["warm_start_s"] > 0
    assert "PostgreSQL (course's own): cold start" in printed


def test_notebook_timing_runs_a_copy_and_leaves_the_file_alone(tmp_path):
    path = tmp_path / "01-tiny.ipynb"
    notebook = new_notebook(cells=[new_code_cell("print(6 * 7)")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    before = path.read_text()
    seconds = bench_notebooks(runs=1, folder=tmp_path)
    assert list(seconds) == ["01-tiny.ipynb"] and seconds["01-tiny.ipynb"] > 0
    assert path.read_text() == before


def test_a_failing_notebook_is_reported_as_failed_not_fatal(tmp_path):
    notebook = new_notebook(cells=[new_code_cell("raise RuntimeError('broken lesson')")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, tmp_path / "02-broken.ipynb")
    results = {"generator": {"generate_and_load_s": 1.0, "raw_executemany_s": 1.0, "rows": 1, "ratio": 1.0},
               "add_column": {"large_s": 1.0, "small_s": 1.0, "large_rows": 2, "small_rows": 1, "ratio": 1.0},
               "backfill": {"single_rows_per_s": 1.0, "batched_rows_per_s": 1.0, "rows": 1, "batch": 1},
               "stepper": [], "make_test": {}, "notebooks_s": bench_notebooks(runs=1, folder=tmp_path)}
    assert results["notebooks_s"] == {"02-broken.ipynb": "failed: CellExecutionError"}
    assert re.search(r"notebook 02-broken\.ipynb +failed: CellExecutionError", table(results))
