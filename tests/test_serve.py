"""`factsep serve` through a real uvicorn server on a loopback port, with an HTTP client."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from factsep.model.card import read_card_metrics
from factsep.model.labels import LABELS
from factsep.model.outputs import sentence_rows
from factsep.model.predict import Labeller
from factsep.scripts import serve as service
from factsep.scripts.serve import ServiceOptions, create_app, serving_in_background

ARTICLE = (
    "Port Strike Ends\n\nDock workers voted 312-40 to return on Monday. "
    "I think it is good news. Share this story!\n"
)


JSON = {"Content-Type": "application/json"}


class GatedLabeller(Labeller):
    """The real labeller, whose first batch waits for `release`; records each batch's thread."""

    def __init__(self, base: Labeller) -> None:
        super().__init__(base.model, base.backend, base.batch_tokens)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.batches: list[tuple[str, list[str]]] = []

    def label_many(self, articles, chunk_tokens=None):
        articles = list(articles)
        self.batches.append((threading.current_thread().name, [a.doc_id for a in articles]))
        self.entered.set()
        assert self.release.wait(30)
        return super().label_many(articles, chunk_tokens)


@pytest.fixture
def labeller(tiny_model_dir: Path) -> Labeller:
    return Labeller.from_directory(tiny_model_dir, "fp32")


@contextmanager
def running(labeller: Labeller, model_dir: Path, **options) -> Iterator[httpx.Client]:
    app = create_app(labeller, model_dir, ServiceOptions(**options))
    with serving_in_background(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        assert url.startswith("http://127.0.0.1:")
        yield client


def expected_rows(labeller: Labeller, text: str, doc_id: str) -> list[dict]:
    return sentence_rows(labeller.label(text, doc_id))


def test_one_text_gets_the_rows_factsep_label_writes_and_the_shares(labeller, tiny_model_dir):
    with running(labeller, tiny_model_dir) as client:
        response = client.post("/v1/label", json={"text": ARTICLE})
    assert response.status_code == 200
    body = response.json()
    assert body["precision"] == "fp32"
    [article] = body["articles"]
    assert article["id"] == 0
    assert article["sentences"] == expected_rows(labeller, ARTICLE, "0")
    assert [r["text"] for r in article["sentences"]] == [
        "Port Strike Ends", "Dock workers voted 312-40 to return on Monday.",
        "I think it is good news.", "Share this story!",
    ]
    counts = {label: sum(r["label"] == label for r in article["sentences"]) for label in LABELS}
    assert article["shares"] == {label: counts[label] / 4 for label in LABELS}


def test_several_articles_keep_their_ids_and_order(labeller, tiny_model_dir):
    articles = [
        {"id": "b", "text": "Second one. It rained."},
        {"id": 7, "text": "Numbered id."},
        {"text": "No id at all. Twice."},
        {"id": "b", "text": "Same id, other text."},
        {"id": "e", "text": ""},
    ]
    with running(labeller, tiny_model_dir) as client:
        response = client.post("/v1/label", json={"articles": articles})
    assert response.status_code == 200
    results = response.json()["articles"]
    assert [a["id"] for a in results] == ["b", 7, 2, "b", "e"]
    for sent, got in zip(articles, results, strict=True):
        assert got["sentences"] == expected_rows(labeller, sent["text"], str(got["id"]))
    assert results[4]["sentences"] == [] and results[4]["shares"] == dict.fromkeys(LABELS, 0.0)


def test_requests_that_arrive_together_share_a_batch_off_the_event_loop(
    labeller, tiny_model_dir
):
    gated = GatedLabeller(labeller)
    texts = [f"Request {i} says {i} things. It is number {i}." for i in range(6)]
    with running(gated, tiny_model_dir, max_wait=0.0) as client:
        with ThreadPoolExecutor(6) as pool:
            first = pool.submit(client.post, "/v1/label", json={"text": texts[0]})
            assert gated.entered.wait(30)
            rest = [
                pool.submit(client.post, "/v1/label", json={"articles": [{"id": i, "text": t}]})
                for i, t in enumerate(texts[1:], start=1)
            ]
            _wait_until(lambda: client.get("/healthz").json()["queued"] == 5)
            gated.release.set()
            responses = [first.result(60)] + [f.result(60) for f in rest]
    assert [r.status_code for r in responses] == [200] * 6
    for i, response in enumerate(responses):
        [article] = response.json()["articles"]
        assert article["id"] == i
        assert [r["text"] for r in article["sentences"]] == [
            f"Request {i} says {i} things.", f"It is number {i}."
        ]
    assert [(thread, sorted(ids)) for thread, ids in gated.batches] == [
        ("factsep-labeller", ["0"]), ("factsep-labeller", ["1", "2", "3", "4", "5"])
    ]


def test_model_health_docs_and_page(labeller, tiny_model_dir, tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "README.md").write_text(CARD, encoding="utf-8")
    with running(labeller, model_dir) as client:
        model = client.get("/v1/model").json()
        health = client.get("/healthz").json()
        docs = client.get("/docs")
        schema = client.get("/openapi.json").json()
        page = client.get("/")
        script = client.get("/page.js")
    assert model["labels"] == list(LABELS)
    assert model["precision"] == "fp32"
    assert model["metrics"]["test"]["macro_f1"] == 0.969
    assert model["metrics"]["dev"]["f1_opinion"] == 0.959
    assert health == {"status": "ok", "queued": 0, "batches": 0}
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "/v1/label" in schema["paths"]
    assert page.status_code == 200 and 'id="article"' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "http" not in page.text.split("<body>")[0]  # no external assets
    assert "innerHTML" not in script.text and "textContent" in script.text


CARD = """# factsep sentence classifier

## Metrics (gold segmentation, fp32)

### dev

| label | precision | recall | F1 |
|---|---|---|---|
| fact | 0.982 | 0.986 | 0.984 |
| opinion | 0.968 | 0.950 | 0.959 |
| filler | 0.959 | 0.970 | 0.964 |
| **macro** | | | **0.969** |

### test

| label | precision | recall | F1 |
|---|---|---|---|
| fact | 0.982 | 0.986 | 0.984 |
| opinion | 0.968 | 0.950 | 0.959 |
| filler | 0.959 | 0.970 | 0.964 |
| **macro** | | | **0.969** |

## Data

| split | file | sha256 |
|---|---|---|
| train | `train.jsonl` | `abc` |
"""


def test_the_torch_free_int8_path_is_served(int8_model_dir):
    int8 = Labeller.from_directory(int8_model_dir, "int8")
    text = "The board voted 5-2 on Monday. I think it erred."
    with running(int8, int8_model_dir) as client:
        model = client.get("/v1/model").json()
        labelled = client.post("/v1/label", json={"text": text}).json()
    assert model["precision"] == "int8" and model["context"] == int8.settings.context
    assert labelled["articles"][0]["sentences"] == expected_rows(int8, text, "0")


def test_card_metrics_are_read_from_the_card_training_writes(tmp_path, tiny_model_dir):
    from factsep.training.config import TrainingSettings
    from factsep.training.model_card import render_model_card
    from factsep.training.train import TrainingResult

    scores = {f"{m}_{label}": 0.5 for m in ("precision", "recall", "f1") for label in LABELS}
    result = TrainingResult(model=None, settings=TrainingSettings(), seconds=1.0, best_epoch=1,
                            dev={**scores, "macro_f1": 0.75}, test={**scores, "macro_f1": 0.25})
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")
    (tmp_path / "README.md").write_text(render_model_card(result, {"train": data}, {}))
    metrics = read_card_metrics(tmp_path)
    assert metrics["dev"] == {**scores, "macro_f1": 0.75}
    assert metrics["test"]["macro_f1"] == 0.25
    assert read_card_metrics(tiny_model_dir) == {}  # no card: no metrics, no error


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"text": "unterminated', "the body is not valid JSON"),
        (b"", 'the request needs a JSON body: {"text": "..."}'),
        (b"{}", 'give either "text" (one article) or "articles"'),
        (b'{"text": 5}', "text: Input should be a valid string"),
        (b'{"text": null}', 'give either "text"'),
        (b'{"text": "a", "articles": [{"text": "b"}]}', "not both and not neither"),
        (b'{"articles": []}', "articles: List should have at least 1 item"),
        (b'{"articles": [{"id": 1}]}', "articles.0.text: Field required"),
        (b'{"articles": [{"text": ["x"]}]}', "articles.0.text: Input should be a valid string"),
        (b'{"articles": [{"id": 1.5, "text": "x"}]}', "articles.0.id"),
        (b'{"text": "ok \\ud800 no"}', "text: Value error, not valid Unicode: a lone surrogate "
         "(\\ud800) at character 3"),
        (b'{"txt": "typo"}', "txt: Extra inputs are not permitted"),
        (b'["text"]', 'the body must be a JSON object, sent with "Content-Type: application/json"'),
    ],
)
def test_malformed_bodies_get_422_saying_what_is_wrong(labeller, tiny_model_dir, content, message):
    with running(labeller, tiny_model_dir) as client:
        response = client.post("/v1/label", content=content, headers=JSON)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert "unterminated" not in json.dumps(response.json()["errors"])  # input not echoed


def test_a_body_not_sent_as_json_gets_422_saying_so(labeller, tiny_model_dir):
    with running(labeller, tiny_model_dir) as client:
        response = client.post("/v1/label", content=b'{"text": "Sent as a form."}',
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 422
    assert "Content-Type: application/json" in response.json()["detail"]


@pytest.mark.parametrize(
    "text",
    ["nul\x00byte. And \x07bell.", "   \n\n  ",
     "x" * 20000, "🙂 emoji first. " * 50, "word " * 3000],
)
def test_odd_but_valid_text_never_gives_500(labeller, tiny_model_dir, text):
    with running(labeller, tiny_model_dir) as client:
        response = client.post("/v1/label", content=json.dumps({"text": text}), headers=JSON)
    assert response.status_code == 200, response.text
    for row in response.json()["articles"][0]["sentences"]:
        assert row["text"] == text[row["start"] : row["end"]]


def test_body_over_the_limit_gets_413_before_it_is_parsed(labeller, tiny_model_dir):
    at_limit = json.dumps({"text": "A sentence. " * 100}).encode()
    with running(labeller, tiny_model_dir, max_body_bytes=len(at_limit)) as client:
        fits = client.post("/v1/label", content=at_limit, headers=JSON)
        declared = client.post("/v1/label", content=at_limit + b" ", headers=JSON)
        malformed_but_large = client.post("/v1/label", content=b"{" * (len(at_limit) + 1))
        chunked = client.post(
            "/v1/label", content=iter([at_limit[:100], at_limit[100:], b" "]), headers=JSON
        )
        chunked_fits = client.post(
            "/v1/label", content=iter([at_limit[:100], at_limit[100:]]), headers=JSON
        )
    assert fits.status_code == 200 and chunked_fits.status_code == 200
    for response in (declared, malformed_but_large, chunked):
        assert response.status_code == 413
        assert "request body too large" in response.json()["detail"]


def _raw_post(url: str, head: bytes, body: bytes = b"") -> bytes:
    """Send a whole request over a plain socket, as a client that never stops early does."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head + body)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_a_client_still_sending_an_oversized_body_reads_the_413(labeller, tiny_model_dir):
    body = b'{"text": "' + b"x" * (4 * 2**20) + b'"}'  # more than the sockets buffer
    app = create_app(labeller, tiny_model_dir, ServiceOptions(max_body_bytes=1000))
    with serving_in_background(app) as url:
        declared = _raw_post(url, b"POST /v1/label HTTP/1.1\r\nHost: t\r\n"
                             b"Content-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body), body)
        pieces = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                          for i in range(0, len(body), 65536))
        chunked = _raw_post(url, b"POST /v1/label HTTP/1.1\r\nHost: t\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n", pieces + b"0\r\n\r\n")
        waiting = _raw_post(url, b"POST /v1/label HTTP/1.1\r\nHost: t\r\n"
                            b"Expect: 100-continue\r\n"
                            b"Content-Length: %d\r\n\r\n" % len(body))
    for answer in (declared, chunked, waiting):
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        assert b"request body too large" in answer
    assert b"100 Continue" not in waiting  # the body it holds back is never asked for


def test_default_limit_is_5_mb(labeller, tiny_model_dir):
    with running(labeller, tiny_model_dir) as client:
        response = client.post("/v1/label", json={"text": "x" * (5 * 2**20)})
    assert response.status_code == 413
    assert "the limit is 5 MB" in response.json()["detail"]


def test_full_queue_gets_503_with_retry_after(labeller, tiny_model_dir):
    gated = GatedLabeller(labeller)
    with running(gated, tiny_model_dir, max_queue=1, max_wait=0.0) as client:
        with ThreadPoolExecutor(2) as pool:
            running_request = pool.submit(client.post, "/v1/label", json={"text": "One."})
            assert gated.entered.wait(30)
            waiting = pool.submit(client.post, "/v1/label", json={"text": "Two."})
            _wait_until(lambda: client.get("/healthz").json()["queued"] == 1)
            refused = client.post("/v1/label", json={"text": "Three."})
            gated.release.set()
            assert running_request.result(60).status_code == 200
            assert waiting.result(60).json()["articles"][0]["sentences"][0]["text"] == "Two."
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert "busy" in refused.json()["detail"]


def test_api_key_is_required_and_compared_in_constant_time(
    labeller, tiny_model_dir, monkeypatch
):
    compared = []

    def spy(given, expected):
        compared.append((given, expected))
        return given == expected

    monkeypatch.setattr(service.hmac, "compare_digest", spy)
    with running(labeller, tiny_model_dir, api_key="s3cret") as client:
        missing = client.post("/v1/label", json={"text": "Hello."})
        wrong = client.post("/v1/label", json={"text": "Hello."}, headers={"X-API-Key": "nope"})
        unparsed = client.post("/v1/label", content=b"{bad", headers={"X-API-Key": "nope"})
        model = client.get("/v1/model")
        right = client.post("/v1/label", json={"text": "Hello."}, headers={"X-API-Key": "s3cret"})
        open_paths = [client.get(path).status_code for path in ("/healthz", "/", "/docs")]
    for response in (missing, wrong, unparsed, model):
        assert response.status_code == 401
        assert "X-API-Key" in response.json()["detail"]
        assert "www-authenticate" in response.headers
    assert right.status_code == 200
    assert open_paths == [200, 200, 200]
    assert (b"nope", b"s3cret") in compared and (b"s3cret", b"s3cret") in compared


def test_cli_refuses_an_empty_key_and_a_missing_model(tmp_path, capsys):
    from factsep.scripts.cli import main

    assert main(["serve", "--model", str(tmp_path), "--api-key", " "]) == 2
    assert "must not be empty" in capsys.readouterr().err
    assert main(["serve", "--model", str(tmp_path / "none")]) == 2
    assert "not a directory" in capsys.readouterr().err


def _wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
