"""Training on the tiny model: settings, the saved directory, its card, repeatability."""

import json
import random
import re

import numpy as np
import pytest
import torch

from factsep.model.directory import load_model, save_model
from factsep.model.predict import Labeller
from factsep.model.windows import Window, collate
from factsep.training import experiments
from factsep.training.augment import add_extraction_noise
from factsep.training.config import TrainingSettings
from factsep.training.data.dataset import read_articles
from factsep.training.experiments import write_train_subset
from factsep.training.token_masking import TokenMasking
from factsep.training.train import save_trained, symmetric_kl, train, uses_bf16


def quick_settings(base, **changes) -> TrainingSettings:
    values = dict(epochs=2, max_length=64, batch_tokens=256, learning_rate=1e-3, seed=7)
    return TrainingSettings(base=str(base), **{**values, **changes})


def test_settings_are_validated():
    with pytest.raises(ValueError, match="context"):
        TrainingSettings(context="paragraph")
    with pytest.raises(ValueError, match="batch_tokens"):
        TrainingSettings(batch_tokens=8)
    with pytest.raises(ValueError, match="learning_rate"):
        TrainingSettings(learning_rate=5)
    with pytest.raises(ValueError, match="label_smoothing"):
        TrainingSettings(label_smoothing=1.0)
    with pytest.raises(ValueError, match="bf16"):
        TrainingSettings(bf16="maybe")
    with pytest.raises(ValueError, match="frozen_layers"):
        TrainingSettings(frozen_layers=-1)
    for rate in (-0.1, 1.0):
        with pytest.raises(ValueError, match="token_masking"):
            TrainingSettings(token_masking=rate)
    with pytest.raises(ValueError, match="consistency"):
        TrainingSettings(consistency=-0.5)


def _keeps_words(original: str, noisy: str) -> bool:
    """Whether every word of `original` appears in `noisy`, in order."""
    remaining = iter(re.findall(r"[a-z]+", noisy.lower()))
    return all(word in remaining for word in re.findall(r"[a-z]+", original.lower()))


def test_extraction_noise_keeps_the_sentence_and_is_seeded():
    sentence = "“Prices rose,” she said, adding that the board's members would meet on Monday."
    never = [add_extraction_noise(sentence, random.Random(i), 0.0) for i in range(50)]
    assert set(never) == {sentence}
    noisy = [add_extraction_noise(sentence, random.Random(i), 1.0) for i in range(50)]
    assert all(n != sentence and _keeps_words(sentence, n) for n in noisy)
    assert noisy == [add_extraction_noise(sentence, random.Random(i), 1.0) for i in range(50)]


def test_robust_settings_train_and_stay_repeatable(tiny_base, fixture_splits):
    settings = quick_settings(tiny_base, label_smoothing=0.1, noise=0.3, length_jitter=True,
                              bf16="on", max_length=128, token_masking=0.15,
                              consistency=1.0)
    runs = [train(settings, fixture_splits["train"], fixture_splits["dev"], log=lambda _: None)
            for _ in range(2)]
    assert runs[0].dev == runs[1].dev
    assert uses_bf16(settings) and not uses_bf16(quick_settings(tiny_base, bf16="off"))


def test_symmetric_kl_is_the_mean_of_both_directions():
    a = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    b = torch.tensor([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    p, q = a.softmax(-1), b.softmax(-1)
    by_hand = ((p * (p / q).log()).sum(-1) + (q * (q / p).log()).sum(-1)).mean() / 2
    assert torch.isclose(symmetric_kl(a, b), by_hand)
    assert torch.isclose(symmetric_kl(a, b), symmetric_kl(b, a))
    assert symmetric_kl(a, a).item() == pytest.approx(0.0, abs=1e-7)


def test_token_masking_hides_only_sentence_tokens_and_is_seeded():
    windows = [Window([2] + [7] * 40 + [3], [-1] + [0] * 40 + [-1], [(0, 0)]),
               Window([2] + [8] * 20 + [3], [-1] + [0] * 20 + [-1], [(1, 0)])]
    batch = collate(windows, pad_id=0)
    assert TokenMasking(0.0, None, seed=1)(batch) is batch
    masked = [TokenMasking(0.3, 4, seed=1)(batch) for _ in range(2)]
    np.testing.assert_array_equal(masked[0].input_ids, masked[1].input_ids)  # same seed
    masking = TokenMasking(0.3, 4, seed=1)
    steps = [masking(batch).input_ids for _ in range(2)]
    assert (steps[0] != steps[1]).any()  # drawn anew at each step
    changed = masked[0].input_ids != batch.input_ids
    assert (masked[0].input_ids[changed] == 4).all()
    assert not changed[batch.token_sentence < 0].any()  # [CLS], [SEP] and padding stay
    assert 6 <= changed.sum() <= 30  # about 30% of the 60 sentence tokens
    with pytest.raises(ValueError, match="mask token"):
        TokenMasking(0.1, None, seed=1)


def test_frozen_layers_keep_their_pretrained_weights(tiny_base, fixture_splits):
    from transformers import AutoModel

    pretrained = AutoModel.from_pretrained(tiny_base).state_dict()
    result = train(quick_settings(tiny_base, frozen_layers=1), fixture_splits["train"],
                   fixture_splits["dev"], log=lambda _: None)
    trained = result.model.tagger.encoder.state_dict()
    frozen = [k for k in trained if k.startswith(("embeddings.", "encoder.layer.0."))]
    tuned = [k for k in trained if k.startswith("encoder.layer.1.")]
    assert frozen and tuned
    assert all(torch.equal(trained[k], pretrained[k]) for k in frozen)
    assert not all(torch.equal(trained[k], pretrained[k]) for k in tuned)
    with pytest.raises(ValueError, match="frozen_layers is 3, but the encoder has 2 layers"):
        train(quick_settings(tiny_base, frozen_layers=3), fixture_splits["train"],
              fixture_splits["dev"], log=lambda _: None)


def test_encoder_layers_keep_the_lowest_pretrained_layers(tiny_base, fixture_splits, tmp_path):
    from transformers import AutoModel

    result = train(quick_settings(tiny_base, encoder_layers=1, epochs=1), fixture_splits["train"],
                   fixture_splits["dev"], log=lambda _: None)
    assert result.model.tagger.encoder.config.num_hidden_layers == 1
    assert not any(k.startswith("encoder.layer.1.") for k in result.model.tagger.state_dict())
    save_model(result.model, tmp_path / "model", {})
    reloaded = load_model(tmp_path / "model")
    assert reloaded.tagger.encoder.config.num_hidden_layers == 1
    assert AutoModel.from_pretrained(tiny_base).config.num_hidden_layers == 2
    with pytest.raises(ValueError, match="encoder_layers is 3, but the encoder has 2 layers"):
        train(quick_settings(tiny_base, encoder_layers=3), fixture_splits["train"],
              fixture_splits["dev"], log=lambda _: None)
    with pytest.raises(ValueError, match="encoder_layers"):
        TrainingSettings(encoder_layers=-1)


def test_settings_from_file(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"epochs": 3, "context": "sentence"}))
    settings = TrainingSettings.from_file(path, seed=1)
    assert (settings.epochs, settings.context, settings.seed) == (3, "sentence", 1)
    path.write_text(json.dumps({"epochz": 3}))
    with pytest.raises(ValueError, match=f"{path}: unknown training settings"):
        TrainingSettings.from_file(path)


def test_train_saves_one_directory_with_a_card(tiny_base, fixture_splits, tmp_path):
    result = train(quick_settings(tiny_base), fixture_splits["train"], fixture_splits["dev"],
                   log=lambda _: None)
    target = tmp_path / "model"
    save_trained(result, target, fixture_splits, fixture_splits["test"])
    names = {p.name for p in target.iterdir()}
    assert {"config.json", "model.safetensors", "README.md", "training_settings.json"} <= names
    card = (target / "README.md").read_text()
    for needle in ("### dev", "### test", "sha256", "seed: 7", "torch", "transformers"):
        assert needle in card
    assert json.loads((target / "training_settings.json").read_text())["seed"] == 7
    loaded = Labeller(load_model(target)).label("The vote passed. I think it is wrong.")
    assert len(loaded.sentences) == 2


@pytest.mark.parametrize("context", ["window", "sentence"])
def test_same_seed_same_model(tiny_base, fixture_splits, context):
    runs = [
        train(quick_settings(tiny_base, context=context), fixture_splits["train"],
              fixture_splits["dev"], log=lambda _: None)
        for _ in range(2)
    ]
    assert runs[0].dev == runs[1].dev
    articles = read_articles(fixture_splits["test"])
    items = [(a["text"], [(s["start"], s["end"]) for s in a["sentences"]]) for a in articles]
    first, second = (Labeller(r.model).predict_spans(items)[0] for r in runs)
    np.testing.assert_array_equal(first, second)


def test_settings_file_with_wrong_types_names_the_file_and_field(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"epochs": "3"}))
    with pytest.raises(ValueError, match=r"settings.json: epochs must be a int, not '3'"):
        TrainingSettings.from_file(path)
    with pytest.raises(ValueError, match="dropout must be a float"):
        TrainingSettings(dropout=True)
    with pytest.raises(ValueError, match="threads must be 0"):
        TrainingSettings(threads=-1)
    assert TrainingSettings(learning_rate=1e-3, dropout=0).dropout == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--config", "{config}"], "epochs must be a int"),
        (["--base", "{tmp}/missing-folder"], "--base {tmp}/missing-folder: no such folder"),
        (["--base", "{config}"], "is a file"),
    ],
)
def test_train_command_errors_are_one_line(tmp_path, capsys, args, message):
    from factsep.scripts.cli import EXIT_USAGE, main

    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"epochs": "3"}))
    filled = [a.format(config=config, tmp=tmp_path) for a in args]
    code = main(["train", "-o", str(tmp_path / "model"), *filled])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert message.format(tmp=tmp_path) in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize(("pair", "message"), [
    ("token_masking=abc", "--set token_masking=abc: token_masking must be a float"),
    ("token_masking=1.5", "--set: token_masking must be in [0, 1)"),
    ("masking=0.1", "unknown training setting 'masking'"),
])
def test_experiment_settings_errors_are_one_line(pair, message):
    with pytest.raises(SystemExit, match=re.escape(message)):
        experiments._parse_settings([pair])


def _write_genres(path, genres):
    """A valid training file of one-sentence articles with these genres."""
    article = {"source": "test", "text": "A fact.", "sentences": [
        {"start": 0, "end": 7, "label": "fact"}]}
    path.write_text(
        "".join(json.dumps({"id": f"a{i}", "genre": g, **article}) + "\n"
                for i, g in enumerate(genres)),
        encoding="utf-8",
    )


def test_train_subset_leaves_out_matching_genres(tmp_path):
    source = tmp_path / "train.jsonl"
    _write_genres(source, ["persona-crypto", "wire", "persona-health", "column"])
    target = tmp_path / "subset.jsonl"
    assert write_train_subset(source, ["persona-*"], target) == 2
    kept = [json.loads(line)["genre"] for line in target.read_text(encoding="utf-8").splitlines()]
    assert kept == ["wire", "column"]
    with pytest.raises(SystemExit, match="leaves no training article"):
        write_train_subset(source, ["*"], tmp_path / "none.jsonl")
    with pytest.raises(SystemExit, match="'persona_\\*' matches no genre"):
        write_train_subset(source, ["persona-*", "persona_*"], tmp_path / "typo.jsonl")


def test_run_variant_trains_on_the_subset_and_records_it(tmp_path, monkeypatch):
    _write_genres(tmp_path / "train.jsonl", ["persona-crypto", "wire", "column"])
    monkeypatch.setattr(experiments, "split_path", lambda name: tmp_path / f"{name}.jsonl")
    seen = []

    def fake_run(name, settings, train_path, real_news, keep_models):
        genres = [json.loads(line)["genre"] for line in train_path.read_text().splitlines()]
        seen.append((settings.seed, genres))
        return {"test": {"macro_f1": 0.5}, "reference_correct": 30, "seconds": 1.0}

    monkeypatch.setattr(experiments, "_run_seed", fake_run)
    record = experiments.run_variant("v", TrainingSettings(), [1, 2], None, None, ["persona-*"])
    assert seen == [(1, ["wire", "column"]), (2, ["wire", "column"])]
    assert record["excluded_genres"] == ["persona-*"] and record["train_articles"] == 2
    assert list(record) == [
        "name", "settings", "seeds", "finished", "excluded_genres", "train_articles", "mean",
        "runs",
    ]
    seen.clear()
    whole = experiments.run_variant("v", TrainingSettings(), [1], None, None)
    assert seen == [(1, ["persona-crypto", "wire", "column"])]
    assert list(whole) == ["name", "settings", "seeds", "finished", "mean", "runs"]


def test_the_card_explains_the_default_settings_only_for_a_default_model(tmp_path):
    from factsep.model.labels import LABELS
    from factsep.training.model_card import render_model_card
    from factsep.training.train import TrainingResult

    scores = {f"{m}_{label}": 0.5 for m in ("precision", "recall", "f1") for label in LABELS}
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")

    def card(settings: TrainingSettings) -> str:
        result = TrainingResult(model=None, settings=settings, seconds=1.0, best_epoch=1,
                                dev={**scores, "macro_f1": 0.5}, test=None)
        return render_model_card(result, {"train": data}, {})

    assert "## Why these settings" in card(TrainingSettings(seed=7, threads=2))
    assert "## Why these settings" not in card(TrainingSettings(epochs=2))
