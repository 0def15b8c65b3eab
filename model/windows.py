"""Turn sentences into encoder windows and windows into padded batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerBase

CONTEXT_MODES = ("window", "sentence")
INFERENCE_PAD_MULTIPLE = 16


@dataclass(frozen=True)
class Window:
    """One encoder input: token ids and, per token, the window-local sentence index (-1: none)."""

    input_ids: list[int]
    token_sentence: list[int]
    sentence_keys: list[tuple[int, int]]  # (article index, sentence index) of each sentence


@dataclass(frozen=True)
class Batch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_sentence: torch.Tensor
    sentence_keys: list[tuple[int, int]]

    @property
    def num_sentences(self) -> int:
        return len(self.sentence_keys)


def build_windows(
    tokenizer: PreTrainedTokenizerBase,
    articles: Sequence[Sequence[str]],
    max_length: int,
    context: str,
) -> list[Window]:
    """Pack each article's consecutive sentences into windows of at most `max_length` tokens."""
    if context not in CONTEXT_MODES:
        raise ValueError(f"context must be one of {CONTEXT_MODES}, not {context!r}")
    flat = [sentence for sentences in articles for sentence in sentences]
    if not flat:
        return []
    token_lists = tokenizer(flat, add_special_tokens=False)["input_ids"]
    cls_id, sep_id = _boundary_tokens(tokenizer)
    budget = max_length - 2  # room for [CLS] and one [SEP]
    windows: list[Window] = []
    position = 0
    for article_index, sentences in enumerate(articles):
        group: list[tuple[int, list[int]]] = []
        used = 0
        for sentence_index in range(len(sentences)):
            tokens = token_lists[position][:budget] or [sep_id]
            position += 1
            cost = len(tokens) + 1
            if group and (context == "sentence" or used + cost > max_length - 1):
                windows.append(_window(group, article_index, cls_id, sep_id))
                group, used = [], 0
            group.append((sentence_index, tokens))
            used += cost
        if group:
            windows.append(_window(group, article_index, cls_id, sep_id))
    return windows


def _window(
    group: list[tuple[int, list[int]]], article_index: int, cls_id: int, sep_id: int
) -> Window:
    input_ids = [cls_id]
    token_sentence = [-1]
    for local, (_, tokens) in enumerate(group):
        input_ids.extend(tokens)
        token_sentence.extend([local] * len(tokens))
        input_ids.append(sep_id)
        token_sentence.append(-1)
    keys = [(article_index, sentence_index) for sentence_index, _ in group]
    return Window(input_ids, token_sentence, keys)


def _boundary_tokens(tokenizer: PreTrainedTokenizerBase) -> tuple[int, int]:
    cls_id = tokenizer.cls_token_id
    sep_id = tokenizer.sep_token_id
    cls_id = tokenizer.bos_token_id if cls_id is None else cls_id
    sep_id = tokenizer.eos_token_id if sep_id is None else sep_id
    if cls_id is None or sep_id is None:
        raise ValueError("the tokenizer has neither CLS/SEP nor BOS/EOS tokens")
    return cls_id, sep_id


def collate(windows: Sequence[Window], pad_id: int, pad_multiple: int = 1) -> Batch:
    """Pad windows to the longest one in the batch (dynamic padding) and number sentences.

    `pad_multiple` rounds the width up; inference uses 16 so that long runs create few
    distinct tensor shapes, which keeps native kernel caches (and memory) bounded.
    """
    longest = max(len(window.input_ids) for window in windows)
    width = -(-longest // pad_multiple) * pad_multiple
    input_ids = torch.full((len(windows), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(windows), width), dtype=torch.long)
    token_sentence = torch.full((len(windows), width), -1, dtype=torch.long)
    keys: list[tuple[int, int]] = []
    for row, window in enumerate(windows):
        length = len(window.input_ids)
        input_ids[row, :length] = torch.tensor(window.input_ids)
        attention_mask[row, :length] = 1
        local = torch.tensor(window.token_sentence)
        token_sentence[row, :length] = torch.where(local >= 0, local + len(keys), local)
        keys.extend(window.sentence_keys)
    return Batch(input_ids, attention_mask, token_sentence, keys)


def token_batches(windows: Sequence[Window], batch_tokens: int) -> list[list[Window]]:
    """Group windows of similar length into batches of at most `batch_tokens` padded tokens.

    Sorting by length keeps padding small; a token budget (rather than a window count)
    keeps the work per batch even whether windows hold one sentence or twenty.
    """
    batches: list[list[Window]] = []
    current: list[Window] = []
    for window in sorted(windows, key=lambda w: len(w.input_ids)):
        if current and (len(current) + 1) * len(window.input_ids) > batch_tokens:
            batches.append(current)
            current = []
        current.append(window)
    if current:
        batches.append(current)
    return batches
