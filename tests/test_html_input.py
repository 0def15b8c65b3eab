"""HTML pages in: the article's title and main text are labelled, the page furniture is not."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from factsep.model.pages import NoArticleError, article_from_html
from factsep.scripts.cli import main

PAGES = Path(__file__).parent / "fixtures" / "pages"
NEWS = (PAGES / "night-buses.html").read_text(encoding="utf-8")


def test_title_and_main_text_are_kept_furniture_is_dropped():
    text = article_from_html(NEWS)
    assert text.startswith("City Council Approves Night Bus Trial on Three Routes\n\n")
    assert "The city council voted 9-4 on Tuesday" in text
    assert "said Cllr Maria Okonjo" in text
    assert text.endswith("should have done it years ago.")
    for furniture in ("Subscribe now", "tracking pixel", "color: red", "Share on Facebook",
                      "Photo: Gazette staff", "busfan99", "potholes first", "All rights reserved",
                      "editor: check", "Privacy policy"):
        assert furniture not in text, furniture


def test_paragraphs_become_blank_line_separated_and_title_is_not_repeated():
    text = article_from_html(NEWS)
    assert text.count("City Council Approves Night Bus Trial") == 1
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == 4
    assert all(p == " ".join(p.split()) for p in paragraphs)


def test_title_is_added_when_the_body_does_not_open_with_it():
    page = NEWS.replace("<h1>City Council Approves Night Bus Trial on Three Routes</h1>", "")
    text = article_from_html(page)
    assert text.startswith("Night Bus Trial Approved\n\nThe city council")  # site name cut


def test_page_bytes_in_another_encoding_are_decoded():
    page = NEWS.replace('charset="utf-8"', 'charset="iso-8859-1"').replace("Cllr", "Café owner")
    assert "said Café owner Maria Okonjo" in article_from_html(page.encode("latin-1"))


def test_page_without_an_article_is_an_error():
    with pytest.raises(NoArticleError, match="no article found"):
        article_from_html((PAGES / "nav-only.htm").read_text(encoding="utf-8"))


@pytest.fixture
def label(tiny_model_dir, capsys):
    def invoke(*args: str) -> tuple[int, list[dict], str]:
        code = main(["label", "--model", str(tiny_model_dir), "--precision", "fp32", *args])
        out, err = capsys.readouterr()
        return code, [json.loads(line) for line in out.splitlines() if line.strip()], err

    return invoke


def test_label_page_rows_index_the_recorded_extracted_text(label):
    code, rows, _ = label(str(PAGES / "night-buses.html"))
    assert code == 0
    text = rows[0]["article_text"]
    assert text == article_from_html(NEWS)
    assert {r["doc_id"] for r in rows} == {"night-buses.html"}
    assert all(text[r["start"] : r["end"]] == r["text"] for r in rows)
    assert "article_text" not in rows[1]


def test_directory_pages_are_read_and_a_page_without_article_is_skipped(label, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "story.HTM").write_text(NEWS, encoding="utf-8")
    (tmp_path / "index.html").write_text((PAGES / "nav-only.htm").read_text(), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("A plain text article. It has two sentences.\n")
    code, rows, err = label(str(tmp_path))
    assert code == 0
    assert {r["doc_id"] for r in rows} == {"sub/story.HTM", "notes.txt"}
    assert f"error: {tmp_path / 'index.html'}: no article found in the page" in err
    assert "1 input(s) skipped" in err


def test_jsonl_records_with_page_source(label, tmp_path):
    feed = tmp_path / "crawl.jsonl"
    feed.write_text(
        json.dumps({"url": "https://example.org/a", "html": NEWS}) + "\n"
        + json.dumps({"url": "https://example.org/b", "body": "no page here"}) + "\n"
        + json.dumps({"url": "https://example.org/c", "html": ""}) + "\n",
        encoding="utf-8",
    )
    code, rows, err = label(str(feed), "--html-key", "html", "--id-key", "url")
    assert code == 0
    assert {r["doc_id"] for r in rows} == {"https://example.org/a"}
    assert rows[0]["article_text"] == article_from_html(NEWS)
    assert f"{feed}:2: no string field 'html' (fields: body, url); see --html-key" in err
    assert f"{feed}:3: field 'html' is empty" in err


def test_binary_html_file_is_reported(label, tmp_path):
    (tmp_path / "broken.html").write_bytes(b"<html>\x00\x01</html>")
    code, _, err = label(str(tmp_path / "broken.html"))
    assert code == 1
    assert "broken.html: binary file (contains NUL bytes), not an HTML page" in err


def test_trafilatura_is_imported_only_on_the_html_path():
    code = (
        "import sys, factsep.scripts.cli, factsep.model.inputs, factsep.model.job;"
        "print('trafilatura' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
