"""Choosing the default inference path, and the recorded context comparison."""

import json

from factsep.model.predict import INFERENCE_FILE, default_precision
from factsep.training.context_record import recorded_comparison, write_comparison
from factsep.training.inference_paths import PathCheck, pick_fastest


def test_fastest_path_within_half_a_point_wins():
    checks = [PathCheck("fp32", 0.900, 200), PathCheck("bf16", 0.897, 450),
              PathCheck("int8", 0.890, 500)]
    assert pick_fastest(checks).precision == "bf16"  # int8 is faster but loses 1 point
    checks[2] = PathCheck("int8", 0.8951, 500)
    assert pick_fastest(checks).precision == "int8"


def test_default_precision_falls_back_to_fp32(tmp_path):
    assert default_precision(tmp_path) == "fp32"  # no inference.json
    (tmp_path / INFERENCE_FILE).write_text("{broken")
    assert default_precision(tmp_path) == "fp32"
    (tmp_path / INFERENCE_FILE).write_text(json.dumps({"default_precision": "int8"}))
    assert default_precision(tmp_path) == "fp32"  # no int8 encoder in the directory
    (tmp_path / INFERENCE_FILE).write_text(json.dumps({"default_precision": "fp16"}))
    assert default_precision(tmp_path) == "fp32"


def test_recorded_comparison_only_for_the_same_data(tmp_path, fixture_splits):
    record = tmp_path / "comparison.json"
    scores = {"window": {"dev": 0.9, "test": 0.8}, "sentence": {"dev": 0.7, "test": 0.75}}
    write_comparison(record, scores, fixture_splits)
    assert recorded_comparison(fixture_splits, record) == scores
    other = dict(fixture_splits, test=fixture_splits["dev"])
    assert recorded_comparison(other, record) is None
    assert recorded_comparison(fixture_splits, tmp_path / "missing.json") is None
