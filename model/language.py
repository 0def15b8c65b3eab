"""Which language an article is in, cheaply: the model reads English, so others get a warning.

py3langid (a maintained fork of langid.py; its naive Bayes model ships inside the package
as a numpy archive, loaded without pickle) classifies the first few thousand characters.
Too little text, or a guess under 50% confidence, is `und` (undetermined), which never warns.
Loading that model takes most of a second (LZMA decompression, which releases the GIL), so a
command that is about to load a labeller starts it in a background thread first.
"""

from __future__ import annotations

import threading
from typing import Any

ENGLISH = "en"
UNDETERMINED = "und"
SAMPLE_CHARS = 4000  # enough to be sure; keeps a 5 MB article fast
MIN_LETTERS = 20
MIN_CONFIDENCE = 0.5


_loading = threading.Lock()
_loaded: list[Any] = []  # the identifier, once loaded


def _identifier() -> Any:
    with _loading:
        if not _loaded:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _loaded.append(LanguageIdentifier.from_model_file(
                MODEL_FILE, norm_probs=True, min_confidence=MIN_CONFIDENCE
            ))
    return _loaded[0]


def start_loading_in_background() -> None:
    """Load the identifier in a daemon thread, so that it overlaps with loading the model."""
    threading.Thread(target=_load_quietly, name="factsep-language", daemon=True).start()


def _load_quietly() -> None:
    try:
        _identifier()
    except Exception:  # noqa: BLE001  (the first use loads again and raises it where it is seen)
        pass


def detect_language(text: str) -> str:
    """The ISO 639-1 code of `text`'s language, or `und` when there is too little to tell."""
    sample = text[:SAMPLE_CHARS]
    if not _has_letters(sample, MIN_LETTERS):
        return UNDETERMINED
    language, _ = _identifier().classify(sample)
    return str(language)


def _has_letters(text: str, count: int) -> bool:
    """Whether `text` holds at least `count` letters; stops reading once it has seen them."""
    seen = 0
    for character in text:
        if character.isalpha():
            seen += 1
            if seen >= count:
                return True
    return False
