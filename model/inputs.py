"""Read articles to label from files, directories, JSONL, HTML pages and standard input.

Every problem becomes an `InputProblem` naming the file (and line) and what is wrong, so
one bad article never hides the others; the caller decides whether to stop. Article ids
are stable and unique: a file's id is its name (`story.txt`), or its path relative to the
directory given (`2024/story.txt`); a JSONL line's id is its id field, else
`<file id>:<line>`; a repeated id is reported and made unique with `#2`, `#3`, ...
Text is read with a size cap whatever the source (files, devices, pipes, standard input);
UTF-8 and UTF-16 byte-order marks are honoured. `.md` files are read as Markdown
(see `markdown.py`).
"""

from __future__ import annotations

import codecs
import io
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .markdown import MarkdownArticle, markdown_article
from .pages import HTML_SUFFIXES, NoArticleError, article_from_html
from .predict import Article

TEXT_SUFFIXES = (".txt", ".md")
JSONL_SUFFIXES = (".jsonl",)
ARTICLE_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES
MAX_ARTICLE_BYTES = 5 * 1024 * 1024  # far above any news article; keeps memory bounded
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class InputProblem:
    """An input that could not be read as an article."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class InputOptions:
    text_key: str = "text"
    id_key: str = "id"
    html_key: str | None = None  # a JSONL field holding page source, read instead of text_key
    max_bytes: int = MAX_ARTICLE_BYTES
    skip: tuple[Path, ...] = ()  # resolved paths never read as input (the run's own output)


def read_inputs(
    sources: Sequence[str],
    options: InputOptions | None = None,
    warn: Callable[[str], None] | None = None,
) -> Iterator[Article | InputProblem]:
    """Yield an Article or an InputProblem for every article the sources name, in order.

    `warn` receives a line for each repeated article id (the article is kept, renamed).
    """
    options = options or InputOptions()
    seen: dict[str, str] = {}
    for item, where in _read_sources(sources, options):
        if isinstance(item, Article):
            item = _unique(item, where, seen, warn)
        yield item


def _unique(
    article: Article, where: str, seen: dict[str, str], warn: Callable[[str], None] | None
) -> Article:
    doc_id = article.doc_id
    if doc_id in seen:
        number = 2
        while f"{doc_id}#{number}" in seen:
            number += 1
        renamed = f"{doc_id}#{number}"
        if warn is not None:
            warn(f"warning: {where}: duplicate article id {doc_id!r} (first at {seen[doc_id]}); "
                 f"labelled as {renamed!r}")
        article = _with_id(article, renamed)
    seen[article.doc_id] = where
    return article


def _with_id(article: Article, doc_id: str) -> Article:
    if isinstance(article, MarkdownArticle):
        return MarkdownArticle(doc_id, article.text, article.original)
    return Article(doc_id, article.text)


def _read_sources(
    sources: Sequence[str], options: InputOptions
) -> Iterator[tuple[Article | InputProblem, str]]:
    for source in sources:
        if source == "-":
            raw = sys.stdin.buffer.read(options.max_bytes + 1)
            yield _article_from_capped(raw, "<stdin>", "stdin", options, markdown=False), "<stdin>"
            continue
        path = Path(source)
        if path.is_dir():
            yield from _read_directory(path, options)
        elif not path.exists():
            yield InputProblem(source, "no such file or directory"), source
        elif not _skipped(path, options):
            yield from _read_file(path, path.name, options)


def _skipped(path: Path, options: InputOptions) -> bool:
    return bool(options.skip) and path.resolve() in options.skip


def _read_directory(
    directory: Path, options: InputOptions
) -> Iterator[tuple[Article | InputProblem, str]]:
    found = False
    for item in _walk(directory):
        if isinstance(item, InputProblem):
            found = True  # the problem says why; "holds no articles" would be a second line
            yield item, item.where
            continue
        if _skipped(item, options):
            continue
        found = True
        yield from _read_file(item, item.relative_to(directory).as_posix(), options)
    if not found:
        where = str(directory)
        problem = "directory holds no articles (.txt, .md, .html, .htm or .jsonl files)"
        yield InputProblem(where, problem), where


def _walk(directory: Path) -> Iterator[Path | InputProblem]:
    """Article files under `directory` in name order; an unreadable folder is a problem.

    Symbolic links to folders are not followed (no loops); links to files are read.
    """
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as error:
        yield InputProblem(
            str(directory), f"cannot read this folder ({error.strerror}); its articles are skipped"
        )
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path))
        elif Path(entry.name).suffix.lower() in ARTICLE_SUFFIXES and entry.is_file():
            yield Path(entry.path)


def _read_file(
    path: Path, doc_id: str, options: InputOptions
) -> Iterator[tuple[Article | InputProblem, str]]:
    where = str(path)
    if path.suffix.lower() in JSONL_SUFFIXES:
        yield from _read_jsonl(path, doc_id, options)
        return
    try:
        with path.open("rb") as stream:  # read with the cap: devices and pipes have no size
            raw = stream.read(options.max_bytes + 1)
    except OSError as error:
        yield InputProblem(where, f"cannot read ({error.strerror})"), where
        return
    if path.suffix.lower() in HTML_SUFFIXES:
        too_large = len(raw) > options.max_bytes
        page = InputProblem(where, _too_large(options.max_bytes)) if too_large else None
        yield page or _article_from_page(raw, where, doc_id), where
        return
    markdown = path.suffix.lower() == ".md"
    yield _article_from_capped(raw, where, doc_id, options, markdown), where


def _article_from_capped(
    raw: bytes, where: str, doc_id: str, options: InputOptions, markdown: bool
) -> Article | InputProblem:
    if len(raw) > options.max_bytes:
        return InputProblem(where, _too_large(options.max_bytes))
    if raw.startswith(_UTF16_BOMS):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as error:
            return InputProblem(where, f"not UTF-16 text (invalid byte at offset {error.start})")
    elif b"\x00" in raw:
        return InputProblem(where, "binary file (contains NUL bytes), not text")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            return InputProblem(where, f"not UTF-8 text (invalid byte at offset {error.start})")
    if not text.strip():
        return InputProblem(where, "empty file: no text to label")
    return markdown_article(doc_id, text) if markdown else Article(doc_id, text)


def _read_jsonl(
    path: Path, file_id: str, options: InputOptions
) -> Iterator[tuple[Article | InputProblem, str]]:
    try:
        stream = path.open("rb")
    except OSError as error:
        yield InputProblem(str(path), f"cannot read ({error.strerror})"), str(path)
        return
    with stream:
        found = False
        for number, line in _capped_lines(stream, options.max_bytes):
            where = f"{path}:{number}"
            if isinstance(line, _LineProblem):
                found = True
                yield InputProblem(where, line.message), where
            elif line.strip():
                found = True
                yield _article_from_json_line(line, where, f"{file_id}:{number}", options), where
        if not found:
            yield InputProblem(str(path), "empty file: no JSON lines"), str(path)


@dataclass(frozen=True)
class _LineProblem:
    message: str


def _capped_lines(stream: BinaryIO, limit: int) -> Iterator[tuple[int, str | _LineProblem]]:
    """Numbered, decoded lines of UTF-8 (with or without a BOM) or UTF-16 (with a BOM).

    A line over `limit` is a problem and is skipped without being held in memory. UTF-16
    that stops decoding ends the file with a problem.
    """
    head = stream.read(2)
    if head in _UTF16_BOMS:
        encoding = "utf-16-le" if head == codecs.BOM_UTF16_LE else "utf-16-be"
        yield from _capped_text_lines(io.TextIOWrapper(stream, encoding=encoding), limit)
        return
    pending, number = head, 0
    while line := pending + stream.readline(limit + 1 - len(pending)):
        pending = b""
        number += 1
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        if len(line) > limit and not line.endswith(b"\n"):
            yield number, _LineProblem(_too_large(limit))
            while line and not line.endswith(b"\n"):  # skip the rest of the long line
                line = stream.readline(limit + 1)
            continue
        try:
            yield number, line.decode("utf-8")
        except UnicodeDecodeError as error:
            yield number, _LineProblem(f"not UTF-8 text (invalid byte at offset {error.start})")


def _capped_text_lines(
    text: io.TextIOWrapper, limit: int
) -> Iterator[tuple[int, str | _LineProblem]]:
    number = 0
    try:
        while line := text.readline(limit + 1):
            number += 1
            if len(line) > limit and not line.endswith("\n"):
                yield number, _LineProblem(_too_large(limit))
                while line and not line.endswith("\n"):
                    line = text.readline(limit + 1)
                continue
            yield number, line
    except UnicodeDecodeError as error:
        yield number + 1, _LineProblem(f"not UTF-16 text ({error.reason}); the rest is skipped")


def _article_from_json_line(
    line: str, where: str, fallback_id: str, options: InputOptions
) -> Article | InputProblem:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        return InputProblem(where, f"malformed JSON ({error.msg} at column {error.colno})")
    if not isinstance(row, dict):
        return InputProblem(where, "expected a JSON object per line")
    row_id = row.get(options.id_key)
    doc_id = fallback_id if row_id is None else str(row_id)
    if options.html_key is not None:
        page = row.get(options.html_key)
        if not isinstance(page, str) or not page.strip():
            return InputProblem(where, _missing_field(row, options.html_key, "--html-key"))
        return _article_from_page(page, where, doc_id)
    text = row.get(options.text_key)
    if not isinstance(text, str):
        return InputProblem(where, _missing_field(row, options.text_key, "--text-key"))
    if not text.strip():
        return InputProblem(where, f"field {options.text_key!r} is empty")
    return Article(doc_id, text)


def _article_from_page(page: str | bytes, where: str, doc_id: str) -> Article | InputProblem:
    """Extract the article of an HTML page; a page without one is a problem, not a crash."""
    if isinstance(page, bytes) and b"\x00" in page:
        return InputProblem(where, "binary file (contains NUL bytes), not an HTML page")
    if not page.strip():
        return InputProblem(where, "empty page: no HTML to read")
    try:
        return Article(doc_id, article_from_html(page))
    except NoArticleError as error:
        return InputProblem(where, str(error))
    except Exception as error:  # a parser failure on one page skips that page, not the run
        return InputProblem(where, f"cannot parse the page ({type(error).__name__}: {error})")


def _missing_field(row: dict, key: str, option: str) -> str:
    if key in row and isinstance(row[key], str):
        return f"field {key!r} is empty"
    keys = ", ".join(sorted(row)) or "none"
    return f"no string field {key!r} (fields: {keys}); see {option}"


def _too_large(limit: int) -> str:
    return (
        f"too large to be one article (over {limit / 2**20:.0f} MB, the limit); "
        "split it into articles, e.g. one per JSONL line"
    )
