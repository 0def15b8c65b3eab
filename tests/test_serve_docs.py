"""The service's OpenAPI docs (/docs, /redoc) work offline: every asset comes from the server."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from factsep.model.predict import Labeller
from factsep.scripts.serve import ServiceOptions, create_app, serving_in_background

ABSOLUTE_URL = re.compile(r"https?://[^\s\"'<>()]+")


class AssetLinks(HTMLParser):
    """The URLs a page loads: script sources, stylesheet and icon links."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(values["src"])
        if tag == "link" and values.get("href"):
            self.urls.append(values["href"])


def asset_urls(html: str) -> list[str]:
    parser = AssetLinks()
    parser.feed(html)
    return parser.urls


@pytest.fixture(scope="module")
def docs_server(tiny_model_dir: Path):
    labeller = Labeller.from_directory(tiny_model_dir, "fp32")
    app = create_app(labeller, tiny_model_dir, ServiceOptions())
    with serving_in_background(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield url, client


@pytest.mark.parametrize(("page", "marker", "kinds"), [
    ("/docs", "SwaggerUIBundle", (".js", ".css")),
    ("/redoc", "<redoc", (".js",)),
])
def test_docs_pages_load_every_asset_from_the_server(docs_server, page, marker, kinds):
    base, client = docs_server
    response = client.get(page)
    assert response.status_code == 200 and marker in response.text
    html = response.text
    elsewhere = [url for url in ABSOLUTE_URL.findall(html) if not url.startswith(base + "/")]
    assert elsewhere == [], f"{page} names another host: {elsewhere}"
    urls = asset_urls(html)
    assert {Path(urlsplit(url).path).suffix for url in urls} >= set(kinds)
    for url in urls:
        absolute = urljoin(base + page, url)
        assert absolute.startswith(base + "/"), f"{page} loads {url} from elsewhere"
        asset = client.get(absolute)
        assert asset.status_code == 200, f"{page}: {url} -> {asset.status_code}"
        assert asset.content, f"{page}: {url} is empty"


def test_the_docs_package_is_imported_only_by_the_service():
    script = (
        "import sys\n"
        "from factsep.scripts.cli import main\n"
        "for argv in (['--help'], ['serve', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('fastapi', 'fastapi_offline') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr
