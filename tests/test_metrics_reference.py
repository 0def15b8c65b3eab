"""The numpy metrics equal scikit-learn's and a resample-by-resample bootstrap, exactly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from factsep.model.labels import LABELS
from factsep.training.evaluation.metrics import bootstrap_macro_f1, confusion, label_metrics


def random_labels(seed: int, n: int, labels=LABELS, missing: str | None = None):
    rng = np.random.default_rng(seed)
    pool = [label for label in labels if label != missing]
    gold = [pool[i] for i in rng.integers(0, len(pool), n)]
    noise = rng.integers(0, len(pool), n)
    pred = [g if rng.random() < 0.7 else pool[k] for k, g in zip(noise, gold, strict=True)]
    return gold, pred


@pytest.mark.parametrize(
    "seed,n,missing", [(0, 1000, None), (1, 57, None), (2, 300, "filler"), (3, 5, "opinion")]
)
def test_label_metrics_equal_sklearn(seed, n, missing):
    gold, pred = random_labels(seed, n, missing=missing)
    m = label_metrics(gold, pred)
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, pred, labels=list(LABELS), average=None, zero_division=0
    )
    for i, label in enumerate(LABELS):
        assert m[f"precision_{label}"] == float(precision[i])
        assert m[f"recall_{label}"] == float(recall[i])
        assert m[f"f1_{label}"] == float(f1[i])
        assert m[f"support_{label}"] == float(support[i])
    present = [i for i, label in enumerate(LABELS) if label in set(gold) | set(pred)]
    assert m["macro_f1"] == float(np.mean(f1[present]))
    assert m["accuracy"] == float(np.mean([g == p for g, p in zip(gold, pred, strict=True)]))
    assert confusion(gold, pred) == confusion_matrix(gold, pred, labels=list(LABELS)).tolist()


def test_label_metrics_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="same length"):
        label_metrics(["fact"], ["fact", "fact"])


def reference_bootstrap(gold, pred, groups, n_resamples, seed):
    """One resample at a time: draw articles, concatenate their sentences, sklearn's F1."""
    names = sorted(set(groups))
    members = {name: [i for i, g in enumerate(groups) if g == name] for name in names}
    present = [label for label in LABELS if label in set(gold) | set(pred)]
    drawn = np.random.default_rng(seed).integers(0, len(names), size=(n_resamples, len(names)))
    scores = []
    for row in drawn:
        rows = [i for k in row for i in members[names[k]]]
        f1 = f1_score([gold[i] for i in rows], [pred[i] for i in rows], labels=list(LABELS),
                      average=None, zero_division=0)
        scores.append(float(np.mean([f1[LABELS.index(label)] for label in present])))
    low, high = np.percentile(scores, [2.5, 97.5])
    return float(low), float(high)


@pytest.mark.parametrize("seed", [0, 7])
def test_bootstrap_equals_the_resample_by_resample_reference(seed):
    gold, pred = random_labels(seed, 400)
    groups = [f"doc{i // 13}" for i in range(400)]
    fast = bootstrap_macro_f1(gold, pred, groups, n_resamples=200, seed=seed)
    assert fast == pytest.approx(reference_bootstrap(gold, pred, groups, 200, seed), abs=1e-12)
