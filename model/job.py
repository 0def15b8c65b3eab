"""A batch labelling run: inputs in, one output written as it goes, a summary at the end."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm.auto import tqdm

from .inputs import InputOptions, InputProblem, read_inputs
from .labels import LABELS
from .language import ENGLISH, UNDETERMINED, detect_language
from .markdown import MarkdownArticle, restore_original
from .outputs import AtomicOutput, OutputError, Writer, make_writer
from .pieces import PartialArticle, label_in_groups
from .predict import Article, LabelledArticle, Labeller

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
    interrupted: bool = False
    not_english: int = 0

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
        if self.not_english:
            text += f"; {self.not_english} not in English"
        return text

    def note_language(self, doc_id: str, language: str, log: Log) -> None:
        """Count and report an article whose detected language is not English."""
        if language not in (ENGLISH, UNDETERMINED):
            self.not_english += 1
            log(f"warning: {doc_id}: the text looks like {language!r}, not English; "
                "the model reads English, so these labels mean little")


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
    formula_guard: bool = True,
) -> LabelSummary:
    """Label every article the sources name and write them to `output` (stdout if None).

    A bad input is reported and skipped; with `strict` it stops the run. Either way, and on
    Ctrl-C, the articles labelled so far are kept: the output is completed and committed.
    A run that labels nothing leaves no output file. The output is never one of the inputs,
    and is not read back as an input when it lies inside an input folder.
    """
    options = options or InputOptions()
    if output is not None:
        refuse_input_as_output(sources, output)
        options = replace(options, skip=(*options.skip, output.resolve()))
    summary = LabelSummary()
    sink = AtomicOutput(output, force)
    writer = make_writer(fmt, sink.stream, keep, formula_guard)
    started = time.perf_counter()
    progress = tqdm(desc="labelling", unit="char", unit_scale=True, file=sys.stderr,
                    disable=None)
    originals: dict[str, str] = {}

    def emit(labelled: LabelledArticle) -> None:
        labelled, language = as_written(labelled, originals)
        summary.note_language(labelled.doc_id, language, log)
        writer.write(labelled, language)
        summary.articles += 1
        summary.sentences += len(labelled.sentences)
        summary.labels.update(s.label for s in labelled.sentences)

    try:
        writer.begin()
        inputs = read_inputs(sources, options, warn=log)
        articles = remember_markdown(articles_only(inputs, summary, strict, log), originals)
        for labelled in label_in_groups(labeller, articles, progress.update):
            emit(labelled)
        writer.end()
    except KeyboardInterrupt as interruption:
        summary.stopped_early = summary.interrupted = True
        log("interrupted: keeping the articles labelled so far")
        if isinstance(interruption, PartialArticle):
            partial = interruption.labelled
            log(f"warning: {partial.doc_id}: interrupted after {interruption.labelled_chars} of "
                f"{len(partial.text)} characters; its first {len(partial.sentences)} sentences "
                "are kept")
            emit(partial)
        _finish_after_interrupt(writer, sink, summary)
        return _done(summary, started, progress)
    except OSError as error:  # a full disk, a closed pipe
        progress.close()
        sink.discard()
        reason = error.strerror or str(error)
        if output is None:
            raise OutputError(f"standard output: cannot write ({reason})") from None
        raise OutputError(f"{output}: cannot write ({reason}); no partial file is left") from None
    except BaseException:
        progress.close()
        sink.discard()
        raise
    if summary.articles == 0:
        sink.discard()
    else:
        sink.commit()
    return _done(summary, started, progress)


def _finish_after_interrupt(writer: Writer, sink: AtomicOutput, summary: LabelSummary) -> None:
    if summary.articles == 0:
        sink.discard()
        return
    try:
        writer.end()
        sink.commit()
    except OSError as error:
        sink.discard()
        raise OutputError(f"cannot write the output ({error.strerror or error})") from None


def _done(summary: LabelSummary, started: float, progress: tqdm) -> LabelSummary:
    progress.close()
    summary.seconds = time.perf_counter() - started
    return summary


def refuse_input_as_output(sources: Sequence[str], output: Path) -> None:
    """Raise OutputError if `output` is one of the input files (it would be replaced)."""
    if not output.exists():
        return
    for source in sources:
        if source != "-" and Path(source).is_file() and os.path.samefile(source, output):
            raise OutputError(f"{output}: is also an input; write the output somewhere else")


def remember_markdown(articles: Iterable[Article], originals: dict[str, str]) -> Iterator[Article]:
    """`articles` unchanged; each Markdown article's original text is kept in `originals`."""
    for article in articles:
        if isinstance(article, MarkdownArticle):
            originals[article.doc_id] = article.original
        yield article


def as_written(
    labelled: LabelledArticle, originals: dict[str, str]
) -> tuple[LabelledArticle, str]:
    """The article as the output shows it (a Markdown one over its original text, taken out
    of `originals`) and its detected language: the same step for every engine."""
    if labelled.doc_id in originals:
        labelled = restore_original(labelled, originals.pop(labelled.doc_id))
    return labelled, detect_language(labelled.text)


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
