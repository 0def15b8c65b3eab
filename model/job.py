"""A batch labelling run: inputs in, one output written as it goes, a summary at the end."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from .inputs import InputOptions, InputProblem, read_inputs
from .labels import LABELS
from .outputs import AtomicOutput, make_writer
from .predict import Article, Labeller

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass
class LabelSummary:
    articles: int = 0
    sentences: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    problems: list[InputProblem] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False

    def line(self) -> str:
        shares = ", ".join(
            f"{label} {self.labels[label] / max(self.sentences, 1):.0%}" for label in LABELS
        )
        rate = self.sentences / self.seconds if self.seconds > 0 else 0.0
        text = (
            f"labelled {self.articles} articles, {self.sentences} sentences ({shares}) "
            f"in {self.seconds:.1f} s, {rate:.0f} sentences/s"
        )
        if self.problems:
            text += f"; {len(self.problems)} input(s) skipped"
        return text


def label_inputs(
    labeller: Labeller,
    sources: Sequence[str],
    output: Path | None,
    fmt: str = "jsonl",
    keep: tuple[str, ...] = ("fact",),
    force: bool = False,
    strict: bool = False,
    options: InputOptions | None = None,
    log: Log = _stderr,
) -> LabelSummary:
    """Label every article the sources name and write them to `output` (stdout if None).

    A bad input is reported and skipped; with `strict` it stops the run. Either way, and on
    Ctrl-C, the articles labelled so far are kept: the output is completed and committed.
    """
    summary = LabelSummary()
    sink = AtomicOutput(output, force)
    writer = make_writer(fmt, sink.stream, keep)
    started = time.perf_counter()
    progress = tqdm(desc="labelling", unit="article", file=sys.stderr, disable=None)
    try:
        writer.begin()
        inputs = read_inputs(sources, options or InputOptions())
        articles = articles_only(inputs, summary, strict, log)
        for labelled in labeller.label_many(articles):
            writer.write(labelled)
            summary.articles += 1
            summary.sentences += len(labelled.sentences)
            summary.labels.update(s.label for s in labelled.sentences)
            progress.update(1)
    except KeyboardInterrupt:
        summary.stopped_early = True
        log("interrupted: keeping the articles labelled so far")
    except BaseException:
        progress.close()
        sink.discard()
        raise
    progress.close()
    writer.end()
    sink.commit()
    summary.seconds = time.perf_counter() - started
    return summary


def articles_only(
    items: Iterable[Article | InputProblem], summary: LabelSummary, strict: bool, log: Log
) -> Iterator[Article]:
    """The articles among `items`; each problem is logged and recorded (`strict`: stop there)."""
    for item in items:
        if isinstance(item, Article):
            yield item
            continue
        summary.problems.append(item)
        log(f"error: {item}")
        if strict:
            log("stopping (--strict); the articles read before it are labelled and kept")
            summary.stopped_early = True
            return
