"""`factsep data check`: validate the splits and print what they hold.

Checks the contract of every file (schema, offsets, coverage, labels, unique ids, via
`read_articles`), then leaks between splits: the same article id or text, or a
near-duplicate sentence (TF-IDF cosine >= 0.9 on sentences of 8+ words; short furniture
such as "Read More" legitimately repeats everywhere).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer

from factsep.model.labels import LABELS

from .dataset import DataError, read_articles

NEAR_DUPLICATE_COSINE = 0.9
MIN_WORDS_FOR_LEAK = 8


@dataclass
class CheckReport:
    counts: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        lines = []
        for split, tables in self.counts.items():
            labels = tables["labels"]
            total = sum(labels.values())
            shares = ", ".join(f"{k} {labels[k]} ({labels[k] / max(total, 1):.0%})" for k in LABELS)
            lines.append(
                f"{split}: {tables['articles']['all']} articles, {total} sentences: {shares}"
            )
            for genre, count in sorted(tables["genres"].items()):
                lines.append(f"    {genre:<20} {count:>4} articles")
        lines.append("problems:" if self.problems else "no problems found")
        lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)


def check_splits(paths: dict[str, Path]) -> CheckReport:
    """Validate each split file and look for leaks between them."""
    report = CheckReport()
    splits: dict[str, list[dict[str, Any]]] = {}
    for name, path in paths.items():
        try:
            splits[name] = read_articles(path)
        except DataError as error:
            report.problems.append(str(error))
            continue
        report.counts[name] = _counts(splits[name])
    for (name_a, a), (name_b, b) in combinations(splits.items(), 2):
        report.problems += _article_leaks(name_a, a, name_b, b)
        report.problems += _sentence_leaks(name_a, a, name_b, b)
    return report


def _counts(articles: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    return {
        "articles": Counter({"all": len(articles)}),
        "genres": Counter(a["genre"] for a in articles),
        "labels": Counter(s["label"] for a in articles for s in a["sentences"]),
    }


def _article_leaks(name_a: str, a: list[dict], name_b: str, b: list[dict]) -> list[str]:
    ids = {x["id"] for x in a} & {x["id"] for x in b}
    texts = {x["text"] for x in a} & {x["text"] for x in b}
    problems = [f"article {i!r} is in both {name_a} and {name_b}" for i in sorted(ids)]
    if texts:
        problems.append(f"{len(texts)} identical article text(s) in {name_a} and {name_b}")
    return problems


def _long_sentences(articles: list[dict]) -> list[tuple[str, str]]:
    out = []
    for article in articles:
        for s in article["sentences"]:
            text = article["text"][s["start"] : s["end"]]
            if len(text.split()) >= MIN_WORDS_FOR_LEAK:
                out.append((article["id"], text))
    return out


def _sentence_leaks(name_a: str, a: list[dict], name_b: str, b: list[dict]) -> list[str]:
    left, right = _long_sentences(a), _long_sentences(b)
    if not left or not right:
        return []
    vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    vectoriser.fit([t for _, t in left + right])
    similarity = vectoriser.transform([t for _, t in left]) @ vectoriser.transform(
        [t for _, t in right]
    ).T
    rows, cols = (similarity >= NEAR_DUPLICATE_COSINE).nonzero()
    return [
        f"near-duplicate sentence in {name_a} ({left[i][0]}) and {name_b} ({right[j][0]}): "
        f"{left[i][1][:70]!r}"
        for i, j in zip(rows, cols, strict=True)
    ]
