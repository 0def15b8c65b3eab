"""The extraction benchmark: true sentences found in page text, paired, and labels compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factsep.model.predict import LabelledArticle, LabelledSentence, Labeller
from factsep.training.benchmarks.extraction_bench import main, run
from factsep.training.benchmarks.sentence_match import (
    LabelAgreement,
    covering_sentence,
    find_sentences,
    normalise,
)

NAV_ONLY = (Path(__file__).parent / "fixtures" / "pages" / "nav-only.htm").read_text("utf-8")


def _labelled(doc_id: str, parts: list[tuple[str, str]], gap: str = " ") -> LabelledArticle:
    """An article whose sentences are `parts` (text, label), joined by `gap`."""
    sentences, cursor = [], 0
    for text, label in parts:
        probs = tuple(1.0 if name == label else 0.0 for name in ("fact", "opinion", "filler"))
        sentences.append(LabelledSentence(cursor, cursor + len(text), text, label, 1.0, probs))
        cursor += len(text) + len(gap)
    return LabelledArticle(doc_id, gap.join(text for text, _ in parts), tuple(sentences))


def test_sentences_are_found_whatever_the_whitespace():
    page = "Title\n\nThe  council   voted on\nTuesday. It was close."
    spans = find_sentences(["The council voted on Tuesday.", "It was\tclose.", "Absent."], page)
    assert spans[0] is not None and page[slice(*spans[0])] == "The  council   voted on\nTuesday."
    assert spans[1] is not None and page[slice(*spans[1])] == "It was close."
    assert spans[2] is None
    assert find_sentences(["Anything."], None) == [None]
    assert normalise(" a\u00a0 b\n") == "a b"


def test_a_sentence_is_not_found_inside_a_longer_word():
    page = "She said it was fine. Shares fell. Share"
    spans = find_sentences(["he said it was fine.", "Share", "“Shares fell.”"], page)
    assert spans[0] is None
    assert spans[1] == (len(page) - 5, len(page))  # the standalone one, not inside "Shares"
    assert spans[2] is None
    assert find_sentences(["Shares fell."], "“Shares fell.”") == [(1, 13)]


def test_the_page_sentence_holding_most_of_a_true_sentence_recovers_it():
    page = _labelled("p", [("Photo: staff. The", "filler"), ("bridge opened today.", "fact")])
    assert covering_sentence((14, 38), page.sentences) == 1  # "The bridge opened today."
    assert covering_sentence((0, 5), page.sentences) == 0
    assert covering_sentence((50, 60), page.sentences) is None


def test_agreement_pairs_split_merged_and_identical_sentences_by_true_label():
    truth = _labelled("t", [
        ("The bridge opened on Monday.", "fact"),
        ("It is a triumph of design.", "opinion"),
        ("Traffic fell by a third in its first week of use.", "fact"),
        ("Subscribe.", "filler"),
        ("This sentence is not on the page.", "fact"),
    ])
    page = _labelled("p", [
        ("Bridge opens", "filler"),  # the title: not in the true text
        ("The bridge opened on Monday.", "fact"),  # identical, same label
        ("It is a triumph of design. Traffic fell", "opinion"),  # merged: holds all of 2nd
        ("by a third in its first week of use.", "opinion"),  # holds most of the 3rd
        ("Subscribe.", "fact"),  # identical, another label
    ], gap="\n\n")
    agreement = LabelAgreement()
    agreement.add(truth, page)
    agreement.add(truth, None)  # a page without an article adds nothing
    results = agreement.results()
    assert results["matched_sentences"] == 4
    assert results["same_label_share"] == pytest.approx(2 / 4)
    assert (results["matched_fact"], results["same_label_share_fact"]) == (2, 0.5)
    assert (results["matched_opinion"], results["same_label_share_opinion"]) == (1, 1.0)
    assert (results["matched_filler"], results["same_label_share_filler"]) == (1, 0.0)
    assert results["identical_sentences"] == 2
    assert results["same_label_share_identical"] == pytest.approx(1 / 2)
    assert results["label_pairs"]["fact"] == {"fact": 1, "opinion": 1, "filler": 0}
    assert results["label_pairs"]["filler"] == {"fact": 1, "opinion": 0, "filler": 0}


def _page(title: str, paragraphs: list[str], caption: str) -> str:
    first, *rest = (f"  <p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<!-- Written for factsep's tests: an invented news page. -->
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} | The Hill Courier</title>
<script>function track() {{ console.log("pixel"); }}</script>
</head>
<body>
<header>
  <nav class="nav"><ul>
    <li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/jobs">Jobs</a></li>
  </ul></nav>
</header>
<main>
<article>
  <h1>{title}</h1>
  <div class="share social-share"><a href="#">Share on Facebook</a> <a href="#">Email this</a></div>
{first}
  <figure><img src="photo.jpg" alt="A photo"><figcaption>{caption}</figcaption></figure>
{chr(10).join(rest)}
</article>
</main>
<footer><p>© 2025 The Hill Courier. All rights reserved.</p></footer>
</body>
</html>"""


LIBRARY = [
    "The town library will open on Sundays from March, the council said on Monday, after a "
    "petition signed by more than three thousand residents.",
    "The change costs forty thousand pounds a year and adds six opening hours a week, paid "
    "for from the leisure budget rather than by new charges.",
    "It is the best news that readers in this town have had for a long time, and the council "
    "deserves credit for listening to them.",
]
FERRY = [
    "The harbour ferry carried a record number of passengers last summer, according to "
    "figures published by its operator on Thursday.",
    "Operators counted more than two hundred thousand trips between June and August, a rise "
    "of a fifth on the year before.",
    "Fares will rise by ten pence in April to pay for a second boat, which is due to enter "
    "service before the summer timetable starts.",
]
FERRY_CAPTION = "The ferry leaves the north pier at dawn."


@pytest.fixture
def benchmark(tmp_path: Path) -> tuple[Path, Path]:
    """Three pages and their true text: two articles (one with a caption the true text
    counts and extraction drops) and a page of links only."""
    pages = tmp_path / "html"
    pages.mkdir()
    (pages / "library.html").write_text(
        _page("Library to open on Sundays", LIBRARY, "Readers in the library."), "utf-8")
    (pages / "ferry.html").write_text(_page("Record summer for ferry", FERRY, FERRY_CAPTION),
                                      "utf-8")
    (pages / "links.html").write_text(NAV_ONLY, "utf-8")
    truth = tmp_path / "ground-truth.json"
    truth.write_text(json.dumps({
        "library": {"articleBody": "\n".join(LIBRARY)},
        "ferry": {"articleBody": "\n".join([FERRY[0], FERRY_CAPTION, *FERRY[1:]])},
        "links": {"articleBody": "Nothing here is found. The page has links only."},
    }), "utf-8")
    return pages, truth


def test_extraction_only_without_a_model(benchmark):
    results = run(*benchmark, model=None)
    assert results["pages"] == 3 and results["no_article_ids"] == ["links"]
    assert results["true_sentences"] == 9
    assert results["recovered_share"] == pytest.approx(6 / 9)
    assert results["page_sentences"] == 8  # title and three sentences, twice
    assert results["extra_share"] == pytest.approx(2 / 8)
    assert "same_label_share" not in results
    first_two = run(*benchmark, model=None, limit=2)  # ferry and library, by id
    assert (first_two["pages"], first_two["true_sentences"]) == (2, 7)
    assert first_two["recovered_share"] == pytest.approx(6 / 7)


def test_labels_of_pages_and_true_texts_are_compared(benchmark, tiny_model_dir):
    results = run(*benchmark, model=tiny_model_dir, precision="fp32")
    assert results["matched_sentences"] == 6 and results["identical_sentences"] == 6
    # The same comparison, done by hand with the same Labeller.
    labeller = Labeller.from_directory(tiny_model_dir, "fp32")
    texts = {"library": (LIBRARY, "\n".join(LIBRARY)),
             "ferry": (FERRY, "\n".join([FERRY[0], FERRY_CAPTION, *FERRY[1:]]))}
    pages = benchmark[0]
    from factsep.model.pages import article_from_html

    pairs = []
    for doc_id, (found, true_text) in texts.items():
        on_page = labeller.label(article_from_html((pages / f"{doc_id}.html").read_bytes()))
        in_truth = labeller.label(true_text)
        page_label = {s.text: s.label for s in on_page.sentences}
        true_label = {s.text: s.label for s in in_truth.sentences}
        pairs += [(true_label[s], page_label[s]) for s in found]
    assert results["same_label_share"] == pytest.approx(sum(t == p for t, p in pairs) / 6)
    for label in ("fact", "opinion", "filler"):
        mine = [p for t, p in pairs if t == label]
        assert results[f"matched_{label}"] == len(mine)
        assert results["label_pairs"][label] == {
            page: sum(p == page for p in mine) for page in ("fact", "opinion", "filler")}


def test_command_line_prints_and_saves_the_figures(benchmark, tiny_model_dir, tmp_path,
                                                   capsys):
    pages, truth = benchmark
    output = tmp_path / "results.json"
    args = ["--pages", str(pages), "--truth", str(truth), "--model", str(tiny_model_dir),
            "--precision", "fp32", "-o", str(output)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    saved = json.loads(output.read_text("utf-8"))
    assert f"same_label_share_fact       {saved['same_label_share_fact']:.4f}" in printed
    assert saved["no_article_ids"] == ["links"] and "label_pairs" in saved
    assert main(args) == 2  # an existing output is kept without --force
    assert "results.json: already exists; use --force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


def test_missing_benchmark_files_are_one_line_errors(benchmark, tmp_path, capsys):
    pages, truth = benchmark
    assert main(["--pages", str(pages), "--truth", str(tmp_path / "none.json")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'none.json'}: cannot read")
    (pages / "ferry.html").unlink()
    assert main(["--pages", str(pages), "--truth", str(truth)]) == 2
    assert capsys.readouterr().err == f"error: {pages}: no page ferry.html(.gz)\n"
    with pytest.raises(SystemExit):
        main(["--pages", str(pages), "--truth", str(truth), "--limit", "0"])
    assert "--limit: must be at least 1, not 0" in capsys.readouterr().err


def test_bad_truth_bodies_and_corrupt_pages_are_one_line_errors(benchmark, tmp_path, capsys):
    pages, truth = benchmark
    rows = json.loads(truth.read_text("utf-8"))
    first = sorted(rows)[0]
    bad_truth = tmp_path / "bad.json"
    bad_truth.write_text(json.dumps({**rows, first: {"articleBody": None}}), "utf-8")
    assert main(["--pages", str(pages), "--truth", str(bad_truth)]) == 2
    assert capsys.readouterr().err == (
        f"error: {bad_truth}: page {first}: articleBody is not a string\n")
    (pages / f"{first}.html").unlink()
    (pages / f"{first}.html.gz").write_bytes(b"not gzip")
    assert main(["--pages", str(pages), "--truth", str(truth)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {pages / (first + '.html.gz')}: cannot read")


def test_an_empty_truth_file_gives_zero_shares(benchmark, tmp_path):
    pages, _ = benchmark
    empty = tmp_path / "empty.json"
    empty.write_text("{}", "utf-8")
    results = run(pages, empty, None)
    assert results["pages"] == 0 and results["recovered_share"] == 0
