"""Timing that a shared, busy machine skews as little as possible: best-of and median timings, and
alternating rounds (every case once per round) so that whatever else runs slows every case alike."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
Item = TypeVar("Item")


def stopwatch(action: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> tuple[float, T]:
    """Wall seconds of one call ``action(*args, **kwargs)``, and what it returned."""
    start = time.perf_counter()
    result = action(*args, **kwargs)
    return time.perf_counter() - start, result


def best_of(action: Callable[[], T], repeats: int) -> tuple[float, T]:
    """The fastest of ``repeats`` timed calls (after one untimed warm-up call), and the last call's result."""
    result = action()
    times = []
    for _ in range(repeats):
        seconds, result = stopwatch(action)
        times.append(seconds)
    return min(times), result


def median_ms_per_item(
    function: Callable[[Item], object], items: Iterable[Item], repeats: int
) -> tuple[float, float]:
    """(CPU ms, wall ms) per item of ``function`` over ``items``, each the median over ``repeats`` passes.
    CPU time is this process's: other jobs on a shared machine do not inflate it."""
    items = list(items)
    cpu, wall = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for item in items:
            function(item)
        cpu.append((time.process_time() - start_cpu) / len(items) * 1000)
        wall.append((time.perf_counter() - start) / len(items) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def alternate(cases: Mapping[K, Callable[[], T]], rounds: int, *, progress: bool = False) -> dict[K, list[T]]:
    """Each case's measurements: every case called once per round, in order, for ``rounds`` rounds
    (``progress``: a line on stderr after each round, for runs that take minutes)."""
    results: dict[K, list[T]] = {key: [] for key in cases}
    for number in range(rounds):
        for key, case in cases.items():
            results[key].append(case())
        if progress:
            print(f"round {number + 1}/{rounds} done", file=sys.stderr)
    return results
