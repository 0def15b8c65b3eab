"""Two Ray nodes on this machine (loopback only): `factsep label --engine ray --address`.

The head node offers no CPUs, so every labelling worker runs on the second node: the model
files, the articles and the labelled rows all cross between nodes, as on a real cluster.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from factsep.model.job import as_written
from factsep.model.outputs import article_rows
from factsep.model.predict import Labeller
from factsep.model.shard_output import MANIFEST_FILE

RAY = Path(sys.executable).with_name("ray")
# Bounds on waiting for a node, not timed assertions: on a loaded machine a node can take
# minutes to start.
START_TIMEOUT_S = 600
# Every process of the test cluster, the driver included, runs without token authentication:
# Ray turns it on by itself where ~/.ray/auth_token exists, and then not on every node alike.
RAY_ENV = {**os.environ, "RAY_AUTH_MODE": "disabled"}
STOP_TIMEOUT_S = 60

pytestmark = [
    pytest.mark.ray,
    pytest.mark.skipif(not RAY.exists(), reason=f"the ray command-line tool is missing ({RAY})"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_node(args: list[str], temp_dir: Path) -> subprocess.Popen:
    """`ray start --block ...` in a session of its own: stopping that session stops the node."""
    common = [
        "--block", "--node-ip-address", "127.0.0.1", "--temp-dir", str(temp_dir),
        "--object-store-memory", str(80 * 2**20), "--disable-usage-stats",
        # Its own port, not the default 52365 that another node on this machine may hold.
        "--dashboard-agent-listen-port", str(free_port()),
    ]
    process = subprocess.Popen(
        [str(RAY), "start", *args, *common], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True, env=RAY_ENV,
    )
    lines: queue.Queue[str] = queue.Queue()
    # A reader thread drains `ray start`'s output for the node's whole life (a full pipe
    # would block it) and hands each line over.
    threading.Thread(target=_forward_lines, args=(process.stdout, lines), daemon=True).start()
    output = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while process.poll() is None and time.monotonic() < deadline:
        try:
            output.append(lines.get(timeout=1))
        except queue.Empty:
            continue
        if "Ray runtime started" in output[-1]:
            return process
    stop_node(process, temp_dir)
    raise RuntimeError("ray start failed:\n" + "".join(output))


def _forward_lines(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def stop_node(process: subprocess.Popen, temp_dir: Path) -> None:
    """Stop what this `ray start` started, and nothing else.

    Its processes are the ones in its session (`start_new_session`), its descendants and
    the ones whose command line names the node's own `temp_dir` (a Ray worker may start a
    session of its own). A global `ray stop` would also stop other users' Ray.
    """
    ours = node_processes(process.pid, temp_dir)
    process.terminate()  # `ray start --block` stops its node's processes on SIGTERM
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for pid in ours | node_processes(process.pid, temp_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def node_processes(root: int, temp_dir: Path) -> set[int]:
    """Live processes in `root`'s session, below `root`, or naming `temp_dir` (not this one)."""
    parents: dict[int, int] = {}
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # Fields after the command name in parentheses: state, ppid, pgrp, session, ...
        _state, parent, _group, session = stat.rsplit(")", 1)[1].split()[:4]
        parents[pid] = int(parent)
        if int(session) == root or str(temp_dir) in command:
            found.add(pid)
    for pid in parents:
        ancestor = parents[pid]
        while ancestor > 1 and ancestor != root:
            ancestor = parents.get(ancestor, 0)
        if ancestor == root:
            found.add(pid)
    found.discard(root)  # `process` itself is waited for, not killed by id
    return found


@pytest.fixture
def two_nodes() -> Iterator[str]:
    """A head node with no CPUs and a worker node with one, both on 127.0.0.1."""
    port = free_port()
    # Short temp dirs of this test's own (Ray's socket paths must stay under 107 characters).
    with (
        tempfile.TemporaryDirectory(prefix="rh", ignore_cleanup_errors=True) as head_name,
        tempfile.TemporaryDirectory(prefix="rw", ignore_cleanup_errors=True) as worker_name,
    ):
        yield from _nodes(port, Path(head_name), Path(worker_name))


def _nodes(port: int, head_dir: Path, worker_dir: Path) -> Iterator[str]:
    head = start_node(
        ["--head", "--port", str(port), "--num-cpus", "0", "--include-dashboard", "false"],
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
        capture_output=True, text=True, timeout=600, env=RAY_ENV,
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
