"""Reports: the three files, their contents, escaping of hostile text, atomic writes."""

from __future__ import annotations

import json

import pytest

from factsep.training.evaluation.metrics import summarise
from factsep.training.evaluation.report import (
    SystemResult,
    flat_metrics,
    per_label_table,
    write_reports,
)
from factsep.training.evaluation.scoring import ScoredSentence

HOSTILE = "<script>alert('x')</script> & \"quotes\""


def system(name: str, wrong_conf: float = 0.9) -> SystemResult:
    rows = [
        ("<i>doc1</i>", "politics", HOSTILE, "opinion", "fact", (wrong_conf, 1 - wrong_conf, 0.0)),
        ("<i>doc1</i>", "politics", "Rates rose.", "fact", "fact", (0.8, 0.1, 0.1)),
        ("doc2", "sport", "Read more.", "filler", "filler", (0.1, 0.2, 0.7)),
        ("doc2", "sport", "A shameful decision.", "opinion", "opinion", (0.2, 0.7, 0.1)),
    ]
    sentences = [
        ScoredSentence(doc, genre, text, HOSTILE, "Read more | here", gold, pred, probs)
        for doc, genre, text, gold, pred, probs in rows
    ]
    return SystemResult(name, sentences, summarise(sentences, n_resamples=50))


def test_flat_metrics_prefixes_other_systems():
    primary, baseline = system("model"), system("TF-IDF + LR")
    flat = flat_metrics(primary, [baseline], extra={"boundary_f1": 0.9})
    assert flat["primary_metric"] == "macro_f1"
    assert flat["macro_f1"] == primary.metrics["macro_f1"]
    assert flat["tf_idf_lr_macro_f1"] == baseline.metrics["macro_f1"]
    assert flat["boundary_f1"] == 0.9
    assert len(flat) == 1 + 2 * len(primary.metrics) + 1


def test_flat_metrics_refuses_colliding_names():
    with pytest.raises(ValueError, match="accuracy"):
        flat_metrics(system("model"), [], extra={"accuracy": 1.0})


def test_per_label_table_has_a_block_per_system():
    table = per_label_table([system("model"), system("majority")])
    assert table.count("macro-F1") == 2
    assert "model" in table and "majority" in table
    for label in ("fact", "opinion", "filler"):
        assert table.count(label) == 2
    assert "[" in table  # the bootstrap interval


def test_write_reports(tmp_path):
    out = tmp_path / "eval"
    paths = write_reports(
        out,
        system("model"),
        [system("<b>$x_{$ baseline</b>")],  # bad mathtext too,
        extra={"boundary_f1": 0.75},
        notes=[f"note {HOSTILE}"],
    )
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "report.html", "report.md"]
    assert all(p.exists() for p in paths.values())

    metrics = json.loads(paths["metrics.json"].read_text())
    assert metrics.pop("primary_metric") == "macro_f1"
    assert all(isinstance(v, float) for v in metrics.values())
    assert "b_x_baseline_b_macro_f1" in metrics

    page = paths["report.html"].read_text()
    assert "<script>alert" not in page
    assert "<i>doc1" not in page and "<b>$x" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in page
    assert page.count('src="data:image/png;base64,') == 3

    markdown = paths["report.md"].read_text()
    assert "<script>" not in markdown
    assert "Read more \\| here" in markdown
    assert "Most confident mistakes" in markdown


def test_write_reports_overwrites_atomically(tmp_path):
    write_reports(tmp_path, system("model", wrong_conf=0.9))
    paths = write_reports(tmp_path, system("model", wrong_conf=0.95))
    assert "0.950" in paths["report.md"].read_text()
    assert not [p for p in tmp_path.iterdir() if p.name not in paths]


def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    paths = write_reports(tmp_path, system("model", wrong_conf=0.9))
    before = paths["metrics.json"].read_text()

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr("factsep.training.evaluation.report.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_reports(tmp_path, system("model", wrong_conf=0.95))
    assert paths["metrics.json"].read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(paths)
