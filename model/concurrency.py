"""Run a function over a stream on several threads, results in input order."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def ordered_map(
    function: Callable[[Item], Result], items: Iterable[Item], workers: int
) -> Iterator[tuple[Item, Result]]:
    """Each item with `function(item)`, in input order, computed by up to `workers` threads.

    Items are drawn lazily and at most two per worker are queued or running, so memory does
    not grow with the input. With one worker `function` runs in the caller's thread; with
    more, on pool threads, which is worth it only where `function` releases the GIL
    (onnxruntime does). An exception from `function` is raised when its item's turn comes;
    one from `items` as soon as it is drawn. Either way, and when the caller closes the
    generator, queued calls are cancelled and running ones finish before it returns.
    """
    if workers <= 1:
        for item in items:
            yield item, function(item)
        return
    in_flight: deque[tuple[Item, Future[Result]]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="factsep-encoder") as pool:
        try:
            for item in items:
                in_flight.append((item, pool.submit(function, item)))
                if len(in_flight) >= 2 * workers:
                    done, future = in_flight.popleft()
                    yield done, future.result()
            while in_flight:
                done, future = in_flight.popleft()
                yield done, future.result()
        finally:
            for _, future in in_flight:
                future.cancel()
