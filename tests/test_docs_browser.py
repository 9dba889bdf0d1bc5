"""/docs and /redoc render in a real browser with the network cut off."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Route, sync_playwright

from tests.support.server import running_server
from tests.support.services import unavailable

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("browser")) as url:
        yield url


def _offline_page(browser: Browser, external: list[str]):  # type: ignore[no-untyped-def]
    page = browser.new_page()

    def only_localhost(route: Route) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    page.route("**/*", only_localhost)
    return page


def test_swagger_ui_renders_the_operations_offline(browser: Browser, server_url: str) -> None:
    external: list[str] = []
    page = _offline_page(browser, external)
    page.goto(f"{server_url}/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/health/live" in " ".join(summaries)
    assert page.locator(".info .title").inner_text().startswith("Orderly")
    assert external == []


def test_redoc_renders_the_operations_offline(browser: Browser, server_url: str) -> None:
    external: list[str] = []
    page = _offline_page(browser, external)
    page.goto(f"{server_url}/redoc")
    page.wait_for_selector("[data-section-id^='operation/']", timeout=20_000)
    assert page.locator("h1").first.inner_text().startswith("Orderly")
    assert external == []
