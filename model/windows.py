"""Turn sentences into encoder windows and windows into padded batches (numpy arrays)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .model_config import CONTEXT_MODES
from .tokenizer import WindowTokenizer, as_window_tokenizer

INFERENCE_PAD_MULTIPLE = 16


@dataclass(frozen=True)
class Window:
    """One encoder input: token ids and, per token, the window-local sentence index (-1: none)."""

    input_ids: list[int]
    token_sentence: list[int]
    sentence_keys: list[tuple[int, int]]  # (article index, sentence index) of each sentence
    truncated: tuple[bool, ...] = ()  # per sentence: cut to fit the window


@dataclass(frozen=True)
class Batch:
    input_ids: np.ndarray  # int64, (windows, width)
    attention_mask: np.ndarray
    token_sentence: np.ndarray  # batch-wide sentence number of each token, -1: none
    sentence_keys: list[tuple[int, int]]

    @property
    def num_sentences(self) -> int:
        return len(self.sentence_keys)


def build_windows(
    tokenizer: WindowTokenizer | Any,
    articles: Sequence[Sequence[str]],
    max_length: int,
    context: str,
) -> list[Window]:
    """Pack each article's consecutive sentences into windows of at most `max_length` tokens.

    A sentence longer than a window keeps its first `max_length - 2` tokens and is marked
    truncated. `tokenizer` is a WindowTokenizer or a (fast) transformers tokenizer.
    """
    if context not in CONTEXT_MODES:
        raise ValueError(f"context must be one of {CONTEXT_MODES}, not {context!r}")
    flat = [sentence for sentences in articles for sentence in sentences]
    if not flat:
        return []
    window_tokenizer = as_window_tokenizer(tokenizer)
    token_lists = window_tokenizer.encode(flat)
    cls_id, sep_id = window_tokenizer.cls_id, window_tokenizer.sep_id
    budget = max_length - 2  # room for [CLS] and one [SEP]
    windows: list[Window] = []
    position = 0
    for article_index, sentences in enumerate(articles):
        group: list[tuple[int, list[int], bool]] = []
        used = 0
        for sentence_index in range(len(sentences)):
            full = token_lists[position]
            tokens = full[:budget] or [sep_id]
            position += 1
            cost = len(tokens) + 1
            if group and (context == "sentence" or used + cost > max_length - 1):
                windows.append(_window(group, article_index, cls_id, sep_id))
                group, used = [], 0
            group.append((sentence_index, tokens, len(full) > budget))
            used += cost
        if group:
            windows.append(_window(group, article_index, cls_id, sep_id))
    return windows


def _window(
    group: list[tuple[int, list[int], bool]], article_index: int, cls_id: int, sep_id: int
) -> Window:
    input_ids = [cls_id]
    token_sentence = [-1]
    for local, (_, tokens, _) in enumerate(group):
        input_ids.extend(tokens)
        token_sentence.extend([local] * len(tokens))
        input_ids.append(sep_id)
        token_sentence.append(-1)
    keys = [(article_index, sentence_index) for sentence_index, _, _ in group]
    return Window(input_ids, token_sentence, keys, tuple(cut for _, _, cut in group))


def padded_width(length: int, pad_multiple: int) -> int:
    return -(-length // pad_multiple) * pad_multiple


def collate(windows: Sequence[Window], pad_id: int, pad_multiple: int = 1) -> Batch:
    """Pad windows to the longest one in the batch (dynamic padding) and number sentences.

    `pad_multiple` rounds the width up; inference uses 16 so that long runs create few
    distinct tensor shapes, which keeps native kernel caches (and memory) bounded.
    """
    width = padded_width(max(len(window.input_ids) for window in windows), pad_multiple)
    input_ids = np.full((len(windows), width), pad_id, dtype=np.int64)
    attention_mask = np.zeros((len(windows), width), dtype=np.int64)
    token_sentence = np.full((len(windows), width), -1, dtype=np.int64)
    keys: list[tuple[int, int]] = []
    for row, window in enumerate(windows):
        length = len(window.input_ids)
        input_ids[row, :length] = window.input_ids
        attention_mask[row, :length] = 1
        local = np.asarray(window.token_sentence, dtype=np.int64)
        token_sentence[row, :length] = np.where(local >= 0, local + len(keys), local)
        keys.extend(window.sentence_keys)
    return Batch(input_ids, attention_mask, token_sentence, keys)


def token_batches(
    windows: Sequence[Window],
    batch_tokens: int,
    pad_multiple: int | None = None,
    max_windows: int | None = None,
) -> list[list[Window]]:
    """Group windows of similar length into batches of at most `batch_tokens` padded tokens.

    Sorting by length keeps padding small; a token budget (rather than a window count)
    keeps the work per batch even whether windows hold one sentence or twenty. With
    `pad_multiple`, windows share a batch only when they pad to the same width, so every
    window is padded exactly as it would be alone and its result cannot depend on the
    others. `max_windows` caps the windows per batch (1: every window alone).
    """
    batches: list[list[Window]] = []
    current: list[Window] = []
    current_width = 0
    for window in sorted(windows, key=lambda w: len(w.input_ids)):
        length = len(window.input_ids)
        width = padded_width(length, pad_multiple) if pad_multiple else length
        full = (len(current) + 1) * width > batch_tokens or (
            max_windows is not None and len(current) >= max_windows
        )
        if current and (full or (pad_multiple and width != current_width)):
            batches.append(current)
            current = []
        current.append(window)
        current_width = width
    if current:
        batches.append(current)
    return batches
