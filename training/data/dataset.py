"""The labelled-data contract: read, validate and load article JSONL through `datasets`.

One article per line: {"id", "genre", "source", "text", "sentences": [{"start", "end",
"label"}]}. Offsets index `text`; spans are ordered, do not overlap, carry no surrounding
whitespace and together cover every non-whitespace character. Any breach is a DataError
naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factsep.model.labels import LABELS

if TYPE_CHECKING:
    from datasets import Dataset

REQUIRED_FIELDS = {"id": str, "genre": str, "source": str, "text": str, "sentences": list}
# What evaluation needs; the rest of the contract is optional there (see `read_labelled`).
EVALUATION_FIELDS = {"text": str, "sentences": list}
UNKNOWN_GENRE = "unknown"


class DataError(ValueError):
    """Labelled data that breaks the contract; the message names the file and line."""


def read_articles(path: str | Path) -> list[dict[str, Any]]:
    """Read and validate every article of a JSONL file."""
    path = Path(path)
    articles = list(_iter_validated(path))
    if not articles:
        raise DataError(f"{path}: no articles (the file is empty)")
    return articles


def read_labelled(path: str | Path) -> list[dict[str, Any]]:
    """Read any labelled JSONL that has `text` and `sentences`, for evaluation.

    `id`, `genre` and `source` are optional: a missing id becomes `<file name>:<line>`, a
    missing genre `unknown`. Offsets, labels and coverage are checked as for the dataset.
    """
    path = Path(path)
    articles = list(_iter_validated(path, EVALUATION_FIELDS))
    if not articles:
        raise DataError(f"{path}: no articles (the file is empty)")
    return articles


def _iter_validated(
    path: Path, required: dict[str, type] = REQUIRED_FIELDS
) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            article = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{where}: not valid JSON ({error.msg})") from None
        if isinstance(article, dict) and required is not REQUIRED_FIELDS:
            article = {"id": f"{path.name}:{number}", "genre": UNKNOWN_GENRE, **article}
        validate_article(article, where, required)
        if article["id"] in seen:
            raise DataError(f"{where}: duplicate article id {article['id']!r}")
        seen.add(article["id"])
        yield article


def validate_article(
    article: Any, where: str, required: dict[str, type] = REQUIRED_FIELDS
) -> None:
    """Raise DataError unless `article` meets the contract (`required` fields, spans)."""
    if not isinstance(article, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(article).__name__}")
    for field, kind in REQUIRED_FIELDS.items():
        if field not in article:
            if field in required:
                raise DataError(f"{where}: missing field {field!r}")
            continue
        if not isinstance(article[field], kind):
            raise DataError(f"{where}: field {field!r} must be a {kind.__name__}")
    text = article["text"]
    previous_end = 0
    for index, sentence in enumerate(article["sentences"]):
        at = f"{where}: sentence {index}"
        if not isinstance(sentence, dict) or not {"start", "end", "label"} <= sentence.keys():
            raise DataError(f"{at}: needs start, end and label")
        start, end, label = sentence["start"], sentence["end"], sentence["label"]
        if label not in LABELS:
            raise DataError(f"{at}: unknown label {label!r} (expected one of {LABELS})")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise DataError(f"{at}: offsets {start}..{end} are outside the text")
        if start < previous_end:
            raise DataError(f"{at}: overlaps or precedes the previous sentence")
        if text[start].isspace() or text[end - 1].isspace():
            raise DataError(f"{at}: span has surrounding whitespace")
        if text[previous_end:start].strip():
            gap = text[previous_end:start].strip()[:40]
            raise DataError(f"{at}: text before it is in no sentence: {gap!r}")
        previous_end = end
    if text[previous_end:].strip():
        raise DataError(f"{where}: text after the last sentence is in no sentence")
    if not article["sentences"]:
        raise DataError(f"{where}: article has no sentences")


def load_articles(path: str | Path) -> Dataset:
    """A `datasets.Dataset` of validated articles, one row per article."""
    from datasets import Dataset

    return Dataset.from_list(read_articles(path))


def sentence_examples(articles: Dataset) -> Dataset:
    """One row per sentence, with its neighbours, so a model or a report can use context."""
    from datasets import Dataset

    rows = []
    for article in articles:
        text = article["text"]
        spans = article["sentences"]
        sentences = [text[s["start"] : s["end"]] for s in spans]
        for index, span in enumerate(spans):
            rows.append(
                {
                    "doc_id": article["id"],
                    "genre": article["genre"],
                    "index": index,
                    "start": span["start"],
                    "end": span["end"],
                    "text": sentences[index],
                    "label": span["label"],
                    "before": sentences[index - 1] if index > 0 else "",
                    "after": sentences[index + 1] if index + 1 < len(sentences) else "",
                }
            )
    return Dataset.from_list(rows)
