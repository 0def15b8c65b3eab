import pytest

from factsep.model.segment import segment
from factsep.training.data.dataset import read_articles
from factsep.training.evaluation.metrics import boundary_scores
from factsep.training.paths import split_path


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in segment(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Headline Without A Stop\nThe body starts here.", ["Headline Without A Stop",
                                                             "The body starts here."]),
        ("Read More\n\n2025-01-02 16:53", ["Read More", "2025-01-02 16:53"]),
        ("The U.S. firm grew 3.5% in Q1. Dr. Smith left.", ["The U.S. firm grew 3.5% in Q1.",
                                                             "Dr. Smith left."]),
        ('"Why now?" asked Ostrowski. He left.', ['"Why now?" asked Ostrowski.', "He left."]),
        ('"This is a disaster. We will fight," the minister said.',
         ['"This is a disaster.', 'We will fight," the minister said.']),
        ("He said: “It works. Really.” Then he left.",
         ["He said: “It works.", "Really.”", "Then he left."]),
        ("1. Cut the rates.\n2) Raise the cap", ["1. Cut the rates.", "2) Raise the cap"]),
        ("J. K. Rowling spoke at 3 p.m. on Monday; it went well – mostly.",
         ["J. K. Rowling spoke at 3 p.m. on Monday; it went well – mostly."]),
        ("Posted March 4, 2025 at 9:10 a.m. ET", ["Posted March 4, 2025 at 9:10 a.m. ET"]),
        ("It was No. 3 on the list. Nobody said no. But why?",
         ["It was No. 3 on the list.", "Nobody said no.", "But why?"]),
        ("Wait... what? Yes!", ["Wait... what?", "Yes!"]),
        ("   \n\n  ", []),
    ],
)
def test_guideline_rules(text, expected):
    assert sentences(text) == expected


def test_spans_are_stripped_ordered_and_cover_all_text():
    text = "  Title\n\nFirst one.  Second one!\n- a list item\n"
    spans = segment(text)
    assert all(text[s:e] == text[s:e].strip() for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    covered = "".join(text[s:e] for s, e in spans)
    assert covered.replace(" ", "") == "".join(text.split())


def test_boundaries_on_the_test_split_meet_the_target():
    articles = read_articles(split_path("test"))
    gold = [[(s["start"], s["end"]) for s in a["sentences"]] for a in articles]
    predicted = [segment(a["text"]) for a in articles]
    scores = boundary_scores(gold, predicted)
    assert scores["boundary_precision"] >= 0.98
    assert scores["boundary_recall"] >= 0.98
