"""Label a Ray Dataset of articles on a Ray cluster: the same Labeller, run once per worker.

    import ray
    from factsep.model.ray_labelling import label_dataset

    articles = ray.data.read_json("s3://bucket/articles/")     # rows with doc_id and text
    sentences = label_dataset(articles, "models/default-model", workers=8)
    sentences.write_parquet("s3://bucket/labels/")

Ray only moves batches: each worker is a `LabelBatch` actor that loads the model once and
labels its batches with the local run's own steps (`label_in_groups`, Markdown restored over
the original text, language detection, `article_rows`), so segmentation, the inference path
and the output rows are those of `factsep label`. The model directory is read on the driver and
shipped to the workers through the object store, so it need not exist on the other nodes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .job import as_written, remember_markdown
from .labels import LABELS
from .markdown import MarkdownArticle
from .model_config import read_config
from .model_files import ModelFiles
from .outputs import article_rows
from .pieces import label_in_groups
from .precisions import PRECISIONS
from .predict import Article, Labeller, default_precision

try:
    import pyarrow as pa
    import ray
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "the Ray engine needs the ray extra: pip install 'factsep[ray]'"
    ) from error

# A worker process that dies (killed, out of memory, node lost) is restarted and its
# batch is run again, up to this many times per batch.
TASK_RETRIES = 3
ARTICLES_PER_BATCH = 64  # articles per Ray task and per object-store block
ORIGINAL_COLUMN = "original"  # optional input column: a Markdown article's original text

# The columns of `article_rows`, in its order. `language` is always set here; `truncated`
# and `article_text` are null where the local row has no such key (see `local_row`).
SENTENCE_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("language", pa.string()),
        ("sentence_id", pa.int64()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("text", pa.string()),
        ("label", pa.string()),
        ("score", pa.float64()),
        ("probs", pa.struct([(label, pa.float64()) for label in LABELS])),
        ("truncated", pa.bool_()),
        ("article_text", pa.string()),
    ]
)
OPTIONAL_COLUMNS = ("truncated", "article_text")


class LabelBatch:
    """The callable class Ray Data runs as a pool of actors: one model load per actor."""

    def __init__(
        self,
        model: ray.ObjectRef | ModelFiles,
        precision: str,
        threads: int = 1,
        batch_tokens: int = 4096,
        id_column: str = "doc_id",
        text_column: str = "text",
    ) -> None:
        files = ray.get(model) if isinstance(model, ray.ObjectRef) else model
        # The actor keeps its private copy of the model files while it lives.
        self._folder = tempfile.TemporaryDirectory(prefix="factsep-model-")
        self.labeller = Labeller.from_directory(
            files.unpack(Path(self._folder.name)), precision, threads, batch_tokens
        )
        self.id_column = id_column
        self.text_column = text_column

    def __call__(self, batch: pa.Table) -> pa.Table:
        ids = batch.column(self.id_column).to_pylist()
        texts = batch.column(self.text_column).to_pylist()
        originals = (
            batch.column(ORIGINAL_COLUMN).to_pylist()
            if ORIGINAL_COLUMN in batch.column_names
            else [None] * len(ids)
        )
        articles = [
            Article(str(i), t or "") if o is None else MarkdownArticle(str(i), t or "", o)
            for i, t, o in zip(ids, texts, originals, strict=True)
        ]
        markdown: dict[str, str] = {}
        rows = [
            row
            for labelled in label_in_groups(self.labeller, remember_markdown(articles, markdown))
            for row in article_rows(*as_written(labelled, markdown))
        ]
        return pa.Table.from_pylist(rows, schema=SENTENCE_SCHEMA)


def local_row(row: dict) -> dict:
    """A row of the labelled Dataset as the local run writes it: no null optional keys."""
    return {k: v for k, v in row.items() if not (k in OPTIONAL_COLUMNS and v is None)}


def label_dataset(
    dataset: ray.data.Dataset,
    model: str | Path | ModelFiles,
    *,
    precision: str = "auto",
    threads: int = 1,
    batch_tokens: int = 4096,
    workers: int | None = None,
    id_column: str = "doc_id",
    text_column: str = "text",
    batch_labeller: type[LabelBatch] = LabelBatch,
) -> ray.data.Dataset:
    """A Dataset of labelled sentences (the rows `factsep label` writes) from one of articles.

    `model` is a model directory (or its files, already read). `dataset` needs a column
    of article ids and one of texts (and may have an `original` column: a Markdown article's
    text, whose `text` is `plain_markdown` of it). Each of `workers`
    actors (default: as many as the cluster's CPUs allow) uses `threads` CPU threads.
    `precision="auto"` is resolved here, once, so every worker runs the same inference
    path. `batch_labeller` is the actor class; subclass `LabelBatch` to extend it.
    """
    files = model if isinstance(model, ModelFiles) else ModelFiles.read(model)
    read_config(files.directory)  # a clear error now rather than from every worker
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    return dataset.map_batches(
        batch_labeller,
        fn_constructor_kwargs={
            "model": ray.put(files),
            "precision": resolve_precision(files.directory, precision),
            "threads": threads,
            "batch_tokens": batch_tokens,
            "id_column": id_column,
            "text_column": text_column,
        },
        batch_size=ARTICLES_PER_BATCH,
        batch_format="pyarrow",
        concurrency=workers or default_workers(threads),
        num_cpus=threads,
        max_restarts=-1,
        max_task_retries=TASK_RETRIES,
    )


def resolve_precision(model_dir: Path, precision: str) -> str:
    """The inference path `precision` names on this machine (`auto`: the model's choice)."""
    if precision not in ("auto", *PRECISIONS):
        raise ValueError(f"precision must be auto or one of {PRECISIONS}, not {precision!r}")
    return default_precision(model_dir) if precision == "auto" else precision


def default_workers(threads: int) -> int:
    """As many workers of `threads` CPUs as the connected cluster holds (at least one)."""
    cpus = int(ray.cluster_resources().get("CPU", 1))
    return max(1, cpus // threads)
