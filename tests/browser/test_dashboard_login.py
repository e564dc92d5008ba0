"""Signing in to a server that requires tokens, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .harness import (
    INGEST_TOKEN,
    READ_TOKEN,
    BrowserPage,
    LiveServer,
    instance_samples,
    wait_for_charts,
)

pytestmark = pytest.mark.browser


def _sign_in(page: Page, token: str) -> None:
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_pages_redirect_to_login_and_work_after_signing_in(
    token_server: LiveServer, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    page.goto(token_server.url + "/services")
    assert page.url == token_server.url + "/login?next=%2Fservices"
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    _sign_in(page, READ_TOKEN)
    # Back where the browser was going, with the page's content.
    expect(page).to_have_url(token_server.url + "/services")
    expect(page.get_by_role("heading", level=1)).to_have_text("Services")

    # The session cookie is out of reach of page scripts and of other sites' requests.
    (cookie,) = page.context.cookies()
    assert cookie["name"] == "mlvitals_token"
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""

    # The token server starts empty: the overview says how to start, and the Server page
    # and its chart show their empty states.
    page.get_by_role("link", name="Overview", exact=True).click()
    expect(page.get_by_role("heading", name="How to start")).to_be_visible()
    page.goto(token_server.url + "/server")
    expect(page.get_by_test_id("records")).to_have_text("0")
    expect(page.get_by_role("heading", name="Nothing recorded yet — how to start")).to_be_visible()
    expect(page.locator("#ingest-per-minute .chart-empty")).to_have_text(
        "Nothing ingested in the last hour."
    )

    # Records sent with an ingest token show up on reload, drawn in the chart.
    token_server.ingest(instance_samples(3, service="login-test"), token=INGEST_TOKEN)
    page.reload()
    expect(page.get_by_test_id("records")).to_have_text("3")
    wait_for_charts(page)
    browser_page.issues.assert_none()


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-known-token", "This token is not known here."),
        (INGEST_TOKEN, "This token lacks the read scope"),
    ],
)
def test_a_rejected_token_shows_the_form_again_with_the_reason(
    token_server: LiveServer, browser_page: BrowserPage, token: str, message: str
) -> None:
    page = browser_page.page
    page.goto(token_server.url + "/")
    _sign_in(page, token)
    expect(page.get_by_role("alert")).to_contain_text(message)
    expect(page.get_by_label("API token")).to_be_visible()
    assert page.context.cookies() == []
    # Still locked out.
    page.goto(token_server.url + "/cost")
    assert page.url.startswith(token_server.url + "/login")


def test_signing_out_locks_the_dashboard_again(
    token_server: LiveServer, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    page.goto(token_server.url + "/")
    _sign_in(page, READ_TOKEN)
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    wait_for_charts(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert page.context.cookies() == []
    page.goto(token_server.url + "/alerts")
    assert page.url == token_server.url + "/login?next=%2Falerts"
    browser_page.issues.assert_none()
