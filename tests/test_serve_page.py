"""The page at / in a real headless browser: paste an article, read the highlighted result."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from factsep.model.labels import LABELS
from factsep.model.predict import LabelledArticle, Labeller
from factsep.scripts.serve import ServiceOptions, create_app, serving_in_background

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Debian's chromium and chromium-driver are not installed (scripts/test.sh installs "
    "them as root: apt-get install -y chromium chromium-driver)",
)
ARTICLE = (
    "Night Buses Return 🚌\n\n"
    "The council voted 9-4 on Tuesday. <img src=x onerror=\"document.title='pwned'\"> was "
    "typed by a reader. I believe this is overdue.\n\n"
    "Why did the bus driver smile? Share this story."
)


class RotatingLabeller(Labeller):
    """The real model's sentences and scores, labels rotated so all three appear."""

    def label_many(self, articles, chunk_tokens=None):
        for article in super().label_many(articles, chunk_tokens):
            sentences = tuple(
                type(s)(s.start, s.end, s.text, LABELS[i % 3], s.score, s.probs)
                for i, s in enumerate(article.sentences)
            )
            yield LabelledArticle(article.doc_id, article.text, sentences)


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="factsep-chromium-")
    # no network but loopback: every other request goes to a proxy port where nothing listens
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                 "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_paste_an_article_and_read_the_highlighted_sentences(browser, tiny_model_dir: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base = Labeller.from_directory(tiny_model_dir, "fp32")
    labeller = RotatingLabeller(base.model, base.backend, base.batch_tokens)
    expected = labeller.label(ARTICLE).sentences
    assert {s.label for s in expected} == set(LABELS)
    app = create_app(labeller, tiny_model_dir, ServiceOptions())
    with serving_in_background(app) as url:
        browser.get(url + "/")
        browser.find_element(By.ID, "article").send_keys(ARTICLE)
        browser.find_element(By.ID, "label-button").click()
        wait = WebDriverWait(browser, 60)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#result span.sentence"))
        spans = browser.find_elements(By.CSS_SELECTOR, "#result span.sentence")
        assert [s.text for s in spans] == [s.text for s in expected]
        assert [s.get_attribute("data-label") for s in spans] == [s.label for s in expected]
        assert [s.get_attribute("title") for s in spans] == [
            f"{s.label} {s.score:.2f}" for s in expected
        ]
        result = browser.find_element(By.ID, "result")
        assert result.get_property("textContent") == ARTICLE  # every character, as text
        assert result.find_elements(By.TAG_NAME, "img") == []
        assert browser.title != "pwned"
        shares = browser.find_element(By.ID, "shares").text
        for label in LABELS:
            share = sum(s.label == label for s in expected) / len(expected)
            assert f"{label} {round(100 * share)}%" in shares
        assert "sentences labelled (fp32)" in browser.find_element(By.ID, "status").text

        browser.find_element(By.ID, "facts-only").click()
        facts = browser.find_elements(By.CSS_SELECTOR, "#result span.sentence")
        assert [s.text for s in facts] == [s.text for s in expected if s.label == "fact"]
        shown = browser.find_element(By.ID, "result").text
        assert not [s.text for s in expected if s.label != "fact" and s.text in shown]


@pytest.mark.parametrize(("page", "operation"), [
    ("/docs", "#swagger-ui .opblock-summary-path"),
    ("/redoc", "redoc [data-section-id^='operation/']"),
])
def test_the_api_docs_render_without_network(browser, tiny_model_dir: Path, page, operation):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    labeller = Labeller.from_directory(tiny_model_dir, "fp32")
    with serving_in_background(create_app(labeller, tiny_model_dir, ServiceOptions())) as url:
        browser.get(url + page)
        WebDriverWait(browser, 60).until(lambda b: b.find_elements(By.CSS_SELECTOR, operation))
        rendered = browser.find_element(By.TAG_NAME, "body").get_property("textContent")
        rendered = rendered.replace("\u200b", "")  # Swagger UI breaks paths with these
        assert "/v1/label" in rendered


def test_the_browser_reaches_nothing_beyond_loopback(browser):
    """What makes the docs test a test of working offline."""
    from selenium.common.exceptions import WebDriverException

    with pytest.raises(WebDriverException, match="ERR_PROXY_CONNECTION_FAILED"):
        browser.get("https://cdn.jsdelivr.net/")
