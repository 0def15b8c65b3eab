"""`factsep label --engine ray` on one Ray node on this machine, shared by this module's tests."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
from ray_nodes import RAY, RAY_TEST_ENV, ray_cluster

from factsep.model.inputs import InputProblem, read_inputs
from factsep.model.job import as_written
from factsep.model.outputs import article_rows
from factsep.model.predict import Labeller
from factsep.model.ray_job import label_on_ray
from factsep.model.ray_labelling import LabelBatch, label_dataset, local_row
from factsep.model.shard_output import MANIFEST_FILE
from factsep.scripts.cli import main

# The tiny model's int8 path: a worker process starts without importing torch, in about a
# second rather than five (far more on a loaded machine), and every test starts workers.
PRECISION = "int8"

pytestmark = [
    pytest.mark.ray,
    pytest.mark.skipif(not RAY.exists(), reason=f"the ray command-line tool is missing ({RAY})"),
]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One small Ray node on this machine (2 CPUs, 80 MB object store, no dashboard) for
    the whole module, this process its driver."""
    with (
        pytest.MonkeyPatch.context() as env,
        ray_cluster(["--num-cpus", "2", "--include-dashboard", "false"]) as address,
    ):
        for name, value in RAY_TEST_ENV.items():
            env.setenv(name, value)
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        ray.data.DataContext.get_current().enable_progress_bars = False
        try:
            yield
        finally:
            ray.shutdown()


@pytest.fixture
def corpus(tmp_path: Path, fixture_articles) -> Path:
    """Eight articles in a JSONL file, two .txt files and a Markdown file in a folder."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    with (folder / "feed.jsonl").open("w", encoding="utf-8") as feed:
        for copy in range(2):
            for article in fixture_articles[:4]:
                feed.write(json.dumps({"id": f"{article['id']}-{copy}", "text": article["text"]}))
                feed.write("\n")
    for article in fixture_articles[4:]:
        (folder / f"{article['id']}.txt").write_text(article["text"], encoding="utf-8")
    first, *rest = fixture_articles[0]["text"].split(". ")
    markdown = f"# A title\n\n> **{first}.** " + ". ".join(rest) + "\n\n- [a link](http://x.org)\n"
    (folder / "notes.md").write_text(markdown, encoding="utf-8")
    return folder


def read_rows(path: Path) -> dict[tuple[str, int], dict]:
    """Rows of one JSONL file or of every shard a run's manifest lists, by (doc_id, sentence_id)."""
    if path.is_dir():
        manifest = json.loads((path / MANIFEST_FILE).read_text())
        lines = [
            line
            for shard in manifest["shards"]
            for line in (path / shard["file"]).read_text(encoding="utf-8").splitlines()
        ]
    else:
        lines = path.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    keyed = {(row["doc_id"], row["sentence_id"]): row for row in rows}
    assert len(keyed) == len(rows), "a (doc_id, sentence_id) pair was written twice"
    return keyed


def assert_same_rows(actual: dict, expected: dict) -> None:
    """The same rows: every field equal, the score and probabilities within 1e-4."""
    assert actual.keys() == expected.keys()
    for key, row in expected.items():
        other = actual[key]
        assert other.keys() == row.keys(), key
        for field, value in row.items():
            if field == "score":
                assert other[field] == pytest.approx(value, abs=1e-4), key
            elif field == "probs":
                assert other[field] == pytest.approx(value, abs=1e-4), key
            else:
                assert other[field] == value, (key, field)


def local_rows(labeller: Labeller, articles: list[dict]) -> dict[tuple[str, int], dict]:
    """The rows `factsep label` writes for these articles (plain text), by key."""
    return {
        (row["doc_id"], row["sentence_id"]): row
        for article in articles
        for row in article_rows(*as_written(labeller.label(article["text"], article["id"]), {}))
    }


def label(model_dir: Path, *args: str) -> int:
    return main(["label", "--model", str(model_dir), "--precision", PRECISION, *args])


def test_rows_and_manifest_match_the_local_run(local_ray, int8_model_dir, corpus, tmp_path):
    assert label(int8_model_dir, str(corpus), "-o", str(tmp_path / "local.jsonl")) == 0
    out = tmp_path / "ray-out"
    assert label(int8_model_dir, str(corpus), "-o", str(out), "--engine", "ray",
                 "--workers", "2") == 0

    expected = read_rows(tmp_path / "local.jsonl")
    assert_same_rows(read_rows(out), expected)
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["status"] == "complete"
    assert manifest["articles"] == 11 and manifest["sentences"] == len(expected)
    assert {doc_id for doc_id, _ in expected} >= {"notes.md", "t-05.txt", "t-01-1"}
    assert all(row["language"] for row in expected.values())
    labels = [row["label"] for row in expected.values()]
    assert manifest["labels"] == {k: labels.count(k) for k in ("fact", "opinion", "filler")}
    assert manifest["model"]["precision"] == PRECISION
    assert len(manifest["model"]["sha256"]) == 64
    assert manifest["engine"]["workers"] == 2 and manifest["problems"] == []
    assert manifest["versions"]["ray"] == ray.__version__
    assert manifest["started_at"] <= manifest["finished_at"]
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "part-00000.jsonl"]


def test_bad_record_is_reported_with_file_and_line_and_skipped(
    local_ray, int8_model_dir, corpus, tmp_path
):
    feed = corpus / "feed.jsonl"
    lines = feed.read_text(encoding="utf-8").splitlines()
    lines.insert(2, '{"id": "broken", "text": ')
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    messages: list[str] = []
    out = tmp_path / "out"
    summary = label_on_ray(
        int8_model_dir, [str(corpus)], out, precision=PRECISION, workers=2,
        articles_per_block=2, log=messages.append,
    )

    assert summary.articles == 11
    # The problem the local reader reports for that line, word for word.
    local = [p for p in read_inputs([str(corpus)]) if isinstance(p, InputProblem)]
    assert [p.where for p in local] == [f"{feed}:3"]
    assert messages == [f"error: {local[0]}"]
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["problems"] == [{"where": f"{feed}:3", "message": local[0].message}]
    assert {doc_id for doc_id, _ in read_rows(out)} == {
        "t-01-0", "t-02-0", "t-03-0", "t-04-0", "t-01-1", "t-02-1", "t-03-1", "t-04-1",
        "t-05.txt", "t-06.txt", "notes.md",
    }


def test_worker_that_dies_mid_batch_is_restarted_and_the_batch_retried(
    local_ray, int8_model_dir, fixture_articles, tmp_path
):
    marker = tmp_path / "crashed-once"

    class CrashOnce(LabelBatch):
        """Kills its own process on the first batch it is given, as an OOM kill would."""

        def __call__(self, batch):
            if not marker.exists():
                marker.touch()
                os._exit(1)
            return super().__call__(batch)

    articles = ray.data.from_items(
        [{"doc_id": a["id"], "text": a["text"]} for a in fixture_articles]
    )
    labelled = label_dataset(
        articles, int8_model_dir, precision=PRECISION, workers=1, batch_labeller=CrashOnce
    )
    rows = {(r["doc_id"], r["sentence_id"]): r for r in labelled.take_all()}

    assert marker.exists()  # the first attempt did die
    expected = local_rows(Labeller.from_directory(int8_model_dir, PRECISION), fixture_articles)
    assert_same_rows({key: local_row(row) for key, row in rows.items()}, expected)


def test_non_empty_output_needs_force_and_replaces_only_the_earlier_run(
    local_ray, int8_model_dir, corpus, tmp_path, capsys
):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    (out / "part-00007.jsonl").write_text("{}\n")
    (out / MANIFEST_FILE).write_text('{"status": "complete"}')
    args = (str(corpus), "-o", str(out), "--engine", "ray", "--workers", "1")

    assert label(int8_model_dir, *args) == 2
    assert "folder is not empty; use --force" in capsys.readouterr().err
    assert label(int8_model_dir, *args, "--force") == 0

    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json", "notes.txt", "part-00000.jsonl"
    ]


def test_failed_run_leaves_no_manifest(local_ray, tiny_model_dir, corpus, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST_FILE).write_text('{"status": "complete"}')  # an earlier run's
    with pytest.raises(Exception, match="encoder.int8.onnx"):
        # The tiny model has no int8 encoder: every worker fails to load it.
        label_on_ray(tiny_model_dir, [str(corpus)], out, precision="int8", workers=1,
                     force=True, log=lambda _: None)
    assert not (out / MANIFEST_FILE).exists()


def test_int8_worker_and_driver_import_neither_torch_nor_transformers(int8_model_dir):
    # A worker process starts from nothing: on the int8 path it must not pay for torch.
    script = (
        "import sys\n"
        "import pyarrow as pa\n"
        "from factsep.model.model_files import ModelFiles\n"
        "from factsep.model.ray_job import label_on_ray\n"
        "from factsep.model.ray_labelling import LabelBatch\n"
        f"worker = LabelBatch(ModelFiles.read({str(int8_model_dir)!r}), 'int8')\n"
        "text = 'The board voted. I think it erred.'\n"
        "rows = worker(pa.table({'doc_id': ['a'], 'text': [text]}))\n"
        "print(rows.num_rows, sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["2", "[]"]
