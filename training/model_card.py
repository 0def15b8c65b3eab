"""The README.md model card written into every trained model directory."""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from factsep.model.labels import LABELS

if TYPE_CHECKING:
    from .train import TrainingResult

LIBRARIES = ("factsep", "torch", "transformers", "datasets", "scikit-learn", "sentencex")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def library_versions() -> dict[str, str]:
    return {"python": platform.python_version(), **{name: version(name) for name in LIBRARIES}}


def _metric_rows(scores: dict[str, float]) -> list[str]:
    rows = ["| label | precision | recall | F1 |", "|---|---|---|---|"]
    for label in LABELS:
        rows.append(
            f"| {label} | {scores[f'precision_{label}']:.3f} | {scores[f'recall_{label}']:.3f} "
            f"| {scores[f'f1_{label}']:.3f} |"
        )
    rows.append(f"| **macro** | | | **{scores['macro_f1']:.3f}** |")
    return rows


def render_model_card(
    result: TrainingResult,
    data_files: dict[str, Path],
    comparison: dict[str, dict[str, float]],
    scoreboard: Sequence[str] = (),
) -> str:
    """Markdown describing the model, its data, settings, metrics and environment.

    `scoreboard` holds the rows of the real-world scoreboard recorded for a model trained
    from the same data (`reports/scoreboard.json`), if there is one.
    """
    settings = result.settings
    lines = [
        "# factsep sentence classifier",
        "",
        "Labels every sentence of a news article `fact`, `opinion` or `filler`, following the",
        "project's annotation guidelines. Load it with `factsep label --model THIS_DIR` or",
        "`factsep.model.predict.Labeller.from_directory(THIS_DIR)`.",
        "",
        f"- base encoder: `{settings.base}`",
        f"- context: `{settings.context}` (max {settings.max_length} tokens per window)",
        f"- labels (id order): {', '.join(f'`{label}`' for label in LABELS)}",
        f"- seed: {settings.seed}; best dev epoch: {result.best_epoch} of {settings.epochs}",
        f"- training time: {result.seconds:.0f} s",
        "",
        "## Metrics (gold segmentation, fp32)",
        "",
        "### dev",
        "",
        *_metric_rows(result.dev),
    ]
    if result.test is not None:
        lines += ["", "### test", "", *_metric_rows(result.test)]
    if comparison:
        lines += [
            "",
            "## Context: sentence-alone vs with-context",
            "",
            "| variant | dev macro-F1 | test macro-F1 |",
            "|---|---|---|",
        ]
        for name, scores in comparison.items():
            lines.append(f"| {name} | {scores['dev']:.3f} | {scores['test']:.3f} |")
        lines.append("")
        lines.append(
            "Both variants trained with the same settings and seed (`factsep train "
            "--compare-context`, recorded in reports/context-comparison.json); the one with "
            "the better dev macro-F1 is the default context."
        )
    if scoreboard:
        lines += [
            "",
            "## Real-world scoreboard",
            "",
            "Gold segmentation. Recorded in `reports/scoreboard.json` for the reference build",
            "of this model (same training data and settings); the real-news dev set holds 30",
            "real published articles labelled by the guidelines and is never trained on.",
            "",
            *scoreboard,
        ]
    lines += ["", "## Data", "", "| split | file | sha256 |", "|---|---|---|"]
    for split, path in data_files.items():
        lines.append(f"| {split} | `{Path(path).name}` | `{file_sha256(path)}` |")
    lines += ["", "## Training settings", "", "```json", json.dumps(settings.to_dict(), indent=2)]
    lines += ["```", "", "## Library versions", ""]
    lines += [f"- {name} {ver}" for name, ver in library_versions().items()]
    return "\n".join(lines) + "\n"
