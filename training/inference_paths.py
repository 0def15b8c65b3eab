"""Measure each inference path on the test split and record the fastest accurate one.

A fast path may lose at most `MAX_MACRO_F1_LOSS` of macro-F1 against fp32; the fastest
path within that bound becomes the model's default (`inference.json`), which
`factsep label --precision auto` then uses.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from factsep.model.backends import native_bf16
from factsep.model.directory import load_model
from factsep.model.job import Log
from factsep.model.predict import INFERENCE_FILE, Labeller, make_backend
from factsep.model.quantize import export_int8

from .data.dataset import read_articles
from .train import evaluate_gold

MAX_MACRO_F1_LOSS = 0.005


@dataclass(frozen=True)
class PathCheck:
    precision: str
    macro_f1: float
    sentences_per_second: float


def available_precisions() -> list[str]:
    return ["fp32", *(["bf16"] if native_bf16() else []), "int8"]


def check_paths(directory: Path, test_path: Path, log: Log) -> list[PathCheck]:
    """Macro-F1 on the test split (gold spans) and throughput of every available path."""
    model = load_model(directory)
    if "int8" in available_precisions():
        export_int8(model, directory)
    articles = read_articles(test_path)
    n_sentences = sum(len(a["sentences"]) for a in articles)
    checks = []
    for precision in available_precisions():
        labeller = Labeller(model, make_backend(model, precision))
        evaluate_gold(model, articles[:2], labeller)  # warm-up
        started = time.perf_counter()
        scores = evaluate_gold(model, articles, labeller)
        rate = n_sentences / (time.perf_counter() - started)
        checks.append(PathCheck(precision, scores["macro_f1"], rate))
        log(f"  {precision}: test macro-F1 {scores['macro_f1']:.4f}, {rate:.0f} sentences/s")
    return checks


def pick_fastest(checks: list[PathCheck]) -> PathCheck:
    """The fastest path whose macro-F1 is within MAX_MACRO_F1_LOSS of fp32."""
    reference = next(c for c in checks if c.precision == "fp32").macro_f1
    allowed = [c for c in checks if c.macro_f1 >= reference - MAX_MACRO_F1_LOSS]
    return max(allowed, key=lambda c: c.sentences_per_second)


def choose_inference_path(directory: Path, test_path: Path, log: Log) -> PathCheck:
    """Check every path and write the choice into the model directory."""
    log("checking the inference paths (fp32, bf16, int8) on the test split")
    checks = check_paths(directory, test_path, log)
    chosen = pick_fastest(checks)
    record = {
        "default_precision": chosen.precision,
        "max_macro_f1_loss": MAX_MACRO_F1_LOSS,
        "checks": [asdict(c) for c in checks],
    }
    (directory / INFERENCE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    log(f"default inference path: {chosen.precision}")
    return chosen
