"""Small iteration helpers shared across modules."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last may be shorter), reading ``items`` lazily."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def ordered_map(
    executor: Executor, function: Callable[[T], R], items: Iterable[T], *, read_ahead: int
) -> Iterator[R]:
    """``map(function, items)`` on ``executor``, in order, with at most ``read_ahead`` calls in flight.

    Unlike ``Executor.map`` it reads ``items`` lazily, and it shuts the executor down with pending
    calls cancelled when the consumer stops (Ctrl-C, an error), instead of finishing them all first.
    """
    in_flight: deque[Future[R]] = deque()
    try:
        for item in items:
            in_flight.append(executor.submit(function, item))
            if len(in_flight) >= read_ahead:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def one_ahead(function: Callable[[T], R], items: Iterable[T], *, name: str) -> Iterator[R]:
    """``map(function, items)`` in order, each call made in a worker thread (named ``name``) while the
    consumer works on the result before: the next batch's forward while this one decodes."""
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    return ordered_map(worker, function, items, read_ahead=2)
