"""Turn a web page's HTML into the article text factsep labels: the title and the main text.

Extraction is done by trafilatura, imported here only when a page is read, so labelling
plain text never loads it. Navigation, scripts, styles, comments, share widgets, captions
and footers are left out; a page with fewer than MIN_ARTICLE_CHARACTERS characters of main text has
no article (NoArticleError). Each remaining paragraph (or list item) becomes a paragraph of
the text, separated by an empty line, and the title comes first unless the main text
already opens with it.
"""

from __future__ import annotations

HTML_SUFFIXES = (".html", ".htm")
# Below this many characters of main text (spaces not counted; characters, not words, so
# that languages written without spaces count fairly), what extraction found is link text,
# not an article: every news article is longer.
MIN_ARTICLE_CHARACTERS = 100


class NoArticleError(ValueError):
    """The page holds no text that extraction recognises as an article."""


def article_from_html(page: str | bytes) -> str:
    """The title and main text of `page` (bytes: encoding detected); NoArticleError if none."""
    import trafilatura

    document = trafilatura.bare_extraction(
        page, include_comments=False, include_tables=True, include_images=False,
        with_metadata=True,
    )
    body = _paragraphs(document.text if document is not None else None)
    characters = sum(len("".join(paragraph.split())) for paragraph in body)
    if characters < MIN_ARTICLE_CHARACTERS:
        raise NoArticleError(
            f"no article found in the page ({characters} characters of main text, fewer than "
            f"{MIN_ARTICLE_CHARACTERS}: only navigation, links or markup)"
        )
    title = " ".join((document.title or "").split())
    if title and _normalised(body[0]) != _normalised(title):
        body.insert(0, title)
    return "\n\n".join(body)


def _paragraphs(text: str | None) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()
