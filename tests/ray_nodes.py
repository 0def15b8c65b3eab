"""Ray nodes for the tests: `ray start` processes of the test's own, on this machine.

Ray's `ray start` gives a new node 30 s, a fixed bound, to register with the GCS, and its
raylet registers only once it has the ports of the node's two Python agents and, by
default, has reached the metrics agent. On a loaded 2-core machine those Python processes
can take longer than that to start. So every node here gets its agents' ports up front and
runs without metrics (the raylet then registers at once and the agents come up after it),
and the waits that Ray does let us set are made long: they bound a wait, they check
nothing. Every process is started in a session of its own and stopped by process id.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

RAY = Path(sys.executable).with_name("ray")
# Bounds on waiting, not timed assertions: on a loaded machine a node can take minutes.
START_TIMEOUT_S = 600
STOP_TIMEOUT_S = 60
LONG_WAIT_S = str(START_TIMEOUT_S)
# The environment of every process of a test cluster, its drivers included.
RAY_TEST_ENV = {
    # Ray turns token authentication on by itself where ~/.ray/auth_token exists, and then
    # not on every process alike.
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    # The raylet does not wait for the (Python) metrics agent before it registers.
    "RAY_enable_metrics_collection": "0",
    # Ray starts workers 15 steps nicer than the node; on a busy machine that starves them.
    # The test run's own niceness (`nice -n 10 pytest`) still applies to them.
    "RAY_worker_niceness": "0",
    # A worker process that has not registered within this is killed (default 60 s).
    "RAY_worker_register_timeout_seconds": LONG_WAIT_S,
    # How long a driver or a node waits for the GCS, and a driver for its node's raylet.
    "RAY_gcs_server_port_wait_time_s": LONG_WAIT_S,
    "RAY_raylet_start_wait_time_s": LONG_WAIT_S,
    # A test node serves nothing when it is stopped: no 30 s drain on SIGTERM.
    "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",
}
OBJECT_STORE_BYTES = 80 * 2**20
# A loopback address, but not 127.0.0.1: Ray replaces that one (and "localhost") by the
# machine's outward address, and its nodes would then reach each other through that.
NODE_IP = "127.0.0.2"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def ray_cluster(*nodes: Sequence[str]) -> Iterator[str]:
    """A head node with the `ray start` options `nodes[0]`, then one node per further item;
    yields the head's address and stops every node on leaving."""
    port = free_port()
    address = f"{NODE_IP}:{port}"
    with ExitStack() as stack:
        for number, options in enumerate(nodes):
            # Short temp dirs of the test's own (Ray's socket paths must stay under 107
            # characters); a node's processes are also found by it when it stops.
            temp_dir = Path(
                stack.enter_context(
                    tempfile.TemporaryDirectory(prefix=f"ray{number}-", ignore_cleanup_errors=True)
                )
            )
            role = ["--head", "--port", str(port)] if number == 0 else ["--address", address]
            node = start_node([*role, *options], temp_dir)
            stack.callback(stop_node, node, temp_dir)
        yield address


def start_node(args: list[str], temp_dir: Path) -> subprocess.Popen:
    """`ray start --block ...` in a session of its own: stopping that session stops the node."""
    common = [
        "--block", "--node-ip-address", NODE_IP, "--temp-dir", str(temp_dir),
        "--object-store-memory", str(OBJECT_STORE_BYTES), "--disable-usage-stats",
        "--include-log-monitor", "false",
        # The agents' ports, chosen here: with any of them left to the agent, the raylet
        # waits for that agent to start before it registers (and another node on this
        # machine may hold a default port).
        "--dashboard-agent-listen-port", str(free_port()),
        "--dashboard-agent-grpc-port", str(free_port()),
        "--runtime-env-agent-port", str(free_port()),
        "--metrics-export-port", str(free_port()),
    ]
    process = subprocess.Popen(
        [str(RAY), "start", *args, *common], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True, env={**os.environ, **RAY_TEST_ENV},
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
