"""The one prediction path: articles in, labelled sentences out.

`factsep label`, the evaluation harness and the benchmark all go through `Labeller`,
so the metrics reported are the metrics of what users run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import torch

from .backends import (
    ONNX_INT8_FILE,
    PRECISIONS,
    Backend,
    OnnxInt8Backend,
    TorchBackend,
    bf16_supported,
)
from .directory import LoadedModel, load_model
from .labels import LABELS
from .segment import Span, segment
from .windows import INFERENCE_PAD_MULTIPLE, build_windows, collate, token_batches

INFERENCE_FILE = "inference.json"


@dataclass(frozen=True)
class Article:
    """An article to label: an identifier and its text."""

    doc_id: str
    text: str


@dataclass(frozen=True)
class LabelledSentence:
    """One sentence with its label, the label's probability and all three probabilities."""

    start: int
    end: int
    text: str
    label: str
    score: float
    probs: tuple[float, ...]  # in LABELS order

    def prob(self, label: str) -> float:
        return self.probs[LABELS.index(label)]

    def probs_dict(self) -> dict[str, float]:
        return dict(zip(LABELS, self.probs, strict=True))


@dataclass(frozen=True)
class LabelledArticle:
    doc_id: str
    text: str
    sentences: tuple[LabelledSentence, ...]

    def share(self, label: str) -> float:
        """Fraction of this article's sentences with `label` (0 for an empty article)."""
        if not self.sentences:
            return 0.0
        return sum(s.label == label for s in self.sentences) / len(self.sentences)


class Labeller:
    """A loaded model ready to label text; load it once, label many articles."""

    def __init__(
        self, model: LoadedModel, backend: Backend | None = None, batch_tokens: int = 4096
    ) -> None:
        if batch_tokens < model.settings.max_length:
            raise ValueError(f"batch_tokens must be at least {model.settings.max_length}")
        self.model = model
        self.backend = backend or TorchBackend(model.tagger, "fp32")
        self.batch_tokens = batch_tokens

    @classmethod
    def from_directory(
        cls,
        directory: str | Path,
        precision: str = "auto",
        threads: int | None = None,
        batch_tokens: int = 4096,
    ) -> Labeller:
        """Load a model directory and choose its inference path (`auto`: the model's default)."""
        if threads is not None:
            torch.set_num_threads(threads)
        model = load_model(directory)
        chosen = default_precision(Path(directory)) if precision == "auto" else precision
        return cls(model, make_backend(model, chosen, threads), batch_tokens)

    @property
    def precision(self) -> str:
        return self.backend.precision

    def predict_spans(self, items: Sequence[tuple[str, Sequence[Span]]]) -> list[np.ndarray]:
        """Probabilities (n_sentences x 3) for given spans of given texts, in context."""
        sentences = [[text[start:end] for start, end in spans] for text, spans in items]
        settings = self.model.settings
        windows = build_windows(
            self.model.tokenizer, sentences, settings.max_length, settings.context
        )
        probs = [np.zeros((len(spans), len(LABELS)), dtype=np.float32) for _, spans in items]
        pad_id = self.model.tokenizer.pad_token_id or 0
        for group in token_batches(windows, self.batch_tokens):
            batch = collate(group, pad_id, INFERENCE_PAD_MULTIPLE)
            batch_probs = torch.softmax(self.backend(batch), dim=-1).numpy()
            for row, (article_index, sentence_index) in enumerate(batch.sentence_keys):
                probs[article_index][sentence_index] = batch_probs[row]
        return probs

    def label(self, text: str, doc_id: str = "") -> LabelledArticle:
        """Segment and label one article."""
        return next(self.label_many([Article(doc_id, text)]))

    def label_many(
        self, articles: Iterable[Article], chunk_size: int = 64
    ) -> Iterator[LabelledArticle]:
        """Label articles lazily, `chunk_size` at a time: memory does not grow with the input."""
        iterator = iter(articles)
        while chunk := list(islice(iterator, chunk_size)):
            spans = [segment(article.text) for article in chunk]
            probs = self.predict_spans(
                [(article.text, s) for article, s in zip(chunk, spans, strict=True)]
            )
            for article, article_spans, article_probs in zip(chunk, spans, probs, strict=True):
                yield _labelled(article, article_spans, article_probs)


def _labelled(article: Article, spans: Sequence[Span], probs: np.ndarray) -> LabelledArticle:
    sentences = []
    for (start, end), row in zip(spans, probs, strict=True):
        best = int(row.argmax())
        sentences.append(
            LabelledSentence(
                start=start,
                end=end,
                text=article.text[start:end],
                label=LABELS[best],
                score=float(row[best]),
                probs=tuple(float(p) for p in row),
            )
        )
    return LabelledArticle(article.doc_id, article.text, tuple(sentences))


def make_backend(model: LoadedModel, precision: str, threads: int | None = None) -> Backend:
    """The inference path for `precision` (fp32, bf16 or int8)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be auto or one of {PRECISIONS}, not {precision!r}")
    if precision == "int8":
        if model.path is None:
            raise ValueError("the int8 path needs a saved model directory")
        return OnnxInt8Backend(model.tagger, model.path / ONNX_INT8_FILE, threads)
    return TorchBackend(model.tagger, precision)


def default_precision(directory: Path) -> str:
    """The path the model directory recommends (chosen by `factsep bench`), else fp32."""
    path = directory / INFERENCE_FILE
    try:
        choice = json.loads(path.read_text(encoding="utf-8")).get("default_precision", "fp32")
    except (OSError, ValueError, AttributeError):
        return "fp32"  # no (readable) recommendation: the reference path
    if choice not in PRECISIONS:
        return "fp32"
    if choice == "int8" and not (directory / ONNX_INT8_FILE).is_file():
        return "fp32"
    if choice == "bf16":
        return "bf16" if bf16_supported() else "fp32"
    return choice
