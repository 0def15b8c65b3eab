"""`factsep bench`: speed, memory and agreement of each inference path, measured, not asserted.

Every path labels every corpus (see `bench_corpora`) in a fresh process, as a user's
`factsep label corpus.jsonl -o out.jsonl` would: start-up is the wall time from launching
the process until the model is ready; rates count reading, segmenting, the model and
writing; encoder-only runs the same batches through the inference path alone; peak RSS
is the process's own. Each path's labels are scored (macro-F1) against fp32's on the same
corpus, and every path is scored against the gold labels of the test split.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path

from factsep.model.backends import ONNX_INT8_FILE, native_bf16
from factsep.model.labels import LABELS
from factsep.model.precisions import PRECISIONS

from ..evaluation.metrics import label_metrics
from .bench_corpora import CORPORA, write_corpus

LIBRARIES = ("torch", "transformers", "onnxruntime", "tokenizers", "sentencex", "numpy")
Print = Callable[[str], None]


def run_benchmark(
    model_dir: Path,
    test_path: Path,
    min_sentences: int = 5000,
    precisions: Sequence[str] = PRECISIONS,
    corpora: Sequence[str] = CORPORA,
    print_line: Print = print,
) -> list[dict]:
    """Measure every path on every corpus, each in its own process, and print a table."""
    unknown = [p for p in precisions if p not in PRECISIONS] + [
        c for c in corpora if c not in CORPORA
    ]
    if unknown:
        raise ValueError(f"unknown paths or corpora {unknown}; paths: {PRECISIONS}, "
                         f"corpora: {CORPORA}")
    _prepare_paths(model_dir, precisions)
    print_line(f"machine: {os.cpu_count()} CPU cores, native bf16: {native_bf16()}")
    print_line("libraries: " + ", ".join(f"{name} {version(name)}" for name in LIBRARIES))
    print_line(f"model: {model_dir}")
    ordered = sorted(precisions, key=lambda p: p != "fp32")  # fp32 first: the reference
    print_line(HEADER)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for corpus_name in corpora:
            corpus = write_corpus(corpus_name, test_path, min_sentences, folder)
            outputs = {}
            for precision in ordered:
                output = folder / f"{corpus_name}.{precision}.jsonl"
                row = _run_child(model_dir, corpus, precision, output, print_line)
                if row is None:
                    continue
                row["corpus"] = corpus_name
                outputs[precision] = _labels(output)
                if "fp32" in outputs:
                    row["f1_vs_fp32"] = label_metrics(
                        outputs["fp32"], outputs[precision], LABELS
                    )["macro_f1"]
                rows.append(row)
                print_line(_table_row(row))  # as measured: a long run shows progress
    _print_gold_scores(model_dir, test_path, ordered, print_line)
    return rows


def _run_child(
    model_dir: Path, corpus: Path, precision: str, output: Path, print_line: Print
) -> dict | None:
    command = [sys.executable, "-m", "factsep.training.benchmarks.bench_run", str(model_dir),
               str(corpus), precision, str(output), repr(time.time())]
    log = output.with_suffix(".log")
    with log.open("w+", encoding="utf-8") as stdout, log.with_suffix(".err").open(
        "w+", encoding="utf-8"
    ) as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        process.wait()
        stdout.seek(0)
        stderr.seek(0)
        lines, errors = stdout.read().splitlines(), stderr.read().strip().splitlines()
    if process.returncode != 0 or not lines:
        print_line(f"{precision} on {corpus.name}: failed: {(errors or ['no message'])[-1]}")
        return None
    return json.loads(lines[-1])


def _labels(output: Path) -> list[str]:
    with output.open(encoding="utf-8") as stream:
        return [json.loads(line)["label"] for line in stream if line.strip()]


def _prepare_paths(model_dir: Path, precisions: Sequence[str]) -> None:
    """Build the int8 encoder once, before the measuring processes start."""
    if "int8" in precisions and not (model_dir / ONNX_INT8_FILE).is_file():
        from factsep.model.directory import load_model
        from factsep.model.quantize import export_int8

        export_int8(load_model(model_dir), model_dir)


HEADER = (f"{'corpus':<6} {'path':<5} {'articles':>8} {'sentences':>9} {'start s':>7} "
          f"{'sent/s':>7} {'tok/s':>7} {'enc sent/s':>10} {'ratio':>5} {'RSS MB':>6} "
          f"{'F1 vs fp32':>10}")


def _table_row(r: dict) -> str:
    rate = r["sentences"] / r["seconds"]
    encoder = r["encoder_sentences"] / r["encoder_seconds"]
    agreement = f"{r['f1_vs_fp32']:.4f}" if "f1_vs_fp32" in r else "-"
    return (
        f"{r['corpus']:<6} {r['precision']:<5} {r['articles']:>8} {r['sentences']:>9} "
        f"{r['startup_s']:>7.2f} {rate:>7.0f} {r['tokens'] / r['seconds']:>7.0f} "
        f"{encoder:>10.0f} {rate / encoder:>5.2f} {r['peak_rss_mb']:>6.0f} {agreement:>10}"
    )


def _print_gold_scores(
    model_dir: Path, test_path: Path, precisions: Sequence[str], print_line: Print
) -> None:
    """Macro-F1 of every path against the gold labels of the test split (gold spans)."""
    from factsep.model.predict import Labeller

    from ..data.dataset import read_articles
    from ..train import evaluate_gold

    articles = read_articles(test_path)
    scores = {}
    for precision in precisions:
        labeller = Labeller.from_directory(model_dir, precision)
        scores[precision] = evaluate_gold(labeller.model, articles, labeller)["macro_f1"]
    reference = scores.get("fp32")
    parts = []
    for precision, score in scores.items():
        delta = "" if reference is None else f" ({(score - reference) * 100:+.2f} pt)"
        parts.append(f"{precision} {score:.4f}{delta}")
    print_line("test split, gold labels, macro-F1: " + ", ".join(parts))
