"""Evaluation metrics: pure functions over gold and predicted labels, spans and confidences."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from factsep.model.labels import LABELS
from factsep.training.evaluation.scoring import ScoredSentence


def _encode(values: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Label indices of `values`; an unknown label is an error, never silently ignored."""
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted(set(values) - index.keys())
    if unknown:
        raise ValueError(f"unknown labels {unknown}; expected one of {list(labels)}")
    return np.array([index[v] for v in values], dtype=np.int64)


def present_labels(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] = LABELS
) -> list[str]:
    """The labels, in `labels` order, that occur in the gold labels or the predictions.

    Macro-F1 averages over these: a label that is neither in the gold set nor predicted has
    no F1 to speak of, and counting it as 0 would punish a set for what it does not hold.
    """
    seen = set(gold) | set(pred)
    return [label for label in labels if label in seen]


def _confusion_counts(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]
) -> np.ndarray:
    """Confusion counts as an array (rows gold, columns predicted), by one `bincount`."""
    g, p = _encode(gold, labels), _encode(pred, labels)
    n = len(labels)
    return np.bincount(g * n + p, minlength=n * n).reshape(n, n)


def label_metrics(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] = LABELS
) -> dict[str, float]:
    """Accuracy, macro-F1 and per-label P/R/F1/support.

    Macro-F1 is the unweighted mean F1 over the labels present in `gold` or `pred`
    (`present_labels`); per-label figures are given for every label in `labels`. A ratio
    with a zero denominator is 0, and F1 is 2·tp / (gold + predicted), as scikit-learn's
    `precision_recall_fscore_support(..., zero_division=0)` computes them.
    """
    if len(gold) != len(pred):
        raise ValueError("gold and pred must have the same length")
    matrix = _confusion_counts(gold, pred, labels)
    tp = np.diag(matrix).astype(float)
    support, predicted = matrix.sum(axis=1), matrix.sum(axis=0)

    def ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
        return np.divide(top, bottom, out=np.zeros(len(labels)), where=bottom > 0)

    precision, recall = ratio(tp, predicted), ratio(tp, support)
    f1 = ratio(2 * tp, support + predicted)
    present = [labels.index(label) for label in present_labels(gold, pred, labels)]
    macro = float(np.mean(f1[present])) if present else 0.0
    accuracy = float(tp.sum() / len(gold)) if len(gold) else 0.0
    out = {"accuracy": accuracy, "macro_f1": macro}
    for i, label in enumerate(labels):
        out[f"precision_{label}"] = float(precision[i])
        out[f"recall_{label}"] = float(recall[i])
        out[f"f1_{label}"] = float(f1[i])
        out[f"support_{label}"] = float(support[i])
    return out


def confusion(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] = LABELS
) -> list[list[int]]:
    """Confusion counts: rows are gold labels, columns predicted labels, both in `labels` order."""
    return _confusion_counts(gold, pred, labels).tolist()


def bootstrap_macro_f1(
    gold: Sequence[str],
    pred: Sequence[str],
    groups: Sequence[str],
    labels: Sequence[str] = LABELS,
    n_resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile interval for macro-F1, resampling whole groups (articles) with replacement.

    Each resample averages F1 over the labels present in the full gold set or predictions,
    the same labels as `label_metrics`.

    Per-group counts of gold, predicted and correct labels are summed once; each resample is
    then a matrix product of group multiplicities with those counts.
    """
    if not len(gold) == len(pred) == len(groups):
        raise ValueError("gold, pred and groups must have the same length")
    g, p = _encode(gold, labels), _encode(pred, labels)
    _, group = np.unique(np.asarray(groups), return_inverse=True)
    n_groups, n_labels = int(group.max()) + 1, len(labels)

    def per_group(label_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        flat = group[mask] * n_labels + label_ids[mask]
        return np.bincount(flat, minlength=n_groups * n_labels).reshape(n_groups, n_labels)

    everything = np.ones(len(g), dtype=bool)
    counts = np.stack([per_group(g, g == p), per_group(g, everything), per_group(p, everything)])

    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, n_groups, size=(n_resamples, n_groups))
    offsets = np.arange(n_resamples)[:, None] * n_groups
    weights = np.bincount((drawn + offsets).ravel(), minlength=n_resamples * n_groups)
    weights = weights.reshape(n_resamples, n_groups)

    tp, n_gold, n_pred = weights @ counts  # each (n_resamples, n_labels)
    denom = n_gold + n_pred
    f1 = np.divide(2 * tp, denom, out=np.zeros(denom.shape), where=denom > 0)
    present = [list(labels).index(label) for label in present_labels(gold, pred, labels)]
    low, high = np.percentile(f1[:, present].mean(axis=1), [2.5, 97.5])
    return float(low), float(high)


def reliability_bins(
    confidence: Sequence[float], correct: Sequence[bool], n_bins: int = 10
) -> list[dict]:
    """Mean confidence and accuracy in each non-empty equal-width bin on [0, 1].

    Bins are [lo, hi) except the last, which also holds confidence 1.0.
    """
    conf = np.asarray(confidence, dtype=float)
    hit = np.asarray(correct, dtype=float)
    if conf.shape != hit.shape:
        raise ValueError("confidence and correct must have the same length")
    if np.any((conf < 0) | (conf > 1)):
        raise ValueError("confidence must lie in [0, 1]")
    bin_of = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    return [
        {
            "lo": b / n_bins,
            "hi": (b + 1) / n_bins,
            "count": int(np.sum(bin_of == b)),
            "confidence": float(conf[bin_of == b].mean()),
            "accuracy": float(hit[bin_of == b].mean()),
        }
        for b in np.unique(bin_of).tolist()
    ]


def expected_calibration_error(
    confidence: Sequence[float], correct: Sequence[bool], n_bins: int = 10
) -> float:
    """Gap between confidence and accuracy, averaged over equal-width bins weighted by size."""
    if len(confidence) == 0:
        raise ValueError("no predictions to calibrate")
    bins = reliability_bins(confidence, correct, n_bins)
    return sum(b["count"] * abs(b["accuracy"] - b["confidence"]) for b in bins) / len(confidence)


def boundary_scores(
    gold: Sequence[Sequence[tuple[int, int]]], predicted: Sequence[Sequence[tuple[int, int]]]
) -> dict[str, float]:
    """Boundary precision/recall/F1, pooled over articles; a boundary is a span's end offset."""
    hits = n_gold = n_pred = 0
    for gold_spans, pred_spans in zip(gold, predicted, strict=True):
        gold_ends, pred_ends = {end for _, end in gold_spans}, {end for _, end in pred_spans}
        hits += len(gold_ends & pred_ends)
        n_gold += len(gold_ends)
        n_pred += len(pred_ends)
    precision = hits / n_pred if n_pred else 0.0
    recall = hits / n_gold if n_gold else 0.0
    f1 = 2 * hits / (n_gold + n_pred) if n_gold + n_pred else 0.0
    return {"boundary_precision": precision, "boundary_recall": recall, "boundary_f1": f1}


def majority_labels(
    gold_spans: Sequence[tuple[int, int]],
    predicted_spans: Sequence[tuple[int, int]],
    predicted_labels: Sequence[str],
) -> list[str]:
    """For each gold span, the predicted label covering most of its characters.

    Both span lists must be sorted and non-overlapping (one article). Characters are summed
    per label; a tie goes to the label whose first overlapping span comes earliest. A gold
    span that no predicted span overlaps is an error: predictions cover all non-whitespace.
    Runs in O(len(gold_spans) + len(predicted_spans)).
    """
    if len(predicted_spans) != len(predicted_labels):
        raise ValueError("predicted_spans and predicted_labels must have the same length")
    out, first = [], 0
    for start, end in gold_spans:
        while first < len(predicted_spans) and predicted_spans[first][1] <= start:
            first += 1
        cover: dict[str, int] = {}  # insertion order = order of first overlap, for ties
        k = first
        while k < len(predicted_spans) and predicted_spans[k][0] < end:
            overlap = min(end, predicted_spans[k][1]) - max(start, predicted_spans[k][0])
            if overlap > 0:
                label = predicted_labels[k]
                cover[label] = cover.get(label, 0) + overlap
            k += 1
        if not cover:
            raise ValueError(f"gold span ({start}, {end}) overlaps no predicted span")
        out.append(max(cover, key=cover.__getitem__))
    return out


def by_genre(sentences: Sequence[ScoredSentence]) -> dict[str, list[ScoredSentence]]:
    """Sentences grouped by genre, genres in sorted order."""
    groups: dict[str, list[ScoredSentence]] = {}
    for s in sorted(sentences, key=lambda s: s.genre):
        groups.setdefault(s.genre, []).append(s)
    return groups


def summarise(
    sentences: Sequence[ScoredSentence],
    labels: Sequence[str] = LABELS,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Every headline number for one system as a flat dict of floats (primary: `macro_f1`)."""
    if not sentences:
        raise ValueError("no sentences to summarise")
    gold = [s.gold for s in sentences]
    pred = [s.pred for s in sentences]
    docs = [s.doc_id for s in sentences]
    out = label_metrics(gold, pred, labels)
    low, high = bootstrap_macro_f1(gold, pred, docs, labels, n_resamples, seed)
    out["macro_f1_ci_low"], out["macro_f1_ci_high"] = low, high
    out["ece"] = expected_calibration_error(
        [s.confidence for s in sentences], [s.correct for s in sentences]
    )
    out["n_sentences"] = float(len(sentences))
    out["n_articles"] = float(len(set(docs)))
    for genre, group in by_genre(sentences).items():
        genre_gold, genre_pred = [s.gold for s in group], [s.pred for s in group]
        out[f"genre_{genre}_macro_f1"] = label_metrics(genre_gold, genre_pred, labels)["macro_f1"]
        out[f"genre_{genre}_accuracy"] = float(
            np.mean([s.gold == s.pred for s in group])
        )
    return out


def most_confident_mistakes(
    sentences: Sequence[ScoredSentence], k: int = 15
) -> list[ScoredSentence]:
    """The `k` wrongly labelled sentences with the highest confidence, most confident first."""
    mistakes = [s for s in sentences if not s.correct]
    return sorted(mistakes, key=lambda s: s.confidence, reverse=True)[:k]
