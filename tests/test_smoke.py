"""train -> evaluate -> label through the command line, on the tiny base and fixture data."""

import json

from factsep.scripts.cli import main


def test_train_evaluate_label(tiny_base, fixture_splits, tmp_path, capsys, monkeypatch):
    model = tmp_path / "model"
    data = [f"--{name}-file={path}" for name, path in fixture_splits.items()]
    assert main(["train", "-o", str(model), "--base", str(tiny_base), "--epochs", "2",
                 "--max-length", "64", "--batch-tokens", "256", *data]) == 0
    choice = json.loads((model / "inference.json").read_text())
    assert choice["default_precision"] in {"fp32", "bf16", "int8"}
    assert {c["precision"] for c in choice["checks"]} >= {"fp32", "int8"}
    assert main(["train", "-o", str(model), "--base", str(tiny_base), *data]) == 2  # no --force

    monkeypatch.setattr(
        "factsep.training.evaluation.evaluate.split_path", lambda _: fixture_splits["train"]
    )
    reports = tmp_path / "reports"
    assert main(["evaluate", str(fixture_splits["test"]), "--model", str(model),
                 "-o", str(reports)]) == 0
    metrics = json.loads((reports / "metrics.json").read_text())
    assert 0.0 <= metrics["macro_f1"] <= 1.0 and metrics["n_articles"] == 1.0

    article = tmp_path / "article.txt"
    article.write_text("Harbour Board Approves Terminal\n\nThe vote passed. I think it is wrong.\n")
    capsys.readouterr()
    assert main(["label", str(article), "--model", str(model)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["text"] for row in rows] == [
        "Harbour Board Approves Terminal", "The vote passed.", "I think it is wrong."
    ]
