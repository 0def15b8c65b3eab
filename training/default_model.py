"""The default model: trained from the repository's data on first use, then loaded."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from factsep.model.job import Log
from factsep.model.model_config import CONTEXT_MODES, NotAModelError, read_config

from .config import TrainingSettings
from .context_record import COMPARISON_FILE, recorded_comparison, write_comparison
from .paths import default_model_dir, split_path


def default_model_ready(directory: Path | None = None) -> bool:
    """Whether a model directory is there (its config's checks; loading it checks the rest).

    Only JSON is read, so labelling with the default model on the torch-free int8 path does
    not import torch or transformers to find it.
    """
    try:
        read_config(directory or default_model_dir())
    except NotAModelError:
        return False
    return True


def ensure_default_model(log: Log, directory: Path | None = None) -> Path:
    """Return the default model directory, training it first if it is missing."""
    directory = directory or default_model_dir()
    if default_model_ready(directory):
        return directory
    log(
        f"no default model at {directory}: training it now from the repository's data "
        "(up to about 20 minutes on a 2-core CPU; this happens once)"
    )
    return train_model(TrainingSettings(), directory, log)


def train_model(
    settings: TrainingSettings,
    directory: Path,
    log: Log,
    compare_context: bool = False,
    data: dict[str, Path] | None = None,
) -> Path:
    """Train on data/train.jsonl, select on dev, score on test, save, pick the inference path.

    With `compare_context`, both context variants are trained; the one with the better dev
    macro-F1 is saved and the card reports both on dev and test.
    """
    from .data.dataset import read_articles
    from .inference_paths import choose_inference_path
    from .train import evaluate_gold, save_trained, train

    data = data or {name: split_path(name) for name in ("train", "dev", "test")}
    variants = CONTEXT_MODES if compare_context else (settings.context,)
    results = []
    for context in variants:
        log(f"training the {context!r} variant")
        results.append(train(replace(settings, context=context), data["train"], data["dev"], log))
    if compare_context:
        test_articles = read_articles(data["test"])
        comparison = {
            r.settings.context: {
                "dev": r.dev["macro_f1"],
                "test": evaluate_gold(r.model, test_articles)["macro_f1"],
            }
            for r in results
        }
    else:
        comparison = recorded_comparison(data) or {}
    best = max(results, key=lambda r: r.dev["macro_f1"])
    save_trained(best, directory, data, data["test"], comparison)
    if compare_context:
        write_comparison(directory / COMPARISON_FILE.name, comparison, data)
    choose_inference_path(directory, data["test"], log)
    log(f"saved the {best.settings.context!r} model to {directory}")
    return directory
