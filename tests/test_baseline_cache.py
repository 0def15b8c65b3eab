"""Fitted baselines are cached per training file: fitted once, reused, refitted when stale."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np

from factsep.scripts.cli import main
from factsep.training.evaluation import baseline_cache, evaluate
from factsep.training.evaluation.baseline_cache import cache_key, cached_baselines
from factsep.training.evaluation.baselines import MajorityBaseline, TfidfBaseline
from factsep.training.evaluation.evaluate import _fit_baselines, run_evaluation

TEXTS = ["Profits rose 5%.", "This is a disgrace.", "Read more below."] * 4


def counting_fit(train_path, calls):
    def fit():
        calls.append(1)
        return _fit_baselines(train_path)

    return fit


def test_fitted_once_then_read_from_the_cache(fixture_splits, tmp_path):
    train, calls = fixture_splits["train"], []
    first = cached_baselines(train, counting_fit(train, calls), tmp_path / "cache")
    second = cached_baselines(train, counting_fit(train, calls), tmp_path / "cache")
    assert len(calls) == 1
    assert isinstance(second[0], MajorityBaseline) and isinstance(second[1], TfidfBaseline)
    assert second[0].label == first[0].label
    assert np.array_equal(second[1].predict_proba(TEXTS), first[1].predict_proba(TEXTS))


def test_a_changed_training_file_is_refitted(fixture_splits, tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_bytes(fixture_splits["train"].read_bytes())
    calls = []
    cached_baselines(train, counting_fit(train, calls), tmp_path / "cache")
    lines = train.read_text(encoding="utf-8").splitlines()
    train.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # one article fewer
    cached_baselines(train, counting_fit(train, calls), tmp_path / "cache")
    assert len(calls) == 2


def test_the_key_follows_the_label_order_and_the_fitting_code(
    fixture_splits, tmp_path, monkeypatch
):
    train = fixture_splits["train"]
    original = cache_key(train)
    monkeypatch.setattr(baseline_cache, "LABELS", tuple(reversed(baseline_cache.LABELS)))
    assert cache_key(train) != original
    monkeypatch.undo()
    changed_code = tmp_path / "baselines.py"
    changed_code.write_bytes(baseline_cache.FITTING_CODE.read_bytes() + b"# another feature\n")
    monkeypatch.setattr(baseline_cache, "FITTING_CODE", changed_code)
    assert cache_key(train) != original


def test_a_corrupt_entry_is_refitted_and_replaced(fixture_splits, tmp_path):
    train, calls, cache = fixture_splits["train"], [], tmp_path / "cache"
    cached_baselines(train, counting_fit(train, calls), cache)
    (entry,) = cache.glob("baselines-*.pkl")
    entry.write_bytes(b"not a pickle")
    assert isinstance(cached_baselines(train, counting_fit(train, calls), cache)[1], TfidfBaseline)
    assert len(calls) == 2
    cached_baselines(train, counting_fit(train, calls), cache)
    assert len(calls) == 2 and not list(cache.glob(".*.tmp"))


class _Touch:
    """Unpickling this creates `marker`: what a planted entry could do instead."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_an_entry_others_can_write_is_never_unpickled(fixture_splits, tmp_path):
    train, calls, cache = fixture_splits["train"], [], tmp_path / "cache"
    cached_baselines(train, counting_fit(train, calls), cache)
    (entry,) = cache.glob("baselines-*.pkl")
    marker = tmp_path / "code-ran"
    entry.write_bytes(pickle.dumps(_Touch(marker)))
    entry.chmod(0o666)
    assert isinstance(cached_baselines(train, counting_fit(train, calls), cache)[1], TfidfBaseline)
    assert len(calls) == 2 and not marker.exists()
    cached_baselines(train, counting_fit(train, calls), cache)  # the replacement is trusted
    assert len(calls) == 2


def test_no_cache_folder_always_fits(fixture_splits):
    train, calls = fixture_splits["train"], []
    cached_baselines(train, counting_fit(train, calls), None)
    cached_baselines(train, counting_fit(train, calls), None)
    assert len(calls) == 2


def test_evaluation_reports_the_same_numbers_from_the_cache(
    tiny_model_dir, fixture_splits, tmp_path, monkeypatch
):
    def metrics(out, cache):
        run_evaluation(
            data=fixture_splits["test"], model_dir=tiny_model_dir, out_dir=tmp_path / out,
            baseline_train=fixture_splits["train"], log=lambda _: None, baseline_cache=cache,
        )
        return json.loads((tmp_path / out / "metrics.json").read_text())

    cold = metrics("cold", tmp_path / "cache")
    assert list((tmp_path / "cache").glob("baselines-*.pkl"))

    def no_fit(_):
        raise AssertionError("the warm run fitted the baselines again")

    monkeypatch.setattr(evaluate, "_fit_baselines", no_fit)
    assert metrics("warm", tmp_path / "cache") == cold


def test_no_baseline_cache_fits_afresh_and_keeps_nothing(
    tiny_model_dir, fixture_splits, tmp_path, monkeypatch
):
    cache, calls = tmp_path / "cache", []
    monkeypatch.setattr(evaluate, "baseline_cache_dir", lambda: cache)
    monkeypatch.setattr(evaluate, "split_path", lambda _: fixture_splits["train"])
    fit = evaluate._fit_baselines
    monkeypatch.setattr(evaluate, "_fit_baselines", lambda path: calls.append(1) or fit(path))
    for run in ("first", "second"):
        assert main(["evaluate", str(fixture_splits["test"]), "--model", str(tiny_model_dir),
                     "-o", str(tmp_path / run), "--no-baseline-cache"]) == 0
    assert len(calls) == 2 and not cache.exists()
