"""The micro-batching worker: shared batches, results by position, a bounded queue."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

import pytest

from factsep.model.batching import BatchingWorker, QueueFull, WorkerStopped
from factsep.model.predict import Article, LabelledArticle


class RecordingLabeller:
    """Labels nothing for real: records each call and its thread; can hold the first call."""

    def __init__(self, hold_first: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.threads: list[str] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold_first:
            self.release.set()

    def label_many(
        self, articles: Iterable[Article], chunk_tokens: int | None = None
    ) -> Iterator[LabelledArticle]:
        articles = list(articles)
        self.calls.append([a.text for a in articles])
        self.threads.append(threading.current_thread().name)
        self.entered.set()
        assert self.release.wait(10)
        self.release.set()
        for article in articles:
            if article.text == "boom":
                raise ValueError("cannot label boom")
            yield LabelledArticle(article.doc_id, article.text.upper(), ())


def test_waiting_requests_share_one_batch_and_get_their_own_results():
    labeller = RecordingLabeller(hold_first=True)
    worker = BatchingWorker(labeller, max_queue=8, max_wait=0.0).start()
    try:
        first = worker.submit([Article("x", "first")])
        assert labeller.entered.wait(10)
        # Same ids in different requests: results must still go back by position.
        waiting = [
            worker.submit([Article("x", f"r{i}a"), Article("x", f"r{i}b")]) for i in range(3)
        ]
        labeller.release.set()
        assert [a.text for a in first.result(10)] == ["FIRST"]
        for i, future in enumerate(waiting):
            assert [a.text for a in future.result(10)] == [f"R{i}A", f"R{i}B"]
    finally:
        worker.stop(10)
    assert labeller.calls == [["first"], ["r0a", "r0b", "r1a", "r1b", "r2a", "r2b"]]
    assert set(labeller.threads) == {"factsep-labeller"}


def test_full_queue_refuses_at_once():
    labeller = RecordingLabeller(hold_first=True)
    worker = BatchingWorker(labeller, max_queue=1, max_wait=0.0).start()
    try:
        running = worker.submit([Article("a", "one")])
        assert labeller.entered.wait(10)
        queued = worker.submit([Article("b", "two")])
        with pytest.raises(QueueFull, match="1 requests already waiting"):
            worker.submit([Article("c", "three")])
        labeller.release.set()
        assert running.result(10)[0].text == "ONE"
        assert queued.result(10)[0].text == "TWO"
    finally:
        worker.stop(10)


def test_a_failing_batch_fails_its_requests_and_the_worker_goes_on():
    labeller = RecordingLabeller(hold_first=True)
    worker = BatchingWorker(labeller, max_queue=4, max_wait=0.0).start()
    try:
        blocker = worker.submit([Article("a", "fine")])
        assert labeller.entered.wait(10)
        bad = worker.submit([Article("b", "boom")])
        labeller.release.set()
        blocker.result(10)
        with pytest.raises(ValueError, match="cannot label boom"):
            bad.result(10)
        assert worker.submit([Article("c", "after")]).result(10)[0].text == "AFTER"
    finally:
        worker.stop(10)


def test_stop_fails_the_requests_still_queued():
    labeller = RecordingLabeller(hold_first=True)
    worker = BatchingWorker(labeller, max_queue=4, max_wait=0.0).start()
    running = worker.submit([Article("a", "one")])
    assert labeller.entered.wait(10)
    queued = worker.submit([Article("b", "two")])
    stopper = threading.Thread(target=worker.stop, args=(10,))
    stopper.start()
    labeller.release.set()
    stopper.join(10)
    assert running.result(10)[0].text == "ONE"
    with pytest.raises(WorkerStopped):
        queued.result(10)
    with pytest.raises(WorkerStopped):
        worker.submit([Article("c", "late")])


def test_large_requests_are_labelled_in_one_call_in_order():
    seen_counts = []

    class ChunkRecorder(RecordingLabeller):
        def label_many(self, articles, chunk_tokens=None):
            articles = list(articles)
            seen_counts.append(len(articles))
            return super().label_many(articles, chunk_tokens)

    worker = BatchingWorker(ChunkRecorder(), max_batch_articles=4).start()
    try:
        result = worker.submit([Article(str(i), f"t{i}") for i in range(10)]).result(10)
    finally:
        worker.stop(10)
    assert [a.text for a in result] == [f"T{i}" for i in range(10)]
    assert seen_counts == [10]
