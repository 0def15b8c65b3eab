"""How much HTML extraction costs the labels: pages against their true article text.

Reads a benchmark laid out like scrapinghub/article-extraction-benchmark (a folder of pages
`<id>.html` or `<id>.html.gz` and a `ground-truth.json` mapping each id to its
`articleBody`), extracts each page the way `factsep label page.html` does, and reports:

- recovered: the share of the true article's sentences (factsep's segmentation, whitespace
  normalised) found in the extracted text;
- same label: of the true sentences that are also a sentence of the page's labelling, the
  share that gets the same label from the page as from the true text;
- extra: the share of the page's sentences that are not in the true text (furniture kept).

Run: python -m factsep.training.extraction_bench --pages DIR --truth ground-truth.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path
from typing import Any

from factsep.model.pages import NoArticleError, article_from_html
from factsep.model.predict import Article, LabelledArticle, Labeller
from factsep.model.segment import segment


def _normal(text: str) -> str:
    return " ".join(text.split())


def read_page(pages: Path, page_id: str) -> bytes:
    for name in (f"{page_id}.html", f"{page_id}.html.gz"):
        path = pages / name
        if path.is_file():
            raw = path.read_bytes()
            return gzip.decompress(raw) if name.endswith(".gz") else raw
    raise FileNotFoundError(f"{pages}: no page {page_id}.html(.gz)")


def recovery(truth: str, page: str | None) -> tuple[int, int]:
    """(true sentences, how many of them appear in the extracted page text)."""
    sentences = [_normal(truth[start:end]) for start, end in segment(truth)]
    found = _normal(page) if page is not None else ""
    return len(sentences), sum(bool(found) and s in found for s in sentences)


def label_agreement(truth: LabelledArticle, page: LabelledArticle | None) -> dict[str, int]:
    """True sentences that are also a page sentence, how many keep their label, and how
    many page sentences are not in the true text."""
    counts = {"matched": 0, "same": 0, "page": 0, "extra": 0}
    if page is None:
        return counts
    page_labels: dict[str, str] = {}
    for s in page.sentences:
        page_labels.setdefault(_normal(s.text), s.label)
    true_set = {_normal(s.text) for s in truth.sentences}
    counts["page"] = len(page.sentences)
    counts["extra"] = sum(_normal(s.text) not in true_set for s in page.sentences)
    for s in truth.sentences:
        text = _normal(s.text)
        if text in page_labels:
            counts["matched"] += 1
            counts["same"] += page_labels[text] == s.label
    return counts


def run(
    pages: Path, truth_file: Path, model: Path | None, precision: str = "auto"
) -> dict[str, Any]:
    """Extract every page; score recovery, and label agreement when a model is given."""
    truth = {i: row["articleBody"] for i, row in
             json.loads(truth_file.read_text(encoding="utf-8")).items()}
    ids = sorted(truth)
    started = time.perf_counter()
    extracted: dict[str, str] = {}
    no_article: list[str] = []
    for page_id in ids:
        try:
            extracted[page_id] = article_from_html(read_page(pages, page_id))
        except NoArticleError:
            no_article.append(page_id)
    results: dict[str, Any] = {
        "pages": len(ids),
        "pages_without_article": len(no_article),
        "extraction_seconds": round(time.perf_counter() - started, 1),
    }
    counted = [recovery(truth[i], extracted.get(i)) for i in ids]
    results["true_sentences"] = sum(total for total, _ in counted)
    results["recovered_share"] = sum(found for _, found in counted) / results["true_sentences"]
    per_page_recovery = [found / total for total, found in counted if total]
    results["recovered_share_page_mean"] = sum(per_page_recovery) / len(per_page_recovery)
    if model is not None:
        labeller = Labeller.from_directory(model, precision)
        true_labelled = {a.doc_id: a for a in labeller.label_many(
            Article(i, truth[i]) for i in ids)}
        page_labelled = {a.doc_id: a for a in labeller.label_many(
            Article(i, t) for i, t in extracted.items())}
        totals = {"matched": 0, "same": 0, "page": 0, "extra": 0}
        for page_id in ids:
            for key, value in label_agreement(
                true_labelled[page_id], page_labelled.get(page_id)
            ).items():
                totals[key] += value
        results.update(
            precision=labeller.precision,
            matched_sentences=totals["matched"],
            same_label_share=totals["same"] / max(totals["matched"], 1),
            page_sentences=totals["page"],
            extra_share=totals["extra"] / max(totals["page"], 1),
        )
    results["no_article_ids"] = no_article
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--model", type=Path, help="also compare labels (a model directory)")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("-o", "--output", type=Path, help="write the results as JSON")
    args = parser.parse_args()
    results = run(args.pages, args.truth, args.model, args.precision)
    for key, value in results.items():
        if key == "no_article_ids":
            continue
        print(f"{key:<22} {value:.4f}" if isinstance(value, float) else f"{key:<22} {value}")
    if args.output:
        args.output.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
