"""Which sentences to annotate first: the ones the model is least sure of, spread out.

Uncertainty is the margin between the two most probable labels (small margin: the model
hesitates between two labels). Picking goes round the articles: each round takes every
article's next least sure sentence, least sure first, until `n` are chosen, so one
confusing article cannot fill the whole list. The list comes out least sure first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import TextIO

from factsep.model.inputs import InputOptions, InputProblem, read_inputs
from factsep.model.predict import Article, LabelledArticle, LabelledSentence, Labeller


@dataclass(frozen=True)
class Suggestion:
    """A sentence worth a human label, with what the model thought of it."""

    doc_id: str
    sentence_id: int
    start: int
    end: int
    text: str
    label: str
    score: float
    margin: float
    probs: dict[str, float]


def margin(sentence: LabelledSentence) -> float:
    """Top probability minus the runner-up: 0 means a toss-up between two labels."""
    first, second = sorted(sentence.probs, reverse=True)[:2]
    return float(first - second)


def suggest(articles: Iterable[LabelledArticle], n: int) -> list[Suggestion]:
    """The `n` sentences to annotate first, spread across articles, least sure first."""
    if n < 1:
        raise ValueError(f"-n must be at least 1, not {n}")
    queues = [
        sorted(
            (_suggestion(article, number, s) for number, s in enumerate(article.sentences)),
            key=lambda item: (item.margin, item.sentence_id),
        )
        for article in articles
    ]
    chosen: list[Suggestion] = []
    depth = 0
    while len(chosen) < n and any(depth < len(queue) for queue in queues):
        round_ = sorted(
            (queue[depth] for queue in queues if depth < len(queue)),
            key=lambda item: item.margin,
        )
        chosen.extend(round_[: n - len(chosen)])
        depth += 1
    return sorted(chosen, key=lambda item: item.margin)


def write_suggestions(suggestions: list[Suggestion], stream: TextIO, fmt: str) -> None:
    """`jsonl`: one row per sentence; `table`: margin, label, article and text per line."""
    for item in suggestions:
        if fmt == "jsonl":
            row = asdict(item)
            row.update(score=round(item.score, 4), margin=round(item.margin, 4))
            row["probs"] = {label: round(p, 4) for label, p in item.probs.items()}
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            text = " ".join(item.text.split())
            where = f"{item.doc_id}#{item.sentence_id}"
            stream.write(f"{item.margin:.3f}  {item.label:<8} {where:<24} {text}\n")


def _suggestion(article: LabelledArticle, number: int, s: LabelledSentence) -> Suggestion:
    return Suggestion(
        doc_id=article.doc_id,
        sentence_id=number,
        start=s.start,
        end=s.end,
        text=s.text,
        label=s.label,
        score=s.score,
        margin=margin(s),
        probs=s.probs_dict(),
    )


def label_sources(
    labeller: Labeller,
    sources: Sequence[str],
    options: InputOptions,
    problems: list[InputProblem],
    log: Callable[[str], None],
) -> Iterator[LabelledArticle]:
    """Label what `factsep label` would read from `sources`; bad inputs go to `problems`."""

    def articles() -> Iterator[Article]:
        for item in read_inputs(sources, options):
            if isinstance(item, Article):
                yield item
            else:
                problems.append(item)
                log(f"error: {item}")

    return labeller.label_many(articles())
