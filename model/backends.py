"""Inference paths: the same classifier run in fp32, in bf16 autocast, or as int8 ONNX.

Every path takes a padded `Batch` and returns sentence logits as a numpy array. The
PyTorch paths import torch when they are built; the int8 path needs only onnxruntime and
numpy (pooling and the linear head run in numpy), so it starts without torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .cores import available_cores
from .model_config import WEIGHTS_FILE, NotAModelError
from .windows import Batch

if TYPE_CHECKING:
    from .tagger import SentenceTagger

ONNX_INT8_FILE = "encoder.int8.onnx"
HEAD_WEIGHT, HEAD_BIAS = "head.weight", "head.bias"


class Backend(Protocol):
    precision: str
    # Windows one encoder call may hold (None: any). A path whose result for one window
    # could depend on the other windows of its batch sets 1.
    max_batch_windows: int | None
    # Calls the Labeller may run at once from separate threads (1: one call at a time).
    concurrent_calls: int

    def __call__(self, batch: Batch) -> np.ndarray: ...


def native_bf16() -> bool:
    """Whether this CPU has bf16 matrix instructions (AVX512-BF16, AMX or Arm BF16).

    Read from /proc/cpuinfo, so deciding costs no torch import. Without them bf16 is
    emulated and slower than fp32.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as stream:
            info = stream.read()
    except OSError:
        return False
    flags = set()
    for line in info.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            flags.update(value.split())
    return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})


class TorchBackend:
    """PyTorch eager inference, optionally under bf16 autocast."""

    max_batch_windows = None
    concurrent_calls = 1  # torch already spreads one call over its intra-op threads

    def __init__(self, tagger: SentenceTagger, precision: str = "fp32") -> None:
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"TorchBackend runs fp32 or bf16, not {precision!r}")
        self.tagger = tagger.eval()
        self.precision = precision

    def __call__(self, batch: Batch) -> np.ndarray:
        import torch

        with torch.inference_mode(), torch.autocast(
            "cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"
        ):
            logits = self.tagger(
                torch.from_numpy(batch.input_ids),
                torch.from_numpy(batch.attention_mask),
                torch.from_numpy(batch.token_sentence),
                batch.num_sentences,
            )
        return logits.float().numpy()


class OnnxInt8Backend:
    """The encoder as a dynamically quantised int8 ONNX graph; pooling and head in numpy.

    Dynamic quantisation scales activations per tensor, so the scale of a batch depends on
    every window (and every pad token) in it. Each window therefore runs alone and
    unpadded: its result depends on its own tokens only, never on its batch.

    One window is too small a job to share among cores, so each call runs on one thread
    and the Labeller keeps `threads` calls (default: every logical CPU it may use) running at
    once; onnxruntime releases the GIL while it runs. On this project's 2-core machine that
    labels one-sentence records about a fifth faster than one call on two threads.
    """

    precision = "int8"
    max_batch_windows = 1

    def __init__(
        self, onnx_path: Path, head_weight: np.ndarray, head_bias: np.ndarray,
        threads: int | None = None,
    ) -> None:
        import onnxruntime

        if not Path(onnx_path).is_file():
            raise NotAModelError(
                f"{onnx_path}: no int8 encoder in this model directory; "
                "run `factsep bench` to build it"
            )
        self.concurrent_calls = threads or available_cores()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self.head_weight_t = np.ascontiguousarray(head_weight.T, dtype=np.float32)
        self.head_bias = head_bias.astype(np.float32)

    @classmethod
    def from_directory(cls, directory: Path, threads: int | None = None) -> OnnxInt8Backend:
        """The int8 encoder of a model directory and its head weights, read without torch."""
        weight, bias = read_head(directory)
        return cls(directory / ONNX_INT8_FILE, weight, bias, threads)

    def hidden_states(self, batch: Batch) -> np.ndarray:
        (hidden,) = self.session.run(
            ["last_hidden_state"],
            {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask},
        )
        return hidden

    def __call__(self, batch: Batch) -> np.ndarray:
        pooled = pool_sentences(self.hidden_states(batch), batch.token_sentence,
                                batch.num_sentences)
        return pooled @ self.head_weight_t + self.head_bias


def read_head(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    """The linear head's weight and bias from the model's safetensors file (numpy only)."""
    from safetensors import SafetensorError, safe_open

    path = directory / WEIGHTS_FILE
    try:
        with safe_open(str(path), framework="numpy") as weights:
            return weights.get_tensor(HEAD_WEIGHT), weights.get_tensor(HEAD_BIAS)
    except (OSError, SafetensorError, KeyError) as error:
        raise NotAModelError(f"{path}: unreadable head weights ({error})") from None


def pool_sentences(
    hidden: np.ndarray, token_sentence: np.ndarray, num_sentences: int
) -> np.ndarray:
    """Mean of each sentence's token vectors; `token_sentence` is -1 for other tokens.

    Sentences are numbered in reading order and every sentence has at least one token, so
    the sentence indices of the kept tokens are sorted and `reduceat` sums each run.
    """
    mask = token_sentence >= 0
    index = token_sentence[mask]
    vectors = hidden[mask].astype(np.float32, copy=False)
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    if len(starts) != num_sentences:
        raise ValueError(f"{len(starts)} sentences pooled, {num_sentences} expected")
    sums = np.add.reduceat(vectors, starts, axis=0)
    counts = np.diff(np.r_[starts, len(index)]).astype(np.float32)
    return sums / counts[:, None]
