"""`factsep bench`: speed, memory and accuracy of each inference path, measured, not asserted.

Each path runs in a fresh process so its peak resident memory is its own. The corpus is
the test split repeated to at least `min_sentences` sentences, written as JSONL, labelled
end to end (read, segment, encode, write) exactly as `factsep label` does, and then
encoder-only on the same windows.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path

import torch

from factsep.model.backends import ONNX_INT8_FILE
from factsep.model.directory import load_model
from factsep.model.job import label_inputs
from factsep.model.predict import Labeller
from factsep.model.quantize import export_int8
from factsep.model.segment import segment
from factsep.model.windows import INFERENCE_PAD_MULTIPLE, build_windows, collate, token_batches

from .dataset import read_articles
from .train import evaluate_gold

LIBRARIES = ("torch", "transformers", "onnxruntime", "sentencex", "numpy")
Print = Callable[[str], None]


def write_corpus(test_path: Path, min_sentences: int, folder: Path) -> tuple[Path, int, int]:
    """The test articles repeated until they hold at least `min_sentences`, as JSONL."""
    articles = read_articles(test_path)
    per_pass = sum(len(a["sentences"]) for a in articles)
    passes = -(-min_sentences // per_pass)
    path = folder / "corpus.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        for copy in range(passes):
            for a in articles:
                stream.write(json.dumps({"id": f"{a['id']}#{copy}", "text": a["text"]}) + "\n")
    return path, passes * len(articles), passes * per_pass


def measure_path(model_dir: Path, test_path: Path, precision: str, min_sentences: int) -> dict:
    """Run in a fresh process: every figure for one inference path."""
    labeller = Labeller.from_directory(model_dir, precision)
    with tempfile.TemporaryDirectory() as scratch:
        corpus, n_articles, _ = write_corpus(test_path, min_sentences, Path(scratch))
        labeller.label(read_articles(test_path)[0]["text"])  # warm-up
        started = time.perf_counter()
        summary = label_inputs(labeller, [str(corpus)], Path(scratch) / "out.jsonl",
                               log=lambda _: None)
        end_to_end = summary.sentences / (time.perf_counter() - started)
        texts = [json.loads(line)["text"] for line in corpus.open(encoding="utf-8")]
    encoder_rate = _encoder_only_rate(labeller, texts)
    scores = evaluate_gold(labeller.model, read_articles(test_path), labeller)
    return {
        "precision": precision,
        "articles": n_articles,
        "sentences": summary.sentences,
        "end_to_end": end_to_end,
        "encoder_only": encoder_rate,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "macro_f1": scores["macro_f1"],
    }


def _encoder_only_rate(labeller: Labeller, texts: Sequence[str]) -> float:
    """Sentences per second through the backend alone, on pre-built batches."""
    settings = labeller.model.settings
    sentences = [[text[s:e] for s, e in segment(text)] for text in texts]
    windows = build_windows(labeller.model.tokenizer, sentences, settings.max_length,
                            settings.context)
    pad_id = labeller.model.tokenizer.pad_token_id or 0
    batches = [
        collate(group, pad_id, INFERENCE_PAD_MULTIPLE)
        for group in token_batches(windows, labeller.batch_tokens)
    ]
    started = time.perf_counter()
    for batch in batches:
        labeller.backend(batch)
    return sum(b.num_sentences for b in batches) / (time.perf_counter() - started)


def run_benchmark(
    model_dir: Path,
    test_path: Path,
    min_sentences: int = 5000,
    precisions: Sequence[str] = ("fp32", "bf16", "int8"),
    print_line: Print = print,
) -> list[dict]:
    """Measure every path in its own process and print a table."""
    _prepare_paths(model_dir, precisions)
    print_line(f"machine: {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}")
    print_line("libraries: " + ", ".join(f"{name} {version(name)}" for name in LIBRARIES))
    print_line(f"model: {model_dir}")
    rows = []
    for precision in precisions:
        command = [sys.executable, "-m", "factsep.training.bench", str(model_dir),
                   str(test_path), precision, str(min_sentences)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print_line(f"{precision}: failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    _print_table(rows, print_line)
    return rows


def _prepare_paths(model_dir: Path, precisions: Sequence[str]) -> None:
    """Build the int8 encoder once, before the measuring processes start."""
    if "int8" in precisions and not (model_dir / ONNX_INT8_FILE).is_file():
        export_int8(load_model(model_dir), model_dir)


def _print_table(rows: list[dict], print_line: Print) -> None:
    if not rows:
        return
    reference = next((r["macro_f1"] for r in rows if r["precision"] == "fp32"), None)
    print_line(
        f"corpus: {rows[0]['articles']} articles, {rows[0]['sentences']} sentences "
        "(the test split repeated)"
    )
    header = (f"{'path':<6} {'end-to-end/s':>12} {'encoder/s':>10} {'ratio':>6} "
              f"{'peak RSS MB':>11} {'macro-F1':>9} {'vs fp32':>8}")
    print_line(header)
    for r in rows:
        delta = "" if reference is None else f"{(r['macro_f1'] - reference) * 100:+.2f}pt"
        print_line(
            f"{r['precision']:<6} {r['end_to_end']:>12.0f} {r['encoder_only']:>10.0f} "
            f"{r['end_to_end'] / r['encoder_only']:>6.2f} {r['peak_rss_mb']:>11.0f} "
            f"{r['macro_f1']:>9.4f} {delta:>8}"
        )


def _child(argv: Sequence[str]) -> None:
    model_dir, test_path, precision, min_sentences = argv
    row = measure_path(Path(model_dir), Path(test_path), precision, int(min_sentences))
    print(json.dumps(row))


if __name__ == "__main__":
    _child(sys.argv[1:])
