"""`factsep evaluate` on the tiny model: both modes, the CheckThat format, the gate."""

import json

import pytest

from factsep.scripts.cli import main
from factsep.training.evaluate import load_gold, run_evaluation


def evaluate(tiny_model_dir, fixture_splits, out, **options):
    return run_evaluation(
        data=fixture_splits["test"], model_dir=tiny_model_dir, out_dir=out,
        baseline_train=fixture_splits["train"], log=lambda _: None, **options,
    )


def test_gold_mode_writes_the_three_reports(tiny_model_dir, fixture_splits, tmp_path, capsys):
    metrics = evaluate(tiny_model_dir, fixture_splits, tmp_path / "r")
    written = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert written["primary_metric"] == "macro_f1"
    assert written["macro_f1"] == metrics["macro_f1"]
    assert "tf_idf_lr_macro_f1" in written and "majority_class_macro_f1" in written
    assert all(isinstance(v, float) for k, v in written.items() if k != "primary_metric")
    html = (tmp_path / "r" / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3
    table = capsys.readouterr().out
    assert "fact" in table and "macro" in table.lower()


def test_end_to_end_mode_adds_boundary_scores(tiny_model_dir, fixture_splits, tmp_path):
    metrics = evaluate(tiny_model_dir, fixture_splits, tmp_path / "r", mode="end-to-end")
    assert metrics["boundary_precision"] == 1.0 and metrics["boundary_recall"] == 1.0
    written = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert written["boundary_f1"] == 1.0


def test_compare_adds_a_system(tiny_model_dir, fixture_splits, tmp_path):
    evaluate(tiny_model_dir, fixture_splits, tmp_path / "r", compare=[tiny_model_dir])
    written = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert written["compare_model_fp32_macro_f1"] == written["macro_f1"]


def test_reports_are_not_overwritten_without_force(tiny_model_dir, fixture_splits, tmp_path):
    evaluate(tiny_model_dir, fixture_splits, tmp_path / "r")
    with pytest.raises(ValueError, match="--force"):
        evaluate(tiny_model_dir, fixture_splits, tmp_path / "r")
    evaluate(tiny_model_dir, fixture_splits, tmp_path / "r", force=True)


def test_checkthat_format(tiny_model_dir, fixture_splits, tmp_path):
    tsv = tmp_path / "ct.tsv"
    tsv.write_text(
        "sentence_id\tsentence\tlabel\n"
        "1\tThe council voted on Monday.\tOBJ\n"
        '2\tThis is a "terrible" idea.\tSUBJ\n'
        "3\tPrices rose 3%.\tOBJ\n"
    )
    gold = load_gold(tsv, "checkthat")
    assert gold.labels == ("OBJ", "SUBJ") and gold.texts[1] == 'This is a "terrible" idea.'
    metrics = evaluate(tiny_model_dir, {**fixture_splits, "test": tsv}, tmp_path / "r",
                       data_format="checkthat")
    written = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert "f1_OBJ" in written and "f1_SUBJ" in written and "f1_fact" not in written
    assert 0.0 <= metrics["macro_f1"] <= 1.0


def test_bad_checkthat_file(tmp_path):
    tsv = tmp_path / "bad.tsv"
    tsv.write_text("id\ttext\n1\thello\n")
    with pytest.raises(ValueError, match="sentence_id, sentence and label"):
        load_gold(tsv, "checkthat")


def test_gate_exit_code(tiny_model_dir, fixture_splits, tmp_path, monkeypatch):
    monkeypatch.setattr("factsep.training.evaluate.split_path", lambda _: fixture_splits["train"])
    common = ["evaluate", str(fixture_splits["test"]), "--model", str(tiny_model_dir)]
    assert main([*common, "-o", str(tmp_path / "a"), "--min-macro-f1", "1.01"]) == 2
    assert main([*common, "-o", str(tmp_path / "b"), "--min-macro-f1", "0"]) == 0
