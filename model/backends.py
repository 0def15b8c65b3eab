"""Inference paths: the same classifier run in fp32, in bf16 autocast, or as int8 ONNX.

Every path takes a padded `Batch` and returns sentence logits; pooling and the head are
shared, so paths differ only in how the encoder's token vectors are computed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import torch

from .tagger import SentenceTagger
from .windows import Batch

PRECISIONS = ("fp32", "bf16", "int8")
ONNX_INT8_FILE = "encoder.int8.onnx"


class Backend(Protocol):
    precision: str

    def __call__(self, batch: Batch) -> torch.Tensor: ...


def bf16_supported() -> bool:
    """Whether this CPU runs bf16 matrix work natively (otherwise autocast is slower)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


class TorchBackend:
    """PyTorch eager inference, optionally under bf16 autocast."""

    def __init__(self, tagger: SentenceTagger, precision: str = "fp32") -> None:
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"TorchBackend runs fp32 or bf16, not {precision!r}")
        self.tagger = tagger.eval()
        self.precision = precision

    def __call__(self, batch: Batch) -> torch.Tensor:
        with torch.inference_mode(), torch.autocast(
            "cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"
        ):
            logits = self.tagger(
                batch.input_ids, batch.attention_mask, batch.token_sentence, batch.num_sentences
            )
        return logits.float()


class OnnxInt8Backend:
    """The encoder as a dynamically quantised int8 ONNX graph; the head stays in PyTorch."""

    precision = "int8"

    def __init__(self, tagger: SentenceTagger, onnx_path: Path, threads: int | None = None) -> None:
        import onnxruntime

        if not Path(onnx_path).is_file():
            raise FileNotFoundError(
                f"{onnx_path}: no int8 encoder in this model directory; "
                "run `factsep bench` or `factsep quantize` to build it"
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        self.session = onnxruntime.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self.tagger = tagger.eval()

    def __call__(self, batch: Batch) -> torch.Tensor:
        (hidden,) = self.session.run(
            ["last_hidden_state"],
            {
                "input_ids": batch.input_ids.numpy(),
                "attention_mask": batch.attention_mask.numpy(),
            },
        )
        with torch.inference_mode():
            return self.tagger.classify(
                torch.from_numpy(hidden), batch.token_sentence, batch.num_sentences
            )
