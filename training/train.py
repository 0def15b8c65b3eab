"""Fine-tune a SentenceTagger on the labelled articles and save one model directory."""

from __future__ import annotations

import copy
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup, set_seed

from factsep.model.backends import native_bf16
from factsep.model.base_encoder import resolve_base
from factsep.model.directory import LoadedModel, TaggerSettings, new_model, save_model
from factsep.model.job import Log
from factsep.model.labels import LABEL2ID, LABELS
from factsep.model.predict import Labeller
from factsep.model.windows import Batch, Window, build_windows, collate, token_batches

from .augment import add_extraction_noise
from .config import TrainingSettings
from .data.dataset import read_articles
from .evaluation.metrics import label_metrics
from .evaluation.scoreboard import recorded_scoreboard, scoreboard_rows
from .model_card import render_model_card
from .token_masking import TokenMasking


@dataclass
class TrainingResult:
    model: LoadedModel
    settings: TrainingSettings
    dev: dict[str, float]
    test: dict[str, float] | None
    seconds: float
    best_epoch: int
    epoch_scores: list[dict[str, float]] = field(default_factory=list)


def train(
    settings: TrainingSettings,
    train_path: Path,
    dev_path: Path,
    log: Log = print,
    monitor: dict[str, Path] | None = None,
) -> TrainingResult:
    """Fine-tune with `settings`; keep the epoch with the best dev macro-F1.

    `monitor` names labelled files scored (and logged) after every epoch, for study only:
    they never take part in choosing the epoch. Their scores land in `epoch_scores`.
    """
    started = time.perf_counter()
    if settings.threads:
        torch.set_num_threads(settings.threads)
    set_seed(settings.seed)
    train_articles = read_articles(train_path)
    dev_articles = read_articles(dev_path)
    monitored = {name: read_articles(path) for name, path in (monitor or {}).items()}
    epoch_scores: list[dict[str, float]] = []
    model = new_model(
        resolve_base(settings.base),
        TaggerSettings(settings.context, settings.max_length, settings.dropout),
        settings.encoder_layers,
    )
    freeze_lower_layers(model.tagger.encoder, settings.frozen_layers)
    rng = random.Random(settings.seed)
    windows, labels = _training_windows(model, train_articles, rng, settings)
    steps_per_epoch = len(token_batches(windows, settings.batch_tokens))
    total_steps = steps_per_epoch * settings.epochs
    trainable = [p for p in model.tagger.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        trainable, lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(total_steps * settings.warmup_ratio), total_steps
    )
    loss_fn = nn.CrossEntropyLoss(
        weight=_class_weights(labels, settings.class_weighting),
        label_smoothing=settings.label_smoothing,
    )
    use_bf16 = uses_bf16(settings)
    pad_id = model.tokenizer.pad_token_id or 0
    masking = TokenMasking.for_model(model, settings.token_masking, settings.seed)
    log(
        f"training on {len(train_articles)} articles ({len(labels)} sentences, "
        f"{len(windows)} windows), {settings.epochs} epochs of {steps_per_epoch} steps"
        + (", bf16 autocast" if use_bf16 else "")
    )
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None
    progress = tqdm(total=total_steps, desc="training", unit="step", file=sys.stderr, disable=None)
    for epoch in range(1, settings.epochs + 1):
        model.tagger.train()
        if epoch > 1:  # new window boundaries each epoch: every sentence sees varied context
            windows, _ = _training_windows(model, train_articles, rng, settings)
        for batch_windows in _shuffled_batches(windows, settings.batch_tokens, rng):
            batch = masking(collate(batch_windows, pad_id))
            targets = torch.tensor([labels[key] for key in batch.sentence_keys])
            loss = _batch_loss(model, batch, targets, loss_fn, settings.consistency, use_bf16)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            progress.update(1)
            progress.set_postfix(epoch=epoch, loss=f"{loss.item():.3f}")
        dev_scores = evaluate_gold(model, dev_articles)
        scores = {"dev": dev_scores["macro_f1"]}
        scores |= {name: evaluate_gold(model, a)["macro_f1"] for name, a in monitored.items()}
        epoch_scores.append(scores)
        watched = "".join(f", {name} {scores[name]:.4f}" for name in monitored)
        log(f"epoch {epoch}: dev macro-F1 {dev_scores['macro_f1']:.4f}{watched}")
        if best is None or dev_scores["macro_f1"] > best[0]:
            best = (dev_scores["macro_f1"], epoch, copy.deepcopy(model.tagger.state_dict()))
    progress.close()
    assert best is not None
    model.tagger.load_state_dict(best[2])
    model.tagger.eval()
    dev = evaluate_gold(model, dev_articles)
    return TrainingResult(
        model, settings, dev, None, time.perf_counter() - started, best[1], epoch_scores
    )


def _batch_loss(
    model: LoadedModel,
    batch: Batch,
    targets: torch.Tensor,
    loss_fn: nn.Module,
    consistency: float,
    use_bf16: bool,
) -> torch.Tensor:
    """The batch's cross-entropy; with `consistency`, R-Drop's loss over two dropout passes.

    R-Drop (Liang et al., 2021) runs the batch twice, so dropout draws two sub-networks, and
    adds `consistency` times the symmetric KL divergence between their label distributions to
    the mean of their cross-entropies: predictions must not hinge on any one path.
    """
    passes = 2 if consistency else 1
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
        logits = [
            model.tagger(
                batch.input_ids, batch.attention_mask, batch.token_sentence, batch.num_sentences
            ).float()
            for _ in range(passes)
        ]
    loss = sum(loss_fn(pass_logits, targets) for pass_logits in logits) / passes
    if consistency:
        loss = loss + consistency * symmetric_kl(*logits)
    return loss


def symmetric_kl(logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
    """Mean over rows of (KL(a || b) + KL(b || a)) / 2 between the softmaxes of two logit sets."""
    log_a, log_b = torch.log_softmax(logits_a, dim=-1), torch.log_softmax(logits_b, dim=-1)
    a_from_b = nn.functional.kl_div(log_b, log_a, reduction="batchmean", log_target=True)
    b_from_a = nn.functional.kl_div(log_a, log_b, reduction="batchmean", log_target=True)
    return (a_from_b + b_from_a) / 2


def evaluate_gold(
    model: LoadedModel | None, articles: Sequence[dict[str, Any]], labeller: Labeller | None = None
) -> dict[str, float]:
    """Label the gold spans through the prediction path and score them."""
    if labeller is None:
        model.tagger.eval()
        labeller = Labeller(model)
    items = [(a["text"], [(s["start"], s["end"]) for s in a["sentences"]]) for a in articles]
    probs = labeller.predict_spans(items)
    gold = [s["label"] for a in articles for s in a["sentences"]]
    pred = [LABELS[int(row.argmax())] for article_probs in probs for row in article_probs]
    return label_metrics(gold, pred, LABELS)


def freeze_lower_layers(encoder: nn.Module, count: int) -> None:
    """Keep the embeddings and the `count` lowest transformer layers as pretrained.

    Frozen layers are not updated and need no backward pass, so each step is cheaper, and
    the lower layers keep the general features the encoder learned on far more text than
    our training articles.
    """
    if count == 0:
        return
    num_layers = encoder.config.num_hidden_layers
    layers = next(
        (m for m in encoder.modules() if isinstance(m, nn.ModuleList) and len(m) == num_layers),
        None,
    )
    if layers is None:
        raise ValueError(f"cannot find the layers of a {type(encoder).__name__} to freeze")
    if count > num_layers:
        raise ValueError(f"frozen_layers is {count}, but the encoder has {num_layers} layers")
    embeddings = getattr(encoder, "embeddings", None) or encoder.get_input_embeddings()
    for module in (embeddings, *layers[:count]):
        module.requires_grad_(False)


def uses_bf16(settings: TrainingSettings) -> bool:
    """Whether training runs under bf16 autocast (`auto`: where the CPU has native bf16)."""
    return settings.bf16 == "on" or (settings.bf16 == "auto" and native_bf16())


def _training_windows(
    model: LoadedModel,
    articles: Sequence[dict[str, Any]],
    rng: random.Random,
    settings: TrainingSettings,
) -> tuple[list[Window], dict[tuple[int, int], int]]:
    """Windows over the training articles, each article cut once at a random sentence.

    Without the cut an article would be packed into the same windows every epoch, so a
    sentence at a window's edge would never be seen with the context it lacks there.
    With `length_jitter` each piece is packed to a random window length, so the model
    learns to read sentences with more and with less context; `noise` adds extraction
    noise to a share of the sentences.
    """
    lengths = _window_lengths(settings)
    pieces: dict[int, list[list[str]]] = {length: [] for length in lengths}
    origins: dict[int, list[tuple[int, int]]] = {length: [] for length in lengths}
    for index, article in enumerate(articles):
        sentences = [
            add_extraction_noise(article["text"][s["start"] : s["end"]], rng, settings.noise)
            for s in article["sentences"]
        ]
        cut = rng.randrange(len(sentences))
        for start, end in ((0, cut), (cut, len(sentences))):
            if end > start:
                length = rng.choice(lengths)
                pieces[length].append(sentences[start:end])
                origins[length].append((index, start))
    windows = []
    for length in lengths:
        packed = build_windows(model.tokenizer, pieces[length], length, model.settings.context)
        windows.extend(
            replace(
                w,
                sentence_keys=[
                    (origins[length][p][0], origins[length][p][1] + i) for p, i in w.sentence_keys
                ],
            )
            for w in packed
        )
    labels = {
        (article_index, sentence_index): LABEL2ID[sentence["label"]]
        for article_index, article in enumerate(articles)
        for sentence_index, sentence in enumerate(article["sentences"])
    }
    return windows, labels


def _window_lengths(settings: TrainingSettings) -> list[int]:
    """The window lengths pieces are packed to: max_length, or halvings of it down to 64."""
    lengths = [settings.max_length]
    while settings.length_jitter and lengths[-1] // 2 >= 64:
        lengths.append(lengths[-1] // 2)
    return lengths


def _shuffled_batches(
    windows: Sequence[Window], batch_tokens: int, rng: random.Random
) -> list[list[Window]]:
    """Batches of similar-length windows (little padding), in a random order each epoch."""
    shuffled = list(windows)
    rng.shuffle(shuffled)  # ties in length fall in a new order each epoch
    batches = token_batches(shuffled, batch_tokens)
    rng.shuffle(batches)
    return batches


def _class_weights(labels: dict[tuple[int, int], int], enabled: bool) -> torch.Tensor | None:
    if not enabled:
        return None
    counts = torch.bincount(torch.tensor(list(labels.values())), minlength=len(LABELS)).float()
    return counts.sum() / (len(LABELS) * counts.clamp(min=1))


def save_trained(
    result: TrainingResult,
    directory: Path,
    data_files: dict[str, Path],
    test_path: Path | None,
    comparison: dict[str, dict[str, float]] | None = None,
) -> Path:
    """Score on the test split (if given), then write the model directory with its card."""
    if test_path is not None:
        result.test = evaluate_gold(result.model, read_articles(test_path))
    board = recorded_scoreboard(data_files["train"])
    rows = scoreboard_rows(board) if board else []
    card = render_model_card(result, data_files, comparison or {}, rows)
    save_model(
        result.model,
        directory,
        {"README.md": card, "training_settings.json": _settings_json(result.settings)},
    )
    return directory


def _settings_json(settings: TrainingSettings) -> str:
    return json.dumps(settings.to_dict(), indent=2) + "\n"
