"""Where the repository's data and the default model live."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
ARTICLES_DIR = DATA_DIR / "articles"
SAMPLE_ARTICLE = DATA_DIR / "sample-article.txt"


def split_path(name: str) -> Path:
    """data/<name>.jsonl for name in train, dev, test."""
    return DATA_DIR / f"{name}.jsonl"


def default_model_dir() -> Path:
    """The default model: $FACTSEP_HOME/default-model, else ~/.cache/factsep/default-model."""
    home = os.environ.get("FACTSEP_HOME")
    if home:
        return Path(home) / "default-model"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "factsep" / "default-model"


def baseline_cache_dir() -> Path:
    """Fitted evaluation baselines: a `baselines` folder beside the default model."""
    return default_model_dir().parent / "baselines"
