import json
import shutil

import numpy as np
import pytest

from factsep.model.base_encoder import EncoderIntegrityError, verify_sha256
from factsep.model.directory import NotAModelError, load_model
from factsep.model.labels import LABELS
from factsep.model.predict import Labeller


def test_round_trip_gives_identical_predictions(tiny_model_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_model_dir, copy)
    text = "The board voted on Monday. I think it was wrong."
    spans = [(0, 26), (27, 48)]
    first = Labeller(load_model(tiny_model_dir)).predict_spans([(text, spans)])[0]
    second = Labeller(load_model(copy)).predict_spans([(text, spans)])[0]
    np.testing.assert_allclose(first, second, atol=1e-6)


def test_labels_live_in_the_config(tiny_model_dir):
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(3)] == list(LABELS)
    assert config["label2id"] == {label: i for i, label in enumerate(LABELS)}
    assert config["factsep"]["context"] == "window"


def test_directory_holds_safetensors_and_no_pickles(tiny_model_dir):
    names = {p.name for p in tiny_model_dir.iterdir()}
    assert "model.safetensors" in names
    assert not any(name.endswith((".bin", ".pt", ".pkl", ".py")) for name in names)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: None, "not a directory"),
        (lambda d: d.mkdir(), "not a factsep model directory"),
        (lambda d: (d.mkdir(), (d / "config.json").write_text("{}"),
                    (d / "model.safetensors").write_bytes(b"x")), "no 'factsep' section"),
        (lambda d: (d.mkdir(), (d / "config.json").write_text("{oops"),
                    (d / "model.safetensors").write_bytes(b"x")), "not valid JSON"),
    ],
)
def test_not_a_model_is_a_clear_error(tmp_path, make, message):
    target = tmp_path / "not-a-model"
    make(target)
    with pytest.raises(NotAModelError, match=message) as error:
        load_model(target)
    assert str(target) in str(error.value)


def test_plain_hugging_face_model_is_refused(tiny_base):
    with pytest.raises(NotAModelError, match="factsep"):
        load_model(tiny_base)


def test_corrupt_weights_are_a_clear_error(tiny_model_dir, tmp_path):
    copy = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, copy)
    (copy / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(NotAModelError, match="unreadable weights"):
        load_model(copy)


def test_sha256_mismatch_is_a_clear_error(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"tampered")
    with pytest.raises(EncoderIntegrityError, match="does not match"):
        verify_sha256(weights, "0" * 64)
