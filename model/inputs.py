"""Read articles to label from files, directories, JSONL, HTML pages and standard input.

Every problem becomes an `InputProblem` naming the file (and line) and what is wrong, so
one bad article never hides the others; the caller decides whether to stop.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .pages import HTML_SUFFIXES, NoArticleError, article_from_html
from .predict import Article

TEXT_SUFFIXES = (".txt", ".md")
JSONL_SUFFIXES = (".jsonl",)
MAX_ARTICLE_BYTES = 5 * 1024 * 1024  # far above any news article; keeps memory bounded


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


def read_inputs(
    sources: Sequence[str], options: InputOptions | None = None
) -> Iterator[Article | InputProblem]:
    """Yield an Article or an InputProblem for every article the sources name, in order."""
    options = options or InputOptions()
    for source in sources:
        if source == "-":
            yield from _read_stream(sys.stdin.buffer.read(options.max_bytes + 1), options)
            continue
        path = Path(source)
        if path.is_dir():
            yield from _read_directory(path, options)
        elif not path.exists():
            yield InputProblem(source, "no such file or directory")
        else:
            yield from _read_file(path, options)


def _read_directory(directory: Path, options: InputOptions) -> Iterator[Article | InputProblem]:
    files = sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES
    )
    if not files:
        yield InputProblem(
            str(directory), "directory holds no articles (.txt, .md, .html, .htm or .jsonl files)"
        )
    for path in files:
        yield from _read_file(path, options)


def _read_file(path: Path, options: InputOptions) -> Iterator[Article | InputProblem]:
    where = str(path)
    if path.suffix.lower() in JSONL_SUFFIXES:
        yield from _read_jsonl(path, options)
        return
    try:
        size = path.stat().st_size
        if size > options.max_bytes:
            yield InputProblem(where, _too_large(size, options.max_bytes))
            return
        raw = path.read_bytes()
    except OSError as error:
        yield InputProblem(where, f"cannot read ({error.strerror})")
        return
    if path.suffix.lower() in HTML_SUFFIXES:
        yield _article_from_page(raw, where, path.stem)
        return
    yield _article_from_bytes(raw, where, path.stem, options)


def _read_stream(raw: bytes, options: InputOptions) -> Iterator[Article | InputProblem]:
    if len(raw) > options.max_bytes:
        yield InputProblem("<stdin>", _too_large(len(raw), options.max_bytes))
        return
    yield _article_from_bytes(raw, "<stdin>", "stdin", options)


def _article_from_bytes(
    raw: bytes, where: str, doc_id: str, options: InputOptions
) -> Article | InputProblem:
    if b"\x00" in raw:
        return InputProblem(where, "binary file (contains NUL bytes), not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return InputProblem(where, f"not UTF-8 text (invalid byte at offset {error.start})")
    if not text.strip():
        return InputProblem(where, "empty file: no text to label")
    return Article(doc_id, text)


def _read_jsonl(path: Path, options: InputOptions) -> Iterator[Article | InputProblem]:
    try:
        stream = path.open("rb")
    except OSError as error:
        yield InputProblem(str(path), f"cannot read ({error.strerror})")
        return
    with stream:
        found = False
        for number, raw in enumerate(stream, start=1):
            where = f"{path}:{number}"
            if not raw.strip():
                continue
            found = True
            yield _article_from_json_line(raw, where, f"{path.stem}-{number}", options)
        if not found:
            yield InputProblem(str(path), "empty file: no JSON lines")


def _article_from_json_line(
    raw: bytes, where: str, fallback_id: str, options: InputOptions
) -> Article | InputProblem:
    if len(raw) > options.max_bytes:
        return InputProblem(where, _too_large(len(raw), options.max_bytes))
    try:
        row = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        return InputProblem(where, f"not UTF-8 text (invalid byte at offset {error.start})")
    except json.JSONDecodeError as error:
        return InputProblem(where, f"malformed JSON ({error.msg} at column {error.colno})")
    if not isinstance(row, dict):
        return InputProblem(where, "expected a JSON object per line")
    doc_id = str(row.get(options.id_key, fallback_id))
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


def _too_large(size: int, limit: int) -> str:
    return (
        f"too large to be one article ({size / 2**20:.1f} MB; the limit is "
        f"{limit / 2**20:.0f} MB); split it into articles, e.g. one per JSONL line"
    )
