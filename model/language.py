"""Which language an article is in, cheaply: the model reads English, so others get a warning.

CLD2, Chromium's compact language detector (through pycld2), reads the first few thousand
characters. Its tables are compiled into the extension, so nothing loads at start-up and a
call takes microseconds. Too little text, or a guess CLD2 does not call reliable, is `und`
(undetermined), which never warns.
"""

from __future__ import annotations

import re

import pycld2

ENGLISH = "en"
UNDETERMINED = "und"
SAMPLE_CHARS = 4000  # enough to be sure; keeps a 5 MB article fast
MIN_LETTERS = 20

# Code points CLD2 rejects as invalid UTF-8: C0 controls but tab, newline, form feed and
# carriage return; DEL and the C1 controls; surrogates; the noncharacters.
_NONCHARACTERS = "".join(chr(plane + 0xFFFE) + chr(plane + 0xFFFF)
                         for plane in range(0, 0x110000, 0x10000))
_REJECTED = re.compile(
    f"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef{_NONCHARACTERS}]"
)
_NO_LANGUAGE = {"un", "xxx"}  # CLD2's "unknown" and "ignore"
_CURRENT_CODES = {"iw": "he", "jw": "jv"}  # CLD2 keeps two withdrawn ISO 639-1 codes


def detect_language(text: str) -> str:
    """The ISO 639 code of `text`'s language, or `und` when there is too little to tell.

    A text in a script CLD2 knows but whose language it cannot name is `und-` and the
    script (`und-Copt`): not English, so it warns.
    """
    sample = text[:SAMPLE_CHARS]
    if not _has_letters(sample, MIN_LETTERS):
        return UNDETERMINED
    reliable, _, guesses = pycld2.detect(_REJECTED.sub(" ", sample))
    code = guesses[0][1]
    if not reliable or code in _NO_LANGUAGE:
        return UNDETERMINED
    if code.startswith("xx-"):
        return UNDETERMINED + code[2:]
    return _CURRENT_CODES.get(code, code.split("-")[0])


def _has_letters(text: str, count: int) -> bool:
    """Whether `text` holds at least `count` letters; stops reading once it has seen them."""
    seen = 0
    for character in text:
        if character.isalpha():
            seen += 1
            if seen >= count:
                return True
    return False
