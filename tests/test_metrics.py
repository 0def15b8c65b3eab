"""Each metric against values worked out by hand on tiny fixtures."""

from __future__ import annotations

import pytest

from factsep.training.evaluation.metrics import (
    bootstrap_macro_f1,
    boundary_scores,
    confusion,
    expected_calibration_error,
    label_metrics,
    majority_labels,
    most_confident_mistakes,
    reliability_bins,
    summarise,
)
from factsep.training.evaluation.scoring import ScoredSentence

GOLD = ["fact", "fact", "fact", "opinion", "opinion", "filler", "filler", "filler"]
PRED = ["fact", "fact", "opinion", "opinion", "fact", "filler", "filler", "opinion"]


def sentence(doc: str, gold: str, pred: str, conf: float = 1.0, genre: str = "news"):
    probs = {"fact": (conf, 0.0, 0.0), "opinion": (0.0, conf, 0.0), "filler": (0.0, 0.0, conf)}
    return ScoredSentence(doc, genre, f"{doc}:{gold}", "", "", gold, pred, probs[pred])


def test_label_metrics_by_hand():
    m = label_metrics(GOLD, PRED)
    # correct at positions 0, 1, 3, 5, 6 -> 5/8
    assert m["accuracy"] == pytest.approx(5 / 8)
    # fact: tp 2, predicted 3 (0, 1, 4), gold 3 -> P 2/3, R 2/3, F1 2/3
    assert (m["precision_fact"], m["recall_fact"]) == pytest.approx((2 / 3, 2 / 3))
    assert m["f1_fact"] == pytest.approx(2 / 3)
    # opinion: tp 1, predicted 3 (2, 3, 7), gold 2 -> P 1/3, R 1/2, F1 2*1/(3+2) = 2/5
    assert (m["precision_opinion"], m["recall_opinion"]) == pytest.approx((1 / 3, 1 / 2))
    assert m["f1_opinion"] == pytest.approx(2 / 5)
    # filler: tp 2, predicted 2, gold 3 -> P 1, R 2/3, F1 2*2/(2+3) = 4/5
    assert (m["precision_filler"], m["recall_filler"]) == pytest.approx((1.0, 2 / 3))
    assert m["f1_filler"] == pytest.approx(4 / 5)
    # macro: (30/45 + 18/45 + 36/45) / 3 = 28/45
    assert m["macro_f1"] == pytest.approx(28 / 45)
    assert (m["support_fact"], m["support_opinion"], m["support_filler"]) == (3.0, 2.0, 3.0)
    assert all(isinstance(v, float) for v in m.values())


def test_macro_f1_averages_over_labels_in_gold_or_predicted():
    # fact: P 1, R 1/2, F1 2/3; opinion predicted once, never gold: F1 0 and counted;
    # filler in neither gold nor predictions: not counted -> macro (2/3 + 0) / 2 = 1/3
    m = label_metrics(["fact", "fact"], ["fact", "opinion"])
    assert m["f1_opinion"] == 0.0 and m["f1_filler"] == 0.0
    assert m["macro_f1"] == pytest.approx(1 / 3)


def test_a_set_without_filler_is_not_punished_for_it():
    gold = ["fact"] * 60 + ["opinion"] * 30
    pred = ["fact"] * 60 + ["opinion"] * 29 + ["fact"]
    m = label_metrics(gold, pred)
    assert m["macro_f1"] == pytest.approx((m["f1_fact"] + m["f1_opinion"]) / 2)
    assert m["macro_f1"] > 0.98
    low, high = bootstrap_macro_f1(gold, pred, [str(i % 9) for i in range(90)], n_resamples=200)
    assert low > 0.9 and low <= m["macro_f1"] <= high


def test_unknown_label_is_an_error():
    with pytest.raises(ValueError, match="unknown labels"):
        label_metrics(["fact"], ["Fact"])


def test_confusion_rows_gold_columns_pred():
    # gold fact -> pred fact, fact, opinion; gold opinion -> opinion, fact;
    # gold filler -> filler, filler, opinion
    assert confusion(GOLD, PRED) == [[2, 1, 0], [1, 1, 0], [0, 1, 2]]


def test_ece_and_reliability_bins_by_hand():
    conf = [0.95, 0.85, 0.65, 0.62]
    correct = [True, False, True, False]
    # bin 0.9-1.0: conf .95, acc 1 -> gap .05; bin 0.8-0.9: conf .85, acc 0 -> gap .85;
    # bin 0.6-0.7: conf (.65 + .62)/2 = .635, acc .5 -> gap .135
    # ECE = 1/4 * .05 + 1/4 * .85 + 2/4 * .135 = .0125 + .2125 + .0675 = .2925
    assert expected_calibration_error(conf, correct) == pytest.approx(0.2925)
    bins = reliability_bins(conf, correct)
    assert [b["count"] for b in bins] == [2, 1, 1]
    assert [b["lo"] for b in bins] == pytest.approx([0.6, 0.8, 0.9])
    assert [b["hi"] for b in bins] == pytest.approx([0.7, 0.9, 1.0])
    assert bins[0]["confidence"] == pytest.approx(0.635)
    assert bins[0]["accuracy"] == pytest.approx(0.5)


def test_confidence_one_falls_in_the_last_bin():
    # conf 1.0, correct -> gap 0 in bin 0.9-1.0
    assert expected_calibration_error([1.0], [True]) == 0.0
    assert reliability_bins([1.0], [True])[0]["lo"] == pytest.approx(0.9)


def test_boundary_scores_pooled_over_two_articles():
    gold = [[(0, 10), (11, 20), (21, 30)], [(0, 5), (6, 12)]]
    predicted = [[(0, 20), (21, 30)], [(0, 3), (4, 5), (6, 9), (10, 12)]]
    # article 1: gold ends {10, 20, 30}, predicted {20, 30} -> 2 hits
    # article 2: gold ends {5, 12}, predicted {3, 5, 9, 12} -> 2 hits
    # pooled: hits 4, predicted 6, gold 5 -> P 4/6, R 4/5, F1 2*4/(6+5) = 8/11
    scores = boundary_scores(gold, predicted)
    assert scores["boundary_precision"] == pytest.approx(2 / 3)
    assert scores["boundary_recall"] == pytest.approx(4 / 5)
    assert scores["boundary_f1"] == pytest.approx(8 / 11)


def test_majority_labels_with_overlapping_spans():
    gold = [(0, 10), (10, 20), (20, 30)]
    predicted = [(0, 4), (4, 13), (13, 30)]
    labels = ["fact", "opinion", "filler"]
    # (0,10): fact 4, opinion 6 -> opinion; (10,20): opinion 3, filler 7 -> filler;
    # (20,30): filler 10 -> filler
    assert majority_labels(gold, predicted, labels) == ["opinion", "filler", "filler"]


def test_majority_labels_sums_characters_per_label():
    # (0,12): fact 3 + 4 = 7 beats opinion 5, though opinion's single span is the longest
    assert majority_labels([(0, 12)], [(0, 3), (3, 8), (8, 12)], ["fact", "opinion", "fact"]) == [
        "fact"
    ]


def test_majority_labels_tie_goes_to_earliest_span():
    # (0,10): opinion 5, fact 5 -> opinion, whose span comes first
    assert majority_labels([(0, 10)], [(0, 5), (5, 10)], ["opinion", "fact"]) == ["opinion"]


def test_majority_labels_uncovered_gold_span_is_an_error():
    with pytest.raises(ValueError, match=r"\(10, 15\)"):
        majority_labels([(0, 5), (10, 15)], [(0, 5)], ["fact"])


def test_bootstrap_interval_contains_point_estimate():
    pairs = [("fact", "fact"), ("opinion", "fact"), ("filler", "filler"), ("opinion", "opinion")]
    gold, pred, groups = [], [], []
    for doc in range(12):
        for j, (g, p) in enumerate(pairs[: 2 + doc % 3]):
            gold.append(g)
            pred.append(p if (doc + j) % 4 else "filler")
            groups.append(f"doc{doc}")
    point = label_metrics(gold, pred)["macro_f1"]
    low, high = bootstrap_macro_f1(gold, pred, groups, n_resamples=500, seed=1)
    assert low <= point <= high
    assert low < high
    assert bootstrap_macro_f1(gold, pred, groups, n_resamples=500, seed=1) == (low, high)


def test_bootstrap_interval_is_degenerate_when_groups_are_identical():
    # every article is the same, so every resample has the same macro-F1:
    # fact: tp 1 of gold 1, pred 2 -> 2/3; opinion: 0; filler: 1 -> (2/3 + 0 + 1)/3 = 5/9
    gold = ["fact", "opinion", "filler"] * 5
    pred = ["fact", "fact", "filler"] * 5
    groups = [f"doc{i}" for i in range(5) for _ in range(3)]
    low, high = bootstrap_macro_f1(gold, pred, groups, n_resamples=200)
    assert low == high == pytest.approx(5 / 9)


def test_summarise_adds_interval_calibration_counts_and_genres():
    sentences = [
        sentence("a", "fact", "fact", genre="politics"),
        sentence("a", "opinion", "opinion", genre="politics"),
        sentence("a", "filler", "filler", genre="politics"),
        sentence("b", "fact", "opinion", genre="sport"),
        sentence("b", "opinion", "opinion", genre="sport"),
        sentence("b", "filler", "filler", genre="sport"),
    ]
    m = summarise(sentences, n_resamples=200)
    # overall: fact 2*1/(2+1) = 2/3, opinion 2*2/(2+3) = 4/5, filler 1 -> 37/45
    assert m["macro_f1"] == pytest.approx(37 / 45)
    assert m["macro_f1_ci_low"] <= m["macro_f1"] <= m["macro_f1_ci_high"]
    # one-hot probabilities: all confidence 1.0, accuracy 5/6 -> ECE 1/6
    assert m["ece"] == pytest.approx(1 / 6)
    assert (m["n_sentences"], m["n_articles"]) == (6.0, 2.0)
    # politics all right -> 1; sport: fact 0, opinion 2*1/(1+2) = 2/3, filler 1 -> 5/9
    assert m["genre_politics_macro_f1"] == pytest.approx(1.0)
    assert m["genre_sport_macro_f1"] == pytest.approx(5 / 9)
    assert all(isinstance(v, float) for v in m.values())


def test_most_confident_mistakes_sorted_and_truncated():
    sentences = [
        sentence("a", "fact", "opinion", 0.6),
        sentence("b", "fact", "fact", 0.99),
        sentence("c", "opinion", "filler", 0.9),
        sentence("d", "filler", "fact", 0.7),
    ]
    assert [s.doc_id for s in most_confident_mistakes(sentences, k=2)] == ["c", "d"]
    assert [s.doc_id for s in most_confident_mistakes(sentences)] == ["c", "d", "a"]
