"""Training settings: one dataclass, validated on construction, loadable from a JSON file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from factsep.model.model_config import CONTEXT_MODES

BF16_CHOICES = ("auto", "on", "off")
_TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str, "int": int, "float": (int, float), "bool": bool
}


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class TrainingSettings:
    """Everything that decides a training run; the same settings and seed give the same model."""

    base: str = _setting(
        "all-MiniLM-L6-v2",
        "pretrained encoder: the packaged default, a Hugging Face id or a local directory",
    )
    context: str = _setting("window", "window: classify sentences in context; sentence: alone")
    max_length: int = _setting(256, "tokens per encoder window")
    epochs: int = _setting(6, "passes over the training articles")
    learning_rate: float = _setting(8e-5, "peak AdamW learning rate")
    weight_decay: float = _setting(0.01, "AdamW weight decay")
    warmup_ratio: float = _setting(0.1, "share of steps with a linear warm-up")
    batch_tokens: int = _setting(2048, "padded tokens per training step (the batch size)")
    dropout: float = _setting(0.1, "dropout before the classification head")
    encoder_layers: int = _setting(
        0, "keep only the lowest N layers of the pretrained encoder (0: all of them)"
    )
    frozen_layers: int = _setting(
        0, "keep the embeddings and the lowest N encoder layers as pretrained (0: none)"
    )
    class_weighting: bool = _setting(True, "weight the loss by inverse label frequency")
    label_smoothing: float = _setting(0.1, "label smoothing of the cross-entropy loss")
    noise: float = _setting(0.15, "share of training sentences given one extraction-noise edit")
    token_masking: float = _setting(
        0.0, "share of sentence tokens replaced by the mask token, drawn anew each step"
    )
    consistency: float = _setting(
        0.0,
        "weight of the R-Drop consistency loss: the symmetric KL divergence between two "
        "dropout passes over each batch (0: one pass, no consistency term)",
    )
    length_jitter: bool = _setting(
        True, "pack each article into windows of a random length up to max_length each epoch"
    )
    bf16: str = _setting("auto", "bf16 autocast in training: auto (where the CPU has it), on, off")
    seed: int = _setting(42, "the one seed; every other seed derives from it")
    threads: int = _setting(0, "CPU threads for torch (0: torch's default)")

    def __post_init__(self) -> None:
        for f in fields(self):
            value, kind = getattr(self, f.name), _TYPES[f.type]
            if isinstance(value, bool) and f.type != "bool" or not isinstance(value, kind):
                raise ValueError(f"{f.name} must be a {f.type}, not {value!r}")
        if self.encoder_layers < 0:
            raise ValueError("encoder_layers must be 0 (every layer) or a positive number")
        if self.frozen_layers < 0:
            raise ValueError("frozen_layers must be 0 (train every layer) or a positive number")
        if self.threads < 0:
            raise ValueError("threads must be 0 (torch's default) or a positive number")
        if self.context not in CONTEXT_MODES:
            raise ValueError(f"context must be one of {CONTEXT_MODES}, not {self.context!r}")
        for name in ("max_length", "epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.batch_tokens < self.max_length:
            raise ValueError("batch_tokens must be at least max_length")
        if not 16 <= self.max_length <= 512:
            raise ValueError("max_length must be between 16 and 512")
        if not 0 < self.learning_rate < 1:
            raise ValueError("learning_rate must be in (0, 1)")
        if not 0 <= self.dropout < 1 or not 0 <= self.warmup_ratio < 1:
            raise ValueError("dropout and warmup_ratio must be in [0, 1)")
        if not 0 <= self.label_smoothing < 1 or not 0 <= self.noise <= 1:
            raise ValueError("label_smoothing must be in [0, 1) and noise in [0, 1]")
        if not 0 <= self.token_masking < 1:
            raise ValueError("token_masking must be in [0, 1)")
        if self.consistency < 0:
            raise ValueError("consistency must be 0 (off) or a positive weight")
        if self.bf16 not in BF16_CHOICES:
            raise ValueError(f"bf16 must be one of {BF16_CHOICES}, not {self.bf16!r}")

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> TrainingSettings:
        """Settings from a JSON object file; unknown keys are an error naming the file."""
        path = Path(path)
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: cannot read training settings ({error})") from None
        if not isinstance(values, dict):
            raise ValueError(f"{path}: training settings must be a JSON object")
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"{path}: unknown training settings {sorted(unknown)}")
        try:
            return cls(**{**values, **overrides})
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
