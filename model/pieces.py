"""Label a stream of articles in groups small enough to show progress and keep work.

Articles are handed to `Labeller.label_many` in groups of at most `GROUP_CHARS` characters
(or 1,024 articles), so the progress bar moves and Ctrl-C loses at most one group. An article
longer than `PIECE_CHARS` is cut at line breaks into pieces (a line break always ends a
sentence, so the sentences are the same; a single line longer than a piece is cut at a
space) and put back together after labelling; only the context windows at a cut differ.
When a run is interrupted inside such an article, the sentences labelled so far are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from .predict import Article, LabelledArticle, LabelledSentence, Labeller

PIECE_CHARS = 50_000
GROUP_CHARS = 200_000
# Each group fills and drains the encoder's calls once: groups of 64 one-sentence records
# labelled 10% slower than groups of 1,024, which are about a second of work.
GROUP_ARTICLES = 1024


@dataclass(frozen=True)
class _Piece:
    article: Article  # the whole article
    offset: int  # where this piece starts in the article's text
    text: str
    last: bool


@dataclass
class _Assembly:
    """The labelled pieces of one article so far."""

    article: Article
    sentences: list[LabelledSentence] = field(default_factory=list)
    labelled_chars: int = 0

    def result(self) -> LabelledArticle:
        return LabelledArticle(self.article.doc_id, self.article.text, tuple(self.sentences))


class PartialArticle(KeyboardInterrupt):
    """Raised on Ctrl-C inside a long article: carries the sentences labelled so far."""

    def __init__(self, labelled: LabelledArticle, labelled_chars: int) -> None:
        super().__init__()
        self.labelled = labelled
        self.labelled_chars = labelled_chars


def label_in_groups(
    labeller: Labeller,
    articles: Iterable[Article],
    progress: Callable[[int], object] | None = None,
) -> Iterator[LabelledArticle]:
    """Label `articles` in bounded groups; long articles are labelled in pieces.

    `progress` is called with the number of characters of each piece once it is labelled.
    """
    assembly: _Assembly | None = None
    try:
        for group in _groups(_pieces(articles)):
            batch = [Article(p.article.doc_id, p.text) for p in group]
            for piece, labelled in zip(group, labeller.label_many(batch), strict=True):
                if assembly is None or assembly.article is not piece.article:
                    assembly = _Assembly(piece.article)
                assembly.sentences += [_shifted(s, piece.offset) for s in labelled.sentences]
                assembly.labelled_chars = piece.offset + len(piece.text)
                if progress is not None:
                    progress(len(piece.text))
                if piece.last:
                    yield assembly.result()
                    assembly = None
    except KeyboardInterrupt:
        if assembly is not None and assembly.sentences:
            raise PartialArticle(assembly.result(), assembly.labelled_chars) from None
        raise


def _shifted(sentence: LabelledSentence, offset: int) -> LabelledSentence:
    if offset == 0:
        return sentence
    return replace(sentence, start=sentence.start + offset, end=sentence.end + offset)


def _pieces(articles: Iterable[Article]) -> Iterator[_Piece]:
    for article in articles:
        text, start = article.text, 0
        while len(text) - start > PIECE_CHARS:
            cut = text.rfind("\n", start + 1, start + PIECE_CHARS)
            if cut == -1:  # one enormous line: cut at the last space instead
                cut = text.rfind(" ", start + 1, start + PIECE_CHARS)
            if cut == -1:
                cut = start + PIECE_CHARS
            yield _Piece(article, start, text[start:cut], last=False)
            start = cut
        yield _Piece(article, start, text[start:], last=True)


def _groups(pieces: Iterable[_Piece]) -> Iterator[list[_Piece]]:
    group: list[_Piece] = []
    chars = 0
    for piece in pieces:
        if group and (chars + len(piece.text) > GROUP_CHARS or len(group) >= GROUP_ARTICLES):
            yield group
            group, chars = [], 0
        group.append(piece)
        chars += len(piece.text)
    if group:
        yield group
