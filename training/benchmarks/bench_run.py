"""One `factsep bench` measurement, run as a fresh process: load, label a corpus, time it.

Imports only what `factsep label` imports on the same path (no torch for int8), so the
start-up time and peak memory it shows are the ones a user meets. Prints one JSON line.

Usage: python -m factsep.training.benchmarks.bench_run MODEL_DIR CORPUS PRECISION OUTPUT LAUNCHED_AT
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def measure(model_dir: Path, corpus: Path, precision: str, output: Path, launched: float) -> dict:
    from factsep.model.concurrency import ordered_map
    from factsep.model.inputs import read_inputs
    from factsep.model.job import label_inputs
    from factsep.model.predict import Article, Labeller, article_chunks
    from factsep.model.segment import segment
    from factsep.training.benchmarks.peak_memory import peak_rss_mb

    labeller = Labeller.from_directory(model_dir, precision)
    ready = time.time()
    started = time.perf_counter()
    summary = label_inputs(labeller, [str(corpus)], output, log=lambda _: None)
    seconds = time.perf_counter() - started

    encoder_seconds, tokens, sentences = 0.0, 0, 0
    articles = (item for item in read_inputs([str(corpus)]) if isinstance(item, Article))
    for chunk in article_chunks(articles, 16 * labeller.batch_tokens):
        items = [(article.text, segment(article.text)) for article in chunk]
        batches = [batch for _, batch in labeller.plan_batches(items)]
        began = time.perf_counter()  # the encoder alone, as many calls at once as labelling
        for _ in ordered_map(labeller.backend, batches, labeller.backend.concurrent_calls):
            pass
        encoder_seconds += time.perf_counter() - began
        tokens += sum(int(batch.attention_mask.sum()) for batch in batches)
        sentences += sum(batch.num_sentences for batch in batches)
    return {
        "precision": labeller.precision,
        "startup_s": ready - launched,
        "articles": summary.articles,
        "sentences": summary.sentences,
        "tokens": tokens,
        "seconds": seconds,
        "encoder_seconds": encoder_seconds,
        "encoder_sentences": sentences,
        "torch_imported": "torch" in sys.modules,
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    model, corpus, precision, output, launched = sys.argv[1:]
    row = measure(Path(model), Path(corpus), precision, Path(output), float(launched))
    print(json.dumps(row))
