"""Language identification: CLD2's guess, `und` when it cannot tell, any text accepted."""

from __future__ import annotations

import pycld2
import pytest

from factsep.model import language

COUNCIL = "The council approved the budget on Tuesday after a long debate about night buses."


@pytest.mark.parametrize(("text", "code"), [
    (COUNCIL, "en"),
    ("Der Stadtrat hat am Dienstag nach langer Debatte den Haushalt beschlossen.", "de"),
    ("Le conseil municipal a approuvé mardi le budget après un long débat.", "fr"),
    ("Городской совет во вторник утвердил бюджет после долгих дебатов.", "ru"),
    ("市議會週二在就公共交通問題進行長時間辯論後批准了明年的預算方案，預計將於下月生效。", "zh"),
    ("המועצה אישרה ביום שלישי את התקציב לאחר דיון ארוך על התחבורה הציבורית בעיר", "he"),
    ("ⲁⲛⲟⲕ ⲡⲉ ⲡⲛⲟⲩⲧⲉ ⲡⲉⲛⲧⲁϥⲉⲓⲛⲉ ⲉⲃⲟⲗ ϩⲙ ⲡⲕⲁϩ ⲛⲕⲏⲙⲉ ⲁⲩⲱ ⲉⲃⲟⲗ ϩⲙ ⲡⲏⲓ", "und-Copt"),
])
def test_codes_are_current_iso_639_without_region_and_script_only_guesses_say_so(text, code):
    # CLD2 itself says `zh-Hant`, `iw` and `xx-Copt` for the last three.
    assert language.detect_language(text) == code


@pytest.mark.parametrize(
    "odd", ["\x00", "\x0b", "\x85", "\ud800", "\ufdd0", "\uffff", "\U0010ffff"]
)
def test_characters_cld2_rejects_do_not_stop_detection(odd):
    with pytest.raises((pycld2.error, UnicodeEncodeError)):
        pycld2.detect(COUNCIL + odd)  # the reason for the clean-up: CLD2 alone refuses these
    assert language.detect_language(COUNCIL + odd + COUNCIL) == "en"


@pytest.fixture
def cld2_calls(monkeypatch) -> list[str]:
    """Record the texts handed to CLD2."""
    calls: list[str] = []
    real = pycld2.detect

    def counting(text, *args, **kwargs):
        calls.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(pycld2, "detect", counting)
    return calls


def test_too_little_text_is_undetermined_without_asking_cld2(cld2_calls):
    assert language.detect_language("Hi!") == language.UNDETERMINED
    assert cld2_calls == []


def test_the_letter_threshold_counts_letters_not_characters(cld2_calls):
    nineteen_letters = "abcde 12345 fghij 67890 klmno !!! pqrs ... 2026"
    assert sum(c.isalpha() for c in nineteen_letters) == language.MIN_LETTERS - 1
    assert language.detect_language(nineteen_letters) == language.UNDETERMINED
    assert cld2_calls == []
    language.detect_language(nineteen_letters + " t")  # the twentieth letter: now it asks CLD2
    assert len(cld2_calls) == 1


def test_only_the_first_sample_chars_are_read(cld2_calls):
    assert language.detect_language(COUNCIL * 1000) == "en"
    assert len(cld2_calls[0]) == language.SAMPLE_CHARS
