"""A model directory's own settings, read from its JSON files without torch or transformers.

Both the PyTorch loader (`directory.load_model`) and the torch-free int8 path start here,
so a directory is judged the same way whichever path reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .labels import LABELS

WEIGHTS_FILE = "model.safetensors"
FORMAT_VERSION = 1
CONTEXT_MODES = ("window", "sentence")  # how sentences are packed into encoder windows
MAX_WINDOW_TOKENS = 512  # the position embeddings of BERT-style encoders


class NotAModelError(ValueError):
    """A path that should hold a factsep model directory does not."""


@dataclass(frozen=True)
class TaggerSettings:
    """What a saved model needs to know to label text the way it was trained."""

    context: str = "window"
    max_length: int = 256
    dropout: float = 0.1


def read_config(path: Path) -> dict[str, Any]:
    """The validated `config.json` of a factsep model directory, as a plain dict."""
    if not path.is_dir():
        raise NotAModelError(f"{path}: not a directory (expected a factsep model directory)")
    config_file = path / "config.json"
    if not config_file.is_file() or not (path / WEIGHTS_FILE).is_file():
        raise NotAModelError(
            f"{path}: not a factsep model directory (needs config.json and {WEIGHTS_FILE})"
        )
    try:
        raw = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotAModelError(f"{config_file}: not valid JSON ({error})") from error
    if isinstance(raw, dict) and "auto_map" in raw:
        raise NotAModelError(
            f"{config_file}: has an 'auto_map' (custom Python code); "
            "factsep never runs code from a model directory"
        )
    if isinstance(raw, dict) and "factsep" in raw and not isinstance(raw["factsep"], dict):
        raise NotAModelError(f"{config_file}: bad 'factsep' section (must be a JSON object)")
    if not isinstance(raw, dict) or not isinstance(raw.get("factsep"), dict):
        raise NotAModelError(
            f"{path}: config.json has no 'factsep' section; this is not a factsep model "
            "(a plain Hugging Face model can be used as a base for `factsep train --base`)"
        )
    id2label = raw.get("id2label") or {}
    labels = tuple(id2label.get(str(i)) for i in range(len(id2label)))
    if labels != LABELS:
        raise NotAModelError(f"{path}: labels {labels} are not {LABELS}")
    return raw


def tagger_settings(config: dict[str, Any], where: Path) -> TaggerSettings:
    """The `factsep` section of a model config as settings; a clear error if it is malformed."""
    known = {f.name for f in fields(TaggerSettings)}
    values = {k: v for k, v in config["factsep"].items() if k in known}
    try:
        settings = TaggerSettings(**values)
        if not isinstance(settings.max_length, int) or not isinstance(settings.context, str):
            raise TypeError(f"unsupported settings {config['factsep']}")
    except TypeError as error:
        raise NotAModelError(f"{where}: bad 'factsep' section ({error})") from None
    return settings
