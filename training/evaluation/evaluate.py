"""`factsep evaluate`: score models and baselines on a labelled set and write the reports.

Models are scored through `Labeller`, the same path `factsep label` uses: in gold mode
it classifies the gold spans in their article's context; in end-to-end mode it segments
and labels the raw text exactly as `factsep label` does, and each gold sentence takes the
predicted label covering most of its characters.

CheckThat! sentences are SUBJ when the model calls them opinion (in end-to-end mode: when
some predicted sentence inside them is opinion), OBJ otherwise: CheckThat! counts
first-person narration and background as objective. `checkthat_subj="opinion+filler"`
keeps the older mapping, where filler is SUBJ too.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from factsep.model.job import Log
from factsep.model.labels import LABELS
from factsep.model.predict import Article, Labeller

from ..data.dataset import DataError, read_articles, read_labelled
from ..model_card import file_sha256
from ..paths import baseline_cache_dir, split_path
from .baseline_cache import cached_baselines
from .baselines import MajorityBaseline, TfidfBaseline
from .metrics import boundary_scores, majority_labels, present_labels, summarise
from .report import REPORT_FILES, SystemResult, per_label_table, write_reports
from .scoring import ScoredSentence

CHECKTHAT_LABELS = ("OBJ", "SUBJ")
CHECKTHAT_SUBJ = {"opinion": ("opinion",), "opinion+filler": ("opinion", "filler")}
Span = tuple[int, int]


@dataclass(frozen=True)
class GoldSet:
    """Gold articles (text and spans) with one label per span, in some label space."""

    doc_ids: list[str]
    genres: list[str]
    texts: list[str]
    spans: list[list[Span]]
    gold: list[list[str]]
    labels: tuple[str, ...]

    @property
    def checkthat(self) -> bool:
        return self.labels == CHECKTHAT_LABELS


def load_gold(path: Path, data_format: str) -> GoldSet:
    """Read a labelled file in the dataset's article format or the CheckThat! TSV format."""
    if data_format == "checkthat":
        return _load_checkthat(path)
    articles = read_labelled(path)
    return GoldSet(
        doc_ids=[a["id"] for a in articles],
        genres=[a["genre"] for a in articles],
        texts=[a["text"] for a in articles],
        spans=[[(s["start"], s["end"]) for s in a["sentences"]] for a in articles],
        gold=[[s["label"] for s in a["sentences"]] for a in articles],
        labels=LABELS,
    )


def _load_checkthat(path: Path) -> GoldSet:
    """CheckThat! subjectivity TSV: one sentence per row, read with QUOTE_NONE."""
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            rows = list(csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE))
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read the CheckThat! file ({error})") from None
    if not rows or not {"sentence_id", "sentence", "label"} <= set(rows[0]):
        raise DataError(f"{path}: expected a TSV with sentence_id, sentence and label columns")
    gold = GoldSet([], [], [], [], [], CHECKTHAT_LABELS)
    for number, row in enumerate(rows, start=2):
        text = (row["sentence"] or "").strip()
        if row["label"] not in CHECKTHAT_LABELS or not text:
            raise DataError(f"{path}:{number}: needs a sentence and a label in {CHECKTHAT_LABELS}")
        gold.doc_ids.append(row["sentence_id"])
        gold.genres.append("checkthat")
        gold.texts.append(text)
        gold.spans.append([(0, len(text))])
        gold.gold.append([row["label"]])
    return gold


@dataclass(frozen=True)
class LabelMapping:
    """From fact/opinion/filler to the gold set's labels; identity unless CheckThat!."""

    subj: tuple[str, ...] | None = None  # the labels that make a sentence SUBJ

    @classmethod
    def for_gold(cls, gold: GoldSet, checkthat_subj: str = "opinion") -> LabelMapping:
        if not gold.checkthat:
            return cls()
        if checkthat_subj not in CHECKTHAT_SUBJ:
            raise ValueError(f"checkthat_subj must be one of {sorted(CHECKTHAT_SUBJ)}")
        return cls(CHECKTHAT_SUBJ[checkthat_subj])

    def label(self, label: str) -> str:
        if self.subj is None:
            return label
        return "SUBJ" if label in self.subj else "OBJ"

    def probs(self, probs: np.ndarray) -> np.ndarray:
        if self.subj is None:
            return probs
        subj = sum(probs[LABELS.index(label)] for label in self.subj)
        return np.array([1.0 - subj, subj])

    def describe(self) -> str:
        subj = ", ".join(self.subj or ())
        obj = ", ".join(label for label in LABELS if label not in (self.subj or ()))
        return f"CheckThat! mapping: {subj} → SUBJ; {obj} → OBJ."


def _scored(
    gold: GoldSet, probs: Sequence[np.ndarray], preds: Sequence[Sequence[str]] | None = None,
    mapping: LabelMapping | None = None,
) -> list[ScoredSentence]:
    """Scored gold sentences from fact/opinion/filler probabilities (and predicted labels,
    default: the most probable), mapped into the gold set's label space."""
    mapping = mapping or LabelMapping.for_gold(gold)
    out = []
    for a, article_probs in enumerate(probs):
        text, spans = gold.texts[a], gold.spans[a]
        sentences = [text[start:end] for start, end in spans]
        for i, row in enumerate(np.asarray(article_probs)):
            label = preds[a][i] if preds is not None else LABELS[int(row.argmax())]
            out.append(
                ScoredSentence(
                    doc_id=gold.doc_ids[a],
                    genre=gold.genres[a],
                    text=sentences[i],
                    before=sentences[i - 1] if i else "",
                    after=sentences[i + 1] if i + 1 < len(sentences) else "",
                    gold=gold.gold[a][i],
                    pred=mapping.label(label),
                    probs=tuple(float(p) for p in mapping.probs(row)),
                )
            )
    return out


def score_gold_mode(
    labeller: Labeller, gold: GoldSet, mapping: LabelMapping | None = None
) -> list[ScoredSentence]:
    """Classify the gold spans, each in its article's context."""
    probs = labeller.predict_spans(list(zip(gold.texts, gold.spans, strict=True)))
    return _scored(gold, probs, mapping=mapping)


def score_end_to_end(
    labeller: Labeller, gold: GoldSet, mapping: LabelMapping | None = None
) -> tuple[list[ScoredSentence], dict]:
    """Segment and label as `factsep label` does; score gold sentences by character majority.

    For CheckThat!, a gold sentence is SUBJ when any predicted sentence inside it is.
    """
    mapping = mapping or LabelMapping.for_gold(gold)
    articles = [Article(i, t) for i, t in zip(gold.doc_ids, gold.texts, strict=True)]
    predicted = list(labeller.label_many(articles))
    probs, preds = [], []
    for spans, labelled in zip(gold.spans, predicted, strict=True):
        if mapping.subj is not None:
            chosen = [_most_subjective(span, labelled.sentences, mapping) for span in spans]
            labels = [s.label for s in chosen]
            probs.append(np.stack([np.asarray(s.probs) for s in chosen]))
        else:
            pred_spans = [(s.start, s.end) for s in labelled.sentences]
            labels = majority_labels(spans, pred_spans, [s.label for s in labelled.sentences])
            probs.append(np.stack([_majority_probs(span, label, labelled.sentences)
                                   for span, label in zip(spans, labels, strict=True)]))
        preds.append(labels)
    boundaries = boundary_scores(
        gold.spans, [[(s.start, s.end) for s in a.sentences] for a in predicted]
    )
    return _scored(gold, probs, preds, mapping), boundaries


def _overlap(span: Span, sentence) -> int:  # noqa: ANN001 - a LabelledSentence
    return max(0, min(span[1], sentence.end) - max(span[0], sentence.start))


def _majority_probs(span: Span, label: str, sentences: Sequence) -> np.ndarray:
    """Probabilities of the predicted sentence with `label` that overlaps `span` the most."""
    best = max((s for s in sentences if s.label == label), key=lambda s: _overlap(span, s))
    return np.asarray(best.probs)


def _most_subjective(span: Span, sentences: Sequence, mapping: LabelMapping):  # noqa: ANN201
    """The predicted sentence inside `span` that is SUBJ (if any), the most probably so."""
    inside = [s for s in sentences if _overlap(span, s) > 0]
    if not inside:
        raise ValueError(f"gold span {span} overlaps no predicted sentence")
    return max(
        inside,
        key=lambda s: (mapping.label(s.label) == "SUBJ", mapping.probs(np.asarray(s.probs))[1]),
    )


def score_baseline(
    baseline: MajorityBaseline | TfidfBaseline, gold: GoldSet, mapping: LabelMapping | None = None
) -> list[ScoredSentence]:
    """Baselines classify each gold sentence on its own text."""
    texts = [[t[s:e] for s, e in spans] for t, spans in zip(gold.texts, gold.spans, strict=True)]
    flat = baseline.predict_proba([s for article in texts for s in article])
    probs, start = [], 0
    for article in texts:
        probs.append(flat[start : start + len(article)])
        start += len(article)
    return _scored(gold, probs, mapping=mapping)


def run_evaluation(
    data: Path,
    model_dir: Path,
    out_dir: Path,
    data_format: str = "articles",
    mode: str = "gold",
    compare: Sequence[Path] = (),
    precision: str = "auto",
    force: bool = False,
    log: Log = print,
    baseline_train: Path | None = None,
    checkthat_subj: str = "opinion",
    baseline_cache: Path | None = None,
    cache_baselines: bool = True,
) -> dict[str, float | str]:
    """Score the model, the compared models and the baselines; write and print the report.

    The baselines are fitted once per training file and kept in `baseline_cache` (default:
    `baseline_cache_dir()`); with `cache_baselines=False` they are fitted afresh and not kept.
    """
    check_report_folder(out_dir, force)
    gold = load_gold(data, data_format)
    mapping = LabelMapping.for_gold(gold, checkthat_subj)
    n_resamples = 1000
    systems, extra = [], {}
    for index, directory in enumerate([model_dir, *compare]):
        labeller = Labeller.from_directory(directory, precision)
        if mode == "end-to-end":
            sentences, boundaries = score_end_to_end(labeller, gold, mapping)
            if index == 0:
                extra = boundaries
        else:
            sentences = score_gold_mode(labeller, gold, mapping)
        name = "model" if index == 0 else f"compare {Path(directory).name}"
        metrics = summarise(sentences, gold.labels, n_resamples)
        systems.append(SystemResult(f"{name} ({labeller.precision})", sentences, metrics))
    baseline_train = baseline_train or split_path("train")
    cache = (baseline_cache or baseline_cache_dir()) if cache_baselines else None
    systems += _baselines(gold, baseline_train, n_resamples, mapping, cache)
    primary = systems[0].sentences
    averaged = present_labels([s.gold for s in primary], [s.pred for s in primary], gold.labels)
    notes = [
        f"Data: {data} (sha256 {file_sha256(data)[:12]}), format {data_format}, mode {mode}.",
        f"Model: {model_dir}; baselines trained on {baseline_train}.",
        "Macro-F1 is the mean F1 over the labels present in the gold set or predicted; "
        f"for the model: {', '.join(averaged)}.",
    ]
    if gold.checkthat:
        notes.append(mapping.describe())
    paths = write_reports(
        out_dir, systems[0], systems[1:], extra or None,
        title="factsep evaluation", notes=notes, labels=gold.labels,
    )
    print(per_label_table(systems, gold.labels))
    log(f"wrote {', '.join(str(p) for p in paths.values())}")
    return {"macro_f1": systems[0].metrics["macro_f1"], **extra}


def check_report_folder(out_dir: Path, force: bool) -> None:
    """Refuse, before any work, a report folder that is a file or holds reports (no --force)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir}: is a file; -o takes a folder for the reports")
    existing = [name for name in REPORT_FILES if (out_dir / name).exists()]
    if existing and not force:
        raise ValueError(
            f"{out_dir}: {', '.join(existing)} already exist(s); use --force to overwrite them"
        )


def _fit_baselines(train_path: Path) -> tuple[MajorityBaseline, TfidfBaseline]:
    train = read_articles(train_path)
    texts = [a["text"][s["start"] : s["end"]] for a in train for s in a["sentences"]]
    labels = [s["label"] for a in train for s in a["sentences"]]
    return MajorityBaseline(labels), TfidfBaseline(texts, labels)


def _baselines(
    gold: GoldSet, train_path: Path, n_resamples: int, mapping: LabelMapping, cache_dir: Path
) -> list[SystemResult]:
    if not Path(train_path).is_file():
        raise DataError(f"{train_path}: no such file (the baselines' training data)")
    results = []
    for baseline in cached_baselines(train_path, lambda: _fit_baselines(train_path), cache_dir):
        sentences = score_baseline(baseline, gold, mapping)
        metrics = summarise(sentences, gold.labels, n_resamples)
        results.append(SystemResult(baseline.name, sentences, metrics))
    return results

