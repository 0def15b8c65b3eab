"""Language identification: loaded once, even when a background load races the first use."""

from __future__ import annotations

import threading

import pytest
from py3langid import langid

from factsep.model import language


@pytest.fixture
def counted_loads(monkeypatch) -> list[int]:
    """Forget any loaded identifier and count how often the model file is read."""
    loads: list[int] = []
    real = langid.LanguageIdentifier.from_model_file.__func__

    def counting(cls, *args, **kwargs):
        loads.append(1)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(language, "_loaded", [])
    monkeypatch.setattr(langid.LanguageIdentifier, "from_model_file", classmethod(counting))
    return loads


def test_a_background_load_and_first_uses_share_one_identifier(counted_loads):
    language.start_loading_in_background()
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(language.detect_language(
            "The council approved the budget on Tuesday after a long debate."
        )))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == ["en"] * 4
    assert len(counted_loads) == 1


def test_too_little_text_is_undetermined_without_loading_the_model(counted_loads):
    assert language.detect_language("Hi!") == language.UNDETERMINED
    assert counted_loads == []


def test_the_letter_threshold_counts_letters_not_characters(counted_loads):
    nineteen_letters = "abcde 12345 fghij 67890 klmno !!! pqrs ... 2026"
    assert sum(c.isalpha() for c in nineteen_letters) == language.MIN_LETTERS - 1
    assert language.detect_language(nineteen_letters) == language.UNDETERMINED
    assert counted_loads == []
    language.detect_language(nineteen_letters + " t")  # the twentieth letter: now it asks the model
    assert counted_loads == [1]
