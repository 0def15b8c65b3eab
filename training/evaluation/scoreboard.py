"""The real-world scoreboard: the model and TF-IDF + LR on our test split and on real text.

    python -m factsep.training.evaluation.scoreboard --model DIR \
        --real-news runs/real-news-dev.jsonl

scores, side by side, the model (through `Labeller`, gold spans) and the TF-IDF + LR
baseline (trained on data/train.jsonl) on the test split, the real-news development set
(built locally from public snapshots; never trained on), CheckThat! 2025 dev_test (SUBJ =
the sentence is labelled opinion) and the reference article, and writes
`reports/scoreboard.json`. A model card includes the scoreboard when it was measured on a
model trained from the same data.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from factsep.model.labels import LABELS
from factsep.model.predict import Labeller

from ..data.dataset import read_articles
from ..model_card import file_sha256
from ..paths import REPO_ROOT, split_path
from .baselines import TfidfBaseline
from .evaluate import load_gold
from .metrics import label_metrics

SCOREBOARD_FILE = REPO_ROOT / "reports" / "scoreboard.json"
SHARED = REPO_ROOT.parent / "shared"
REFERENCE = SHARED / "reference" / "seed-article.jsonl"
CHECKTHAT = SHARED / "benchmarks" / "checkthat2025-subjectivity-en" / "dev_test_en.tsv"

# (texts, spans) of each article -> one probability row per span, in LABELS order
SpanPredictor = Callable[[list[tuple[str, list[tuple[int, int]]]]], list[np.ndarray]]


def model_predictor(labeller: Labeller) -> SpanPredictor:
    """The model: each gold span classified in its article's context."""
    return labeller.predict_spans


def tfidf_predictor(baseline: TfidfBaseline) -> SpanPredictor:
    """The TF-IDF baseline: each gold span classified on its own text."""

    def predict(items: list[tuple[str, list[tuple[int, int]]]]) -> list[np.ndarray]:
        return [baseline.predict_proba([text[s:e] for s, e in spans]) for text, spans in items]

    return predict


def score_articles(predict: SpanPredictor, path: Path) -> dict[str, Any]:
    """Gold-span scores on a labelled article file, overall and per genre."""
    articles = read_articles(path)
    items = [(a["text"], [(s["start"], s["end"]) for s in a["sentences"]]) for a in articles]
    probs = predict(items)
    gold = [s["label"] for a in articles for s in a["sentences"]]
    pred = [LABELS[int(row.argmax())] for article in probs for row in article]
    scores: dict[str, Any] = label_metrics(gold, pred, LABELS)
    scores["correct"] = sum(g == p for g, p in zip(gold, pred, strict=True))
    scores["sentences"] = len(gold)
    genres = [a["genre"] for a in articles for _ in a["sentences"]]
    scores["per_genre_macro_f1"] = {
        genre: label_metrics(
            [g for g, x in zip(gold, genres, strict=True) if x == genre],
            [p for p, x in zip(pred, genres, strict=True) if x == genre],
            LABELS,
        )["macro_f1"]
        for genre in sorted(set(genres))
    }
    return scores


def score_checkthat(predict: SpanPredictor, path: Path) -> float:
    """OBJ/SUBJ macro-F1, SUBJ = the sentence is labelled opinion (CheckThat!'s definition)."""
    gold_set = load_gold(path, "checkthat")
    probs = predict(list(zip(gold_set.texts, gold_set.spans, strict=True)))
    opinion = LABELS.index("opinion")
    pred = ["SUBJ" if int(p[0].argmax()) == opinion else "OBJ" for p in probs]
    gold = [labels[0] for labels in gold_set.gold]
    return float(f1_score(gold, pred, average="macro"))


def score_system(predict: SpanPredictor, real_news: Path | None) -> dict[str, Any]:
    """Every set of the scoreboard that is present on this machine."""
    scores: dict[str, Any] = {"test": score_articles(predict, split_path("test"))}
    if real_news is not None:
        scores["real_news_dev"] = score_articles(predict, real_news)
    if CHECKTHAT.is_file():
        scores["checkthat_dev_test"] = score_checkthat(predict, CHECKTHAT)
    if REFERENCE.is_file():
        scores["reference_correct"] = score_articles(predict, REFERENCE)["correct"]
    return scores


def tfidf_baseline() -> TfidfBaseline:
    """The TF-IDF + LR baseline trained on data/train.jsonl."""
    train = read_articles(split_path("train"))
    texts = [a["text"][s["start"] : s["end"]] for a in train for s in a["sentences"]]
    return TfidfBaseline(texts, [s["label"] for a in train for s in a["sentences"]])


def build_scoreboard(model_dir: Path, real_news: Path | None, precision: str) -> dict[str, Any]:
    labeller = Labeller.from_directory(model_dir, precision)
    return {
        "model_dir": str(model_dir),
        "precision": labeller.precision,
        "train_sha256": file_sha256(split_path("train")),
        "real_news_dev_sha256": file_sha256(real_news) if real_news else None,
        "model": score_system(model_predictor(labeller), real_news),
        "tfidf": score_system(tfidf_predictor(tfidf_baseline()), real_news),
    }


def scoreboard_rows(board: dict[str, Any]) -> list[str]:
    """Markdown rows: one set per row, the model and TF-IDF + LR side by side."""
    rows = ["| set | factsep | F1 fact / opinion / filler | TF-IDF + LR |", "|---|---|---|---|"]
    for key, name in (("test", "`data/test.jsonl` (written by the team)"),
                      ("real_news_dev", "real-news dev set (30 real articles)")):
        if key in board["model"]:
            model, tfidf = board["model"][key], board["tfidf"][key]
            per_label = " / ".join(f"{model[f'f1_{label}']:.2f}" for label in LABELS)
            rows.append(
                f"| {name} | **{model['macro_f1']:.3f}** | {per_label} | {tfidf['macro_f1']:.3f} |"
            )
    if "checkthat_dev_test" in board["model"]:
        rows.append(
            f"| CheckThat! 2025 dev_test (OBJ/SUBJ, SUBJ = opinion) | "
            f"**{board['model']['checkthat_dev_test']:.3f}** | | "
            f"{board['tfidf']['checkthat_dev_test']:.3f} |"
        )
    if "reference_correct" in board["model"]:
        rows.append(
            f"| reference article (gold segmentation) | "
            f"{board['model']['reference_correct']} of 38 | | "
            f"{board['tfidf']['reference_correct']} of 38 |"
        )
    return rows


def recorded_scoreboard(train_path: Path) -> dict[str, Any] | None:
    """The recorded scoreboard, if it was measured on a model trained from `train_path`."""
    try:
        board = json.loads(SCOREBOARD_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(board, dict) or board.get("train_sha256") != file_sha256(train_path):
        return None
    return board


def write_json(record: dict[str, Any], path: Path) -> None:
    """Write `record` as indented JSON, atomically (a temp file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(record, stream, indent=2)
        stream.write("\n")
    os.replace(partial, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="model directory")
    parser.add_argument("--real-news", type=Path, help="the real-news dev set (labelled JSONL)")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("-o", "--output", type=Path, default=SCOREBOARD_FILE)
    args = parser.parse_args(argv)
    board = build_scoreboard(args.model, args.real_news, args.precision)
    write_json(board, args.output)
    print("\n".join(scoreboard_rows(board)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
