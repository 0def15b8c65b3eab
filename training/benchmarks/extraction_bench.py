"""How much HTML extraction costs the labels: pages against their true article text.

Reads a benchmark laid out like scrapinghub/article-extraction-benchmark (a folder of pages
`<id>.html` or `<id>.html.gz` and a `ground-truth.json` mapping each id to its
`articleBody`), extracts each page the way `factsep label page.html` does, and reports:

- recovered: the share of the true article's sentences (factsep's segmentation) found in
  the extracted text (see `sentence_match`: whitespace normalised, first occurrence);
- extra: the share of the extracted text's sentences not found in the true text (kept
  furniture, and the title, which `articleBody` leaves out);
- with `--model DIR`, same label: each page's text and its true text are labelled by
  `Labeller.label_many` (the path `factsep label` takes), every recovered true sentence is
  paired with the page sentence that holds most of it, and the share of pairs with the
  same label is reported overall and per label of the true text's labelling.

Run: python -m factsep.training.benchmarks.extraction_bench --pages DIR --truth ground-truth.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from factsep.model.model_config import NotAModelError
from factsep.model.outputs import AtomicOutput, OutputError, check_replaceable
from factsep.model.pages import NoArticleError, article_from_html
from factsep.model.precisions import PRECISIONS
from factsep.model.predict import Article, Labeller
from factsep.model.segment import segment

from .sentence_match import LabelAgreement, find_sentences


class BenchmarkError(ValueError):
    """The benchmark's files are missing or not in the expected form."""


def read_truth(truth_file: Path) -> dict[str, str]:
    """Page id -> true article text, from a `ground-truth.json`."""
    try:
        rows = json.loads(truth_file.read_text(encoding="utf-8"))
        truth = {page_id: row["articleBody"] for page_id, row in rows.items()}
    except OSError as error:
        raise BenchmarkError(f"{truth_file}: cannot read ({error.strerror})") from None
    except (ValueError, AttributeError, KeyError, TypeError) as error:
        raise BenchmarkError(
            f"{truth_file}: not a ground truth file (an object of page ids, each with an "
            f"articleBody): {error!r}"
        ) from None
    for page_id, body in truth.items():
        if not isinstance(body, str):
            raise BenchmarkError(f"{truth_file}: page {page_id}: articleBody is not a string")
    return truth


def read_page(pages: Path, page_id: str) -> bytes:
    """The HTML of page `page_id`, from `<id>.html` or `<id>.html.gz` in `pages`."""
    for name in (f"{page_id}.html", f"{page_id}.html.gz"):
        path = pages / name
        if path.is_file():
            try:
                raw = path.read_bytes()
                return gzip.decompress(raw) if name.endswith(".gz") else raw
            except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
                raise BenchmarkError(f"{path}: cannot read the page ({error})") from None
    raise BenchmarkError(f"{pages}: no page {page_id}.html(.gz)")


def found_count(sentences_of: str, text: str | None) -> tuple[int, int]:
    """(sentences of `sentences_of`, how many of them are found in `text`)."""
    sentences = [sentences_of[start:end] for start, end in segment(sentences_of)]
    return len(sentences), sum(span is not None for span in find_sentences(sentences, text))


def run(
    pages: Path, truth_file: Path, model: Path | None, precision: str = "auto",
    limit: int | None = None,
) -> dict[str, Any]:
    """Extract every page (the first `limit` by id, if given); score recovery, and label
    agreement when a model is given."""
    truth = read_truth(truth_file)
    truth = {i: truth[i] for i in sorted(truth)[:limit]}
    labeller = Labeller.from_directory(model, precision) if model is not None else None
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
    counted = [found_count(truth[i], extracted.get(i)) for i in ids]
    results["true_sentences"] = sum(total for total, _ in counted)
    results["recovered_share"] = sum(found for _, found in counted) / max(
        results["true_sentences"], 1)
    per_page_recovery = [found / total for total, found in counted if total]
    results["recovered_share_page_mean"] = sum(per_page_recovery) / max(len(per_page_recovery), 1)
    kept = [found_count(text, truth[i]) for i, text in extracted.items()]
    results["page_sentences"] = sum(total for total, _ in kept)
    results["extra_share"] = 1 - sum(found for _, found in kept) / max(
        results["page_sentences"], 1)
    if labeller is not None:
        started = time.perf_counter()
        results["precision"] = labeller.precision
        results.update(label_agreement(labeller, truth, extracted).results())
        results["labelling_seconds"] = round(time.perf_counter() - started, 1)
    results["no_article_ids"] = no_article
    return results


def label_agreement(
    labeller: Labeller, truth: dict[str, str], extracted: dict[str, str]
) -> LabelAgreement:
    """Label each extracted page text and its true text, and pair their sentences."""
    true_labelled = labeller.label_many(Article(i, truth[i]) for i in extracted)
    page_labelled = {a.doc_id: a for a in labeller.label_many(
        Article(i, text) for i, text in extracted.items())}
    agreement = LabelAgreement()
    for labelled in true_labelled:
        agreement.add(labelled, page_labelled.get(labelled.doc_id))
    return agreement


def print_results(results: dict[str, Any]) -> None:
    """The scalar figures, one per line (lists and tables go to the JSON output only)."""
    for key, value in results.items():
        if isinstance(value, float) and not key.endswith("_seconds"):
            print(f"{key:<27} {value:.4f}")
        elif isinstance(value, (int, float, str)):
            print(f"{key:<27} {value}")


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: run the benchmark, print the figures, optionally save them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, required=True, help="folder of <id>.html(.gz)")
    parser.add_argument("--truth", type=Path, required=True, help="ground-truth.json")
    parser.add_argument("--model", type=Path,
                        help="also compare the labels of pages and true texts (a model directory)")
    parser.add_argument("--precision", default="auto", choices=("auto", *PRECISIONS))
    parser.add_argument("--limit", type=_positive, help="only the first N pages, by id")
    parser.add_argument("-o", "--output", type=Path, help="write the results as JSON")
    parser.add_argument("--force", action="store_true", help="replace an existing --output")
    args = parser.parse_args(argv)
    try:
        if args.output is not None:
            check_replaceable(args.output, args.force)
        results = run(args.pages, args.truth, args.model, args.precision, args.limit)
        print_results(results)
        if args.output is not None:
            sink = AtomicOutput(args.output, args.force)
            sink.stream.write(json.dumps(results, indent=1) + "\n")
            sink.commit()
    except (BenchmarkError, NotAModelError, OutputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
