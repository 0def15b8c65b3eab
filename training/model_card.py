"""The README.md model card written into every trained model directory."""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Sequence
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from factsep.model.labels import LABELS

from .config import TrainingSettings

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


# Why the default settings are what they are: `reports/experiments/` in the repository, scored
# on the real-news dev set (30 real articles, never trained on) and CheckThat! 2025 dev_test.
DEFAULT_CHOICES = (
    "- 6 epochs, not 4: real-news macro-F1 0.736 -> 0.764 on the same data (one seed); not 8",
    "  (`r13-8ep`, seeds 42, 43, 44: real-news 0.765 against 0.768, a third more training).",
    "- label smoothing 0.1, extraction-noise edits on 15% of training sentences and random",
    "  window lengths (`r10-robust`, mean of seeds 42, 43, 44): real-news 0.768 against 0.749",
    "  for the plain settings, CheckThat! 0.748 against 0.728, test 0.949 against 0.942; the",
    "  reference article 33.3 of 38 against 34.7.",
    "- bf16 autocast in training where the CPU has native bf16 (`bf16=auto`): the accuracy of",
    "  fp32 (`r12-bf16`, seeds 42, 43, 44: real-news 0.768, test 0.949, as `r10-robust`);",
    "  438 s of training on 2 cores with native bf16, against 863 s in fp32 on 2 AVX2 cores.",
    "- MiniLM-L6 as the base, not all-mpnet-base-v2: mpnet scored real-news 0.811 (`r14-mpnet`,",
    "  seeds 42, 43, 44) but trained 4x longer and labels 7x slower (68 against 468 sentences/s).",
    "- kept as they are because the alternatives did not help real text: class-weighted loss,",
    "  every layer trained, no token masking, no R-Drop consistency, window context.",
)


def _is_default(settings: TrainingSettings) -> bool:
    """Whether `settings` are the defaults apart from the seed and the thread count."""
    return replace(settings, seed=0, threads=0) == TrainingSettings(seed=0, threads=0)


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
    if _is_default(settings):
        lines += ["", "## Why these settings", "", *DEFAULT_CHOICES]
    lines += ["", "## Data", "", "| split | file | sha256 |", "|---|---|---|"]
    for split, path in data_files.items():
        lines.append(f"| {split} | `{Path(path).name}` | `{file_sha256(path)}` |")
    lines += ["", "## Training settings", "", "```json", json.dumps(settings.to_dict(), indent=2)]
    lines += ["```", "", "## Library versions", ""]
    lines += [f"- {name} {ver}" for name, ver in library_versions().items()]
    return "\n".join(lines) + "\n"
