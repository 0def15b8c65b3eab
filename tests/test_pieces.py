"""Long articles are labelled in pieces: progress shows, Ctrl-C keeps what was labelled."""

from __future__ import annotations

import json

import pytest

from factsep.model import pieces
from factsep.model.predict import Article, Labeller
from factsep.scripts.cli import EXIT_INTERRUPTED, main

PARAGRAPH = "Dock workers voted to return on Monday. I think it is good news.\n\n"


@pytest.fixture
def small_pieces(monkeypatch):
    monkeypatch.setattr(pieces, "PIECE_CHARS", 300)
    monkeypatch.setattr(pieces, "GROUP_CHARS", 300)


def test_pieces_give_the_same_sentences_and_report_progress(tiny_model_dir, small_pieces):
    labeller = Labeller.from_directory(tiny_model_dir, "fp32")
    text = PARAGRAPH * 20
    done: list[int] = []
    (whole,) = pieces.label_in_groups(labeller, [Article("long", text)], done.append)
    reference = labeller.label(text, "long")
    assert [(s.start, s.end, s.text) for s in whole.sentences] == [
        (s.start, s.end, s.text) for s in reference.sentences
    ]
    assert all(text[s.start : s.end] == s.text for s in whole.sentences)
    assert len(done) > 3 and sum(done) == len(text)


def test_interrupt_inside_a_long_article_keeps_its_labelled_sentences(
    tiny_model_dir, small_pieces, tmp_path, monkeypatch, capsys
):
    (tmp_path / "long.txt").write_text(PARAGRAPH * 20)
    real = Labeller.label_many
    calls = []

    def interrupted_on_third_group(self, articles, chunk_tokens=None):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        yield from real(self, articles, chunk_tokens)

    monkeypatch.setattr(Labeller, "label_many", interrupted_on_third_group)
    target = tmp_path / "out.jsonl"
    code = main(["label", "--model", str(tiny_model_dir), "--precision", "fp32",
                 str(tmp_path / "long.txt"), "-o", str(target)])
    err = capsys.readouterr().err
    kept = [json.loads(line) for line in target.read_text().splitlines()]
    assert code == EXIT_INTERRUPTED
    assert "long.txt: interrupted after" in err and f"its first {len(kept)} sentences" in err
    assert 0 < len(kept) < 40 and [r["sentence_id"] for r in kept] == list(range(len(kept)))
