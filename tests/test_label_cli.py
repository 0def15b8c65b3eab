"""`factsep label` end to end on the tiny model: input kinds, formats, bad input."""

import csv
import io
import json
import os

import pytest

from factsep.model import inputs

ARTICLE = "Port Strike Ends\n\nDock workers voted to return on Monday. I think it is good news.\n"


def rows(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_text_file_to_stdout_as_jsonl(run, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    code, out, err = run(str(tmp_path / "a.txt"))
    assert code == 0
    lines = rows(out)
    assert [r["sentence_id"] for r in lines] == [0, 1, 2]
    assert {r["doc_id"] for r in lines} == {"a.txt"}
    assert set(lines[1]) == {"doc_id", "language", "sentence_id", "start", "end", "text", "label",
                             "score", "probs"}
    assert set(lines[0]) == set(lines[1]) | {"article_text"}  # the text the offsets index
    assert lines[0]["article_text"] == ARTICLE
    assert ARTICLE[lines[1]["start"] : lines[1]["end"]] == lines[1]["text"]
    assert "labelled 1 articles, 3 sentences" in err


def test_directory_is_read_recursively(run, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "one.md").write_text(ARTICLE)
    (tmp_path / "sub" / "two.txt").write_text(ARTICLE)
    (tmp_path / "ignored.png").write_bytes(b"\x89PNG")
    code, out, _ = run(str(tmp_path))
    assert code == 0
    assert {r["doc_id"] for r in rows(out)} == {"one.md", "sub/two.txt"}


def test_jsonl_with_custom_keys(run, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"url": "u1", "body": ARTICLE}) + "\n\n"
                    + json.dumps({"url": "u2", "body": "Just one sentence."}) + "\n")
    code, out, _ = run(str(feed), "--text-key", "body", "--id-key", "url")
    assert code == 0
    assert [r["doc_id"] for r in rows(out)] == ["u1", "u1", "u1", "u2"]


def test_standard_input(run, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(ARTICLE.encode())))
    code, out, _ = run("-")
    assert code == 0
    assert {r["doc_id"] for r in rows(out)} == {"stdin"}


def test_csv_output_file(run, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    target = tmp_path / "out.csv"
    code, out, _ = run(str(tmp_path / "a.txt"), "-o", str(target), "--format", "csv")
    assert code == 0 and out == ""
    table = list(csv.DictReader(target.open()))
    assert len(table) == 3
    assert set(table[0]) >= {"doc_id", "text", "label", "score", "p_fact", "p_opinion", "p_filler"}


def test_html_output_is_self_contained_and_escaped(run, tmp_path):
    hostile = tmp_path / "hostile.txt"
    hostile.write_text("<script>alert('x')</script> & more.\n\nA second <b>line</b>.\n")
    target = tmp_path / "out.html"
    code, _, _ = run(str(hostile), "-o", str(target), "--format", "html")
    page = target.read_text()
    assert code == 0
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<b>line</b>" not in page
    assert "Legend" in page and "fact" in page and "%" in page
    assert "http" not in page  # no external resources


def test_table_format_for_terminals(run, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    code, out, _ = run(str(tmp_path / "a.txt"), "--format", "table")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "== a.txt ==" and len(lines) == 5
    assert lines[2].split()[0] in ("fact", "opinion", "filler")
    assert lines[2].endswith("Dock workers voted to return on Monday.")


def test_text_format_keeps_chosen_labels(run, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    code, out, _ = run(str(tmp_path / "a.txt"), "--format", "text", "--keep",
                       "fact,opinion,filler")
    assert code == 0
    assert out.startswith("== a.txt ==\n")
    assert "Dock workers voted to return on Monday." in out
    code, out, err = run(str(tmp_path / "a.txt"), "--format", "text", "--keep", "nonsense")
    assert code == 2 and "--keep takes labels from" in err and out == ""


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"  \n\n ", "empty file"),
        ("binary.txt", b"\x00\x01\x02binary", "binary file"),
        ("latin1.txt", "Caf\u00e9 cr\u00e8me.".encode("latin-1"), "not UTF-8"),
    ],
)
def test_bad_file_is_reported_and_skipped(run, tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    (tmp_path / "good.txt").write_text(ARTICLE)
    code, out, err = run(str(tmp_path / name), str(tmp_path / "good.txt"))
    assert f"{tmp_path / name}: {message}" in err
    assert {r["doc_id"] for r in rows(out)} == {"good.txt"}
    assert code == 0


def test_malformed_jsonl_line_and_missing_field_name_the_line(run, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "ok", "text": ARTICLE}) + "\n{broken\n"
                    + json.dumps({"id": "x", "body": "no text field"}) + "\n")
    code, out, err = run(str(feed))
    assert f"{feed}:2: malformed JSON" in err
    assert f"{feed}:3: no string field 'text'" in err
    assert {r["doc_id"] for r in rows(out)} == {"ok"}


def test_directory_without_articles(run, tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = run(str(tmp_path / "empty"))
    assert "directory holds no articles" in err
    assert code == 1


def test_missing_input(run, tmp_path):
    code, _, err = run(str(tmp_path / "nope.txt"))
    assert "no such file or directory" in err and code == 1


def test_too_large_article(run, tmp_path, monkeypatch):
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * (50 * 2**20 // 5))  # a 50 MB "article"
    code, _, err = run(str(big))
    assert f"{big}: too large to be one article (over 5 MB" in err
    assert code == 1


def test_existing_output_needs_force(run, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    target = tmp_path / "out.jsonl"
    target.write_text("precious\n")
    code, _, err = run(str(tmp_path / "a.txt"), "-o", str(target))
    assert code == 2 and "already exists; use --force" in err
    assert target.read_text() == "precious\n"
    code, _, _ = run(str(tmp_path / "a.txt"), "-o", str(target), "--force")
    assert code == 0 and len(rows(target.read_text())) == 3


def test_unwritable_output_folder(run, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    code, _, err = run(str(tmp_path / "a.txt"), "-o", str(tmp_path / "missing" / "out.jsonl"))
    assert code == 2 and "does not exist" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_output_folder(run, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = run(str(tmp_path / "a.txt"), "-o", str(locked / "out.jsonl"))
    assert code == 2 and "cannot write" in err


def test_strict_stops_but_keeps_what_was_labelled(run, tmp_path):
    (tmp_path / "1-good.txt").write_text(ARTICLE)
    (tmp_path / "2-bad.txt").write_bytes(b"")
    (tmp_path / "3-good.txt").write_text(ARTICLE)
    target = tmp_path / "out.jsonl"
    code, _, err = run(str(tmp_path / "1-good.txt"), str(tmp_path / "2-bad.txt"),
                       str(tmp_path / "3-good.txt"), "-o", str(target), "--strict")
    assert code == 1 and "stopping (--strict)" in err
    assert {r["doc_id"] for r in rows(target.read_text())} == {"1-good.txt"}
    assert not list(tmp_path.glob(".out.jsonl.*"))  # no temporary file left behind


def test_interrupted_run_leaves_no_partial_file(tiny_model_dir, tmp_path, monkeypatch):
    from factsep.model.job import label_inputs
    from factsep.model.predict import Labeller

    (tmp_path / "a.txt").write_text(ARTICLE)
    target = tmp_path / "out.jsonl"

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(inputs, "_read_file", explode)
    with pytest.raises(RuntimeError):
        label_inputs(Labeller.from_directory(tiny_model_dir), [str(tmp_path / "a.txt")], target)
    assert list(tmp_path.iterdir()) == [tmp_path / "a.txt"]
