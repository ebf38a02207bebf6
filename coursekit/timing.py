"""Timing a piece of work the way the lessons report it (lessons 07 and 14).

A single timing on a shared machine includes whatever else the machine did meanwhile: another program, a garbage
collection, the scheduler. Such disturbances only ever add time, so the fastest of a few runs is the best estimate
of the work itself; Python's ``timeit`` recommends the minimum for the same reason. The lessons show their timings
in cells whose output the tests do not compare, and assert their conclusions as ratios in the next cell.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping


def seconds(action: Callable, *arguments) -> float:
    """How long one call ``action(*arguments)`` took, in seconds (``time.perf_counter``, a monotonic clock)."""
    started = time.perf_counter()
    action(*arguments)
    return time.perf_counter() - started


def fastest_of(runs: int, action: Callable, *arguments) -> float:
    """The shortest of ``runs`` timed calls ``action(*arguments)``: the least disturbed by the rest of the machine."""
    if runs < 1:
        raise ValueError(f"runs must be 1 or more, not {runs!r}")
    return min(seconds(action, *arguments) for _ in range(runs))


def fastest_of_each(runs: int, measure: Callable[..., Mapping[str, float]], *arguments) -> dict[str, float]:
    """For a ``measure`` that times several steps itself (``{name: seconds}``): each step's fastest of ``runs`` calls.

    Each call starts afresh (``measure`` builds its own table, say), so one run's disturbance affects only that run.
    """
    if runs < 1:
        raise ValueError(f"runs must be 1 or more, not {runs!r}")
    results = [measure(*arguments) for _ in range(runs)]
    return {name: min(result[name] for result in results) for name in results[0]}
