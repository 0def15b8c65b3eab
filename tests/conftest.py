"""Shared fixtures: a tiny BERT built from a config (no network), and small labelled data."""

from __future__ import annotations

import os
import shutil
import string
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "fixtures"
WORDS = "the a of to and in is was said on by for that it as with i this will be we".split()


def _vocab() -> list[str]:
    characters = list(string.ascii_lowercase + string.digits + string.punctuation + "£€“”‘’…–—")
    return [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
        *WORDS, *characters, *[f"##{c}" for c in string.ascii_lowercase + string.digits],
    ]


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide BERT with a vocabulary made here, saved as a base encoder folder."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = tmp_path_factory.mktemp("tiny-base")
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(_vocab()) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab_file=str(vocab_file), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(_vocab()), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def fixture_articles() -> list[dict]:
    from factsep.training.data.authoring import read_article_files

    return read_article_files(FIXTURES / "articles")


@pytest.fixture(scope="session")
def fixture_splits(tmp_path_factory: pytest.TempPathFactory, fixture_articles) -> dict[str, Path]:
    """train: four fixture articles; dev and test: one each (whole articles, no overlap)."""
    from factsep.training.data.authoring import write_jsonl

    folder = tmp_path_factory.mktemp("splits")
    by_id = {a["id"]: a for a in fixture_articles}
    layout = {"train": ["t-01", "t-02", "t-03", "t-04"], "dev": ["t-05"], "test": ["t-06"]}
    paths = {}
    for name, ids in layout.items():
        paths[name] = folder / f"{name}.jsonl"
        write_jsonl(paths[name], [by_id[i] for i in ids])
    return paths


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_base: Path) -> Path:
    """An untrained factsep model directory on the tiny base (read-only for tests)."""
    from factsep.model.directory import TaggerSettings, new_model, save_model

    folder = tmp_path_factory.mktemp("tiny-model") / "model"
    save_model(new_model(str(tiny_base), TaggerSettings(max_length=64)), folder, {})
    return folder


@pytest.fixture
def run(tiny_model_dir, capsys):
    """`factsep label` on the tiny model (fp32): returns (exit code, stdout, stderr)."""
    from factsep.scripts.cli import main

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(["label", "--model", str(tiny_model_dir), "--precision", "fp32", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture(autouse=True)
def _baseline_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """`factsep evaluate` caches fitted baselines; tests keep that cache out of the home folder."""
    import factsep.training.evaluation.evaluate as evaluate

    cache = tmp_path_factory.getbasetemp() / "baseline-cache"
    monkeypatch.setattr(evaluate, "baseline_cache_dir", lambda: cache)


@pytest.fixture(scope="session")
def int8_model_dir(tiny_model_dir, tmp_path_factory):
    """The tiny model with a sharp head and its int8 encoder exported (a copy).

    An untrained head gives every sentence about 1/3 per label, which would hide any
    numerical difference; scaled, its probabilities reach 0.99 without saturating, so a
    small change in the encoder's output shows in them.
    """
    from safetensors.torch import load_file, save_file

    from factsep.model.directory import WEIGHTS_FILE, load_model
    from factsep.model.quantize import export_int8

    folder = tmp_path_factory.mktemp("tiny-int8") / "model"
    shutil.copytree(tiny_model_dir, folder)
    weights = load_file(str(folder / WEIGHTS_FILE))
    weights["head.weight"] = weights["head.weight"] * 10
    save_file(weights, str(folder / WEIGHTS_FILE), metadata={"format": "pt"})
    export_int8(load_model(folder), folder)
    return folder
