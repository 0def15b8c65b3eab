"""A trained classifier is one directory: config, safetensors weights, tokenizer, model card.

Loading never runs code from the directory: the config files are read as JSON and refused
if they point at custom code (`auto_map`) or name a model type transformers does not ship,
the weights are safetensors, and every transformers call passes `trust_remote_code=False`
(so transformers raises instead of asking on standard input).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from transformers import CONFIG_MAPPING, AutoConfig, AutoModel, AutoTokenizer, PretrainedConfig
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

# Files transformers reads from a directory that can point it at custom code.
CODE_POINTER_FILES = ("config.json", "tokenizer_config.json")


@dataclass
class LoadedModel:
    tagger: SentenceTagger
    tokenizer: Tokenizer
    settings: TaggerSettings
    path: Path | None = None


def new_model(base: str, settings: TaggerSettings, encoder_layers: int = 0) -> LoadedModel:
    """A fresh classifier on top of the pretrained encoder `base` (an id or a directory).

    `encoder_layers` > 0 keeps only that many of the encoder's lowest layers (0: all).
    """
    if Path(base).is_dir():
        refuse_custom_code(Path(base))
    with _base_encoder_errors(base):
        config = AutoConfig.from_pretrained(
            base, id2label=ID2LABEL, label2id=LABEL2ID, trust_remote_code=False
        )
    if encoder_layers > config.num_hidden_layers:
        raise ValueError(
            f"encoder_layers is {encoder_layers}, but the encoder has "
            f"{config.num_hidden_layers} layers"
        )
    config.num_hidden_layers = encoder_layers or config.num_hidden_layers
    with _base_encoder_errors(base):
        with _quiet_transformers():  # unused pooler (and dropped layers') weights are expected
            encoder = AutoModel.from_pretrained(
                base, config=config, add_pooling_layer=False, trust_remote_code=False
            )
        tokenizer = AutoTokenizer.from_pretrained(base, trust_remote_code=False)
    tagger = SentenceTagger(encoder, len(LABELS), settings.dropout)
    return LoadedModel(tagger, tokenizer, settings)


@contextmanager
def _base_encoder_errors(base: str) -> Iterator[None]:
    """Turn a loading library's error into one line naming the base."""
    try:
        yield
    except (OSError, ValueError, KeyError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise NotAModelError(f"{base}: cannot load it as a base encoder ({first_line})") from None


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
    try:
        encoder = AutoModel.from_config(config, add_pooling_layer=False, trust_remote_code=False)
    except (TypeError, ValueError) as error:
        config_file = path / "config.json"
        raise NotAModelError(f"{config_file}: cannot build the encoder ({error})") from None
    tagger = SentenceTagger(encoder, len(LABELS), settings.dropout)
    try:
        state = load_file(str(path / WEIGHTS_FILE))
        tagger.load_state_dict(state, strict=True)
    except (OSError, RuntimeError, SafetensorError) as error:
        raise NotAModelError(f"{path / WEIGHTS_FILE}: unreadable weights ({error})") from error
    tagger.eval()
    if not (path / "tokenizer_config.json").is_file():
        raise NotAModelError(f"{path}: no tokenizer files (tokenizer_config.json is missing)")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    except (OSError, ValueError, TypeError) as error:
        raise NotAModelError(f"{path}: unreadable tokenizer files ({error})") from None
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
    refuse_custom_code(path)
    try:
        return AutoConfig.from_pretrained(path, trust_remote_code=False)
    except (OSError, ValueError, TypeError, KeyError) as error:
        config_file = path / "config.json"
        raise NotAModelError(f"{config_file}: not a usable model config ({error})") from None


def refuse_custom_code(path: Path) -> None:
    """Raise NotAModelError if the directory's config files point transformers at code.

    Checked on the raw JSON before transformers sees the directory: an `auto_map` names
    Python files to import, and a model type transformers does not ship can only be
    loaded through such code.
    """
    for name in CODE_POINTER_FILES:
        raw = _read_json_object(path / name)
        if raw is None:
            continue
        if "auto_map" in raw:
            raise NotAModelError(
                f"{path / name}: has an 'auto_map' (custom Python code); "
                "factsep never runs code from a model directory"
            )
    config = _read_json_object(path / "config.json")
    model_type = config.get("model_type") if config is not None else None
    if config is not None and model_type not in CONFIG_MAPPING:
        raise NotAModelError(
            f"{path / 'config.json'}: unknown model_type {model_type!r}; only architectures "
            "built into transformers are loaded (factsep never runs code from a model directory)"
        )


def _read_json_object(file: Path) -> dict | None:
    """The JSON object in `file`; None if the file does not exist; else a clear error."""
    if not file.exists():
        return None
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise NotAModelError(f"{file}: cannot read ({error.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotAModelError(f"{file}: not valid JSON ({error})") from None
    if not isinstance(raw, dict):
        raise NotAModelError(f"{file}: not valid JSON config (expected an object)")
    return raw
