"""Read the metrics back from a model directory's README.md model card.

The card (written at training time) holds one markdown table per split under
`## Metrics ...`: a row per label with precision, recall and F1, then a `macro` row.
"""

from __future__ import annotations

import re
from pathlib import Path

CARD_FILE = "README.md"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def read_card_metrics(directory: str | Path) -> dict[str, dict[str, float]]:
    """{split: {"precision_fact": ..., "f1_fact": ..., "macro_f1": ...}} ({} without a card)."""
    try:
        text = (Path(directory) / CARD_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    metrics: dict[str, dict[str, float]] = {}
    in_metrics, split = False, None
    for line in text.splitlines():
        if line.startswith("## "):
            in_metrics, split = line.startswith("## Metrics"), None
        elif in_metrics and line.startswith("### "):
            split = line[4:].strip()
        elif in_metrics and split and line.startswith("|"):
            _read_row(line, metrics.setdefault(split, {}))
    return {name: scores for name, scores in metrics.items() if scores}


def _read_row(line: str, scores: dict[str, float]) -> None:
    cells = [cell.strip().strip("*") for cell in line.strip().strip("|").split("|")]
    name, values = cells[0], cells[1:]
    if name == "macro":
        numbers = [float(v) for v in values if _NUMBER.fullmatch(v)]
        if numbers:
            scores["macro_f1"] = numbers[-1]
        return
    if len(values) == 3 and all(_NUMBER.fullmatch(v) for v in values):
        for metric, value in zip(("precision", "recall", "f1"), values, strict=True):
            scores[f"{metric}_{name}"] = float(value)
