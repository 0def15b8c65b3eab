"""The benchmark corpora, the window-length recommendation and peak-memory figures."""

import json
import os
import random
import subprocess
import sys

from factsep.model.segment import segment
from factsep.training.benchmarks.bench_corpora import generate_article, write_corpus
from factsep.training.benchmarks.peak_memory import peak_rss_mb
from factsep.training.benchmarks.window_lengths import recommend


def test_corpora_reach_their_size_and_shape(tmp_path, fixture_splits):
    short = write_corpus("short", fixture_splits["test"], 50, tmp_path)
    records = [json.loads(line) for line in short.open(encoding="utf-8")]
    assert len(records) == 50 and len({r["id"] for r in records}) == 50
    assert all(len(segment(r["text"])) == 1 for r in records)
    repeated = write_corpus("test", fixture_splits["test"], 50, tmp_path)
    assert len(repeated.read_text(encoding="utf-8").splitlines()) >= 2


def test_generated_articles_look_like_published_news():
    rng = random.Random(1)
    articles = [generate_article(rng)[0] for _ in range(20)]
    sentences = [text[s:e] for text in articles for s, e in segment(text)]
    assert 24 <= len(sentences) / len(articles) <= 45
    assert 60 <= sum(map(len, sentences)) / len(sentences) <= 140
    assert generate_article(random.Random(1))[0] == articles[0]  # deterministic


def test_recommended_window_is_the_fastest_within_half_a_point():
    rows = [
        {"precision": "bf16", "window_tokens": 256, "macro_f1": 0.900, "sentences_per_second": 200},
        {"precision": "bf16", "window_tokens": 128, "macro_f1": 0.897, "sentences_per_second": 300},
        {"precision": "int8", "window_tokens": 64, "macro_f1": 0.880, "sentences_per_second": 500},
    ]
    assert recommend(rows)["window_tokens"] == 128


def test_a_child_process_reports_its_own_peak_memory_not_its_parents():
    ballast = b"\x01" * (400 * 2**20)  # written, so resident in this (the parent) process
    child = subprocess.run(
        [sys.executable, "-c", "from factsep.training.benchmarks.peak_memory import "
         "peak_rss_mb; print(peak_rss_mb())"],
        capture_output=True, text=True, check=True,
    )
    assert peak_rss_mb() >= 400 and peak_rss_mb(os.getpid()) >= 400
    assert float(child.stdout) < 200, "the child's figure carries its parent's peak"
    del ballast
