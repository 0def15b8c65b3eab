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


def _with_custom_code(source, target, **config_changes):
    """A copy of a model directory whose config points at a Python file that leaves a mark."""
    shutil.copytree(source, target)
    marker = target / "code-ran"
    (target / "evil_config.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "from transformers import PretrainedConfig\n"
        "class EvilConfig(PretrainedConfig):\n    model_type = 'evil'\n"
    )
    config = json.loads((target / "config.json").read_text())
    config.update(config_changes)
    (target / "config.json").write_text(json.dumps(config))
    return marker


def test_model_directory_with_custom_code_is_refused_whatever_stdin_holds(
    tiny_model_dir, tmp_path, monkeypatch, capsys
):
    import io

    from factsep.scripts.cli import main

    target = tmp_path / "hostile"
    marker = _with_custom_code(
        tiny_model_dir, target, model_type="evil", auto_map={"AutoConfig": "evil_config.EvilConfig"}
    )
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"y\ny\ny\n")))
    code = main(["label", "--model", str(target), "--precision", "fp32", "-"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "auto_map" in err and str(target) in err and len(err.strip().splitlines()) == 1
    assert not marker.exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"model_type": "evil"}, "unknown model_type 'evil'"),
        ({"auto_map": {"AutoModel": "evil_config.EvilConfig"}}, "auto_map"),
    ],
)
def test_custom_code_pointers_are_refused(tiny_model_dir, tmp_path, changes, message):
    target = tmp_path / "hostile"
    marker = _with_custom_code(tiny_model_dir, target, **changes)
    with pytest.raises(NotAModelError, match=message):
        load_model(target)
    assert not marker.exists()


def test_tokenizer_config_with_auto_map_is_refused(tiny_model_dir, tmp_path):
    target = tmp_path / "hostile"
    _with_custom_code(tiny_model_dir, target)
    tokenizer_config = json.loads((target / "tokenizer_config.json").read_text())
    tokenizer_config["auto_map"] = {"AutoTokenizer": ["evil_config.EvilConfig", None]}
    (target / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    with pytest.raises(NotAModelError, match="tokenizer_config.json: has an 'auto_map'"):
        load_model(target)


def test_base_encoder_with_custom_code_is_refused(tiny_base, tmp_path):
    from factsep.model.directory import TaggerSettings, new_model

    target = tmp_path / "hostile-base"
    marker = _with_custom_code(
        tiny_base, target, model_type="evil", auto_map={"AutoConfig": "evil_config.EvilConfig"}
    )
    with pytest.raises(NotAModelError, match="auto_map"):
        new_model(str(target), TaggerSettings())
    assert not marker.exists()


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda d: (d / "config.json").write_text(
            json.dumps({**json.loads((d / "config.json").read_text()), "factsep": [1]})),
         "bad 'factsep' section"),
        (lambda d: (d / "config.json").write_text(
            json.dumps({**json.loads((d / "config.json").read_text()),
                        "factsep": {"max_length": "long"}})),
         "bad 'factsep' section"),
        (lambda d: [p.unlink() for p in d.glob("*") if "vocab" in p.name or "token" in p.name],
         "tokenizer"),
    ],
)
def test_malformed_model_directory_is_a_clear_error(tiny_model_dir, tmp_path, corrupt, message):
    target = tmp_path / "malformed"
    shutil.copytree(tiny_model_dir, target)
    corrupt(target)
    with pytest.raises(NotAModelError, match=message):
        load_model(target)
