"""Measure encoder window lengths: labelling rate and macro-F1 per length and inference path.

Usage:
  python -m factsep.training.benchmarks.window_lengths --model DIR --data LABELLED.jsonl \\
      -o reports/window-lengths.md [--lengths 64,128,256] [--precisions bf16,int8]

Each length and path labels the gold sentences of the labelled file (read by path; only
figures are written) in context, as `factsep label` would with that window length
(`window_tokens` in the model's `inference.json`). The rate is sentences per second
through windows and the encoder, warm, in this process. The report recommends the
fastest setting within 0.5 macro-F1 points of the best one.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from factsep.model.labels import LABELS
from factsep.model.outputs import AtomicOutput
from factsep.model.predict import Labeller

from ..data.dataset import read_articles
from ..evaluation.metrics import label_metrics
from ..inference_paths import MAX_MACRO_F1_LOSS

MIN_TIMED_SENTENCES = 2000


def measure(
    model_dir: Path, data: Path, lengths: Sequence[int], precisions: Sequence[str]
) -> list[dict]:
    """One row per (path, length): macro-F1 on the gold labels and sentences per second."""
    articles = read_articles(data)
    items = [(a["text"], [(s["start"], s["end"]) for s in a["sentences"]]) for a in articles]
    gold = [s["label"] for a in articles for s in a["sentences"]]
    repeats = -(-MIN_TIMED_SENTENCES // len(gold))
    rows = []
    for precision in precisions:
        for length in lengths:
            labeller = Labeller.from_directory(model_dir, precision, window_tokens=length)
            labeller.predict_spans(items[:2])  # warm-up
            started = time.perf_counter()
            for _ in range(repeats):
                probs = labeller.predict_spans(items)
            seconds = time.perf_counter() - started
            predicted = [LABELS[int(row.argmax())] for article in probs for row in article]
            rows.append({
                "precision": precision,
                "window_tokens": length,
                "macro_f1": label_metrics(gold, predicted, LABELS)["macro_f1"],
                "sentences_per_second": repeats * len(gold) / seconds,
            })
    return rows


def recommend(rows: Sequence[dict]) -> dict:
    """The fastest row within MAX_MACRO_F1_LOSS of the best macro-F1."""
    best = max(row["macro_f1"] for row in rows)
    allowed = [row for row in rows if row["macro_f1"] >= best - MAX_MACRO_F1_LOSS]
    return max(allowed, key=lambda row: row["sentences_per_second"])


def render(rows: Sequence[dict], model_dir: Path, data: Path, sentences: int) -> str:
    choice = recommend(rows)
    lines = [
        "# Window length: rate and accuracy",
        "",
        f"Model `{model_dir}`; labelled set `{data.name}` ({sentences} sentences, gold "
        "segmentation). Rate: sentences per second through windows and the encoder, warm, "
        "one process (`python -m factsep.training.benchmarks.window_lengths`).",
        "",
        "| path | window tokens | macro-F1 | sentences/s |",
        "|---|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['precision']} | {row['window_tokens']} | {row['macro_f1']:.4f} | "
            f"{row['sentences_per_second']:.0f} |"
        )
    lines += [
        "",
        f"Fastest within {MAX_MACRO_F1_LOSS * 100:.1f} macro-F1 points of the best: "
        f"**{choice['precision']}, {choice['window_tokens']} tokens**. Set it with "
        f"`\"window_tokens\": {choice['window_tokens']}` in the model's `inference.json`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m factsep.training.benchmarks.window_lengths",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model directory")
    parser.add_argument("--data", required=True, help="labelled JSONL (the dataset's schema)")
    parser.add_argument("-o", "--output", required=True, help="Markdown report to write")
    parser.add_argument("--lengths", default="64,128,256")
    parser.add_argument("--precisions", default="bf16,int8")
    args = parser.parse_args(argv)
    model_dir, data, output = Path(args.model), Path(args.data), Path(args.output)
    lengths = [int(n) for n in args.lengths.split(",")]
    rows = measure(model_dir, data, lengths, args.precisions.split(","))
    sentences = sum(len(a["sentences"]) for a in read_articles(data))
    output.parent.mkdir(parents=True, exist_ok=True)
    report = render(rows, model_dir, data, sentences)
    for path, text in ((output.with_suffix(".json"), json.dumps(rows, indent=2) + "\n"),
                       (output, report)):
        sink = AtomicOutput(path, force=True)
        sink.stream.write(text)
        sink.commit()
    print(report)


if __name__ == "__main__":
    main()
