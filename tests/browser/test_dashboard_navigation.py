"""Every navigation entry leads to a working page, and empty sections say how to start."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .harness import BrowserPage, LiveServer

pytestmark = pytest.mark.browser

NAV = [
    ("Overview", "/", "Overview"),
    ("Services", "/services", "Services"),
    ("Datasets", "/datasets", "Datasets"),
    ("Pipelines", "/pipelines", "Pipelines"),
    ("Cost", "/cost", "Cost"),
    ("Alerts", "/alerts", "Alerts"),
]


def test_every_navigation_link_opens_a_page(
    seeded_server: LiveServer, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    page.goto(seeded_server.url + "/")
    for label, path, heading in NAV:
        with page.expect_navigation() as navigation:
            page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
        response = navigation.value
        assert response is not None and response.status == 200, (label, response)
        assert page.url == seeded_server.url + path
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        # The current page is marked for assistive technology and styling.
        current = page.locator("nav a[aria-current=page]")
        expect(current).to_have_text(label)
    browser_page.issues.assert_none()


def test_api_docs_link_opens_the_interactive_docs(
    seeded_server: LiveServer, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    page.goto(seeded_server.url + "/")
    with page.expect_navigation() as navigation:
        page.get_by_role("link", name="API docs").click()
    response = navigation.value
    assert response is not None and response.status == 200
    assert page.url == seeded_server.url + "/api/v1/docs"
    # Swagger UI renders the operations of the OpenAPI document, served locally.
    expect(page.get_by_text("/api/v1/ingest").first).to_be_visible()
    browser_page.issues.assert_none()


def test_sections_show_their_records_or_how_to_start(
    seeded_server: LiveServer, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    # Services has its own page: it lists the seeded service instead of saying "empty".
    page.goto(seeded_server.url + "/services")
    expect(page.locator("tr[data-service=recommender]")).to_be_visible()
    expect(page.get_by_text("Nothing recorded yet")).to_have_count(0)
    # Nothing feeds Pipelines yet: an empty state with the first steps.
    page.goto(seeded_server.url + "/pipelines")
    expect(
        page.get_by_role("heading", level=2, name="Nothing recorded yet — how to start")
    ).to_be_visible()
    expect(page.locator("ol.steps li").first).to_be_visible()
    browser_page.issues.assert_none()
