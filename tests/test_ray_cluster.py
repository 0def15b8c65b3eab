"""Two Ray nodes on this machine (loopback only): `factsep label --engine ray --address`.

The head node offers no CPUs, so every labelling worker runs on the second node: the model
files, the articles and the labelled rows all cross between nodes, as on a real cluster.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from factsep.model.job import as_written
from factsep.model.outputs import article_rows
from factsep.model.predict import Labeller
from factsep.model.shard_output import MANIFEST_FILE

RAY = str(Path(sys.executable).with_name("ray"))
START_TIMEOUT_S = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_node(args: list[str], temp_dir: Path) -> subprocess.Popen:
    """`ray start --block ...`: stays in the foreground; stopping it stops its node."""
    common = [
        "--block", "--node-ip-address", "127.0.0.1", "--temp-dir", str(temp_dir),
        "--object-store-memory", str(80 * 2**20), "--disable-usage-stats",
    ]
    process = subprocess.Popen(
        [RAY, "start", *args, *common], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    output = []
    deadline = time.monotonic() + START_TIMEOUT_S
    for line in process.stdout:
        output.append(line)
        if "Ray runtime started" in line:
            return process
        if time.monotonic() > deadline:
            break
    stop_node(process, temp_dir)
    raise RuntimeError("ray start failed:\n" + "".join(output))


def stop_node(process: subprocess.Popen, temp_dir: Path) -> None:
    """Stop the node's `ray start` and, by process id, anything left from its temp dir."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    for pid in processes_using(temp_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def processes_using(temp_dir: Path) -> list[int]:
    """Processes whose command line names `temp_dir` (only this test's Ray processes do)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(temp_dir) in command:
            found.append(int(entry.name))
    return found


@pytest.fixture
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A head node with no CPUs and a worker node with one, both on 127.0.0.1."""
    port = free_port()
    # Short temp dirs: Ray's socket paths must stay under the 107-character limit.
    head_dir = Path(tmp_path_factory.mktemp("rh"))
    worker_dir = Path(tmp_path_factory.mktemp("rw"))
    head = start_node(
        ["--head", "--port", str(port), "--num-cpus", "0", "--include-dashboard", "false",
         "--ray-client-server-port", str(free_port())],
        head_dir,
    )
    worker = None
    try:
        worker = start_node(["--address", f"127.0.0.1:{port}", "--num-cpus", "1"], worker_dir)
        yield f"127.0.0.1:{port}"
    finally:
        if worker is not None:
            stop_node(worker, worker_dir)
        stop_node(head, head_dir)


def test_label_on_two_nodes(two_nodes, tiny_model_dir, fixture_articles, tmp_path):
    corpus = tmp_path / "feed.jsonl"
    corpus.write_text(
        "".join(json.dumps({"id": a["id"], "text": a["text"]}) + "\n" for a in fixture_articles)
    )
    out = tmp_path / "out"
    finished = subprocess.run(
        [sys.executable, "-m", "factsep.scripts.cli", "label", str(corpus), "-o", str(out),
         "--engine", "ray", "--address", two_nodes, "--workers", "1",
         "--model", str(tiny_model_dir), "--precision", "fp32"],
        capture_output=True, text=True, timeout=300,
    )
    assert finished.returncode == 0, finished.stderr

    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["engine"]["nodes"] == 2 and manifest["engine"]["address"] == two_nodes
    rows = [
        json.loads(line)
        for shard in manifest["shards"]
        for line in (out / shard["file"]).read_text(encoding="utf-8").splitlines()
    ]
    labeller = Labeller.from_directory(tiny_model_dir, "fp32")
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
