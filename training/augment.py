"""Extraction noise for training text: the small damage real pages show after scraping.

Real articles reach factsep through scrapers and copy-paste: curly quotes become straight
(or the reverse), final punctuation goes missing, HTML entities and stray furniture words are
left inside sentences, spaces vanish after punctuation. Training on clean text alone teaches
the model that such damage never happens. Each edit here keeps what a sentence says, so the
sentence keeps its hand-given label; nothing here decides a label.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

_STRAIGHT_TO_CURLY = str.maketrans({"'": "’", '"': "”"})
_CURLY_TO_STRAIGHT = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
_FINAL_PUNCTUATION = re.compile(r"[.!?…]+([\"'”’)\]]*)$")
_SPACE_AFTER_PUNCTUATION = re.compile(r"([,;:])\s+")
_ENTITIES = ("&nbsp;", "&amp;", "&#8217;", "\u00a0")
_STRAYS = ("Advertisement", "ADVERTISEMENT", "Continue reading", "Story continues below")


def _swap_quotes(sentence: str, rng: random.Random) -> str:
    table = _CURLY_TO_STRAIGHT if rng.random() < 0.5 else _STRAIGHT_TO_CURLY
    return sentence.translate(table)


def _drop_final_punctuation(sentence: str, rng: random.Random) -> str:
    return _FINAL_PUNCTUATION.sub(r"\1", sentence)


def _squeeze_spaces(sentence: str, rng: random.Random) -> str:
    return _SPACE_AFTER_PUNCTUATION.sub(r"\1", sentence, count=1 + rng.randrange(2))


def _entity_remnant(sentence: str, rng: random.Random) -> str:
    words = sentence.split(" ")
    position = rng.randrange(len(words) + 1)
    words.insert(position, rng.choice(_ENTITIES))
    return " ".join(words)


def _stray_furniture(sentence: str, rng: random.Random) -> str:
    stray = rng.choice(_STRAYS)
    return f"{stray} {sentence}" if rng.random() < 0.5 else f"{sentence} {stray}"


NOISE_EDITS: tuple[Callable[[str, random.Random], str], ...] = (
    _swap_quotes,
    _drop_final_punctuation,
    _squeeze_spaces,
    _entity_remnant,
    _stray_furniture,
)


def add_extraction_noise(sentence: str, rng: random.Random, rate: float) -> str:
    """With probability `rate`, apply one random extraction-noise edit to `sentence`."""
    if rate <= 0 or rng.random() >= rate or not sentence.strip():
        return sentence
    return rng.choice(NOISE_EDITS)(sentence, rng)
