"""Reference systems scored beside the model: majority class and TF-IDF + logistic regression."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from factsep.model.labels import LABELS


class MajorityBaseline:
    """Always predicts the most frequent training label."""

    name = "majority class"

    def __init__(self, labels: Sequence[str]) -> None:
        self.label = Counter(labels).most_common(1)[0][0]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        probs = np.zeros((len(texts), len(LABELS)))
        probs[:, LABELS.index(self.label)] = 1.0
        return probs


class TfidfBaseline:
    """Word 1-2-gram TF-IDF features and a class-balanced logistic regression, per sentence."""

    name = "TF-IDF + LR"

    def __init__(self, texts: Sequence[str], labels: Sequence[str], seed: int = 0) -> None:
        self.pipeline = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
            LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed),
        )
        self.pipeline.fit(list(texts), [LABELS.index(label) for label in labels])

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        probs = np.zeros((len(texts), len(LABELS)))
        probs[:, self.pipeline.classes_] = self.pipeline.predict_proba(list(texts))
        return probs
