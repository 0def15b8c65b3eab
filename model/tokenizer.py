"""Token ids for windows, from the `tokenizers` library alone (no transformers, no torch).

Training hands in a transformers tokenizer and inference reads `tokenizer.json` from the
model directory; both end up in the same Rust tokenizer, so a sentence gets the same ids
on every path. Calling it directly also avoids transformers' "sequence length is longer
than the specified maximum" warning: long sentences are cut, and flagged, by the windows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from .model_config import NotAModelError

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"


class WindowTokenizer:
    """Sentences to token ids without special tokens, plus the ids windows are built from."""

    def __init__(self, backend: Tokenizer, cls_id: int, sep_id: int, pad_id: int) -> None:
        self.backend = backend
        self.backend.no_truncation()
        self.backend.no_padding()
        self.cls_id = cls_id
        self.sep_id = sep_id
        self.pad_id = pad_id

    @classmethod
    def from_directory(cls, directory: Path) -> WindowTokenizer:
        """Read `tokenizer.json` and the special tokens named in `tokenizer_config.json`."""
        try:
            backend = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
            config = json.loads((directory / TOKENIZER_CONFIG_FILE).read_text(encoding="utf-8"))
        except Exception as error:  # the Rust loader raises a plain Exception
            raise NotAModelError(f"{directory}: unreadable tokenizer ({error})") from None
        if not isinstance(config, dict):
            raise NotAModelError(f"{directory / TOKENIZER_CONFIG_FILE}: not a JSON object")

        def token_id(*names: str) -> int | None:
            for name in names:
                token = _token_text(config.get(name))
                if token is not None and (found := backend.token_to_id(token)) is not None:
                    return found
            return None

        cls_id = token_id("cls_token", "bos_token")
        sep_id = token_id("sep_token", "eos_token")
        if cls_id is None or sep_id is None:
            raise NotAModelError(f"{directory}: the tokenizer has neither CLS/SEP nor BOS/EOS")
        return cls(backend, cls_id, sep_id, token_id("pad_token") or 0)

    @classmethod
    def from_transformers(cls, tokenizer: Any) -> WindowTokenizer:
        """Wrap the Rust tokenizer inside a (fast) transformers tokenizer."""
        cls_id = tokenizer.cls_token_id
        sep_id = tokenizer.sep_token_id
        cls_id = tokenizer.bos_token_id if cls_id is None else cls_id
        sep_id = tokenizer.eos_token_id if sep_id is None else sep_id
        if cls_id is None or sep_id is None:
            raise ValueError("the tokenizer has neither CLS/SEP nor BOS/EOS tokens")
        backend = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
        return cls(backend, cls_id, sep_id, tokenizer.pad_token_id or 0)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, without [CLS]/[SEP]."""
        encodings = self.backend.encode_batch(list(texts), add_special_tokens=False)
        return [encoding.ids for encoding in encodings]


def _token_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    return None


def as_window_tokenizer(tokenizer: WindowTokenizer | Any) -> WindowTokenizer:
    """A WindowTokenizer as is; a transformers tokenizer wrapped."""
    if isinstance(tokenizer, WindowTokenizer):
        return tokenizer
    return WindowTokenizer.from_transformers(tokenizer)
