"""Write labelled articles as JSONL, CSV, HTML or reduced text, streaming, atomically.

Rows go to a temporary file beside the target and the file is renamed into place when
the writer is closed, so an interrupted run never leaves a half-written output. Only a
regular file (or a new path) is ever replaced, and the file gets the permissions the umask
gives a new file. Text a spreadsheet or a terminal would act on is neutralised: CSV cells
that would start a formula get a leading apostrophe, and control characters never reach
`table` or `text` output.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import stat
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .labels import LABELS

if TYPE_CHECKING:  # annotations only: the CLI lists FORMATS without loading numpy
    from .predict import LabelledArticle

FORMATS = ("jsonl", "csv", "html", "text", "table")
COLOURS = {"fact": "#cfe8ff", "opinion": "#ffe0b3", "filler": "#e6e6e6"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# C0 and C1 control characters and DEL (escape sequences start with one); not tab or newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


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
        check_replaceable(path, force)
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise OutputError(f"{path}: folder {folder} does not exist")
        try:
            handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
            os.fchmod(handle, 0o666 & ~_umask())  # mkstemp makes 0600; a new file obeys umask
        except OSError as error:
            raise OutputError(f"{path}: cannot write in {folder} ({error.strerror})") from None
        self._temporary = Path(name)
        self.stream = os.fdopen(handle, "w", encoding="utf-8", newline="")

    def commit(self) -> None:
        """Make the output final; an OSError (a full disk) removes the temporary file."""
        try:
            if self._temporary is None:
                self.stream.flush()
                return
            self.stream.close()
            check_replaceable(self.path, force=True)  # still a regular file (or gone)?
            os.replace(self._temporary, self.path)
            self._temporary = None
        except OutputError:
            self.discard()
            raise
        except OSError as error:
            self.discard()
            where = self.path or "standard output"
            raise OutputError(f"{where}: cannot write ({error.strerror})") from None

    def discard(self) -> None:
        """Drop what was written: remove the temporary file (stdout cannot be taken back)."""
        if self._temporary is not None:
            try:
                self.stream.close()
            except OSError:
                pass  # a full disk fails the final flush; the file goes anyway
            self._temporary.unlink(missing_ok=True)
            self._temporary = None


def check_replaceable(path: Path, force: bool) -> None:
    """Raise OutputError unless `path` is new, or a regular file and `force` is given."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise OutputError(f"{path}: cannot check the output path ({error.strerror})") from None
    if stat.S_ISDIR(mode):
        raise OutputError(f"{path}: is a directory; give a file name for the output")
    if not stat.S_ISREG(mode):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
        raise OutputError(f"{path}: is {kind}; only a regular file is ever replaced")
    if not force:
        raise OutputError(f"{path}: already exists; use --force to overwrite it")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def spreadsheet_safe(cell: str) -> str:
    """`cell` with a leading apostrophe if a spreadsheet would read it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def terminal_safe(text: str) -> str:
    """`text` without control characters (terminal escape sequences lose their ESC)."""
    return _CONTROL.sub("", text)


class Writer:
    """Base writer: `begin`, `write` once per article, `end`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def begin(self) -> None:
        """Write anything that precedes the first article."""

    def write(self, article: LabelledArticle, language: str | None = None) -> None:
        """Write one article; `language` is its detected language code, if known."""
        raise NotImplementedError

    def end(self) -> None:
        """Write anything that follows the last article."""


def sentence_rows(article: LabelledArticle, language: str | None = None) -> list[dict]:
    """One row per sentence, as `factsep label` writes them (JSONL) and the service returns.

    `language` (the article's detected language) is added when known; `truncated` appears,
    set to true, on a sentence longer than the encoder window (labelled from its start).
    """
    return [
        {
            "doc_id": article.doc_id,
            **({"language": language} if language else {}),
            "sentence_id": number,
            "start": sentence.start,
            "end": sentence.end,
            "text": sentence.text,
            "label": sentence.label,
            "score": round(sentence.score, 4),
            "probs": {k: round(v, 4) for k, v in sentence.probs_dict().items()},
            **({"truncated": True} if sentence.truncated else {}),
        }
        for number, sentence in enumerate(article.sentences)
    ]


def article_rows(article: LabelledArticle, language: str | None = None) -> list[dict]:
    """The JSONL rows of one article, as every engine writes them: `sentence_rows`, and on
    the first row `article_text`, the text the offsets index."""
    rows = sentence_rows(article, language)
    if rows:
        rows[0]["article_text"] = article.text
    return rows


def jsonl_line(row: dict) -> str:
    """One row as a JSONL line (UTF-8 kept readable)."""
    return json.dumps(row, ensure_ascii=False) + "\n"


class JsonlWriter(Writer):
    """One row per sentence; an article's first row also holds `article_text`, the text its
    offsets index (for a web page: the extracted title and main text), so every
    `text[start:end]` can be checked and the article rebuilt without the input."""

    def write(self, article: LabelledArticle, language: str | None = None) -> None:
        for row in article_rows(article, language):
            self.stream.write(jsonl_line(row))


class CsvWriter(Writer):
    """CSV rows; cells that would start a spreadsheet formula get a leading apostrophe."""

    def __init__(self, stream: TextIO, formula_guard: bool = True) -> None:
        super().__init__(stream)
        self.safe = spreadsheet_safe if formula_guard else str

    def begin(self) -> None:
        self.csv = csv.writer(self.stream, lineterminator="\n")
        header = ["doc_id", "language", "sentence_id", "start", "end", "text", "label", "score"]
        self.csv.writerow(header + [f"p_{label}" for label in LABELS])

    def write(self, article: LabelledArticle, language: str | None = None) -> None:
        doc_id = self.safe(article.doc_id)
        for number, s in enumerate(article.sentences):
            probs = [f"{p:.4f}" for p in s.probs]
            row = [doc_id, language or "", number, s.start, s.end, self.safe(s.text), s.label,
                   f"{s.score:.4f}"]
            self.csv.writerow(row + probs)


class TextWriter(Writer):
    """Each article reduced to the sentences whose labels are kept, paragraphs preserved."""

    def __init__(self, stream: TextIO, keep: tuple[str, ...] = ("fact",)) -> None:
        super().__init__(stream)
        self.keep = keep
        self.count = 0

    def write(self, article: LabelledArticle, language: str | None = None) -> None:
        if self.count:
            self.stream.write("\n")
        self.count += 1
        self.stream.write(f"== {terminal_safe(article.doc_id)}{_language_note(language)} ==\n")
        previous_end: int | None = None
        for sentence in article.sentences:
            if sentence.label not in self.keep:
                continue
            if previous_end is not None:
                gap = _unix_newlines(article.text[previous_end : sentence.start])
                self.stream.write("\n\n" if "\n\n" in gap else "\n" if "\n" in gap else " ")
            self.stream.write(terminal_safe(sentence.text))
            previous_end = sentence.end
        self.stream.write("\n")


class TableWriter(Writer):
    """For reading in a terminal: one line per sentence with its label and score."""

    def write(self, article: LabelledArticle, language: str | None = None) -> None:
        self.stream.write(f"== {terminal_safe(article.doc_id)}{_language_note(language)} ==\n")
        for s in article.sentences:
            text = " ".join(terminal_safe(s.text).split())
            self.stream.write(f"{s.label:<8} {s.score:.2f}  {text}\n")
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

    def write(self, article: LabelledArticle, language: str | None = None) -> None:
        shares = ", ".join(f"{label} {article.share(label):.0%}" for label in LABELS)
        if language:
            shares += f"; language {html.escape(language)}"
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


def _language_note(language: str | None) -> str:
    """A header note for articles detected as another language than English."""
    return f" [language: {terminal_safe(language)}]" if language not in (None, "en", "und") else ""


def _unix_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def make_writer(
    fmt: str, stream: TextIO, keep: tuple[str, ...] = ("fact",), formula_guard: bool = True
) -> Writer:
    """The writer for `fmt` (one of FORMATS); `formula_guard` applies to CSV only."""
    writers = {"jsonl": JsonlWriter, "html": HtmlWriter, "table": TableWriter}
    if fmt == "text":
        return TextWriter(stream, keep)
    if fmt == "csv":
        return CsvWriter(stream, formula_guard)
    if fmt not in writers:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    return writers[fmt](stream)
