"""The label set, in the one fixed order every saved model and report uses."""

from __future__ import annotations

LABELS: tuple[str, ...] = ("fact", "opinion", "filler")
LABEL2ID: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
ID2LABEL: dict[int, str] = dict(enumerate(LABELS))
