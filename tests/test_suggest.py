"""`factsep suggest`: the least sure sentences first, spread across articles."""

import json

from factsep.model.predict import LabelledArticle, LabelledSentence
from factsep.scripts.cli import main
from factsep.training.data.suggest import margin, suggest


def article(doc_id, probs):
    sentences = tuple(
        LabelledSentence(i * 10, i * 10 + 9, f"{doc_id} s{i}", "fact", max(p), p)
        for i, p in enumerate(probs)
    )
    return LabelledArticle(doc_id, "", sentences)


def test_margin_is_top_minus_runner_up():
    s = article("a", [(0.5, 0.3, 0.2)]).sentences[0]
    assert abs(margin(s) - 0.2) < 1e-9


def test_orders_by_uncertainty_least_sure_first():
    a = article("a", [(0.9, 0.05, 0.05), (0.4, 0.35, 0.25), (0.6, 0.3, 0.1)])
    picked = suggest([a], n=3)
    assert [p.text for p in picked] == ["a s1", "a s2", "a s0"]
    assert [p.margin for p in picked] == sorted(p.margin for p in picked)


def test_spreads_across_articles():
    unsure = article("unsure", [(0.34, 0.33, 0.33)] * 5)
    calm = article("calm", [(0.7, 0.2, 0.1), (0.99, 0.005, 0.005)])
    picked = suggest([unsure, calm], n=3)
    assert [p.doc_id for p in picked] == ["unsure", "unsure", "calm"]  # 2 rounds, sorted
    assert {p.text for p in picked} >= {"calm s0"}
    assert len(suggest([unsure, calm], n=100)) == 7


def test_cli_lists_n_sentences_with_their_margins(tiny_model_dir, tmp_path, capsys):
    for name in ("one", "two"):
        (tmp_path / f"{name}.txt").write_text(
            "Dock workers voted on Monday. I think it is good news. Stay tuned.\n"
            "The union said pay will rise. It is a fair deal.\n"
        )
    code = main(["suggest", "--model", str(tiny_model_dir), "--precision", "fp32",
                 str(tmp_path), "-n", "4", "--format", "jsonl"])
    out, err = capsys.readouterr()
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 4
    assert {r["doc_id"] for r in rows} == {"one.txt", "two.txt"}
    assert [r["margin"] for r in rows] == sorted(r["margin"] for r in rows)
    for r in rows:
        top, second = sorted(r["probs"].values(), reverse=True)[:2]
        assert abs(r["margin"] - (top - second)) < 2e-4
    assert "suggested 4 sentences from 2 articles" in err
