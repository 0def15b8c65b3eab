"""Inference paths: batch independence, the torch-free int8 path, truncated sentences."""

import json
import os
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

from factsep.model.backends import OnnxInt8Backend, TorchBackend
from factsep.model.predict import INFERENCE_FILE, Article, Labeller, default_precision
from factsep.model.windows import Window, token_batches

ARTICLES = [
    "Harbour Board Approves Terminal\n\nThe board voted 5-2 on Monday. I think it erred.\n",
    "One short record.",
    "Rates rose 4% in May, the bank said. Critics called the rise reckless and cruel. "
    "Subscribe for more. The bank meets again in June; it did not comment further.",
    "A single line without a stop",
    "Why did the bus never get lost? It knew the route! " * 6,
    "The council spent £1.2 million. " * 30,
]


# int8 runs every window alone, so its results are bit-identical; batched, this model's
# probabilities moved by 1e-4 (a trained encoder's activations move them by up to 0.5).
@pytest.mark.parametrize(("precision", "tolerance"), [("fp32", 1e-3), ("bf16", 1e-3), ("int8", 0)])
def test_labels_do_not_depend_on_the_batch(int8_model_dir, precision, tolerance):
    labeller = Labeller.from_directory(int8_model_dir, precision)
    together = list(labeller.label_many(Article(str(i), t) for i, t in enumerate(ARTICLES)))
    for index, text in enumerate(ARTICLES):
        alone = labeller.label(text, str(index))
        assert [s.label for s in alone.sentences] == [s.label for s in together[index].sentences]
        np.testing.assert_allclose(
            [s.probs for s in alone.sentences], [s.probs for s in together[index].sentences],
            rtol=0, atol=tolerance,
        )


def test_int8_runs_every_window_alone_and_unpadded(int8_model_dir):
    labeller = Labeller.from_directory(int8_model_dir, "int8")
    items = [(text, [(0, len(text))]) for text in ARTICLES]
    batches = [batch for _, batch in labeller.plan_batches(items)]
    assert len(batches) == len(ARTICLES)
    assert all(batch.attention_mask.all() for batch in batches)  # no pad token anywhere


def test_int8_windows_run_concurrently_with_the_same_results(int8_model_dir):
    """Several windows in flight at once (one thread each) give one call's results exactly."""
    one_at_a_time = Labeller.from_directory(int8_model_dir, "int8", threads=1)
    concurrent = Labeller.from_directory(int8_model_dir, "int8", threads=2)
    assert (one_at_a_time.backend.concurrent_calls, concurrent.backend.concurrent_calls) == (1, 2)
    int8 = concurrent.backend
    calls, lock, second_call = [], threading.Lock(), threading.Event()

    class Overlapping:
        """The first call waits until a second one has started: only concurrency lets it."""

        precision, max_batch_windows, concurrent_calls = "int8", 1, 2

        def __call__(self, batch):
            with lock:
                calls.append(batch)
                first = len(calls) == 1
            if first:
                assert second_call.wait(timeout=10), "no second call ran beside the first"
            else:
                second_call.set()
            return int8(batch)

    concurrent.backend = Overlapping()
    articles = [Article(str(i), text) for i, text in enumerate(ARTICLES * 3)]
    expected = list(one_at_a_time.label_many(articles))
    got = list(concurrent.label_many(articles))
    assert [a.doc_id for a in got] == [a.doc_id for a in expected]
    for mine, theirs in zip(got, expected, strict=True):
        np.testing.assert_array_equal(
            [s.probs for s in mine.sentences], [s.probs for s in theirs.sentences]
        )


def test_batched_windows_share_their_padded_width():
    windows = [Window([0] * n, [0] * n, [(i, 0)]) for i, n in enumerate([5, 14, 17, 30, 33])]
    batches = token_batches(windows, 4096, pad_multiple=16)
    assert [[len(w.input_ids) for w in b] for b in batches] == [[5, 14], [17, 30], [33]]


def test_int8_head_in_numpy_matches_the_torch_head(int8_model_dir):
    import torch

    from factsep.model.directory import load_model

    model = load_model(int8_model_dir)
    backend = OnnxInt8Backend.from_directory(int8_model_dir)
    labeller = Labeller(model, backend)
    items = [(text, [(0, len(text))]) for text in ARTICLES]
    for _, batch in labeller.plan_batches(items):
        hidden = torch.from_numpy(backend.hidden_states(batch))
        with torch.inference_mode():
            expected = model.tagger.classify(
                hidden, torch.from_numpy(batch.token_sentence), batch.num_sentences
            ).numpy()
        np.testing.assert_allclose(backend(batch), expected, rtol=1e-5, atol=1e-5)


def test_int8_labels_without_importing_torch_or_transformers(int8_model_dir):
    script = (
        "import sys\n"
        "from factsep.model.predict import Labeller\n"
        f"labeller = Labeller.from_directory({str(int8_model_dir)!r}, 'int8')\n"
        "article = labeller.label('The board voted 5-2. I think it erred.')\n"
        "print(len(article.sentences), labeller.precision,\n"
        "      sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["2", "int8", "[]"]


def test_the_default_model_is_found_without_importing_torch(int8_model_dir, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copytree(int8_model_dir, home / "default-model")
    script = (
        "import sys\n"
        "from factsep.scripts.cli import _model_dir\n"
        "print(_model_dir(None).name, 'torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, env={**os.environ, "FACTSEP_HOME": str(home)})
    assert done.stdout.split() == ["default-model", "False", "False"]


def test_int8_and_fp32_agree_on_the_tiny_model(int8_model_dir):
    texts = [Article(str(i), t) for i, t in enumerate(ARTICLES)]
    fp32 = list(Labeller.from_directory(int8_model_dir, "fp32").label_many(texts))
    int8 = list(Labeller.from_directory(int8_model_dir, "int8").label_many(texts))
    for a, b in zip(fp32, int8, strict=True):
        assert [s.text for s in a.sentences] == [s.text for s in b.sentences]
        np.testing.assert_allclose([s.probs for s in a.sentences],
                                   [s.probs for s in b.sentences], atol=0.05)


def test_a_sentence_longer_than_the_window_is_flagged_silently(tiny_model_dir, capfd):
    labeller = Labeller.from_directory(tiny_model_dir, "fp32")  # 64-token windows
    text = "Short one. " + "the council said that it was " * 40 + "done. Another short one."
    article = labeller.label(text)
    assert [s.truncated for s in article.sentences] == [False, True, False]
    assert "longer than the specified maximum" not in capfd.readouterr().err


def test_short_records_share_batches_across_articles(tiny_model_dir):
    calls = []

    class Spy(TorchBackend):
        def __call__(self, batch):
            calls.append({key[0] for key in batch.sentence_keys})
            return super().__call__(batch)

    labeller = Labeller.from_directory(tiny_model_dir, "fp32")
    labeller.backend = Spy(labeller.model.tagger)
    records = [Article(str(i), f"Record number {i} is short.") for i in range(200)]
    assert len(list(labeller.label_many(records))) == 200
    assert len(calls) < 10 and max(len(articles) for articles in calls) > 50


def test_auto_takes_int8_where_bf16_is_not_native(int8_model_dir, tmp_path, monkeypatch):
    folder = tmp_path / "model"
    shutil.copytree(int8_model_dir, folder)
    record = {"default_precision": "bf16", "max_macro_f1_loss": 0.005,
              "checks": [{"precision": "fp32", "macro_f1": 0.90},
                         {"precision": "bf16", "macro_f1": 0.90},
                         {"precision": "int8", "macro_f1": 0.897}]}
    (folder / INFERENCE_FILE).write_text(json.dumps(record))
    monkeypatch.setattr("factsep.model.predict.native_bf16", lambda: True)
    assert default_precision(folder) == "bf16"
    monkeypatch.setattr("factsep.model.predict.native_bf16", lambda: False)
    assert default_precision(folder) == "int8"
    record["checks"][2]["macro_f1"] = 0.89  # int8 one point below fp32: the safe path
    (folder / INFERENCE_FILE).write_text(json.dumps(record))
    assert default_precision(folder) == "fp32"


def test_window_length_is_an_inference_setting(int8_model_dir, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(int8_model_dir, folder)
    assert Labeller.from_directory(folder, "fp32").window_tokens == 64  # the training length
    (folder / INFERENCE_FILE).write_text(json.dumps({"window_tokens": 32}))
    assert Labeller.from_directory(folder, "int8").window_tokens == 32
    assert Labeller.from_directory(folder, "int8", window_tokens=48).window_tokens == 48


def test_the_int8_encoder_is_built_from_fused_operators(int8_model_dir):
    import onnx

    from factsep.model.backends import ONNX_INT8_FILE

    graph = onnx.load(str(int8_model_dir / ONNX_INT8_FILE)).graph
    assert {"QAttention", "SkipLayerNormalization"} <= {node.op_type for node in graph.node}


def test_int8_keeps_the_lower_feed_forward_down_projections_in_fp32(int8_model_dir):
    import onnx
    from onnx import TensorProto

    from factsep.model.backends import ONNX_INT8_FILE

    graph = onnx.load(str(int8_model_dir / ONNX_INT8_FILE)).graph
    float_weights = {
        weight.name: tuple(weight.dims)
        for weight in graph.initializer
        if weight.data_type == TensorProto.FLOAT
    }
    float_matmuls = [
        float_weights[node.input[1]]
        for node in graph.node
        if node.op_type == "MatMul" and node.input[1] in float_weights
    ]
    # the tiny encoder: 2 layers, width 32, intermediate 64; the first layer's stays fp32
    assert float_matmuls == [(64, 32)]
    assert any(node.op_type == "MatMulInteger" for node in graph.node)


def test_the_lower_half_of_the_down_projections_is_chosen():
    from factsep.model.quantize import lower_half

    assert lower_half(["l0", "l1", "l2", "l3", "l4", "l5"]) == ["l0", "l1", "l2"]
    assert lower_half(["l0"]) == ["l0"]
    assert lower_half([]) == []


def test_exporting_int8_leaves_the_model_s_attention_as_it_was(tiny_model_dir, tmp_path):
    from factsep.model.directory import load_model
    from factsep.model.quantize import export_int8

    model = load_model(tiny_model_dir)
    before = model.tagger.encoder.config._attn_implementation
    export_int8(model, tmp_path)
    assert model.tagger.encoder.config._attn_implementation == before != "eager"
