"""The one prediction path: articles in, labelled sentences out.

`factsep label`, the evaluation harness and the benchmark all go through `Labeller`,
so the metrics reported are the metrics of what users run. Importing this module costs
no torch or transformers: the PyTorch paths import them when they are loaded, and the
int8 path never does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .backends import ONNX_INT8_FILE, Backend, OnnxInt8Backend, native_bf16
from .concurrency import ordered_map
from .labels import LABELS
from .model_config import (
    MAX_WINDOW_TOKENS,
    NotAModelError,
    TaggerSettings,
    read_config,
    tagger_settings,
)
from .precisions import PRECISIONS
from .segment import Span, segment
from .tokenizer import WindowTokenizer, as_window_tokenizer
from .windows import (
    INFERENCE_PAD_MULTIPLE,
    Batch,
    Window,
    build_windows,
    collate,
    token_batches,
)

if TYPE_CHECKING:
    from .directory import LoadedModel

INFERENCE_FILE = "inference.json"
CHARS_PER_TOKEN = 4  # English text, WordPiece: a cheap token estimate before tokenising
CHUNK_BATCHES = 16  # label_many works on about this many full batches at a time


@dataclass(frozen=True)
class Article:
    """An article to label: an identifier and its text."""

    doc_id: str
    text: str


@dataclass(frozen=True)
class LabelledSentence:
    """One sentence with its label, the label's probability and all three probabilities.

    `truncated` is True when the sentence was longer than an encoder window: it was
    labelled from its first window's worth of tokens.
    """

    start: int
    end: int
    text: str
    label: str
    score: float
    probs: tuple[float, ...]  # in LABELS order
    truncated: bool = False

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


@dataclass(frozen=True)
class SpanPredictions:
    """Probabilities (n_sentences x 3) of an article's spans and which spans were cut."""

    probs: np.ndarray
    truncated: np.ndarray


class Labeller:
    """A loaded model ready to label text; load it once, label many articles.

    Built from a `LoadedModel` (the PyTorch paths, and training), or, for the torch-free
    int8 path, from a tokenizer, the model's settings and a backend.
    """

    def __init__(
        self,
        model: LoadedModel | None = None,
        backend: Backend | None = None,
        batch_tokens: int = 4096,
        *,
        tokenizer: WindowTokenizer | None = None,
        settings: TaggerSettings | None = None,
        window_tokens: int | None = None,
    ) -> None:
        if model is not None:
            from .backends import TorchBackend

            backend = backend or TorchBackend(model.tagger, "fp32")
            tokenizer = tokenizer or as_window_tokenizer(model.tokenizer)
            settings = model.settings
        if backend is None or tokenizer is None or settings is None:
            raise ValueError("a Labeller needs a model, or a backend, tokenizer and settings")
        self.window_tokens = window_tokens or settings.max_length
        if not 16 <= self.window_tokens <= MAX_WINDOW_TOKENS:
            raise ValueError(f"window_tokens must be between 16 and {MAX_WINDOW_TOKENS}")
        if batch_tokens < self.window_tokens:
            raise ValueError(f"batch_tokens must be at least {self.window_tokens}")
        self.model = model
        self.backend = backend
        self.tokenizer = tokenizer
        self.settings = settings
        self.batch_tokens = batch_tokens

    @classmethod
    def from_directory(
        cls,
        directory: str | Path,
        precision: str = "auto",
        threads: int | None = None,
        batch_tokens: int = 4096,
        window_tokens: int | None = None,
    ) -> Labeller:
        """Load a model directory and choose its inference path (`auto`: see default_precision).

        The int8 path loads without importing torch or transformers. `window_tokens`
        (default: the directory's `inference.json`, else the training length) sets the
        encoder window length.
        """
        directory = Path(directory)
        settings = tagger_settings(read_config(directory), directory)
        chosen = default_precision(directory) if precision == "auto" else precision
        if chosen not in PRECISIONS:
            raise ValueError(f"precision must be auto or one of {PRECISIONS}, not {chosen!r}")
        window_tokens = window_tokens or recorded_window_tokens(directory)
        tokenizer = WindowTokenizer.from_directory(directory)
        if chosen == "int8":
            backend = OnnxInt8Backend.from_directory(directory, threads)
            return cls(None, backend, batch_tokens, tokenizer=tokenizer, settings=settings,
                       window_tokens=window_tokens)
        import torch

        from .directory import load_model

        if threads is not None:
            torch.set_num_threads(threads)
        model = load_model(directory)
        return cls(model, make_backend(model, chosen, threads), batch_tokens,
                   tokenizer=tokenizer, window_tokens=window_tokens)

    @property
    def precision(self) -> str:
        return self.backend.precision

    def predict_spans(self, items: Sequence[tuple[str, Sequence[Span]]]) -> list[np.ndarray]:
        """Probabilities (n_sentences x 3) for given spans of given texts, in context."""
        return [prediction.probs for prediction in self.predict_spans_detailed(items)]

    def predict_spans_detailed(
        self, items: Sequence[tuple[str, Sequence[Span]]]
    ) -> list[SpanPredictions]:
        """Probabilities and truncation flags for given spans of given texts, in context."""
        out = [
            SpanPredictions(
                np.zeros((len(spans), len(LABELS)), dtype=np.float32),
                np.zeros(len(spans), dtype=bool),
            )
            for _, spans in items
        ]
        planned = self.plan_batches(items)
        calls = ordered_map(
            lambda plan: self.backend(plan[1]), planned, self.backend.concurrent_calls
        )
        with closing(calls) as done:
            for (windows, batch), batch_logits in done:
                batch_probs = softmax(batch_logits)
                for row, (article_index, sentence_index) in enumerate(batch.sentence_keys):
                    out[article_index].probs[sentence_index] = batch_probs[row]
                for window in windows:
                    for (article_index, sentence_index), cut in zip(
                        window.sentence_keys, window.truncated, strict=True
                    ):
                        out[article_index].truncated[sentence_index] = cut
        return out

    def plan_batches(
        self, items: Sequence[tuple[str, Sequence[Span]]]
    ) -> Iterator[tuple[list[Window], Batch]]:
        """The encoder batches for given spans of given texts, built lazily.

        Windows are batched by padded tokens across all the texts given. Windows share a
        batch only when they pad to the same width, and a backend that cannot batch
        without changing results (int8) gets every window alone and unpadded, so no
        window's result depends on which other windows it was labelled with.
        """
        sentences = [[text[start:end] for start, end in spans] for text, spans in items]
        windows = build_windows(
            self.tokenizer, sentences, self.window_tokens, self.settings.context
        )
        alone = self.backend.max_batch_windows == 1
        pad_multiple = 1 if alone else INFERENCE_PAD_MULTIPLE
        groups = token_batches(
            windows, self.batch_tokens, None if alone else pad_multiple,
            self.backend.max_batch_windows,
        )
        for group in groups:
            yield group, collate(group, self.tokenizer.pad_id, pad_multiple)

    def label(self, text: str, doc_id: str = "") -> LabelledArticle:
        """Segment and label one article."""
        return next(self.label_many([Article(doc_id, text)]))

    def label_many(
        self, articles: Iterable[Article], chunk_tokens: int | None = None
    ) -> Iterator[LabelledArticle]:
        """Label articles lazily, in order: memory does not grow with the input.

        Articles are gathered until their text holds about `chunk_tokens` tokens (default:
        16 full batches), whatever their number, and batched by tokens across articles,
        so one-sentence records fill batches as well as long articles do.
        """
        for chunk in article_chunks(articles, chunk_tokens or CHUNK_BATCHES * self.batch_tokens):
            yield from self._label_chunk(chunk)

    def _label_chunk(self, chunk: Sequence[Article]) -> Iterator[LabelledArticle]:
        spans = [segment(article.text) for article in chunk]
        predictions = self.predict_spans_detailed(
            [(article.text, s) for article, s in zip(chunk, spans, strict=True)]
        )
        for article, article_spans, prediction in zip(chunk, spans, predictions, strict=True):
            yield _labelled(article, article_spans, prediction)


def article_chunks(articles: Iterable[Article], chunk_tokens: int) -> Iterator[list[Article]]:
    """Consecutive articles, grouped until their text holds about `chunk_tokens` tokens."""
    budget_chars = chunk_tokens * CHARS_PER_TOKEN
    chunk: list[Article] = []
    chars = 0
    for article in articles:
        chunk.append(article)
        chars += len(article.text)
        if chars >= budget_chars:
            yield chunk
            chunk, chars = [], 0
    if chunk:
        yield chunk


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _labelled(
    article: Article, spans: Sequence[Span], prediction: SpanPredictions
) -> LabelledArticle:
    sentences = []
    for (start, end), row, cut in zip(spans, prediction.probs, prediction.truncated,
                                      strict=True):
        best = int(row.argmax())
        sentences.append(
            LabelledSentence(
                start=start,
                end=end,
                text=article.text[start:end],
                label=LABELS[best],
                score=float(row[best]),
                probs=tuple(float(p) for p in row),
                truncated=bool(cut),
            )
        )
    return LabelledArticle(article.doc_id, article.text, tuple(sentences))


def make_backend(model: LoadedModel, precision: str, threads: int | None = None) -> Backend:
    """The inference path for `precision` (fp32, bf16 or int8)."""
    from .backends import TorchBackend

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be auto or one of {PRECISIONS}, not {precision!r}")
    if precision == "int8":
        if model.path is None:
            raise ValueError("the int8 path needs a saved model directory")
        return OnnxInt8Backend.from_directory(model.path, threads)
    return TorchBackend(model.tagger, precision)


def _inference_record(directory: Path) -> dict[str, Any]:
    try:
        record = json.loads((directory / INFERENCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no (readable) record: the reference path and the training window
    return record if isinstance(record, dict) else {}


def default_precision(directory: Path) -> str:
    """The path `auto` runs: the model's recorded choice, adapted to this CPU.

    The record (`inference.json`, written at training time) names the fastest path within
    0.5 macro-F1 points of fp32 on the training machine. bf16 is only fast with native
    bf16 instructions; without them `auto` takes int8 when its recorded macro-F1 is within
    the same bound, else fp32. No record, or no int8 encoder for an int8 choice: fp32.
    """
    record = _inference_record(directory)
    choice = record.get("default_precision", "fp32")
    has_int8 = (directory / ONNX_INT8_FILE).is_file()
    if choice == "int8":
        return "int8" if has_int8 else "fp32"
    if choice == "bf16":
        if native_bf16():
            return "bf16"
        return "int8" if has_int8 and _int8_within_bound(record) else "fp32"
    return "fp32"


def _int8_within_bound(record: dict[str, Any]) -> bool:
    try:
        scores = {c["precision"]: float(c["macro_f1"]) for c in record["checks"]}
        return scores["int8"] >= scores["fp32"] - float(record["max_macro_f1_loss"])
    except (KeyError, TypeError, ValueError):
        return False


def recorded_window_tokens(directory: Path) -> int | None:
    """The window length `inference.json` sets for labelling (None: the training length)."""
    value = _inference_record(directory).get("window_tokens")
    if value is None:
        return None
    if not isinstance(value, int) or not 16 <= value <= MAX_WINDOW_TOKENS:
        raise NotAModelError(
            f"{directory / INFERENCE_FILE}: window_tokens must be an integer from 16 to "
            f"{MAX_WINDOW_TOKENS}, not {value!r}"
        )
    return value
