"""A trained classifier is one directory: config, safetensors weights, tokenizer, model card.

Loading never runs code from the directory: the config is JSON, the weights are
safetensors, and `trust_remote_code` is never set.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModel, AutoTokenizer, PretrainedConfig
from transformers import PreTrainedTokenizerBase as Tokenizer
from transformers.utils import logging as hf_logging

from .labels import ID2LABEL, LABEL2ID, LABELS
from .model_config import (  # noqa: F401  (NotAModelError is re-exported for callers)
    FORMAT_VERSION,
    WEIGHTS_FILE,
    NotAModelError,
    TaggerSettings,
    read_config,
    tagger_settings,
)
from .tagger import SentenceTagger


@dataclass
class LoadedModel:
    tagger: SentenceTagger
    tokenizer: Tokenizer
    settings: TaggerSettings
    path: Path | None = None


def new_model(base: str, settings: TaggerSettings) -> LoadedModel:
    """A fresh classifier on top of the pretrained encoder `base` (an id or a directory)."""
    config = AutoConfig.from_pretrained(base, id2label=ID2LABEL, label2id=LABEL2ID)
    with _quiet_transformers():  # the unused pooler weights are expected, not news
        encoder = AutoModel.from_pretrained(base, config=config, add_pooling_layer=False)
    tokenizer = AutoTokenizer.from_pretrained(base)
    tagger = SentenceTagger(encoder, len(LABELS), settings.dropout)
    return LoadedModel(tagger, tokenizer, settings)


def save_model(model: LoadedModel, directory: Path, extra_files: dict[str, str]) -> None:
    """Write the model directory atomically: build it beside the target, then rename."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        config = model.tagger.encoder.config
        config.id2label, config.label2id = dict(ID2LABEL), dict(LABEL2ID)
        config.factsep = {"format_version": FORMAT_VERSION, **asdict(model.settings)}
        config.save_pretrained(staging)
        state = {name: tensor.contiguous() for name, tensor in model.tagger.state_dict().items()}
        save_file(state, str(staging / WEIGHTS_FILE), metadata={"format": "pt"})
        model.tokenizer.save_pretrained(staging)
        for name, content in extra_files.items():
            (staging / name).write_text(content, encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def load_model(directory: str | Path) -> LoadedModel:
    """Load a model directory written by `save_model`; a clear error if it is not one."""
    path = Path(directory)
    config = read_model_config(path)
    settings = tagger_settings(config.to_dict(), path)
    encoder = AutoModel.from_config(config, add_pooling_layer=False)
    tagger = SentenceTagger(encoder, len(LABELS), settings.dropout)
    try:
        state = load_file(str(path / WEIGHTS_FILE))
        tagger.load_state_dict(state, strict=True)
    except (OSError, RuntimeError, SafetensorError) as error:
        raise NotAModelError(f"{path / WEIGHTS_FILE}: unreadable weights ({error})") from error
    tagger.eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    return LoadedModel(tagger, tokenizer, settings, path)


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)
        hf_logging.enable_progress_bar()


def read_model_config(path: Path) -> PretrainedConfig:
    read_config(path)  # the checks every path shares, before transformers reads the file
    return AutoConfig.from_pretrained(path)
