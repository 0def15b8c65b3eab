"""`factsep serve`: the labelling service, FastAPI on uvicorn.

The model is loaded once, before the port opens, and runs only in the `BatchingWorker`
thread: the event loop parses requests, queues them and awaits their futures, so requests
that arrive together share encoder batches and the loop never blocks on the model.

Everything a client sends is checked before it costs anything: the API key and the body
size (413) before the body is parsed or kept, then the body's shape (422, with the field and
what is wrong), then room in the queue (503 with Retry-After). An oversized body is read
and thrown away (up to `DRAIN_LIMIT_BYTES`) before the 413, so that a client still sending
it reads the answer instead of a reset connection.
"""

from __future__ import annotations

import asyncio
import hmac
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    model_validator,
)

from factsep.model.batching import BatchingWorker, QueueFull, WorkerStopped
from factsep.model.card import read_card_metrics
from factsep.model.labels import LABELS
from factsep.model.outputs import sentence_rows
from factsep.model.predict import Article, LabelledArticle, Labeller

DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024  # past this, an oversized body is cut off unread
RETRY_AFTER_SECONDS = 1
PROTECTED_PREFIX = "/v1/"
PAGE_FILES = {  # path -> (file in scripts/page, media type)
    "/": ("index.html", "text/html; charset=utf-8"),
    "/page.js": ("page.js", "text/javascript; charset=utf-8"),
    "/page.css": ("page.css", "text/css; charset=utf-8"),
}
# The page loads nothing from elsewhere and runs no inline script.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class ServiceOptions:
    """How the service admits and batches requests."""

    api_key: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_queue: int = 64
    max_wait: float = 0.005
    max_batch_articles: int = 64


def _valid_unicode(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"not valid Unicode: a lone surrogate (\\u{ord(text[error.start]):04x}) "
            f"at character {error.start}"
        ) from None
    return text


Text = Annotated[StrictStr, AfterValidator(_valid_unicode)]


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: StrictStr | StrictInt | None = Field(
        None, description="your identifier, returned as given (default: the position)"
    )
    text: Text = Field(description="the article's text")


class LabelRequest(BaseModel):
    """Either one article as `text`, or a list of `articles`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "The council voted 9-4. I think it erred."}]},
    )
    text: Text | None = Field(None, description="one article")
    articles: list[ArticleIn] | None = Field(None, min_length=1, description="several articles")

    @model_validator(mode="after")
    def _one_form(self) -> LabelRequest:
        if (self.text is None) == (self.articles is None):
            raise ValueError(
                'give either "text" (one article) or "articles" (a list of {"id", "text"}), '
                "not both and not neither"
            )
        return self

    def to_articles(self) -> tuple[list[Article], list[str | int]]:
        """The articles to label and the id to return for each."""
        items = [ArticleIn(text=self.text)] if self.articles is None else self.articles
        ids = [item.id if item.id is not None else number for number, item in enumerate(items)]
        return [Article(str(i), item.text) for i, item in zip(ids, items, strict=True)], ids


class SentenceRow(BaseModel):
    doc_id: str
    sentence_id: int
    start: int
    end: int
    text: str
    label: str
    score: float
    probs: dict[str, float]


class ArticleOut(BaseModel):
    id: str | int
    sentences: list[SentenceRow]
    shares: dict[str, float] = Field(description="fraction of the sentences with each label")


class LabelResponse(BaseModel):
    articles: list[ArticleOut]
    precision: str


def article_result(article_id: str | int, labelled: LabelledArticle) -> dict[str, Any]:
    """One article of a `/v1/label` response."""
    return {
        "id": article_id,
        "sentences": sentence_rows(labelled),
        "shares": {label: round(labelled.share(label), 4) for label in LABELS},
    }


def describe_errors(errors: Sequence[dict[str, Any]]) -> str:
    """One line saying what is wrong with a request body, field by field."""
    parts = []
    for error in errors:
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "")
            parts.append(f"the body is not valid JSON ({reason})" if reason else
                         "the body is not valid JSON")
            continue
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        message = error.get("msg", "invalid")
        if where:
            parts.append(f"{where}: {message}")
        elif error.get("type") in ("model_attributes_type", "model_type", "dict_type"):
            parts.append('the body must be a JSON object, sent with "Content-Type: '
                         'application/json"')
        elif message == "Field required":
            parts.append('the request needs a JSON body: {"text": "..."}')
        else:
            parts.append(f"body: {message}")
    return "; ".join(parts[:5]) + ("; ..." if len(parts) > 5 else "")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


class Gate:
    """ASGI middleware: the API key and the body size, checked before the body is read."""

    def __init__(self, app: Any, options: ServiceOptions) -> None:
        self.app = app
        self.options = options

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope["headers"]}
        if scope["path"].startswith(PROTECTED_PREFIX) and not self._authorised(headers):
            await _error(
                401, "missing or wrong API key: send it in the X-API-Key header",
                {"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
            )(scope, receive, send)
            return
        limit = self.options.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            if int(declared) <= DRAIN_LIMIT_BYTES and not _expects_continue(headers):
                await _discard_body(receive, 0)
            await self._too_large(scope, receive, send, int(declared))
            return
        if declared is None and scope["method"] in ("POST", "PUT", "PATCH"):
            # A chunked body has no declared size: read it here, up to the limit.
            body = bytearray()
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > limit:
                    if more:
                        await _discard_body(receive, len(body))
                    await self._too_large(scope, receive, send, None)
                    return
            receive = _replay(bytes(body), receive)
        await self.app(scope, receive, send)

    def _authorised(self, headers: dict[str, bytes]) -> bool:
        if self.options.api_key is None:
            return True
        given = headers.get("x-api-key", b"")
        return hmac.compare_digest(given, self.options.api_key.encode("utf-8"))

    async def _too_large(self, scope: dict, receive: Any, send: Any, size: int | None) -> None:
        limit_mb = self.options.max_body_bytes / 2**20
        size_text = f"{size / 2**20:.1f} MB" if size is not None else "more than that"
        message = (
            f"request body too large ({size_text}; the limit is {limit_mb:g} MB): "
            "send fewer or shorter articles per request"
        )
        await _error(413, message, {"Connection": "close"})(scope, receive, send)


def _expects_continue(headers: dict[str, bytes]) -> bool:
    """A client sending `Expect: 100-continue` waits for an answer before it sends the body."""
    return headers.get("expect", b"").lower() == b"100-continue"


async def _discard_body(receive: Any, already_read: int) -> None:
    """Read the rest of a request body without keeping it, up to `DRAIN_LIMIT_BYTES` in all."""
    total = already_read
    while total <= DRAIN_LIMIT_BYTES:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        total += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _replay(body: bytes, receive: Any) -> Any:
    """A `receive` that hands over the body already read, then defers to the server's."""
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def create_app(labeller: Labeller, model_dir: Path, options: ServiceOptions) -> FastAPI:
    """The service for a loaded `labeller`; its worker thread lives as long as the app runs."""
    page = {path: (files("factsep.scripts") / "page" / name).read_bytes()
            for path, (name, _) in PAGE_FILES.items()}
    model_info = {
        "model": Path(model_dir).name,
        "labels": list(LABELS),
        "precision": labeller.precision,
        "context": labeller.settings.context,
        "max_length": labeller.settings.max_length,
        "metrics": read_card_metrics(model_dir),
    }

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = BatchingWorker(
            labeller, options.max_queue, options.max_wait, options.max_batch_articles
        ).start()
        app.state.worker = worker
        try:
            yield
        finally:
            await asyncio.to_thread(worker.stop, 60.0)

    # FastAPIOffline: a FastAPI app whose /docs and /redoc load Swagger UI and ReDoc from the
    # package (under /static-offline-docs), not from a CDN, so they work offline.
    app = FastAPIOffline(
        title="factsep",
        summary="Label each sentence of a news article as fact, opinion or filler.",
        version="1",
        lifespan=lifespan,
    )
    app.add_middleware(Gate, options=options)

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k not in ("input", "url")} for e in error.errors()]
        return JSONResponse(
            {"detail": describe_errors(errors), "errors": jsonable_encoder(errors)},
            status_code=422,
        )

    @app.post(
        "/v1/label",
        response_model=LabelResponse,
        responses={
            401: {"description": "missing or wrong X-API-Key (when the service has a key)"},
            413: {"description": "body over the limit"},
            422: {"description": "malformed JSON, or a missing or non-string text"},
            503: {"description": "queue full; retry after the Retry-After header's seconds"},
        },
    )
    async def label(body: LabelRequest, request: Request) -> Response:
        """Label one article (`text`) or several (`articles`); rows as `factsep label` writes."""
        articles, ids = body.to_articles()
        worker: BatchingWorker = request.app.state.worker
        try:
            future = worker.submit(articles)
        except (QueueFull, WorkerStopped) as error:
            return _error(
                503, f"the service is busy ({error}); retry in {RETRY_AFTER_SECONDS} s",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        try:
            labelled = await asyncio.wrap_future(future)
        except WorkerStopped as error:
            return _error(503, str(error), {"Retry-After": str(RETRY_AFTER_SECONDS)})
        results = [article_result(i, a) for i, a in zip(ids, labelled, strict=True)]
        return JSONResponse({"articles": results, "precision": labeller.precision})

    @app.get("/v1/model")
    async def model() -> dict[str, Any]:
        """The labels, the inference path and the metrics from the model card."""
        return model_info

    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, Any]:
        """Liveness, with the number of requests waiting and batches run."""
        worker: BatchingWorker = request.app.state.worker
        return {"status": "ok", "queued": worker.queued(), "batches": worker.batches}

    def page_route(path: str, media_type: str) -> None:
        async def serve_page() -> Response:
            return Response(page[path], media_type=media_type,
                            headers={"Content-Security-Policy": PAGE_POLICY})

        app.add_api_route(path, serve_page, methods=["GET"], include_in_schema=False)

    for path, (_, media_type) in PAGE_FILES.items():
        page_route(path, media_type)
    return app


def serve(
    labeller: Labeller,
    model_dir: Path,
    options: ServiceOptions,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Run the service until interrupted."""
    import uvicorn

    uvicorn.run(create_app(labeller, model_dir, options), host=host, port=port,
                log_level="info", access_log=False)


@contextmanager
def serving_in_background(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run `app` on a real uvicorn server in a thread; yield its base URL; stop it after.

    Port 0 takes a free port. Used by the tests and by `factsep bench --serve`.
    """
    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the service did not start (see the log above)")
            time.sleep(0.01)
        yield f"http://{host}:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        listener.close()
