"""Find one text's sentences in another, and compare the labels of the pairs found.

The extraction benchmark's matching: a sentence is found in a text when its words, with
every run of whitespace made one space, occur there in the same way and not inside a longer
word (the first such occurrence counts). A true article's sentence found in the text
extracted from its page is paired with the page sentence that holds most of it, so a
sentence that the page splits, merges with its neighbour or prefixes with a caption is still
compared with the label the page gave that text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from factsep.model.labels import LABELS
from factsep.model.predict import LabelledArticle, LabelledSentence

Span = tuple[int, int]

_WORD = re.compile(r"\S+")


def normalise(text: str) -> str:
    """`text` with every run of whitespace made one space and none at the ends."""
    return " ".join(_WORD.findall(text))


def normalised_with_offsets(text: str) -> tuple[str, list[int]]:
    """`normalise(text)` and, for each of its characters, the index in `text` it comes from
    (a space stands for the last whitespace character of the run it replaces)."""
    parts: list[str] = []
    offsets: list[int] = []
    for word in _WORD.finditer(text):
        if parts:
            parts.append(" ")
            offsets.append(word.start() - 1)
        parts.append(word.group())
        offsets.extend(range(word.start(), word.end()))
    return "".join(parts), offsets


def find_sentences(sentences: Sequence[str], text: str | None) -> list[Span | None]:
    """Where each of `sentences` first occurs in `text`, both normalised: the span of `text`
    from the occurrence's first character to its last, or None where it does not occur
    (every sentence is None when there is no text)."""
    if text is None:
        return [None] * len(sentences)
    flat, offsets = normalised_with_offsets(text)
    found: list[Span | None] = []
    for sentence in sentences:
        needle = normalise(sentence)
        at = _find_whole(flat, needle) if needle else -1
        found.append(None if at < 0 else (offsets[at], offsets[at + len(needle) - 1] + 1))
    return found


def _find_whole(flat: str, needle: str) -> int:
    """First index of `needle` in `flat` that neither starts nor ends inside a word; -1 if none."""
    at = flat.find(needle)
    while at >= 0:
        end = at + len(needle)
        inside_left = at > 0 and flat[at - 1].isalnum() and needle[0].isalnum()
        inside_right = end < len(flat) and flat[end].isalnum() and needle[-1].isalnum()
        if not (inside_left or inside_right):
            return at
        at = flat.find(needle, at + 1)
    return -1


def covering_sentence(span: Span, sentences: Sequence[LabelledSentence]) -> int | None:
    """Index of the sentence (ordered by offset) that overlaps `span` most, the first one on
    a tie; None when no sentence overlaps it."""
    start, end = span
    best: int | None = None
    best_overlap = 0
    for index, sentence in enumerate(sentences):
        if sentence.start >= end:
            break
        overlap = min(end, sentence.end) - max(start, sentence.start)
        if overlap > best_overlap:
            best, best_overlap = index, overlap
    return best


@dataclass
class LabelAgreement:
    """The labels of true sentences found in their page's text, from the true text and from
    the page sentence that recovers each, summed over pages."""

    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)  # (true, page) label
    identical: int = 0  # pairs whose page sentence is the true sentence, word for word
    identical_same: int = 0  # of those, how many have the same label

    def add(self, truth: LabelledArticle, page: LabelledArticle | None) -> None:
        """Pair the sentences of one true text with those of its page (None: no article)."""
        if page is None:
            return
        spans = find_sentences([s.text for s in truth.sentences], page.text)
        for sentence, span in zip(truth.sentences, spans, strict=True):
            index = covering_sentence(span, page.sentences) if span is not None else None
            if index is None:
                continue
            match = page.sentences[index]
            self.pairs[sentence.label, match.label] += 1
            if normalise(match.text) == normalise(sentence.text):
                self.identical += 1
                self.identical_same += match.label == sentence.label

    def matched(self, label: str | None = None) -> int:
        """Recovered true sentences (labelled `label` from the true text, if given)."""
        return sum(n for (true, _), n in self.pairs.items() if label in (None, true))

    def same_share(self, label: str | None = None) -> float:
        """Share of the recovered true sentences (labelled `label` from the true text, if
        given) whose page sentence has the same label; 0 when there are none."""
        same = sum(n for (true, page), n in self.pairs.items()
                   if true == page and label in (None, true))
        return same / max(self.matched(label), 1)

    def results(self) -> dict[str, Any]:
        """Flat figures, overall and per true-text label, and the label pairs as a table."""
        results: dict[str, Any] = {
            "matched_sentences": self.matched(),
            "same_label_share": self.same_share(),
        }
        for label in LABELS:
            results[f"matched_{label}"] = self.matched(label)
            results[f"same_label_share_{label}"] = self.same_share(label)
        results["identical_sentences"] = self.identical
        results["same_label_share_identical"] = self.identical_same / max(self.identical, 1)
        results["label_pairs"] = {
            true: {page: self.pairs[true, page] for page in LABELS} for true in LABELS
        }
        return results
