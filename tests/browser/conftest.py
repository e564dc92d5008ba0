"""Browser tests: the real ``mlvitals serve`` process driven by headless Chromium.

The server runs as a subprocess on a free port with its own SQLite file, exactly as a user
starts it; Chromium is the system's (``/usr/bin/chromium``), driven through Playwright.
Playwright never downloads a browser here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from .harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    INGEST_TOKEN,
    READ_TOKEN,
    BrowserPage,
    LiveServer,
    PageIssues,
    instance_samples,
    serving_windows,
    start_server,
    stop_server,
)


@pytest.fixture(scope="package")
def seeded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """An open server (no tokens) holding two batches: 1,200 instance samples, then 34
    instance samples and 6 serving windows (1,240 records)."""
    server = start_server(tmp_path_factory.mktemp("open"))
    try:
        samples = instance_samples(1234)
        first = server.ingest(samples[:1200])
        second = server.ingest(samples[1200:] + serving_windows(6))
        assert (first["stored"], second["stored"]) == (1200, 40), (first, second)
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="package")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """An empty server that requires tokens: one with ``read``, one with only ``ingest``."""
    server = start_server(
        tmp_path_factory.mktemp("tokens"),
        "--tokens",
        f"{READ_TOKEN}:read;{INGEST_TOKEN}:ingest",
    )
    try:
        yield server
    finally:
        stop_server(server)


# Package scope: sync Playwright keeps an event loop running in the main thread, which
# must be gone before tests outside this package call asyncio.run().
@pytest.fixture(scope="package")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need the system Chromium. "
            "Install it with `apt-get install chromium` (Playwright's own browser "
            "downloads are not used)."
        )
    browser = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def browser_page(browser: Browser) -> Iterator[BrowserPage]:
    """A fresh browser context (no cookies) and page, with its issues recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    issues = PageIssues()
    issues.attach(page)
    try:
        yield BrowserPage(page, issues)
    finally:
        context.close()


@pytest.fixture(scope="module")
def shared_context(browser: Browser) -> Iterator[BrowserContext]:
    """One browser context per module, so Plotly is fetched and compiled once rather than in
    every test (each test still gets its own page and issue tracking)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def tab(shared_context: BrowserContext) -> Iterator[BrowserPage]:
    """A new page in the module's shared context, with its console errors and failed requests."""
    page = shared_context.new_page()
    issues = PageIssues()
    issues.attach(page)
    try:
        yield BrowserPage(page, issues)
    finally:
        page.close()
