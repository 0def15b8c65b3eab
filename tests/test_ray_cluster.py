"""Two Ray nodes on this machine, on a loopback address: `factsep label --engine ray --address`.

The head node offers no CPUs, so every labelling worker runs on the second node: the model
files, the articles and the labelled rows all cross between nodes, as on a real cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from ray_nodes import RAY, RAY_TEST_ENV, ray_cluster

from factsep.model.job import as_written
from factsep.model.outputs import article_rows
from factsep.model.predict import Labeller
from factsep.model.shard_output import MANIFEST_FILE

pytestmark = [
    pytest.mark.ray,
    pytest.mark.skipif(not RAY.exists(), reason=f"the ray command-line tool is missing ({RAY})"),
]


@pytest.fixture
def two_nodes() -> Iterator[str]:
    """A head node with no CPUs and a worker node with one, both on `ray_nodes.NODE_IP`."""
    head = ["--num-cpus", "0", "--include-dashboard", "false"]
    with ray_cluster(head, ["--num-cpus", "1"]) as address:
        yield address


def test_label_on_two_nodes(two_nodes, int8_model_dir, fixture_articles, tmp_path):
    corpus = tmp_path / "feed.jsonl"
    corpus.write_text(
        "".join(json.dumps({"id": a["id"], "text": a["text"]}) + "\n" for a in fixture_articles)
    )
    out = tmp_path / "out"
    finished = subprocess.run(
        [sys.executable, "-m", "factsep.scripts.cli", "label", str(corpus), "-o", str(out),
         "--engine", "ray", "--address", two_nodes, "--workers", "1",
         "--model", str(int8_model_dir), "--precision", "int8"],
        capture_output=True, text=True, timeout=600, env={**os.environ, **RAY_TEST_ENV},
    )
    assert finished.returncode == 0, finished.stderr

    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["engine"]["nodes"] == 2 and manifest["engine"]["address"] == two_nodes
    rows = [
        json.loads(line)
        for shard in manifest["shards"]
        for line in (out / shard["file"]).read_text(encoding="utf-8").splitlines()
    ]
    labeller = Labeller.from_directory(int8_model_dir, "int8")
    expected = [
        row
        for article in fixture_articles
        for row in article_rows(*as_written(labeller.label(article["text"], article["id"]), {}))
    ]
    key = lambda row: (row["doc_id"], row["sentence_id"])  # noqa: E731
    assert [key(r) for r in sorted(rows, key=key)] == [key(r) for r in sorted(expected, key=key)]
    for got, want in zip(sorted(rows, key=key), sorted(expected, key=key), strict=True):
        assert got.keys() == want.keys()
        for field in got.keys() - {"score", "probs"}:
            assert got[field] == want[field], (key(want), field)
        assert got["score"] == pytest.approx(want["score"], abs=1e-4)
        assert got["probs"] == pytest.approx(want["probs"], abs=1e-4)
