"""Micro-batching: requests that arrive together share encoder batches.

A `BatchingWorker` owns one thread that runs the model; callers (a web server's event
loop, say) hand it articles with `submit` and get a `concurrent.futures.Future` back at
once. The worker takes the first waiting request, waits a few milliseconds for more to
arrive, then labels all their articles in one `Labeller.label_many` call, so their
sentences are packed into the same encoder batches. Results are handed back by position,
never by article id, so two requests that use the same ids cannot receive each other's rows.

The queue is bounded: when it is full `submit` raises `QueueFull` at once instead of
letting waiting work (and memory) grow without limit.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

from .predict import Article, LabelledArticle


class ArticleLabeller(Protocol):
    """What the worker needs from `Labeller`."""

    def label_many(self, articles: Iterable[Article]) -> Iterator[LabelledArticle]: ...


class QueueFull(RuntimeError):
    """The worker's queue is full: try again later."""


class WorkerStopped(RuntimeError):
    """The worker was stopped before it could label the request."""


@dataclass
class _Job:
    articles: Sequence[Article]
    future: Future[list[LabelledArticle]] = field(default_factory=Future)


class BatchingWorker:
    """One thread that labels queued requests in shared batches.

    `max_queue` bounds the requests waiting (not counting the batch being labelled);
    `max_wait` is how long the worker waits for more requests after the first one;
    `max_batch_articles` caps the articles gathered into one batch and the chunk size given
    to `label_many` (a request larger than that is labelled in several chunks).
    """

    def __init__(
        self,
        labeller: ArticleLabeller,
        max_queue: int = 64,
        max_wait: float = 0.005,
        max_batch_articles: int = 64,
    ) -> None:
        if max_queue < 1 or max_batch_articles < 1 or max_wait < 0:
            raise ValueError("max_queue and max_batch_articles must be >= 1, max_wait >= 0")
        self.labeller = labeller
        self.max_wait = max_wait
        self.max_batch_articles = max_batch_articles
        self._queue: queue.Queue[_Job] = queue.Queue(maxsize=max_queue)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="factsep-labeller", daemon=True)
        self.batches = 0  # label_many calls made; read by health checks and tests

    def start(self) -> BatchingWorker:
        self._thread.start()
        return self

    def queued(self) -> int:
        """Requests waiting for the worker (approximate, as any queue size)."""
        return self._queue.qsize()

    def submit(self, articles: Sequence[Article]) -> Future[list[LabelledArticle]]:
        """Queue articles for labelling; the future holds their results in the same order."""
        if self._stopping.is_set():
            raise WorkerStopped("the labelling worker is shutting down")
        job = _Job(list(articles))
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise QueueFull(f"{self._queue.maxsize} requests already waiting") from None
        return job.future

    def stop(self, timeout: float | None = None) -> None:
        """Finish the batch in progress, fail the requests still queued, end the thread."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            job.future.set_exception(WorkerStopped("the labelling worker was stopped"))

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                first = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            self._label(self._gather(first))

    def _gather(self, first: _Job) -> list[_Job]:
        """The first job and whatever joins it within `max_wait`, up to the article cap."""
        jobs = [first]
        count = len(first.articles)
        deadline = time.monotonic() + self.max_wait
        while count < self.max_batch_articles:
            try:
                job = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            jobs.append(job)
            count += len(job.articles)
        return jobs

    def _label(self, jobs: list[_Job]) -> None:
        live = [job for job in jobs if job.future.set_running_or_notify_cancel()]
        articles = [article for job in live for article in job.articles]
        self.batches += 1
        try:
            # label_many batches by tokens across these articles (memory stays bounded)
            results = list(self.labeller.label_many(articles))
            if len(results) != len(articles):
                raise RuntimeError(f"labelled {len(results)} of {len(articles)} articles")
        except Exception as error:  # hand the failure to every caller; the worker goes on
            for job in live:
                job.future.set_exception(error)
            return
        position = 0
        for job in live:
            job.future.set_result(results[position : position + len(job.articles)])
            position += len(job.articles)
