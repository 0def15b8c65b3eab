"""`factsep evaluate` on the tiny model: both modes, the CheckThat format, the gate."""

import json

import pytest

from factsep.scripts.cli import EXIT_GATE, EXIT_USAGE, main
from factsep.training.evaluation.evaluate import load_gold, run_evaluation


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
    monkeypatch.setattr(
        "factsep.training.evaluation.evaluate.split_path", lambda _: fixture_splits["train"]
    )
    common = ["evaluate", str(fixture_splits["test"]), "--model", str(tiny_model_dir)]
    assert main([*common, "-o", str(tmp_path / "a"), "--min-macro-f1", "1"]) == EXIT_GATE
    assert main([*common, "-o", str(tmp_path / "b"), "--min-macro-f1", "0"]) == 0


@pytest.mark.parametrize("value", ["nan", "2.0", "-0.1", "high"])
def test_gate_outside_zero_to_one_is_a_usage_error(tiny_model_dir, fixture_splits, value, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["evaluate", str(fixture_splits["test"]), "--model", str(tiny_model_dir),
              "--min-macro-f1", value])
    assert stop.value.code == EXIT_USAGE
    assert "--min-macro-f1" in capsys.readouterr().err


@pytest.mark.parametrize("existing", ["report.md", "report.html"])
def test_every_report_file_is_protected(tiny_model_dir, fixture_splits, tmp_path, existing):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / existing).write_text("precious")
    with pytest.raises(ValueError, match=f"{existing} already exist"):
        evaluate(tiny_model_dir, fixture_splits, tmp_path / "r")
    assert (tmp_path / "r" / existing).read_text() == "precious"


def test_report_folder_that_is_a_file_fails_before_any_work(tiny_model_dir, tmp_path, monkeypatch):
    import factsep.training.evaluation.evaluate as harness

    (tmp_path / "r").write_text("a file")
    monkeypatch.setattr(harness, "load_gold", lambda *a: pytest.fail("evaluated first"))
    with pytest.raises(ValueError, match="is a file"):
        run_evaluation(data=tmp_path / "x.jsonl", model_dir=tiny_model_dir, out_dir=tmp_path / "r")


def test_any_file_with_text_and_sentences_can_be_evaluated(
    tiny_model_dir, fixture_splits, tmp_path
):
    bare = tmp_path / "bare.jsonl"
    lines = fixture_splits["test"].read_text().splitlines()
    rows = [{k: v for k, v in json.loads(line).items() if k in ("text", "sentences")}
            for line in lines]
    bare.write_text("".join(json.dumps(r) + "\n" for r in rows))
    gold = load_gold(bare, "articles")
    assert gold.doc_ids == [f"bare.jsonl:{n}" for n in range(1, len(rows) + 1)]
    assert set(gold.genres) == {"unknown"}
    metrics = evaluate(tiny_model_dir, {**fixture_splits, "test": bare}, tmp_path / "r")
    assert 0.0 <= metrics["macro_f1"] <= 1.0


def _checkthat_file(tmp_path):
    tsv = tmp_path / "ct.tsv"
    tsv.write_text(
        "sentence_id\tsentence\tlabel\n"
        "1\tThe council voted on Monday.\tOBJ\n"
        "2\tI was born in a small town. It rained.\tOBJ\n"
        "3\tThis is a terrible idea.\tSUBJ\n"
    )
    return tsv


class _FixedLabeller:
    """Stands in for a model: every sentence gets the probabilities its first word names."""

    precision = "fp32"
    rows = {"The": (0.9, 0.05, 0.05), "I": (0.1, 0.3, 0.6), "It": (0.1, 0.6, 0.3),
            "This": (0.1, 0.8, 0.1)}

    def _probs(self, sentence):
        return self.rows[sentence.split()[0]]

    def predict_spans(self, items):
        import numpy as np

        return [np.array([self._probs(t[s:e]) for s, e in spans]) for t, spans in items]

    def label_many(self, articles):
        from factsep.model.labels import LABELS
        from factsep.model.predict import LabelledArticle, LabelledSentence
        from factsep.model.segment import segment

        for article in articles:
            sentences = []
            for start, end in segment(article.text):
                probs = self._probs(article.text[start:end])
                best = max(range(3), key=probs.__getitem__)
                sentences.append(LabelledSentence(start, end, article.text[start:end],
                                                  LABELS[best], probs[best], probs))
            yield LabelledArticle(article.doc_id, article.text, tuple(sentences))


@pytest.mark.parametrize(
    "mode, subj, expected",
    [
        ("gold", "opinion", ["OBJ", "OBJ", "SUBJ"]),  # filler narration is OBJ
        ("gold", "opinion+filler", ["OBJ", "SUBJ", "SUBJ"]),
        ("end-to-end", "opinion", ["OBJ", "SUBJ", "SUBJ"]),  # "It rained." came out opinion
    ],
)
def test_checkthat_subj_is_some_sentence_labelled_opinion(tmp_path, mode, subj, expected):
    from factsep.training.evaluation.evaluate import LabelMapping, score_end_to_end, score_gold_mode

    gold = load_gold(_checkthat_file(tmp_path), "checkthat")
    mapping = LabelMapping.for_gold(gold, subj)
    if mode == "gold":
        scored = score_gold_mode(_FixedLabeller(), gold, mapping)
    else:
        scored = score_end_to_end(_FixedLabeller(), gold, mapping)[0]
    assert [s.pred for s in scored] == expected
    assert all(abs(sum(s.probs) - 1) < 1e-9 for s in scored)


def test_checkthat_flag_on_the_command_line(tiny_model_dir, fixture_splits, tmp_path, monkeypatch):
    monkeypatch.setattr(
        "factsep.training.evaluation.evaluate.split_path", lambda _: fixture_splits["train"]
    )
    common = ["evaluate", str(_checkthat_file(tmp_path)), "--format", "checkthat",
              "--model", str(tiny_model_dir)]
    assert main([*common, "-o", str(tmp_path / "a")]) == 0
    assert "opinion → SUBJ; fact, filler → OBJ" in (tmp_path / "a" / "report.md").read_text()
    assert main([*common, "-o", str(tmp_path / "b"), "--checkthat-subj", "opinion+filler"]) == 0
    assert "opinion, filler → SUBJ; fact → OBJ" in (tmp_path / "b" / "report.md").read_text()
