"""The labelled dataset: its contract, its loader, the authoring format and the splits."""

import json
from pathlib import Path

import pytest
from datasets import Dataset

from factsep.model.labels import LABELS
from factsep.training.data.agreement import compare
from factsep.training.data.authoring import (
    existing_assignment,
    parse_article_file,
    read_article_files,
    split_by_genre,
)
from factsep.training.data.datacheck import check_splits
from factsep.training.data.dataset import DataError, load_articles, read_articles, sentence_examples
from factsep.training.paths import ARTICLES_DIR, split_path

GOOD = {"id": "a", "genre": "wire", "source": "test", "text": "One. Two.",
        "sentences": [{"start": 0, "end": 4, "label": "fact"},
                      {"start": 5, "end": 9, "label": "filler"}]}


def write(tmp_path, *rows, raw=None):
    path = tmp_path / "data.jsonl"
    path.write_text(raw if raw is not None else "\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def broken(**changes):
    row = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if value is None:
            del row[key]
        else:
            row[key] = value
    return row


@pytest.mark.parametrize(
    "row, message",
    [
        (broken(text=None), "missing field 'text'"),
        (broken(sentences=[{"start": 0, "end": 4, "label": "news"}]), "unknown label 'news'"),
        (broken(sentences=[{"start": 0, "end": 4, "label": "fact"},
                           {"start": 3, "end": 9, "label": "fact"}]), "overlaps"),
        (broken(sentences=[{"start": 0, "end": 4, "label": "fact"}]), "after the last sentence"),
        (broken(sentences=[{"start": 5, "end": 9, "label": "fact"}]), "in no sentence"),
        (broken(sentences=[{"start": 0, "end": 5, "label": "fact"},
                           {"start": 5, "end": 9, "label": "fact"}]), "surrounding whitespace"),
        (broken(sentences=[{"start": 0, "end": 40, "label": "fact"}]), "outside the text"),
    ],
)
def test_contract_breaches_name_file_and_line(tmp_path, row, message):
    path = write(tmp_path, GOOD | {"id": "first"}, row)
    with pytest.raises(DataError, match=message) as error:
        read_articles(path)
    assert f"{path}:2" in str(error.value)


def test_broken_json_duplicate_ids_and_bad_encoding(tmp_path):
    with pytest.raises(DataError, match=r"data.jsonl:1: not valid JSON"):
        read_articles(write(tmp_path, raw="{nope\n"))
    with pytest.raises(DataError, match="duplicate article id 'a'"):
        read_articles(write(tmp_path, GOOD, GOOD))
    (tmp_path / "data.jsonl").write_bytes(b"\xff\xfe")
    with pytest.raises(DataError, match="not UTF-8"):
        read_articles(tmp_path / "data.jsonl")
    with pytest.raises(DataError, match="empty"):
        read_articles(write(tmp_path, raw=""))


def test_loading_goes_through_datasets_and_keeps_neighbours(tmp_path):
    articles = load_articles(write(tmp_path, GOOD))
    assert isinstance(articles, Dataset) and articles[0]["id"] == "a"
    sentences = sentence_examples(articles)
    assert sentences["text"] == ["One.", "Two."]
    assert sentences[0]["after"] == "Two." and sentences[1]["before"] == "One."
    assert sentences[0]["before"] == "" and sentences["label"] == ["fact", "filler"]


def test_authoring_format(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("# id: x\n# genre: wire\n# source: test\nfact\tHeadline\nfiller\tBy Ann Lee\n"
                    "/\nfiller\t10:00 GMT\n\nfact\tOne thing happened.\nopinion\tIt was bad.\n")
    article = parse_article_file(path)
    assert article["text"] == "Headline\nBy Ann Lee\n10:00 GMT\n\nOne thing happened. It was bad."
    assert [s["label"] for s in article["sentences"]] == ["fact", "filler", "filler", "fact",
                                                         "opinion"]
    path.write_text("# id: x\n# genre: wire\n# source: test\nnews\tHeadline\n")
    with pytest.raises(DataError, match=f"{path}:4"):
        parse_article_file(path)


def test_glue_line_runs_a_heading_into_the_next_sentence(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("# id: x\n# genre: wire\n# source: test\nfact\tOne thing happened.\n"
                    "filler\tWhat it means\n~\nopinion\tIt was bad.\n")
    article = parse_article_file(path)
    assert article["text"] == "One thing happened. What it means It was bad."
    assert [(s["start"], s["end"]) for s in article["sentences"]] == [(0, 19), (20, 33), (34, 45)]


def test_split_is_by_article_stratified_and_deterministic(fixture_articles):
    first = split_by_genre(fixture_articles, seed=3)
    assert split_by_genre(fixture_articles, seed=3) == first
    ids = [a["id"] for rows in first.values() for a in rows]
    assert sorted(ids) == sorted(a["id"] for a in fixture_articles)


def test_repository_splits_are_valid_and_big_enough():
    report = check_splits({name: split_path(name) for name in ("train", "dev", "test")})
    assert report.ok, report.render()
    articles = [a for name in ("train", "dev", "test") for a in read_articles(split_path(name))]
    labels = [s["label"] for a in articles for s in a["sentences"]]
    assert len(articles) >= 150 and len(labels) >= 4000
    assert all(labels.count(label) / len(labels) >= 0.20 for label in LABELS)
    assert len(read_articles(split_path("test"))) >= 25


def test_repository_splits_are_compiled_from_the_article_files():
    compiled = {a["id"]: a for a in read_article_files(ARTICLES_DIR)}
    in_splits = [a for name in ("train", "dev", "test") for a in read_articles(split_path(name))]
    assert len(in_splits) == len(compiled)
    assert all(compiled[a["id"]] == a for a in in_splits)


def test_leak_between_splits_is_reported(tmp_path):
    long = "The harbour board voted on Monday to build a new ferry terminal."
    row = GOOD | {"text": long, "sentences": [{"start": 0, "end": len(long), "label": "fact"}]}
    (tmp_path / "train.jsonl").write_text(json.dumps(row | {"id": "a"}) + "\n")
    (tmp_path / "test.jsonl").write_text(json.dumps(row | {"id": "b"}) + "\n")
    report = check_splits({"train": tmp_path / "train.jsonl", "test": tmp_path / "test.jsonl"})
    assert not report.ok
    assert any("identical article text" in p for p in report.problems)
    assert any("near-duplicate sentence" in p for p in report.problems)


def test_agreement_against_hand_computed_kappa(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    # 4 sentences: first = fact fact opinion filler, second = fact opinion opinion filler.
    # observed 3/4; expected = sum p1*p2 = (2/4)(1/4) + (1/4)(2/4) + (1/4)(1/4) = 5/16
    # kappa = (3/4 - 5/16) / (1 - 5/16) = 7/11
    (first / "a.tsv").write_text("1\tfact\tA.\n2\tfact\tB.\n3\topinion\tC.\n4\tfiller\tD.\n")
    (second / "a.tsv").write_text("1\tfact\tA.\n2\topinion\tB.\n3\topinion\tC.\n4\tfiller\tD.\n")
    result = compare(first, second)
    assert result.kappa == pytest.approx(7 / 11)
    assert result.observed == pytest.approx(0.75)
    assert result.per_label == pytest.approx({"fact": 2 / 3, "opinion": 2 / 3, "filler": 1.0})
    assert [(d.first, d.second) for d in result.disagreements] == [("fact", "opinion")]


def test_rebuild_keeps_existing_articles_in_their_split(tmp_path):
    from factsep.training.data.authoring import build_dataset

    articles = tmp_path / "articles"
    articles.mkdir()
    for path in sorted((Path(__file__).parent / "fixtures" / "articles").glob("*.txt")):
        (articles / path.name).write_text(path.read_text())
    out = tmp_path / "data"
    build_dataset(articles, out, seed=1)
    before = existing_assignment(out)
    (articles / "t-99.txt").write_text("# id: t-99\n# genre: wire\n# source: test\nfact\tNews.\n")
    build_dataset(articles, out, seed=99)
    after = existing_assignment(out)
    assert {k: after[k] for k in before} == before and "t-99" in after
