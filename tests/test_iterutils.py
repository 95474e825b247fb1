"""kocr.iterutils: lazy chunks and an ordered, bounded, cancellable parallel map."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from kocr.iterutils import chunked, ordered_map


def test_chunked_reads_lazily_and_keeps_the_short_tail() -> None:
    assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 3)) == []


def test_ordered_map_keeps_order_and_bounds_what_it_reads_ahead() -> None:
    pulled: list[int] = []

    def items():
        for i in range(100):
            pulled.append(i)
            yield i

    def slow_square(i: int) -> int:
        time.sleep(0.002 * (i % 3))  # finishing out of order
        return i * i

    results = ordered_map(ThreadPoolExecutor(4), slow_square, items(), read_ahead=5)
    assert next(results) == 0
    assert len(pulled) == 5  # not the whole input, as Executor.map would read
    assert list(results) == [i * i for i in range(1, 100)]


def test_ordered_map_cancels_pending_calls_when_the_consumer_stops() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def work(i: int) -> int:
        with lock:
            started.append(i)
        time.sleep(0.01)
        return i

    results = ordered_map(ThreadPoolExecutor(1), work, range(1000), read_ahead=50)
    assert next(results) == 0
    results.close()  # what Ctrl-C or an error in the consumer does to the generator
    assert len(started) < 10  # the 49 queued calls were cancelled, not run to the end
