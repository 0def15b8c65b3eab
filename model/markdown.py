"""Read Markdown as Markdown: markup is blanked out, offsets still index the original file.

`plain_markdown` replaces every markup character with a space (a line break stays a line
break), so the result has the original's length and any span of it is a span of the file.
The classifier then reads "I love this" for `I **love** this`, a quote without its `> `, a
link's words without its address, and no image at all. Fenced code blocks, HTML tags,
link definitions and rules are blanked entirely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .predict import Article, LabelledArticle

_FENCE = re.compile(r"^ {0,3}(```|~~~)[^\n]*\n(?:.*?\n)?? {0,3}\1[^\n]*$", re.M | re.S)
_LINE_PREFIX = re.compile(
    r"^[ \t]*(?:>[ \t]?)*[ \t]*(?:#{1,6}[ \t]+|[-*+][ \t]+(?:\[[ xX]\][ \t]+)?|\d{1,9}[.)][ \t]+)?",
    re.M,
)
_CLOSING_HASHES = re.compile(r"[ \t]+#+[ \t]*$", re.M)
_WHOLE_LINE = re.compile(
    r"^ {0,3}(?:(?:[-*_][ \t]*){3,}|=+[ \t]*|\[[^\]\n]+\]:[ \t]*\S.*)$", re.M  # rules, link defs
)
_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)|!\[[^\]\n]*\]\[[^\]\n]*\]")
_LINK = re.compile(r"(\[)([^\]\n]+)(\]\([^)\n]*\)|\]\[[^\]\n]*\])")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>\n]*>|<!--.*?-->", re.S)
_STRONG = re.compile(r"(?<!\\)(\*\*|__|~~)(?=\S)(.+?)(?<=[^\s\\])(\1)")
_EMPHASIS = re.compile(r"(?<![\w*\\])([*_])(?=[^\s*_])(.+?)(?<=[^\s*_\\])(\1)(?![\w*])")
_CODE = re.compile(r"(`+)([^`\n]+?)(\1)")
_ESCAPE = re.compile(r"\\(?=[\\`*_{}\[\]()#+\-.!>~|])")


@dataclass(frozen=True)
class MarkdownArticle(Article):
    """An article read from Markdown: `text` is the blanked text, `original` the file's."""

    original: str


def markdown_article(doc_id: str, text: str) -> MarkdownArticle:
    return MarkdownArticle(doc_id, plain_markdown(text), text)


def plain_markdown(text: str) -> str:
    """`text` with Markdown markup replaced by spaces; same length, same line breaks."""
    chars = list(text)

    def blank(start: int, end: int) -> None:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "

    def blank_groups(pattern: re.Pattern[str], groups: tuple[int, ...]) -> None:
        for match in pattern.finditer("".join(chars)):
            for group in groups:
                blank(match.start(group), match.end(group))

    blank_groups(_FENCE, (0,))
    blank_groups(_HTML_TAG, (0,))
    blank_groups(_WHOLE_LINE, (0,))
    blank_groups(_LINE_PREFIX, (0,))
    blank_groups(_CLOSING_HASHES, (0,))
    blank_groups(_IMAGE, (0,))
    blank_groups(_LINK, (1, 3))
    blank_groups(_CODE, (1, 3))
    blank_groups(_STRONG, (1, 3))
    blank_groups(_EMPHASIS, (1, 3))
    blank_groups(_ESCAPE, (0,))
    return "".join(chars)


def restore_original(labelled: LabelledArticle, original: str) -> LabelledArticle:
    """The labelled (blanked) article over the original Markdown: offsets unchanged, each
    sentence's text the original's characters that are not markup."""
    plain = labelled.text
    sentences = tuple(
        replace(s, text=_readable(plain, original, s.start, s.end)) for s in labelled.sentences
    )
    return LabelledArticle(labelled.doc_id, original, sentences)


def _readable(plain: str, original: str, start: int, end: int) -> str:
    kept = "".join(p for p, o in zip(plain[start:end], original[start:end], strict=True) if p == o)
    return " ".join(kept.split())
