"""`factsep bench --serve`: the service under load, measured, not asserted.

Starts `factsep serve` in its own process on a free loopback port, then runs `clients`
concurrent clients for `seconds`: good articles of different lengths (the test split, cut to
1..60 sentences, and a 30-sentence article timed on its own), malformed bodies and bodies over
the limit. Every 200 response is checked against the article sent (id, sentence offsets and
texts from our own segmentation); every error must have the status its request deserves.
Then `factsep label` labels the same good articles, for the sentences/s comparison.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from factsep.model.segment import segment

from ..data.dataset import read_articles
from .peak_memory import peak_rss_mb

Print = Callable[[str], None]
TIMED_SENTENCES = 30


def build_articles(test_path: Path) -> tuple[list[str], str]:
    """Good articles of 1..60 sentences cut from the test split, and one of exactly 30."""
    texts = [a["text"] for a in read_articles(test_path)]
    rng = random.Random(13)
    articles = []
    for text in texts:
        spans = segment(text)
        for size in (1, 5, 15, 30, 60):
            if len(spans) >= size:
                articles.append(text[: spans[size - 1][1]])
        articles.append(text)
    rng.shuffle(articles)
    joined = "\n\n".join(texts)
    timed = joined[: segment(joined)[TIMED_SENTENCES - 1][1]]
    assert len(segment(timed)) == TIMED_SENTENCES
    return articles, timed


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _load(url: str, articles: list[str], timed: str, clients: int, seconds: float) -> dict:
    import httpx

    expected = {text: [(s, e) for s, e in segment(text)] for text in [*articles, timed]}
    oversized = b'{"text": "' + b"x" * (6 * 2**20) + b'"}'
    malformed = [b'{"text": ', b'{"text": 5}', b"{}", b'{"articles": [{"id": 1}]}']
    statuses: Counter[str] = Counter()
    problems: list[str] = []
    timed_latency: list[float] = []
    sentences = 0
    deadline = time.monotonic() + seconds

    async def client(number: int, http: httpx.AsyncClient) -> None:
        nonlocal sentences
        rng = random.Random(number)
        sent = 0
        while time.monotonic() < deadline:
            sent += 1
            roll = rng.random()
            if roll < 0.05:
                kind, body, want = "oversized", oversized, 413
            elif roll < 0.15:
                kind, body, want = "malformed", rng.choice(malformed), 422
            else:
                kind = "timed" if roll < 0.30 else "good"
                text = timed if kind == "timed" else rng.choice(articles)
                doc_id = f"c{number}-{sent}"
                body = json.dumps({"articles": [{"id": doc_id, "text": text}]}).encode()
                want = 200
            started = time.perf_counter()
            try:
                response = await http.post("/v1/label", content=body,
                                           headers={"Content-Type": "application/json"})
            except httpx.HTTPError as error:
                statuses[f"{kind}: {type(error).__name__}"] += 1
                continue
            elapsed = time.perf_counter() - started
            statuses[f"{kind}: {response.status_code}"] += 1
            if response.status_code != want:
                problems.append(f"{kind} got {response.status_code}: {response.text[:100]}")
                continue
            if want != 200:
                continue
            [article] = response.json()["articles"]
            got = [(r["start"], r["end"]) for r in article["sentences"]]
            texts_ok = all(r["text"] == text[r["start"] : r["end"]] for r in article["sentences"])
            if article["id"] != doc_id or got != expected[text] or not texts_ok:
                problems.append(f"response for {doc_id} does not match the article sent")
                continue
            sentences += len(got)
            if kind == "timed":
                timed_latency.append(elapsed)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(n, http) for n in range(clients)))
        wall = time.perf_counter() - started
    timed_latency.sort()
    return {
        "seconds": wall,
        "sentences_per_second": sentences / wall,
        "statuses": dict(sorted(statuses.items())),
        "problems": problems[:10],
        "problem_count": len(problems),
        "timed_p50_ms": 1000 * timed_latency[len(timed_latency) // 2] if timed_latency else None,
        "timed_p95_ms": 1000 * timed_latency[int(len(timed_latency) * 0.95)]
        if timed_latency else None,
        "timed_requests": len(timed_latency),
    }


def _cli_rate(model_dir: Path, articles: list[str], precision: str) -> float:
    """Sentences/s of `factsep label` on the same articles (its own summary line)."""
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "articles.jsonl"
        corpus.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n"
                                  for i, t in enumerate(articles)), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "factsep.scripts.cli", "label", str(corpus), "--model",
             str(model_dir), "--precision", precision, "-o", str(Path(scratch) / "out.jsonl")],
            capture_output=True, text=True, check=True,
        )
    return float(re.search(r"([\d.]+) sentences/s", done.stderr).group(1))


def run_serve_load(
    model_dir: Path,
    test_path: Path,
    precision: str = "auto",
    clients: int = 32,
    seconds: float = 60.0,
    print_line: Print = print,
) -> dict:
    """Load the service, then the command line on the same articles; print the figures."""
    articles, timed = build_articles(test_path)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "factsep.scripts.cli", "serve", "--model", str(model_dir),
         "--port", str(port), "--precision", precision],
        stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        result = asyncio.run(_load(url, articles, timed, clients, seconds))
        result["server_peak_rss_mb"] = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(60)
    print_line(f"machine: {os.cpu_count()} CPU cores; model: {model_dir} [{precision}]")
    print_line(json.dumps(result, indent=2))
    result["cli_sentences_per_second"] = _cli_rate(model_dir, articles, precision)
    result["ratio"] = result["sentences_per_second"] / result["cli_sentences_per_second"]
    print_line(f"factsep label on the same articles: {result['cli_sentences_per_second']:.0f} "
               f"sentences/s; service / command line: {result['ratio']:.2f}")
    return result


def _wait_healthy(url: str, server: subprocess.Popen) -> None:
    import httpx

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"factsep serve exited: {server.stderr.read()[-500:]}")
        try:
            if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("factsep serve did not become healthy in 300 s")
