"""The record the evaluation harness produces for every scored gold sentence."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScoredSentence:
    """One gold sentence with the label a system gave it.

    `probs` follows `factsep.model.labels.LABELS` order; baselines without probabilities
    give a one-hot vector. `before`/`after` are the neighbouring gold sentences ("" at the
    edges), kept so a report can show a mistake in its context.
    """

    doc_id: str
    genre: str
    text: str
    before: str
    after: str
    gold: str
    pred: str
    probs: tuple[float, ...]

    @property
    def confidence(self) -> float:
        return max(self.probs)

    @property
    def correct(self) -> bool:
        return self.gold == self.pred
