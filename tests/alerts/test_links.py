"""Every alert leads to the page of what it is about: one link per rule kind and labels,
kept with the alert, in its history, and sent as the notifications' ``generatorURL``."""

from __future__ import annotations

import pytest

from mlvitals.alerts.evaluate import evaluate
from mlvitals.alerts.grouping import Notification
from mlvitals.alerts.links import object_path
from mlvitals.alerts.payloads import email_message, webhook_payload
from mlvitals.alerts.receivers import WebhookConfig
from mlvitals.alerts.rules import Condition, PipelineSpec, Rule, ServingSpec
from mlvitals.alerts.state import Sample
from mlvitals.server.alerts.persistence import load_history, load_states, save_states
from mlvitals.server.database import open_database


@pytest.mark.parametrize(
    ("kind", "labels", "info", "expected"),
    [
        ("serving", {"service": "fraud api"}, {}, "/services/fraud%20api"),
        (
            "serving",
            {"service": "fraud", "version": "1.5.0", "operation": "POST /predict"},
            {},
            "/services/fraud?operation=POST%20%2Fpredict&version=1.5.0",
        ),
        (
            "absence",
            {"service": "fraud", "instance": "pod-1"},
            {},
            "/services/fraud?instance=pod-1",
        ),
        ("burn_rate", {"service": "fraud"}, {}, "/services/fraud"),
        ("availability", {"target": "fraud-db"}, {}, "/services?probe=fraud-db"),
        ("pipeline", {"pipeline": "nightly"}, {"run_id": "r/1"}, "/runs/r%2F1"),
        ("pipeline", {"pipeline": "nightly"}, {"nominal": 1.0}, "/pipelines/nightly"),
        ("environment_changed", {"pipeline": "train"}, {"run_id": "r2"}, "/runs/r2"),
        ("check_failed", {"dataset": "orders"}, {"failures": "2"}, "/datasets/orders"),
        ("drift", {"dataset": "orders", "column": "amount"}, {}, "/datasets/orders?column=amount"),
        ("budget", {"budget": "gpu daily", "scope": "total"}, {}, "/cost?budget=gpu%20daily"),
        # A stored alert whose rule is gone: its labels alone decide.
        (None, {"pipeline": "nightly"}, {}, "/pipelines/nightly"),
        (None, {"target": "db"}, {}, "/services?probe=db"),
        ("serving", {"team": "risk"}, {}, ""),
    ],
)
def test_each_kind_links_to_its_object(
    kind: str | None, labels: dict[str, str], info: dict[str, object], expected: str
) -> None:
    assert object_path(kind, labels, info) == expected


def _failed_run_rule() -> Rule:
    return Rule("RunFailed", PipelineSpec("failed"), severity="critical")


def test_an_evaluated_alert_and_its_history_keep_the_link() -> None:
    rule = _failed_run_rule()
    sample = Sample({"pipeline": "nightly"}, 1.0, info={"run_id": "run-7"})
    result = evaluate(rule, {}, [sample], now=100.0)
    (state,) = result.states.values()
    assert state.link == "/runs/run-7"
    store = open_database(":memory:")
    try:
        save_states(store, {}, {rule.name: result.states}, result.transitions)
        (stored,) = load_states(store)[rule.name].values()
        assert stored.link == "/runs/run-7"
        (entry,) = load_history(store)
        assert entry["link"] == "/runs/run-7"
    finally:
        store.close()


def test_generator_url_is_the_page_of_the_object() -> None:
    rule = Rule("Errors", ServingSpec("error_rate", Condition(">", 0.05), window=300.0))
    result = evaluate(rule, {}, [Sample({"service": "fraud", "version": "2"}, 0.5)], now=100.0)
    (alert,) = result.states.values()
    n = Notification("ops", "webhook/0", WebhookConfig("http://hook"), "{}", {}, (alert,), None)
    body = webhook_payload(n, "https://mlvitals.example.com/")
    assert (
        body["alerts"][0]["generatorURL"] == "https://mlvitals.example.com/services/fraud?version=2"
    )
    # Without an external URL the link is the page's path on this server.
    assert webhook_payload(n, "")["alerts"][0]["generatorURL"] == "/services/fraud?version=2"
    text = email_message(n, "a@example.com", ["b@example.com"], "https://m.example", 100.0)
    assert "https://m.example/services/fraud?version=2" in text.get_content()
