"""From alert to object in one click, in headless Chromium against a real server holding the
demo's story with one alert of every rule kind firing (see ``incident_seed``).

Each test starts where a person would (the Alerts page, the overview, a notification's
``generatorURL``), follows the link, and checks that the page it lands on is the object's
page and shows that alert. The last test checks that no page is wider than a 1280 px
window.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from .harness import BrowserPage, LiveServer, stop_server
from .incident_seed import (
    DATASET,
    DEPLOY,
    FEATURES,
    KINDS,
    PROBE,
    RETRAIN,
    SERVICE,
    Incidents,
    seed_incidents,
    start_incident_server,
    wait_for_alerts,
    webhook,
)

pytestmark = pytest.mark.browser
LOAD_TIMEOUT_MS = 60_000  # pages with charts load Plotly: slow on a busy machine

# The rule of each kind in the seed's rules, and the page its alert must lead to.
RULE_OF_KIND = {
    "absence": "InstanceDown",
    "serving": "HighLatencyP90",
    "burn_rate": "ErrorBudgetBurn",
    "availability": "ProbeFailing",
    "pipeline": "PipelineRunFailed",
    "environment_changed": "EnvironmentChanged",
    "check_failed": "DataCheckFailed",
    "drift": "DatasetDrift",
    "budget": "BudgetForecastOver",
}


@dataclass
class Story:
    server: LiveServer
    seeded: Incidents
    firing: dict[str, dict[str, Any]]  # rule -> one firing alert (from the API)
    hooks: list[dict[str, Any]]


def expected_page(rule: str, alert: dict[str, Any], seeded: Incidents) -> tuple[str, str]:
    """(path, query) the alert must lead to, from what was seeded."""
    labels = alert["labels"]
    return {
        "InstanceDown": (f"/services/{SERVICE}", f"instance={labels.get('instance')}"),
        "HighLatencyP90": (f"/services/{SERVICE}", "version=1.5.0"),
        "ErrorBudgetBurn": (f"/services/{SERVICE}", ""),
        "ProbeFailing": ("/services", f"probe={PROBE}"),
        "PipelineRunFailed": (f"/runs/{seeded.failed_run}", ""),
        "EnvironmentChanged": (f"/runs/{seeded.failed_run}", ""),
        "DataCheckFailed": (f"/datasets/{DATASET}", ""),
        "DatasetDrift": (f"/datasets/{DATASET}", ""),
        "BudgetForecastOver": ("/cost", "budget=classifier-daily"),
    }[rule]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    assert set(RULE_OF_KIND) == set(KINDS)
    with webhook() as (hook_url, received):
        server = start_incident_server(tmp_path_factory.mktemp("incidents"), hook_url)
        try:
            seeded = seed_incidents(server.url, time.time())
            firing = wait_for_alerts(server.url, set(RULE_OF_KIND.values()), deadline_s=90)
            by_rule = {}
            for a in firing:
                # InstanceDown also fires for the checking job's process; take the replica's.
                if a["rule"] == "InstanceDown" and a["labels"].get("service") != SERVICE:
                    continue
                by_rule.setdefault(a["rule"], a)
            yield Story(server, seeded, by_rule, received)
        finally:
            stop_server(server)


def follow(page: Page, link: Locator) -> None:
    """Click ``link`` and wait until the next page has loaded."""
    with page.expect_navigation(wait_until="load", timeout=LOAD_TIMEOUT_MS):
        link.click()


def _landed(page: Page, rule: str, alert: dict[str, Any], story: Story) -> None:
    """The page is the alert's object page and lists the alert."""
    path, query = expected_page(rule, alert, story.seeded)
    url = urlsplit(page.url)
    assert (unquote(url.path), unquote(url.query)) == (path, query), rule
    listed = page.locator(f"[data-testid=object-alerts] [data-rule={rule}][data-state=firing]")
    expect(listed.first).to_be_visible()


@pytest.mark.parametrize("kind", KINDS)
def test_an_alert_on_the_alerts_page_leads_to_its_object(
    story: Story, tab: BrowserPage, kind: str
) -> None:
    rule = RULE_OF_KIND[kind]
    alert = story.firing[rule]
    page = tab.page
    page.set_default_navigation_timeout(LOAD_TIMEOUT_MS)
    page.goto(story.server.url + "/alerts")
    row = page.locator(f"[data-testid=alerts-table] tr[data-alert='{alert['id']}']")
    follow(page, row.get_by_test_id("alert-object"))
    _landed(page, rule, alert, story)
    # The landing page names this very alert, which leads back to it, highlighted.
    follow(page, page.locator(f"[data-testid=object-alerts] [data-alert='{alert['id']}'] a").first)
    chosen = f"[data-testid=alerts-table] tr.is-chosen[data-alert='{alert['id']}']"
    expect(page.locator(chosen)).to_be_visible()
    expect(page.locator("[data-testid=alerts-table] tbody tr")).to_have_count(1)
    tab.issues.assert_none()


@pytest.mark.parametrize("kind", KINDS)
def test_an_alert_on_the_overview_leads_to_its_object(
    story: Story, tab: BrowserPage, kind: str
) -> None:
    rule = RULE_OF_KIND[kind]
    alert = story.firing[rule]
    page = tab.page
    page.set_default_navigation_timeout(LOAD_TIMEOUT_MS)
    page.goto(story.server.url + "/")
    item = page.locator(f"[data-testid=firing-alerts] [data-alert='{alert['id']}']")
    expect(item).to_contain_text(rule)
    follow(page, item.get_by_test_id("alert-object"))
    _landed(page, rule, alert, story)
    tab.issues.assert_none()


def test_the_overview_puts_what_is_broken_first(story: Story, tab: BrowserPage) -> None:
    page = tab.page
    page.set_default_navigation_timeout(LOAD_TIMEOUT_MS)
    page.goto(story.server.url + "/")
    firing = len(story.firing)
    expect(page.get_by_test_id("verdict")).to_contain_text("alerts firing")
    assert page.locator("[data-testid=firing-alerts] li").count() >= firing
    # Critical alerts come before warnings.
    severities = page.locator("[data-testid=firing-alerts] li").evaluate_all(
        "items => items.map(i => i.dataset.severity)"
    )
    order = {"critical": 0, "warning": 1, "info": 2}
    assert severities == sorted(severities, key=lambda s: order[s])
    attention = page.get_by_test_id("attention")
    expect(attention.locator("li[data-kind=pipeline]")).to_contain_text(RETRAIN)
    expect(attention.locator("li[data-kind=dataset]")).to_contain_text(DATASET)
    expect(attention.locator("li[data-kind=budget]")).to_contain_text("classifier-daily")
    # The ingest counters moved to the Server page.
    expect(page.get_by_test_id("records")).to_have_count(0)
    page.get_by_role("link", name="Server").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Server")
    expect(page.get_by_test_id("records")).not_to_have_text("0")
    tab.issues.assert_none()


def _notified(story: Story, deadline_s: float = 60.0) -> dict[str, dict[str, Any]]:
    """rule -> the notified alert of the webhook payloads that is the firing alert of that
    rule in ``story`` (the same fingerprint), once every rule was notified."""
    deadline = time.monotonic() + deadline_s
    found: dict[str, dict[str, Any]] = {}
    wanted = {a["fingerprint"]: rule for rule, a in story.firing.items()}
    while time.monotonic() < deadline:
        for body in list(story.hooks):
            for a in body["alerts"]:
                if a["status"] == "firing" and a["fingerprint"] in wanted:
                    found.setdefault(wanted[a["fingerprint"]], a)
        if set(RULE_OF_KIND.values()) <= set(found):
            return found
        time.sleep(0.5)
    missing = sorted(set(RULE_OF_KIND.values()) - set(found))
    raise AssertionError(f"no notification of {missing} in {deadline_s} s")


@pytest.mark.parametrize("kind", KINDS)
def test_a_notifications_generator_url_leads_to_its_object(
    story: Story, tab: BrowserPage, kind: str
) -> None:
    rule = RULE_OF_KIND[kind]
    notified = _notified(story)[rule]
    url = notified["generatorURL"]
    # Absolute, on this server (no external URL is set: the address it listens on).
    assert url.startswith(story.server.url + "/"), url
    page = tab.page
    page.set_default_navigation_timeout(LOAD_TIMEOUT_MS)
    page.goto(url)
    _landed(page, rule, story.firing[rule], story)
    tab.issues.assert_none()


def _pages(story: Story) -> list[str]:
    alert = next(iter(story.firing.values()))
    return [
        "/",
        "/server",
        "/services",
        f"/services/{SERVICE}",
        f"/services/{SERVICE}?split=instance",
        "/pipelines",
        f"/pipelines/{FEATURES}",
        f"/pipelines/{RETRAIN}",
        f"/runs/{story.seeded.failed_run}",
        f"/runs/{story.seeded.deploy_run}",
        "/datasets",
        f"/datasets/{DATASET}",
        "/cost",
        "/alerts",
        f"/alerts?id={alert['id']}",
    ]


OVERFLOW = """() => {
  const root = document.documentElement;
  const wide = [];
  if (root.scrollWidth > root.clientWidth) wide.push('page ' + root.scrollWidth);
  for (const el of document.querySelectorAll('.table-wrap, main section, main table')) {
    if (el.scrollWidth > el.clientWidth + 1) {
      const name = el.dataset.testid || el.className || el.tagName;
      wide.push(name + ' ' + el.scrollWidth + '>' + el.clientWidth);
    }
  }
  return wide;
}"""


def test_no_page_is_wider_than_1280_px(story: Story, tab: BrowserPage) -> None:
    page = tab.page
    page.set_default_navigation_timeout(LOAD_TIMEOUT_MS)
    assert page.viewport_size == {"width": 1280, "height": 900}
    wide = {}
    for path in _pages(story):
        reply = page.goto(story.server.url + path)
        assert reply is not None and reply.status == 200, path
        found = page.evaluate(OVERFLOW)
        if found:
            wide[path] = found
    assert wide == {}
    tab.issues.assert_none()


def test_a_latency_alert_after_a_deployment_shows_it_in_what_changed(
    story: Story, tab: BrowserPage
) -> None:
    """The canary's latency alert fired after the deployment run that put 1.5.0 on it: the
    alert's detail lists that run, and the new version, among the changes of the hour
    before it started."""
    alert = story.firing["HighLatencyP90"]
    page = tab.page
    page.set_default_navigation_timeout(LOAD_TIMEOUT_MS)
    page.goto(f"{story.server.url}/alerts?id={alert['id']}")
    changes = page.get_by_test_id("what-changed")
    deployment = changes.locator("li[data-kind=deployment]")
    expect(deployment).to_have_count(1)
    expect(deployment).to_contain_text(f"{DEPLOY}: deployment run: 1.5.0 on {SERVICE}")
    expect(changes.locator("li[data-kind=deploy]")).to_contain_text("version 1.5.0 appeared")
    # Things of other areas in that hour are there too: the failed retraining run.
    expect(changes.locator("li[data-kind=run_failed]")).to_contain_text(RETRAIN)
    follow(page, deployment.get_by_role("link"))
    assert unquote(urlsplit(page.url).path) == f"/runs/{story.seeded.deploy_run}"
    # The service's own timeline shows the deployment too.
    page.goto(f"{story.server.url}/services/{SERVICE}")
    own = page.get_by_test_id("what-changed")
    expect(own.locator("li[data-kind=deployment]")).to_contain_text(DEPLOY)
    # replica-c stopped 20 minutes before the seed ended (the others stop sending when the
    # seed ends, so they may show as stopped too on a slow run).
    stopped = own.locator("li[data-kind=instance_stop]", has_text="instance replica-c stopped")
    expect(stopped).to_have_count(1)
    tab.issues.assert_none()
