"""Restarts keep alert state: no lost and no repeated notifications, on both backends."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import yaml

from mlvitals.alerts.config import RuleSet, parse_rules
from mlvitals.alerts.notifiers import Dispatcher, Retry
from mlvitals.alerts.rules import Rule
from mlvitals.alerts.state import Sample
from mlvitals.errors import StoreError
from mlvitals.server.alerts.evaluator import Evaluator
from mlvitals.server.alerts.notify_log import load_deliveries
from mlvitals.server.alerts.persistence import load_history, load_rule_health, load_states
from mlvitals.server.areas import SIGNALS
from mlvitals.store import Store
from tests.alerts.helpers import T0, Sink, traffic

NO_WAIT = Retry(attempts=3, backoff=0.0)


def ruleset(url: str, for_: str = "0s") -> RuleSet:
    doc = f"""
rules:
  - name: HighErrorRate
    kind: serving
    metric: error_rate
    threshold: 0.05
    window: 1m
    for: {for_}
    severity: critical
receivers:
  - name: ops
    webhooks: [{{url: "{url}/hook"}}]
route:
  receiver: ops
  group_interval: 0s
  repeat_interval: 4h
"""
    return parse_rules(yaml.safe_load(doc), "test")


def evaluator(store: Store, rules: RuleSet, **kw: object) -> Evaluator:
    dispatcher = Dispatcher("http://mlvitals.local", retry=NO_WAIT, sleep=lambda s: None)
    return Evaluator(store, rules, dispatcher=dispatcher, **kw)  # type: ignore[arg-type]


def only_state(store: Store) -> str:
    (state,) = load_states(store)["HighErrorRate"].values()
    return state.state


def test_restart_while_pending_keeps_the_pending_start(store: Store, sink: Sink) -> None:
    rules = ruleset(sink.url, for_="1m")
    traffic(store, "fraud", T0 - 60, T0 + 600, errors=10)
    first = evaluator(store, rules)
    first.run_once(T0)
    first.close()
    second = evaluator(store, rules)
    second.run_once(T0 + 30)
    (state,) = load_states(store)["HighErrorRate"].values()
    assert (state.state, state.active_at) == ("pending", T0)
    second.run_once(T0 + 60)  # 60 s after the first evaluation, not after the restart
    assert only_state(store) == "firing"
    second.run_once(T0 + 75)
    assert [b["status"] for b in sink.bodies] == ["firing"]
    moves = [(h["from"], h["to"]) for h in reversed(load_history(store))]
    assert moves == [("inactive", "pending"), ("pending", "firing")]


def test_restart_while_firing_neither_repeats_nor_loses_a_notification(
    store: Store, sink: Sink
) -> None:
    rules = ruleset(sink.url)
    traffic(store, "fraud", T0 - 60, T0 + 60, errors=10)
    traffic(store, "fraud", T0 + 60, T0 + 600, errors=0)
    first = evaluator(store, rules)
    first.run_once(T0)
    first.run_once(T0 + 15)
    first.close()
    assert [b["status"] for b in sink.bodies] == ["firing"]
    second = evaluator(store, rules)
    for k in range(2, 6):
        second.run_once(T0 + 15 * k)
    assert [b["status"] for b in sink.bodies] == ["firing"]
    second.close()
    third = evaluator(store, rules)
    third.run_once(T0 + 120)  # the last minute had no errors
    assert only_state(store) == "resolved"
    third.run_once(T0 + 135)
    assert [b["status"] for b in sink.bodies] == ["firing", "resolved"]
    firing, resolved = sink.bodies
    assert firing["alerts"][0]["fingerprint"] == resolved["alerts"][0]["fingerprint"]
    assert firing["alerts"][0]["startsAt"] == resolved["alerts"][0]["startsAt"]


def test_a_crashed_evaluator_is_replaced_when_its_lease_expires(store: Store, sink: Sink) -> None:
    rules = ruleset(sink.url)
    traffic(store, "fraud", T0 - 60, T0 + 600, errors=10)
    crashed = evaluator(store, rules, lease_ttl=45.0)
    crashed.run_once(T0)  # notifies, then "dies" without giving up the lease
    successor = evaluator(store, rules, lease_ttl=45.0)
    assert successor.run_once(T0 + 15).skipped
    assert successor.run_once(T0 + 46).skipped is False
    successor.run_once(T0 + 60)
    assert [b["status"] for b in sink.bodies] == ["firing"]


def test_a_failed_delivery_is_logged_and_retried_on_the_next_cycle(
    store: Store, sink: Sink
) -> None:
    rules = ruleset(sink.url)
    traffic(store, "fraud", T0 - 60, T0 + 600, errors=10)
    sink.statuses = [503, 503, 503, 500, 200]
    ev = evaluator(store, rules)
    report = ev.run_once(T0)
    assert (report.sent, report.failed) == (0, 1)
    report = ev.run_once(T0 + 15)
    assert (report.sent, report.failed) == (1, 0)
    ev.run_once(T0 + 30)
    assert len(sink.bodies) == 5  # 3 tries, then 2 tries; nothing after success
    newest, oldest = load_deliveries(store)
    assert (oldest["ok"], oldest["attempts"], oldest["http_status"]) == (False, 3, 503)
    assert (newest["ok"], newest["attempts"], newest["http_status"]) == (True, 2, 200)
    assert newest["target"] == f"webhook {sink.url}"  # the path may hold a secret


def test_one_failing_rule_does_not_stop_the_others(store: Store, sink: Sink) -> None:
    doc = yaml.safe_load(
        f"""
rules:
  - {{name: Broken, kind: absence, duration: 1m}}
  - {{name: HighErrorRate, kind: serving, metric: error_rate, threshold: 0.05, window: 1m}}
receivers: [{{name: ops, webhooks: [{{url: "{sink.url}"}}]}}]
"""
    )
    traffic(store, "fraud", T0 - 60, T0, errors=10)

    def broken(store: Store, rule: Rule, now: float) -> list[Sample]:
        raise StoreError("the disk is on fire")

    ev = evaluator(store, parse_rules(doc, "t"), signals={**SIGNALS, "absence": broken})
    report = ev.run_once(T0)
    assert report.errors == {"Broken": "StoreError: the disk is on fire"}
    assert report.evaluated == 1 and only_state(store) == "firing"
    assert len(sink.bodies) == 1
    assert load_rule_health(store)["Broken"]["error"] == "StoreError: the disk is on fire"


def test_two_processes_over_one_database_notify_once(store: Store, sink: Sink) -> None:
    rules = ruleset(sink.url)
    traffic(store, "fraud", T0 - 60, T0 + 600, errors=10)
    first, second = evaluator(store, rules), evaluator(store, rules)
    with ThreadPoolExecutor(2) as pool:
        for k in range(4):
            now = T0 + 15 * k
            reports = list(pool.map(Evaluator.run_once, (first, second), (now, now)))
            assert sorted(r.skipped for r in reports) == [False, True]
    assert [b["status"] for b in sink.bodies] == ["firing"]


def test_an_alert_fires_no_earlier_than_its_signal_was_read(store: Store, sink: Sink) -> None:
    doc = yaml.safe_load(
        """
rules:
  - {name: Slow, kind: absence, duration: 1m}
  - {name: Late, kind: serving, metric: error_rate, threshold: 0.05, window: 1m}
"""
    )
    clock = [T0]
    read_at: list[float] = []

    def slow(store: Store, rule: Rule, now: float) -> list[Sample]:
        clock[0] += 5.0  # a rule that takes five seconds; meanwhile the errors arrive
        traffic(store, "fraud", clock[0] - 60, clock[0], errors=10)
        return []

    def serving(store: Store, rule: Rule, now: float) -> list[Sample]:
        read_at.append(now)
        return SIGNALS["serving"](store, rule, now)

    ev = Evaluator(
        store,
        parse_rules(doc, "t"),
        clock=lambda: clock[0],
        signals={**SIGNALS, "absence": slow, "serving": serving},
    )
    report = ev.run_once()
    (fired,) = [t for t in report.transitions if t.to_state == "firing"]
    # The cycle began at T0, but the errors were there only from T0 + 5.
    assert read_at == [T0 + 5.0] and fired.time == T0 + 5.0
    assert load_history(store)[0]["time"] == T0 + 5.0
