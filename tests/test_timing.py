import itertools
import time

import pytest

from coursekit.timing import fastest_of, fastest_of_each, seconds


def test_seconds_times_the_call_with_its_arguments():
    calls = []
    took = seconds(lambda pause, label: calls.append(label) or time.sleep(pause), 0.02, "slept")
    assert calls == ["slept"]
    assert 0.02 <= took < 1


def test_fastest_of_keeps_the_least_disturbed_run():
    pauses = iter([0.3, 0.01, 0.3])
    calls = []
    took = fastest_of(3, lambda: calls.append(1) or time.sleep(next(pauses)))
    assert len(calls) == 3
    assert 0.01 <= took < 0.2


def test_fastest_of_each_keeps_each_steps_fastest_run_and_passes_the_arguments():
    runs = itertools.count()
    results = [{"add": 3.0, "backfill": 1.0}, {"add": 1.0, "backfill": 2.0}, {"add": 2.0, "backfill": 3.0}]

    def measure(size):
        assert size == 1_000
        return results[next(runs)]

    assert fastest_of_each(3, measure, 1_000) == {"add": 1.0, "backfill": 1.0}
    assert next(runs) == 3


@pytest.mark.parametrize("timer", [lambda runs: fastest_of(runs, int), lambda runs: fastest_of_each(runs, dict)])
def test_no_runs_is_refused_rather_than_a_time_of_nothing(timer):
    with pytest.raises(ValueError, match="runs must be 1 or more, not 0"):
        timer(0)
