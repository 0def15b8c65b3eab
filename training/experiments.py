"""Training experiments scored on real text: one settings variant, several seeds, one record.

    python -m factsep.training.experiments NAME --seeds 42 43 44 --set noise=0.2 \\
        --real-news runs/real-news-dev.jsonl

trains the variant once per seed on data/train.jsonl (selected on data/dev.jsonl), scores
each model through `Labeller` on the test split, the real-news development set (a labelled
JSONL built locally, never trained on), the reference article and CheckThat! dev_test, and
writes every run's figures with their mean to `reports/experiments/NAME.json`.
`--exclude-genre 'persona-*'` trains on the training split without those genres (an ablation).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from factsep.model.labels import LABELS
from factsep.model.predict import Labeller

from .config import TrainingSettings
from .data.authoring import write_jsonl
from .data.dataset import read_articles
from .evaluation.scoreboard import (
    CHECKTHAT,
    REFERENCE,
    model_predictor,
    score_articles,
    score_checkthat,
    write_json,
)
from .paths import REPO_ROOT, split_path
from .train import save_trained, train

REPORT_DIR = REPO_ROOT / "reports" / "experiments"


def run_variant(
    name: str,
    settings: TrainingSettings,
    seeds: Sequence[int],
    real_news: Path | None,
    keep_models: Path | None = None,
    exclude_genres: Sequence[str] = (),
) -> dict[str, Any]:
    """Train and score `settings` once per seed; return the record (runs and means).

    With `keep_models`, each seed's model is saved as `keep_models/NAME-sSEED` (with its card).
    With `exclude_genres` (shell-style patterns), articles of matching genres are left out of
    training; dev, test and every yardstick stay whole.
    """
    with tempfile.TemporaryDirectory() as scratch:
        train_path = split_path("train")
        train_articles: int | None = None
        if exclude_genres:
            train_path = Path(scratch) / "train-genre-subset.jsonl"
            train_articles = write_train_subset(split_path("train"), exclude_genres, train_path)
        runs = [
            _run_seed(name, replace(settings, seed=seed), train_path, real_news, keep_models)
            for seed in seeds
        ]
    record: dict[str, Any] = {
        "name": name,
        "settings": settings.to_dict(),
        "seeds": list(seeds),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if exclude_genres:
        record["excluded_genres"] = list(exclude_genres)
        record["train_articles"] = train_articles
    record["mean"] = {
        key: statistics.mean(_headline(r)[key] for r in runs) for key in _headline(runs[0])
    }
    record["runs"] = runs
    return record


def write_train_subset(source: Path, exclude_genres: Sequence[str], target: Path) -> int:
    """Write the articles of `source` whose genre matches none of the shell-style patterns
    (case-sensitive) to `target`; return how many were kept.

    Exits with a message when a pattern matches no article's genre (a typo would otherwise
    train on everything) or when nothing is left.
    """
    articles = read_articles(source)
    unmatched = [
        pattern for pattern in exclude_genres
        if not any(fnmatch.fnmatchcase(article["genre"], pattern) for article in articles)
    ]
    if unmatched:
        raise SystemExit(
            f"--exclude-genre {', '.join(map(repr, unmatched))} matches no genre in {source}"
        )
    kept = [
        article for article in articles
        if not any(fnmatch.fnmatchcase(article["genre"], pattern) for pattern in exclude_genres)
    ]
    if not kept:
        raise SystemExit(
            f"--exclude-genre {', '.join(map(repr, exclude_genres))} leaves no training article"
        )
    write_jsonl(target, kept)
    return len(kept)


def _run_seed(
    name: str,
    settings: TrainingSettings,
    train_path: Path,
    real_news: Path | None,
    keep_models: Path | None,
) -> dict[str, Any]:
    """One seed: train, optionally keep the model, and score it everywhere."""
    result = train(
        settings,
        train_path,
        split_path("dev"),
        monitor={"real_news": real_news} if real_news is not None else None,
    )
    if keep_models is not None:
        data = {"train": train_path, "dev": split_path("dev"), "test": split_path("test")}
        save_trained(result, keep_models / f"{name}-s{settings.seed}", data, split_path("test"))
    predict = model_predictor(Labeller(result.model))
    run: dict[str, Any] = {
        "seed": settings.seed,
        "seconds": round(result.seconds, 1),
        "best_epoch": result.best_epoch,
        "epoch_scores": result.epoch_scores,
        "dev_macro_f1": result.dev["macro_f1"],
        "test": score_articles(predict, split_path("test")),
        "reference_correct": score_articles(predict, REFERENCE)["correct"],
    }
    if real_news is not None:
        run["real_news"] = score_articles(predict, real_news)
    if CHECKTHAT.is_file():
        run["checkthat_dev_test"] = score_checkthat(predict, CHECKTHAT)
    print(json.dumps({"variant": name, **_headline(run)}), flush=True)
    return run


def _headline(run: dict[str, Any]) -> dict[str, float]:
    out = {
        "test_macro_f1": run["test"]["macro_f1"],
        "reference_correct": run["reference_correct"],
        "seconds": run["seconds"],
    }
    if "real_news" in run:
        out["real_news_macro_f1"] = run["real_news"]["macro_f1"]
        for label in LABELS:
            out[f"real_news_f1_{label}"] = run["real_news"][f"f1_{label}"]
    if "checkthat_dev_test" in run:
        out["checkthat_dev_test"] = run["checkthat_dev_test"]
    return out


def _parse_settings(pairs: Sequence[str]) -> TrainingSettings:
    types = {f.name: f.type for f in fields(TrainingSettings)}
    values: dict[str, Any] = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        if key not in types:
            raise SystemExit(f"unknown training setting {key!r}")
        kind = types[key]
        try:
            values[key] = raw.lower() in ("1", "true", "yes") if kind == "bool" else (
                {"int": int, "float": float}.get(kind, str)(raw)
            )
        except ValueError:
            raise SystemExit(f"--set {pair}: {key} must be a {kind}") from None
    try:
        return TrainingSettings(**values)
    except ValueError as error:
        raise SystemExit(f"--set: {error}") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", help="variant name; the record is reports/experiments/NAME.json")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="training settings that differ from the defaults")
    parser.add_argument("--real-news", type=Path, help="the real-news dev set (labelled JSONL)")
    parser.add_argument("--keep-models", type=Path, metavar="DIR",
                        help="save each seed's model under DIR")
    parser.add_argument("--exclude-genre", action="append", default=[], metavar="PATTERN",
                        help="leave articles whose genre matches this shell-style pattern"
                        " (quote it) out of training (repeatable)")
    args = parser.parse_args(argv)
    record = run_variant(
        args.name, _parse_settings(args.set), args.seeds, args.real_news, args.keep_models,
        args.exclude_genre,
    )
    write_json(record, REPORT_DIR / f"{args.name}.json")
    print(json.dumps(record["mean"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
