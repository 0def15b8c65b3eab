"""The labelling API: frozen results, offsets, probabilities, batching and streaming."""

import dataclasses
import itertools

import numpy as np
import pytest

from factsep.model.directory import load_model
from factsep.model.labels import LABELS
from factsep.model.model_config import NotAModelError
from factsep.model.predict import Article, LabelledSentence, Labeller

TEXT = "Harbour Board Approves Terminal\n\nThe board voted 5-2 on Monday. I think it erred.\n"


@pytest.fixture
def labeller(tiny_model_dir):
    return Labeller.from_directory(tiny_model_dir, precision="fp32")


def test_label_returns_frozen_sentences_with_offsets_and_probabilities(labeller):
    article = labeller.label(TEXT, doc_id="a1")
    assert article.doc_id == "a1"
    assert [s.text for s in article.sentences] == [
        "Harbour Board Approves Terminal", "The board voted 5-2 on Monday.", "I think it erred."
    ]
    for s in article.sentences:
        assert isinstance(s, LabelledSentence)
        assert TEXT[s.start : s.end] == s.text
        assert s.label in LABELS
        assert s.score == max(s.probs) == s.prob(s.label)
        assert sum(s.probs) == pytest.approx(1.0, abs=1e-5)
        assert set(s.probs_dict()) == set(LABELS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        article.sentences[0].label = "fact"


def test_batching_does_not_change_results(tiny_model_dir):
    model = load_model(tiny_model_dir)
    texts = [TEXT, "One. Two. Three.", "A single line without a stop", TEXT * 3]
    items = [(t, [(s.start, s.end) for s in Labeller(model).label(t).sentences]) for t in texts]
    small = Labeller(model, batch_tokens=64).predict_spans(items)
    large = Labeller(model, batch_tokens=8192).predict_spans(items)
    for a, b in zip(small, large, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_label_many_streams_its_input(labeller):
    pulled = []

    def articles():
        for number in itertools.count():
            pulled.append(number)
            yield Article(str(number), TEXT)

    stream = labeller.label_many(articles(), chunk_tokens=len(TEXT))  # 4 articles of text
    first = next(stream)
    assert first.doc_id == "0"
    assert len(pulled) == 4  # only the first chunk was read, not the whole (endless) input


def test_batch_tokens_below_window_is_refused(tiny_model_dir):
    with pytest.raises(ValueError, match="batch_tokens"):
        Labeller.from_directory(tiny_model_dir, batch_tokens=8)


def test_int8_without_exported_encoder_is_a_clear_error(tiny_model_dir):
    with pytest.raises(NotAModelError, match="int8"):
        Labeller.from_directory(tiny_model_dir, precision="int8")
