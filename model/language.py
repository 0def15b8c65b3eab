"""Which language an article is in, cheaply: the model reads English, so others get a warning.

py3langid (a maintained fork of langid.py; its naive Bayes model ships inside the package
as a numpy archive, loaded without pickle) classifies the first few thousand characters.
Too little text, or a guess under 50% confidence, is `und` (undetermined), which never warns.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

ENGLISH = "en"
UNDETERMINED = "und"
SAMPLE_CHARS = 4000  # enough to be sure; keeps a 5 MB article fast
MIN_LETTERS = 20
MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(
        MODEL_FILE, norm_probs=True, min_confidence=MIN_CONFIDENCE
    )


def detect_language(text: str) -> str:
    """The ISO 639-1 code of `text`'s language, or `und` when there is too little to tell."""
    sample = text[:SAMPLE_CHARS]
    if sum(c.isalpha() for c in sample) < MIN_LETTERS:
        return UNDETERMINED
    language, _ = _identifier().classify(sample)
    return str(language)
