"""Grouping and deduplication of notifications (pure, with the clock passed in)."""

from __future__ import annotations

from dataclasses import replace

from mlvitals.alerts.grouping import LogEntry, LogKey, Notification, plan_notifications
from mlvitals.alerts.labels import fingerprint
from mlvitals.alerts.matchers import parse_matcher
from mlvitals.alerts.receivers import AlertmanagerConfig, Receiver, WebhookConfig
from mlvitals.alerts.routing import Route
from mlvitals.alerts.silences import Silence
from mlvitals.alerts.state import AlertState

HOOK = WebhookConfig("http://hook.local/")
QUIET_HOOK = WebhookConfig("http://hook.local/", send_resolved=False)
ROUTE = Route("ops", group_by=("alertname",), group_interval=60.0, repeat_interval=3600.0)


def alert(
    service: str, state: str = "firing", t: float = 0.0, rule: str = "HighErrorRate"
) -> AlertState:
    labels = {"alertname": rule, "severity": "critical", "service": service}
    fp = fingerprint(labels)
    return AlertState(
        rule,
        fp,
        f"{fp}-{t:g}",
        labels,
        {"summary": f"{service} fails"},
        state,
        active_at=t,
        last_true_at=t,
        value=0.2,
        updated_at=t,
        fired_at=t if state != "pending" else None,
        resolved_at=t if state == "resolved" else None,
    )


class Outbox:
    """Plans like the evaluator does and records what would be sent (every send succeeds)."""

    def __init__(self, receivers: dict[str, Receiver], route: Route | None = ROUTE) -> None:
        self.receivers = receivers
        self.route = route
        self.log: dict[LogKey, LogEntry] = {}

    def step(self, states: list[AlertState], now: float, **kw: object) -> list[Notification]:
        plan = plan_notifications(states, self.route, self.receivers, self.log, now=now, **kw)  # type: ignore[arg-type]
        for n in plan:
            if n.entry is None:
                self.log.pop(n.key, None)
            else:
                self.log[n.key] = n.entry
        return [n for n in plan if n.send]


def sent(plan: list[Notification]) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(n.status, [(a.labels["service"], a.state) for a in n.alerts]) for n in plan]


def test_a_group_is_notified_once_then_repeated_after_the_repeat_interval() -> None:
    box = Outbox({"ops": Receiver("ops", (HOOK,))})
    a = alert("fraud")
    assert sent(box.step([a], 0.0)) == [("firing", [("fraud", "firing")])]
    assert box.step([a], 15.0) == []
    assert box.step([a], 3599.0) == []
    (again,) = box.step([a], 3600.0)
    assert again.repeat and sent([again]) == [("firing", [("fraud", "firing")])]


def test_pending_alerts_are_never_notified() -> None:
    box = Outbox({"ops": Receiver("ops", (HOOK,))})
    assert box.step([alert("fraud", "pending")], 0.0) == []


def test_a_new_alert_in_the_group_waits_for_the_group_interval() -> None:
    box = Outbox({"ops": Receiver("ops", (HOOK,))})
    a, b = alert("fraud"), alert("risk", t=30.0)
    box.step([a], 0.0)
    assert box.step([a, b], 30.0) == []  # within group_interval of the last notification
    (n,) = box.step([a, b], 60.0)
    assert sent([n]) == [("firing", [("fraud", "firing"), ("risk", "firing")])]
    assert n.group_labels == {"alertname": "HighErrorRate"}


def test_resolution_is_notified_with_send_resolved_and_the_group_is_forgotten() -> None:
    box = Outbox({"ops": Receiver("ops", (HOOK,))})
    a, b = alert("fraud"), alert("risk")
    box.step([a, b], 0.0)
    ra = replace(a, state="resolved", resolved_at=100.0)
    assert sent(box.step([ra, b], 100.0)) == [
        ("firing", [("risk", "firing"), ("fraud", "resolved")])
    ]
    assert box.step([ra, b], 200.0) == []  # the receiver already heard
    rb = replace(b, state="resolved", resolved_at=300.0)
    assert sent(box.step([ra, rb], 300.0)) == [("resolved", [("risk", "resolved")])]
    assert box.log == {}
    assert box.step([ra, rb], 400.0) == []


def test_without_send_resolved_a_refiring_alert_is_still_announced() -> None:
    box = Outbox({"ops": Receiver("ops", (QUIET_HOOK,))})
    a, b = alert("fraud"), alert("risk")
    box.step([a, b], 0.0)
    ra = replace(a, state="resolved", resolved_at=100.0)
    assert box.step([ra, b], 100.0) == []  # nothing to say to this receiver
    again = replace(a, alert_id="second", active_at=200.0, fired_at=200.0)
    assert sent(box.step([again, b], 200.0)) == [
        ("firing", [("fraud", "firing"), ("risk", "firing")])
    ]
    # All resolved: the last word is not sent either, but the group is forgotten.
    gone = [replace(x, state="resolved", resolved_at=300.0) for x in (again, b)]
    assert box.step(gone, 300.0) == []
    assert box.log == {}


def test_acknowledged_alerts_are_not_repeated() -> None:
    box = Outbox({"ops": Receiver("ops", (HOOK,))})
    a = alert("fraud")
    box.step([a], 0.0)
    assert box.step([a], 7200.0, acked={a.alert_id}) == []
    assert len(box.step([a], 7200.0)) == 1


def test_silenced_alerts_are_left_out_and_announced_when_the_silence_ends() -> None:
    box = Outbox({"ops": Receiver("ops", (HOOK,))})
    a, b = alert("fraud"), alert("risk")
    silence = Silence("s", (parse_matcher("service=fraud"),), 0.0, 1000.0)
    assert sent(box.step([a, b], 0.0, silences=[silence])) == [("firing", [("risk", "firing")])]
    assert box.step([a, b], 500.0, silences=[silence]) == []
    assert sent(box.step([a, b], 1000.0, silences=[silence])) == [
        ("firing", [("fraud", "firing"), ("risk", "firing")])
    ]


def test_a_fully_silenced_group_is_forgotten_and_renotified_later() -> None:
    box = Outbox({"ops": Receiver("ops", (HOOK,))})
    a = alert("fraud")
    box.step([a], 0.0)
    silence = Silence("s", (parse_matcher("service=fraud"),), 10.0, 1000.0)
    assert box.step([a], 10.0, silences=[silence]) == []
    assert box.log == {}
    assert len(box.step([a], 1000.0, silences=[silence])) == 1


def test_routes_split_groups_and_receivers() -> None:
    pager = Route("pager", (parse_matcher("service=fraud"),), group_by=("service",), continue_=True)
    route = Route("ops", group_by=("alertname",), routes=(pager,))
    receivers = {"ops": Receiver("ops", (HOOK,)), "pager": Receiver("pager", (HOOK, QUIET_HOOK))}
    box = Outbox(receivers, route)
    plan = box.step([alert("fraud"), alert("risk")], 0.0)
    got = sorted((n.receiver, n.integration_key, n.group_key) for n in plan)
    assert got == [
        ("ops", "webhook/0", '{}:{alertname="HighErrorRate"}'),
        ("pager", "webhook/0", '{}/{service="fraud"}:{service="fraud"}'),
        ("pager", "webhook/1", '{}/{service="fraud"}:{service="fraud"}'),
    ]


def test_alertmanager_pushes_are_resent_every_resend_interval_without_throttling() -> None:
    push = AlertmanagerConfig("http://am.local:9093", resend_interval=60.0)
    box = Outbox({"ops": Receiver("ops", (push,))})
    a, b = alert("fraud"), alert("risk", t=10.0)
    assert len(box.step([a], 0.0)) == 1
    assert len(box.step([a, b], 10.0)) == 1  # no group_interval for pushes
    assert box.step([a, b], 30.0) == []
    assert len(box.step([a, b], 70.0)) == 1
    ra = replace(a, state="resolved", resolved_at=80.0)
    (n,) = box.step([ra, b], 80.0)
    assert [(x.labels["service"], x.state) for x in n.alerts] == [
        ("risk", "firing"),
        ("fraud", "resolved"),
    ]


def test_a_removed_receiver_drops_its_log_entries() -> None:
    box = Outbox({"ops": Receiver("ops", (HOOK,))})
    box.step([alert("fraud")], 0.0)
    box.receivers = {}
    box.route = None
    assert box.step([alert("fraud")], 10.0) == []
    assert box.log == {}
