"""Read `factsep label` JSONL output back into articles, checking it on the way in.

Rows come one per sentence, in order, grouped by article; the first row of each article
holds `article_text`, the text the offsets index. A row that breaks this is a DataError
naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factsep.model.labels import LABELS

from .dataset import DataError


@dataclass(frozen=True)
class LabelledRow:
    """One labelled sentence as `factsep label` wrote it."""

    start: int
    end: int
    label: str
    score: float


@dataclass(frozen=True)
class LabelledDocument:
    """An article read back from labelled JSONL: its text and its labelled sentences."""

    doc_id: str
    text: str
    sentences: tuple[LabelledRow, ...]


def read_labelled(path: Path) -> Iterator[LabelledDocument]:
    """Yield each article of a labelled JSONL file, validated."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    current: dict[str, Any] | None = None
    found = False
    with path.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            row = _parse_row(line, where)
            if current is not None and row["doc_id"] == current["doc_id"] \
                    and row["sentence_id"] != 0:
                _add_sentence(current, row, where)
                continue
            if current is not None:
                yield _finish(current)
            current = _start(row, where)
            found = True
    if current is not None:
        yield _finish(current)
    if not found:
        raise DataError(f"{path}: no labelled sentences (the file is empty)")


def _parse_row(line: str, where: str) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise DataError(f"{where}: not valid JSON ({error.msg})") from None
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected a JSON object per line")
    required = ("doc_id", "sentence_id", "start", "end", "label", "score")
    missing = [k for k in required if k not in row]
    if missing:
        raise DataError(f"{where}: missing field(s) {missing}; is this `factsep label` JSONL?")
    if row["label"] not in LABELS:
        raise DataError(f"{where}: unknown label {row['label']!r} (expected one of {LABELS})")
    return row


def _start(row: dict[str, Any], where: str) -> dict[str, Any]:
    text = row.get("article_text")
    if row["sentence_id"] != 0 or not isinstance(text, str):
        raise DataError(
            f"{where}: article {row['doc_id']!r} does not start with a row holding "
            "'article_text' (sentence_id 0); label the articles again with this factsep"
        )
    current = {"doc_id": str(row["doc_id"]), "text": text, "sentences": []}
    _add_sentence(current, row, where)
    return current


def _add_sentence(current: dict[str, Any], row: dict[str, Any], where: str) -> None:
    expected = len(current["sentences"])
    if row["sentence_id"] != expected:
        raise DataError(f"{where}: sentence_id {row['sentence_id']}, expected {expected}")
    start, end, text = row["start"], row["end"], current["text"]
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise DataError(f"{where}: offsets {start}..{end} are outside the article text")
    if "text" in row and text[start:end] != row["text"]:
        raise DataError(f"{where}: 'text' is not article_text[{start}:{end}]")
    current["sentences"].append(LabelledRow(start, end, row["label"], float(row["score"])))


def _finish(current: dict[str, Any]) -> LabelledDocument:
    return LabelledDocument(current["doc_id"], current["text"], tuple(current["sentences"]))
