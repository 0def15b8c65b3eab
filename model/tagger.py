"""The classifier: a pretrained encoder and a linear head over each sentence's tokens.

Context comes at no extra encoder cost: consecutive sentences of an article are packed
into one window ([CLS] s1 [SEP] s2 [SEP] ...), encoded once, and each sentence is
classified from the mean of its own token vectors, which have attended to its neighbours.
With `context="sentence"` every window holds one sentence (the sentence-alone variant).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedModel


class SentenceTagger(nn.Module):
    """Encoder + dropout + linear head, one prediction per sentence."""

    def __init__(self, encoder: PreTrainedModel, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    def forward(
        self,
        input_ids: torch.Tensor | np.ndarray,
        attention_mask: torch.Tensor | np.ndarray,
        token_sentence: torch.Tensor | np.ndarray,
        num_sentences: int,
    ) -> torch.Tensor:
        """Logits of shape (num_sentences, num_labels) for the sentences in the batch.

        The inputs are tensors or the numpy arrays of a `windows.Batch` (shared, not copied).
        """
        hidden = self.encoder(
            input_ids=torch.as_tensor(input_ids), attention_mask=torch.as_tensor(attention_mask)
        ).last_hidden_state
        return self.classify(hidden, torch.as_tensor(token_sentence), num_sentences)

    def classify(
        self, hidden: torch.Tensor, token_sentence: torch.Tensor, num_sentences: int
    ) -> torch.Tensor:
        """Pool token vectors into sentence vectors and apply the head."""
        pooled = pool_sentences(hidden.float(), token_sentence, num_sentences)
        return self.head(self.dropout(pooled))


def pool_sentences(
    hidden: torch.Tensor, token_sentence: torch.Tensor, num_sentences: int
) -> torch.Tensor:
    """Mean of the token vectors of each sentence; `token_sentence` is -1 for other tokens."""
    mask = token_sentence >= 0
    index = token_sentence[mask]
    vectors = hidden[mask]
    sums = vectors.new_zeros((num_sentences, hidden.shape[-1])).index_add_(0, index, vectors)
    counts = torch.bincount(index, minlength=num_sentences).clamp(min=1).unsqueeze(1)
    return sums / counts.to(sums.dtype)
