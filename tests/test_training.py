"""Training on the tiny model: settings, the saved directory, its card, repeatability."""

import json

import numpy as np
import pytest

from factsep.model.directory import load_model
from factsep.model.predict import Labeller
from factsep.training.config import TrainingSettings
from factsep.training.dataset import read_articles
from factsep.training.train import save_trained, train


def quick_settings(base, **changes) -> TrainingSettings:
    return TrainingSettings(base=str(base), epochs=2, max_length=64, batch_tokens=256,
                            learning_rate=1e-3, seed=7, **changes)


def test_settings_are_validated():
    with pytest.raises(ValueError, match="context"):
        TrainingSettings(context="paragraph")
    with pytest.raises(ValueError, match="batch_tokens"):
        TrainingSettings(batch_tokens=8)
    with pytest.raises(ValueError, match="learning_rate"):
        TrainingSettings(learning_rate=5)


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
