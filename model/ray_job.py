"""`factsep label --engine ray`: label a corpus on a Ray cluster into JSONL shards.

The inputs are read on this machine by the local reader (same articles, same problems
reported with file and line) and put into Ray's object store in blocks; the cluster labels
them (`label_dataset`); the rows stream back here into `OUT_DIR/part-*.jsonl`, and
`manifest.json` is written last, only when every input has been read and labelled.
"""

from __future__ import annotations

import logging
import platform
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from itertools import islice
from pathlib import Path

import pyarrow as pa
import ray

from .inputs import InputOptions, read_inputs
from .job import LabelSummary, Log, articles_only
from .labels import LABELS
from .markdown import MarkdownArticle
from .model_files import ModelFiles
from .outputs import OutputError
from .predict import Article
from .ray_labelling import (
    ORIGINAL_COLUMN,
    default_workers,
    label_dataset,
    local_row,
    resolve_precision,
)
from .shard_output import ShardedOutput

ARTICLES_PER_BLOCK = 64  # the unit Ray hands to one worker task: one labelling batch, so
# even a small corpus is spread over every worker
MANIFEST_FORMAT = 1
LIBRARIES = ("factsep", "ray", "pyarrow", "torch", "transformers", "onnxruntime", "sentencex")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def label_on_ray(
    model_dir: Path,
    sources: Sequence[str],
    out_dir: Path,
    *,
    address: str | None = None,
    workers: int | None = None,
    threads: int = 1,
    precision: str = "auto",
    batch_tokens: int = 4096,
    force: bool = False,
    strict: bool = False,
    options: InputOptions | None = None,
    articles_per_block: int = ARTICLES_PER_BLOCK,
    log: Log = _stderr,
) -> LabelSummary:
    """Label every article `sources` name on Ray; write shards and, at the end, the manifest.

    A bad input is reported and skipped (`strict`: reading stops there and no manifest is
    written). On an error or Ctrl-C the finished shards stay and no manifest is written.
    """
    options = options or InputOptions()
    started_at = _now()
    clock = time.perf_counter()
    files = ModelFiles.read(model_dir)
    chosen = resolve_precision(files.directory, precision)
    refuse_input_in_output(sources, out_dir)
    output = ShardedOutput(out_dir, force)
    summary = LabelSummary()
    try:
        with ray_session(address):
            pool = workers or default_workers(threads)
            inputs = read_inputs(sources, options, warn=log)
            articles = articles_only(inputs, summary, strict, log)
            blocks = list(_article_blocks(articles, articles_per_block, summary))
            if blocks:
                labelled = label_dataset(
                    ray.data.from_arrow_refs(blocks), files, precision=chosen,
                    threads=threads, batch_tokens=batch_tokens, workers=pool,
                )
                for batch in labelled.iter_batches(batch_format="pyarrow", batch_size=None):
                    rows = [local_row(row) for row in batch.to_pylist()]
                    output.write(rows)
                    summary.sentences += len(rows)
                    summary.labels.update(row["label"] for row in rows)
                    for row in rows:
                        if row["sentence_id"] == 0:
                            summary.note_language(row["doc_id"], row["language"], log)
            nodes = sum(1 for node in ray.nodes() if node["Alive"])
    except KeyboardInterrupt:
        output.abandon()
        summary.stopped_early = summary.interrupted = True
        log(f"interrupted: no manifest written; the finished shards stay in {out_dir}")
        return summary
    except BaseException:
        output.abandon()
        raise
    summary.seconds = time.perf_counter() - clock
    if summary.stopped_early:
        log(f"stopped early (--strict): no manifest written; the shards stay in {out_dir}")
        return summary
    output.commit(
        {
            "format": MANIFEST_FORMAT,
            "status": "complete",
            "inputs": list(sources),
            "input_options": {
                "text_key": options.text_key,
                "id_key": options.id_key,
                "html_key": options.html_key,
            },
            "articles": summary.articles,
            "sentences": summary.sentences,
            "labels": {label: summary.labels[label] for label in LABELS},
            "not_english": summary.not_english,
            "problems": [{"where": p.where, "message": p.message} for p in summary.problems],
            "model": {
                "directory": str(files.directory.resolve()),
                "sha256": files.sha256,
                "precision": chosen,
            },
            "engine": {
                "name": "ray",
                "address": address or "local",
                "nodes": nodes,
                "workers": pool,
                "threads_per_worker": threads,
            },
            "versions": library_versions(),
            "started_at": started_at,
            "finished_at": _now(),
            "seconds": round(summary.seconds, 3),
        }
    )
    return summary


@contextmanager
def ray_session(address: str | None) -> Iterator[None]:
    """Join the cluster at `address`, or start a local instance; leave as found.

    An instance this process already connected to (a notebook, a test) is used as it is.
    """
    if ray.is_initialized():
        yield
        return
    ray.init(
        address=address or "local",
        include_dashboard=False,
        logging_level=logging.WARNING,
    )
    ray.data.DataContext.get_current().enable_progress_bars = sys.stderr.isatty()
    try:
        yield
    finally:
        ray.shutdown()


def _article_blocks(
    articles: Iterable[Article], size: int, summary: LabelSummary
) -> Iterator[ray.ObjectRef]:
    """Articles put into the object store `size` at a time, as Arrow tables (a Markdown
    article's original text in the `original` column, else null)."""
    iterator = iter(articles)
    while chunk := list(islice(iterator, size)):
        summary.articles += len(chunk)
        table = pa.table(
            {
                "doc_id": pa.array([a.doc_id for a in chunk], pa.string()),
                "text": pa.array([a.text for a in chunk], pa.string()),
                ORIGINAL_COLUMN: pa.array(
                    [a.original if isinstance(a, MarkdownArticle) else None for a in chunk],
                    pa.string(),
                ),
            }
        )
        yield ray.put(table)


def refuse_input_in_output(sources: Sequence[str], out_dir: Path) -> None:
    """Raise OutputError if an input lies inside `out_dir` (--force would delete it)."""
    folder = out_dir.resolve()
    for source in sources:
        if Path(source).resolve().is_relative_to(folder):
            raise OutputError(f"{out_dir}: holds the input {source}; write the shards elsewhere")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
