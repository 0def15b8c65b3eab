"""ordered_map: input order, real concurrency, bounded look-ahead, errors where they belong."""

import threading

import pytest

from factsep.model.concurrency import ordered_map


def test_results_come_back_in_input_order():
    import time

    def slow_for_small(n):
        time.sleep(0.001 * (10 - n))
        return n * n

    assert list(ordered_map(slow_for_small, range(10), 3)) == [(n, n * n) for n in range(10)]


def test_two_workers_run_two_calls_at_once():
    both_inside = threading.Barrier(2, timeout=10)  # broken if the calls never overlap

    def meet(n):
        both_inside.wait()
        return n

    assert [n for n, _ in ordered_map(meet, range(4), 2)] == [0, 1, 2, 3]


def test_items_are_drawn_lazily():
    drawn = []

    def items():
        for n in range(1000):
            drawn.append(n)
            yield n

    stream = ordered_map(lambda n: n, items(), 2)
    assert next(stream) == (0, 0)
    assert len(drawn) <= 4  # two queued or running per worker
    stream.close()
    assert len(drawn) <= 4
    assert not [t for t in threading.enumerate() if t.name.startswith("factsep-encoder")]


def test_an_error_from_the_items_stops_the_map():
    def items():
        yield 1
        raise OSError("unreadable")

    with pytest.raises(OSError, match="unreadable"):
        list(ordered_map(lambda n: n, items(), 2))
    assert not [t for t in threading.enumerate() if t.name.startswith("factsep-encoder")]


@pytest.mark.parametrize("workers", [1, 2])
def test_an_error_is_raised_at_its_item(workers):
    def fail_on_three(n):
        if n == 3:
            raise ValueError("three")
        return n

    seen = []
    with pytest.raises(ValueError, match="three"):
        for n, _ in ordered_map(fail_on_three, range(10), workers):
            seen.append(n)
    assert seen == [0, 1, 2]
