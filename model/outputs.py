"""Write labelled articles as JSONL, CSV, HTML or reduced text, streaming, atomically.

Rows go to a temporary file beside the target and the file is renamed into place when
the writer is closed, so an interrupted run never leaves a half-written output.
"""

from __future__ import annotations

import csv
import html
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from .labels import LABELS
from .predict import LabelledArticle

FORMATS = ("jsonl", "csv", "html", "text", "table")
COLOURS = {"fact": "#cfe8ff", "opinion": "#ffe0b3", "filler": "#e6e6e6"}


class OutputError(OSError):
    """The output cannot be written (exists without --force, or the folder is not writable)."""


class AtomicOutput:
    """A text stream that becomes `path` only on `commit()`; stdout when `path` is None."""

    def __init__(self, path: Path | None, force: bool = False) -> None:
        self.path = path
        self._temporary: Path | None = None
        if path is None:
            self.stream: TextIO = sys.stdout
            return
        if path.is_dir():
            raise OutputError(f"{path}: is a directory; give a file name for the output")
        if path.exists() and not force:
            raise OutputError(f"{path}: already exists; use --force to overwrite it")
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise OutputError(f"{path}: folder {folder} does not exist")
        try:
            handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
        except OSError as error:
            raise OutputError(f"{path}: cannot write in {folder} ({error.strerror})") from None
        self._temporary = Path(name)
        self.stream = os.fdopen(handle, "w", encoding="utf-8", newline="")

    def commit(self) -> None:
        if self._temporary is None:
            self.stream.flush()
            return
        self.stream.close()
        os.replace(self._temporary, self.path)
        self._temporary = None

    def discard(self) -> None:
        if self._temporary is not None:
            self.stream.close()
            self._temporary.unlink(missing_ok=True)
            self._temporary = None


class Writer:
    """Base writer: `begin`, `write` once per article, `end`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def begin(self) -> None:
        """Write anything that precedes the first article."""

    def write(self, article: LabelledArticle) -> None:
        raise NotImplementedError

    def end(self) -> None:
        """Write anything that follows the last article."""


class JsonlWriter(Writer):
    """One row per sentence; an article's first row also holds `article_text`, the text its
    offsets index (for a web page: the extracted title and main text), so every
    `text[start:end]` can be checked and the article rebuilt without the input."""

    def write(self, article: LabelledArticle) -> None:
        for number, sentence in enumerate(article.sentences):
            row = {
                "doc_id": article.doc_id,
                "sentence_id": number,
                "start": sentence.start,
                "end": sentence.end,
                "text": sentence.text,
                "label": sentence.label,
                "score": round(sentence.score, 4),
                "probs": {k: round(v, 4) for k, v in sentence.probs_dict().items()},
            }
            if number == 0:
                row["article_text"] = article.text
            self.stream.write(json.dumps(row, ensure_ascii=False) + "\n")


class CsvWriter(Writer):
    def begin(self) -> None:
        self.csv = csv.writer(self.stream, lineterminator="\n")
        header = ["doc_id", "sentence_id", "start", "end", "text", "label", "score"]
        self.csv.writerow(header + [f"p_{label}" for label in LABELS])

    def write(self, article: LabelledArticle) -> None:
        for number, s in enumerate(article.sentences):
            probs = [f"{p:.4f}" for p in s.probs]
            row = [article.doc_id, number, s.start, s.end, s.text, s.label, f"{s.score:.4f}"]
            self.csv.writerow(row + probs)


class TextWriter(Writer):
    """Each article reduced to the sentences whose labels are kept, paragraphs preserved."""

    def __init__(self, stream: TextIO, keep: tuple[str, ...] = ("fact",)) -> None:
        super().__init__(stream)
        self.keep = keep
        self.count = 0

    def write(self, article: LabelledArticle) -> None:
        if self.count:
            self.stream.write("\n")
        self.count += 1
        self.stream.write(f"== {article.doc_id} ==\n")
        previous_end: int | None = None
        for sentence in article.sentences:
            if sentence.label not in self.keep:
                continue
            if previous_end is not None:
                gap = article.text[previous_end : sentence.start]
                self.stream.write("\n\n" if "\n\n" in gap else "\n" if "\n" in gap else " ")
            self.stream.write(sentence.text)
            previous_end = sentence.end
        self.stream.write("\n")


class TableWriter(Writer):
    """For reading in a terminal: one line per sentence with its label and score."""

    def write(self, article: LabelledArticle) -> None:
        self.stream.write(f"== {article.doc_id} ==\n")
        for s in article.sentences:
            self.stream.write(f"{s.label:<8} {s.score:.2f}  {' '.join(s.text.split())}\n")
        shares = ", ".join(f"{label} {article.share(label):.0%}" for label in LABELS)
        self.stream.write(f"-- {shares}\n")


class HtmlWriter(Writer):
    """One self-contained page: each article with its sentences highlighted by label."""

    def begin(self) -> None:
        styles = "".join(f".{k}{{background:{v}}}" for k, v in COLOURS.items())
        legend = " ".join(f'<span class="{k}">{k}</span>' for k in LABELS)
        self.stream.write(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>factsep labels</title>"
            "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.5}"
            "article{border-top:1px solid #999;margin-top:2em}"
            ".text{white-space:pre-wrap}span{border-radius:3px;padding:0 2px}"
            f"{styles}</style></head><body><h1>factsep labels</h1>"
            f"<p class='legend'>Legend: {legend}</p>\n"
        )

    def write(self, article: LabelledArticle) -> None:
        shares = ", ".join(f"{label} {article.share(label):.0%}" for label in LABELS)
        title = html.escape(article.doc_id)
        parts = [f"<article><h2>{title}</h2><p>{shares}</p><div class='text'>"]
        cursor = 0
        for s in article.sentences:
            parts.append(html.escape(article.text[cursor : s.start]))
            tip = html.escape(f"{s.label} {s.score:.2f}", quote=True)
            parts.append(f'<span class="{s.label}" title="{tip}">{html.escape(s.text)}</span>')
            cursor = s.end
        parts.append(html.escape(article.text[cursor:]) + "</div></article>\n")
        self.stream.write("".join(parts))

    def end(self) -> None:
        self.stream.write("</body></html>\n")


def make_writer(fmt: str, stream: TextIO, keep: tuple[str, ...] = ("fact",)) -> Writer:
    """The writer for `fmt` (one of FORMATS)."""
    writers = {"jsonl": JsonlWriter, "csv": CsvWriter, "html": HtmlWriter, "table": TableWriter}
    if fmt == "text":
        return TextWriter(stream, keep)
    if fmt not in writers:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    return writers[fmt](stream)
