"""The benchmark code runs (at small sizes) and writes its figures as JSON, so it cannot rot unnoticed."""

import json

from benchmarks.run import main


def test_quick_benchmark_prints_a_table_and_writes_json(tmp_path, capsys):
    output = tmp_path / "bench.json"
    results = main(["--quick", "--output", str(output)])
    assert json.loads(output.read_text()) == json.loads(json.dumps(results))
    printed = capsys.readouterr().out
    assert "generator + load vs raw executemany" in printed and "stepper click at 1,000 rows" in printed
    assert results["generator"]["ratio"] > 0 and results["stepper"][0]["clicks"] == 7
