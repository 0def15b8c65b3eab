"""Compile hand-labelled article files (data/articles/*.txt) into the dataset's JSONL splits.

An article file is written and labelled by a person, sentence by sentence:

    # id: w1-01
    # genre: persona-health
    # source: written for factsep; persona paragraphs at the start
    fact<TAB>Headline of the story
    <empty line: paragraph break>
    filler<TAB>Speaking as a retired nurse, I read this with my morning tea.
    opinion<TAB>The figures suggest the clinics work.
    /            <- a single line break
    ~            <- glue: the next sentence follows on the same line after one space, even
                    after a sentence without final punctuation (extraction noise: a heading
                    run into the next sentence)

Consecutive sentence lines are joined with one space, except after a sentence without
final punctuation (a headline, a byline), which ends its line as the guidelines say.
Labels come only from these files;
this module computes offsets and splits, it never decides a label.
"""

from __future__ import annotations

import json
import os
import random
import re
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from factsep.model.labels import LABELS

from .dataset import DataError, validate_article

_TERMINATED = re.compile(r"[.!?…][\"'”’)\]]*$")
SPLITS = {"train": 0.70, "dev": 0.15, "test": 0.15}
HEADER_KEYS = ("id", "genre", "source")


def parse_article_file(path: Path) -> dict[str, Any]:
    """Turn one article file into a dataset row with character offsets."""
    header: dict[str, str] = {}
    text = ""
    sentences: list[dict[str, Any]] = []
    separator = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip("\r")
        where = f"{path}:{number}"
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            if key.strip() not in HEADER_KEYS or sentences:
                raise DataError(f"{where}: unexpected header line {line!r}")
            header[key.strip()] = value.strip()
        elif not line.strip():
            separator = "\n\n" if sentences else ""
        elif line.strip() == "/":
            separator = "\n" if separator != "\n\n" else separator
        elif line.strip() == "~":
            separator = "~" if sentences else ""
        else:
            label, tab, sentence = line.partition("\t")
            if not tab or label not in LABELS or not sentence.strip():
                raise DataError(f"{where}: expected '<label><TAB><sentence>', got {line[:60]!r}")
            sentence = sentence.strip()
            if separator == " " and not _TERMINATED.search(text):
                separator = "\n"  # a line without final punctuation stands on its own line
            elif separator == "~":
                separator = " "
            text += separator
            sentences.append({"start": len(text), "end": len(text) + len(sentence), "label": label})
            text += sentence
            separator = " "
    missing = [key for key in HEADER_KEYS if key not in header]
    if missing:
        raise DataError(f"{path}: missing header line(s) {missing}")
    article = {**{key: header[key] for key in HEADER_KEYS}, "text": text, "sentences": sentences}
    validate_article(article, str(path))
    return article


def read_article_files(directory: Path) -> list[dict[str, Any]]:
    articles = [parse_article_file(path) for path in sorted(Path(directory).glob("*.txt"))]
    ids = [article["id"] for article in articles]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise DataError(f"{directory}: duplicate article ids {sorted(duplicates)}")
    return articles


def split_by_genre(
    articles: Sequence[dict[str, Any]], seed: int = 13
) -> dict[str, list[dict[str, Any]]]:
    """Split whole articles ~70/15/15, stratified by genre, deterministically from `seed`."""
    by_genre: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for article in sorted(articles, key=lambda a: a["id"]):
        by_genre[article["genre"]].append(article)
    rng = random.Random(seed)
    splits: dict[str, list[dict[str, Any]]] = {name: [] for name in SPLITS}
    carry = {name: 0.0 for name in SPLITS}  # fractional shares carried across genres
    for genre in sorted(by_genre):
        group = by_genre[genre]
        rng.shuffle(group)
        counts = {}
        for name in ("dev", "test"):
            exact = len(group) * SPLITS[name] + carry[name]
            counts[name] = int(exact + 0.5)
            carry[name] = exact - counts[name]
        counts["train"] = len(group) - counts["dev"] - counts["test"]
        start = 0
        for name in ("test", "dev", "train"):
            splits[name].extend(group[start : start + counts[name]])
            start += counts[name]
    return {name: sorted(rows, key=lambda a: a["id"]) for name, rows in splits.items()}


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Write rows atomically (temporary file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            for row in rows:
                stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def existing_assignment(out_dir: Path) -> dict[str, str]:
    """article id -> split, as the split files in `out_dir` have it (empty if none exist)."""
    assignment = {}
    for name in SPLITS:
        path = Path(out_dir) / f"{name}.jsonl"
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    assignment[json.loads(line)["id"]] = name
    return assignment


def build_dataset(
    articles_dir: Path, out_dir: Path, seed: int = 13, reshuffle: bool = False
) -> dict[str, Path]:
    """Compile every article file and write train/dev/test JSONL into `out_dir`.

    Articles already in a split stay there (so a test set that was annotated twice keeps
    its articles); new articles are split among themselves, stratified by genre.
    """
    articles = read_article_files(articles_dir)
    kept = {} if reshuffle else existing_assignment(out_dir)
    splits = split_by_genre([a for a in articles if a["id"] not in kept], seed)
    for article in articles:
        if article["id"] in kept:
            splits[kept[article["id"]]].append(article)
    paths = {}
    for name, rows in splits.items():
        paths[name] = Path(out_dir) / f"{name}.jsonl"
        write_jsonl(paths[name], sorted(rows, key=lambda a: a["id"]))
    return paths
