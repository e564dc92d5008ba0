"""The Alerts page of the dashboard, in headless Chromium against a real server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.browser.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    PageIssues,
    serving_windows,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.browser

RULES = """
rules:
  - name: FraudErrors
    kind: serving
    metric: error_rate
    threshold: 0.01
    window: 5m
    severity: critical
    annotations: {summary: "{service}: {value:.1%} of calls failed"}
  - name: FraudDown
    kind: absence
    duration: 10m
"""


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need the system Chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def alerting_server(tmp_path: Path) -> Iterator[LiveServer]:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    server = start_server(tmp_path / "srv", "--rules-file", str(rules), "--alert-interval", "0.5")
    try:
        yield server
    finally:
        stop_server(server)


def test_the_alerts_page_shows_firing_silenced_alerts_and_rules(
    alerting_server: LiveServer, browser: Browser
) -> None:
    server = alerting_server
    reply = server.ingest(serving_windows(12, service="fraud"))
    assert reply["stored"] == 12
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        alerts = httpx.get(server.url + "/api/v1/alerts?state=firing").json()["alerts"]
        if alerts:
            break
        time.sleep(0.2)
    (alert,) = alerts
    silence = {"matchers": ["service=fraud"], "duration": "1h", "comment": "retraining"}
    assert httpx.post(server.url + "/api/v1/silences", json=silence).status_code == 201

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    issues = PageIssues()
    issues.attach(page)
    page.goto(server.url + "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    row = page.locator(f"tr[data-alert='{alert['id']}']")
    expect(row).to_have_attribute("data-state", "firing")
    # 4 of 12 windows had one failure in 20 calls: 4 / 240.
    expect(row).to_contain_text("fraud: 1.7% of calls failed")
    expect(row.get_by_test_id("silenced")).to_be_visible()
    expect(page.get_by_test_id("count-firing")).to_have_text("1")
    expect(page.get_by_test_id("count-silenced")).to_have_text("1")
    expect(page.get_by_test_id("silences-table")).to_contain_text('service="fraud"')
    expect(page.get_by_test_id("silences-table")).to_contain_text("retraining")
    rules = page.get_by_test_id("rules-table")
    expect(rules.locator("tr[data-rule=FraudErrors] td").nth(3)).to_have_text("1")
    expect(rules.locator("tr[data-rule=FraudDown]")).to_contain_text("absence")
    expect(page.get_by_test_id("history-table")).to_contain_text("inactive → firing")
    issues.assert_none()
    context.close()
