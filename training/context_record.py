"""The measured comparison of sentence-alone and with-context training.

Training both variants takes twice as long as the default run, so `factsep train
--compare-context` measures it once and writes `context-comparison.json`; a copy kept in
`reports/` is quoted in the card of every default model trained on the same data.
"""

from __future__ import annotations

import json
from pathlib import Path

from .model_card import file_sha256
from .paths import REPO_ROOT

COMPARISON_FILE = REPO_ROOT / "reports" / "context-comparison.json"


def write_comparison(path: Path, comparison: dict, data: dict[str, Path]) -> None:
    record = {
        "measured_with": "factsep train --compare-context",
        "data_sha256": {name: file_sha256(p) for name, p in data.items()},
        "macro_f1": comparison,
    }
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def recorded_comparison(data: dict[str, Path], path: Path = COMPARISON_FILE) -> dict | None:
    """The recorded comparison, if it was measured on exactly these data files."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    current = {name: file_sha256(p) for name, p in data.items()}
    return record["macro_f1"] if record.get("data_sha256") == current else None
