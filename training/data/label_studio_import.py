"""Corrected Label Studio exports back into article files (`data/articles/*.txt`).

Reads Label Studio's JSON export (a list of tasks, each with `data` and `annotations`),
takes each task's most recent submitted annotation, checks that its regions label every
sentence of the text exactly once with one of the labels, and writes the article in the
project's article format (one `<label><TAB><sentence>` line per sentence, paragraphs kept).
Every file is parsed back with the dataset's own parser before it is renamed into place,
so an imported article meets the contract `factsep data check` enforces. A task that
cannot be imported is reported with its number and skipped; the others are written.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factsep.model.labels import LABELS

from .authoring import parse_article_file
from .dataset import DataError

Span = tuple[int, int, str]  # start, end, label


@dataclass
class ImportSummary:
    written: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CorrectedArticle:
    """One task's article: its id, its text and its labelled sentence spans."""

    doc_id: str
    text: str
    spans: tuple[Span, ...]


def import_label_studio(
    export: Path, articles_dir: Path, genre: str = "corrected", force: bool = False
) -> ImportSummary:
    """Write one article file per importable task of `export` into `articles_dir`."""
    tasks = load_tasks(export)
    articles_dir.mkdir(parents=True, exist_ok=True)
    existing = _existing_ids(articles_dir)
    summary = ImportSummary()
    names: set[str] = set()
    for index, task in enumerate(tasks):
        where = f"{export}: task {_task_number(task, index)}"
        try:
            article = article_from_task(task, index, where)
            target = articles_dir / f"{_file_name(article.doc_id)}.txt"
            _check_target(article.doc_id, target, existing, names, force, where)
            source = f"corrected in Label Studio ({export.name}, task {_task_number(task, index)})"
            write_article_file(target, article_file_text(article, genre, source), article)
        except DataError as error:
            summary.problems.append(str(error))
            continue
        names.add(target.name)
        summary.written.append(target)
    return summary


def load_tasks(export: Path) -> list[Any]:
    """The tasks of a Label Studio JSON export; DataError if it is not one."""
    try:
        raw = export.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{export}: no such file") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{export}: not UTF-8 text (invalid byte at {error.start})") from None
    try:
        tasks = json.loads(raw)
    except json.JSONDecodeError as error:
        raise DataError(
            f"{export}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
    if isinstance(tasks, dict) and "data" in tasks:
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise DataError(
            f"{export}: expected a list of tasks (Label Studio's JSON export), "
            f"got a JSON {type(tasks).__name__}"
        )
    if not tasks:
        raise DataError(f"{export}: the export holds no tasks")
    return tasks


def article_from_task(task: Any, index: int, where: str) -> CorrectedArticle:
    """The article a task's latest submitted annotation describes, checked."""
    if not isinstance(task, dict):
        raise DataError(f"{where}: expected a task object, got a JSON {type(task).__name__}")
    data = task.get("data")
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise DataError(
            f"{where}: no article text in data.text; export tasks made by "
            "`factsep export label-studio`"
        )
    doc_id = " ".join(str(data.get("doc_id") or f"task-{_task_number(task, index)}").split())
    doc_id = re.sub(r"\.(txt|md|html?)$", "", doc_id, flags=re.IGNORECASE)  # "story.txt" -> "story"
    result = _latest_annotation(task, where).get("result")
    if not isinstance(result, list):
        raise DataError(f"{where}: the annotation's 'result' is not a list of regions")
    regions = [r for r in result if isinstance(r, dict) and r.get("type") == "labels"]
    if not regions:
        raise DataError(f"{where}: the annotation labels no text (no 'labels' regions)")
    spans = sorted(_span(region, text, where) for region in regions)
    _check_cover(text, spans, where)
    return CorrectedArticle(doc_id, text, tuple(spans))


def article_file_text(article: CorrectedArticle, genre: str, source: str) -> str:
    """The article in the project's article-file format (see training/authoring.py)."""
    lines = [f"# id: {article.doc_id}", f"# genre: {genre}", f"# source: {source}"]
    previous_end: int | None = None
    for start, end, label in article.spans:
        if previous_end is not None:
            breaks = article.text[previous_end:start].count("\n")
            if breaks >= 2:
                lines.append("")
            elif breaks == 1:
                lines.append("/")
        lines.append(f"{label}\t{' '.join(article.text[start:end].split())}")
        previous_end = end
    return "\n".join(lines) + "\n"


def write_article_file(target: Path, content: str, article: CorrectedArticle) -> None:
    """Write atomically, after parsing the file back and checking it keeps every label."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
        parsed = parse_article_file(temporary)
        labels = [s["label"] for s in parsed["sentences"]]
        if labels != [label for _, _, label in article.spans]:
            raise DataError(f"{target}: the written file does not keep the annotation's labels")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _latest_annotation(task: dict[str, Any], where: str) -> dict[str, Any]:
    annotations = task.get("annotations")
    if not isinstance(annotations, list):
        raise DataError(f"{where}: no 'annotations' list; is this a Label Studio JSON export?")
    submitted = [
        (a.get("updated_at") or a.get("created_at") or "", position, a)
        for position, a in enumerate(annotations)
        if isinstance(a, dict) and not a.get("was_cancelled")
    ]
    if not submitted:
        raise DataError(
            f"{where}: no submitted annotation (only the model's pre-annotations); "
            "submit the task in Label Studio or leave it out of the export"
        )
    return max(submitted, key=lambda item: (str(item[0]), item[1]))[2]


def _span(region: dict[str, Any], text: str, where: str) -> Span:
    value = region.get("value")
    at = f"{where}: region {region.get('id', '?')}"
    if not isinstance(value, dict):
        raise DataError(f"{at}: no 'value' object")
    labels = value.get("labels")
    if not (isinstance(labels, list) and len(labels) == 1 and labels[0] in LABELS):
        raise DataError(f"{at}: needs exactly one label of {', '.join(LABELS)}, got {labels!r}")
    start, end = value.get("start"), value.get("end")
    if not (isinstance(start, int) and isinstance(end, int)):
        raise DataError(f"{at}: 'start' and 'end' must be integers, got {start!r}, {end!r}")
    start, end = _resolve_offsets(text, start, end, value.get("text"), at)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        raise DataError(f"{at}: covers only whitespace")
    return start, end, labels[0]


def _resolve_offsets(text: str, start: int, end: int, quote: Any, at: str) -> tuple[int, int]:
    """Code-point offsets; older Label Studio versions counted UTF-16 units instead."""
    candidates = [(start, end), _from_utf16(text, start, end)]
    for a, b in candidates:
        if 0 <= a < b <= len(text) and (not isinstance(quote, str) or text[a:b] == quote):
            return a, b
    shown = f" ({quote[:40]!r})" if isinstance(quote, str) else ""
    raise DataError(f"{at}: offsets {start}..{end}{shown} do not fit the task's text")


def _from_utf16(text: str, start: int, end: int) -> tuple[int, int]:
    positions = {0: 0}
    units = 0
    for index, character in enumerate(text, start=1):
        units += 2 if ord(character) > 0xFFFF else 1
        positions[units] = index
    return positions.get(start, -1), positions.get(end, -1)


def _check_cover(text: str, spans: list[Span], where: str) -> None:
    previous_end = 0
    for start, end, _ in spans:
        if start < previous_end:
            raise DataError(
                f"{where}: regions overlap at {text[start:previous_end][:40]!r}; "
                "give each sentence exactly one region"
            )
        _check_gap(text[previous_end:start], where)
        previous_end = end
    _check_gap(text[previous_end:], where)


def _check_gap(gap: str, where: str) -> None:
    if gap.strip():
        raise DataError(
            f"{where}: text in no region: {' '.join(gap.split())[:60]!r}; "
            "every sentence needs a label"
        )


def _check_target(
    doc_id: str, target: Path, existing: dict[str, Path], names: set[str], force: bool, where: str
) -> None:
    if target.name in names:
        raise DataError(f"{where}: a second article would be written to {target}")
    owner = existing.get(doc_id)
    if owner is not None and owner.name != target.name:
        raise DataError(f"{where}: article id {doc_id!r} is already used by {owner}")
    if target.exists() and not force:
        raise DataError(f"{where}: {target} already exists; use --force to replace it")


def _existing_ids(articles_dir: Path) -> dict[str, Path]:
    ids = {}
    for path in sorted(articles_dir.glob("*.txt")):
        with path.open(encoding="utf-8", errors="replace") as stream:
            for line in stream:
                if line.startswith("# id:"):
                    ids[line[5:].strip()] = path
                    break
    return ids


def _file_name(doc_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", doc_id).strip("-.")[:100] or "article"


def _task_number(task: Any, index: int) -> str:
    return str(task.get("id", index + 1)) if isinstance(task, dict) else str(index + 1)
