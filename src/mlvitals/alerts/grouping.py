"""Grouping alerts into notifications, and deduplicating them against what was sent.

For every receiver integration and every group (route + group labels) the notification log
keeps what the receiver last heard: the fingerprints of the group's firing alerts and when.
A group is notified (Alertmanager's rules, with the clock passed in):

- when an alert that the receiver has not heard of as firing joins it;
- when all of its alerts resolved (the last word, so the receiver can close it);
- when some resolved and the integration sends resolved notifications;
- when it still fires after ``repeat_interval`` (``resend_interval`` for an Alertmanager
  push), unless every firing alert is acknowledged;

and no more often than once per ``group_interval``. Silenced alerts are left out, as if
they did not exist. Pending alerts are never notified.

>>> plan_notifications([], None, {}, {}, now=0.0)
[]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from mlvitals.alerts.receivers import AlertmanagerConfig, Integration, Receiver
from mlvitals.alerts.routing import Route
from mlvitals.alerts.silences import Silence
from mlvitals.alerts.state import FIRING, RESOLVED, AlertState

LogKey = tuple[str, str, str]  # receiver, integration key, group key


@dataclass(frozen=True, slots=True)
class LogEntry:
    """What one integration of a receiver last heard about one group."""

    receiver: str
    integration: str
    group_key: str
    sent_at: float
    firing: frozenset[str]

    @property
    def key(self) -> LogKey:
        return (self.receiver, self.integration, self.group_key)


@dataclass(frozen=True, slots=True)
class Notification:
    """A message to send (``send``), or only a log update when there is nothing to say.

    After a successful send (or right away when ``send`` is false) the log entry for
    ``key`` becomes ``entry``; ``None`` removes it.
    """

    receiver: str
    integration_key: str
    integration: Integration | None
    group_key: str
    group_labels: Mapping[str, str]
    alerts: tuple[AlertState, ...]
    entry: LogEntry | None
    send: bool = True
    repeat: bool = field(default=False, compare=False)

    @property
    def key(self) -> LogKey:
        return (self.receiver, self.integration_key, self.group_key)

    @property
    def status(self) -> str:
        return FIRING if any(a.state == FIRING for a in self.alerts) else RESOLVED


@dataclass
class _Group:
    route: Route
    labels: dict[str, str]
    alerts: list[AlertState] = field(default_factory=list)


def _groups(
    states: Iterable[AlertState], route: Route | None, silences: Sequence[Silence], now: float
) -> dict[tuple[str, str], _Group]:
    groups: dict[tuple[str, str], _Group] = {}
    if route is None:
        return groups
    for alert in states:
        if alert.state not in (FIRING, RESOLVED):
            continue
        if any(s.silences(alert.labels, now) for s in silences):
            continue
        for r in route.match(alert.labels):
            key = (r.receiver, r.group_key(alert.labels))
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(r, r.group_labels(alert.labels))
            group.alerts.append(alert)
    return groups


def _decide(
    group: _Group,
    receiver: str,
    key: str,
    integration: Integration,
    entry: LogEntry | None,
    acked: Collection[str],
    now: float,
) -> Notification | None:
    alerts = sorted(group.alerts, key=lambda a: (a.state != FIRING, a.fingerprint))
    firing = frozenset(a.fingerprint for a in alerts if a.state == FIRING)
    known_resolved = frozenset(
        a.fingerprint
        for a in alerts
        if a.state == RESOLVED and entry is not None and a.fingerprint in entry.firing
    )
    if isinstance(integration, AlertmanagerConfig):
        repeat, interval = integration.resend_interval, 0.0
    else:
        repeat, interval = group.route.repeat_interval, group.route.group_interval
    group_key = group.route.group_key(group.labels)
    is_repeat = False
    if entry is None:
        needs = bool(firing)
    elif now - entry.sent_at < interval:
        needs = False
    elif not firing <= entry.firing:
        needs = True
    elif not firing:
        needs = bool(entry.firing)
    elif integration.send_resolved and known_resolved:
        needs = True
    else:
        unacked = {a.fingerprint for a in alerts if a.state == FIRING and a.alert_id not in acked}
        needs = is_repeat = bool(unacked) and now - entry.sent_at >= repeat
    new_entry = LogEntry(receiver, key, group_key, now, firing) if firing else None
    if not needs:
        if entry is not None and firing < entry.firing and now - entry.sent_at >= interval:
            # Forget alerts that resolved unannounced, so a new episode is announced.
            quiet = LogEntry(receiver, key, entry.group_key, entry.sent_at, firing)
            return Notification(receiver, key, integration, entry.group_key, {}, (), quiet, False)
        return None
    payload = tuple(
        a
        for a in alerts
        if a.state == FIRING or (integration.send_resolved and a.fingerprint in known_resolved)
    )
    return Notification(
        receiver,
        key,
        integration,
        group_key,
        MappingProxyType(group.labels),
        payload,
        new_entry,
        send=bool(payload),
        repeat=is_repeat,
    )


def plan_notifications(
    states: Iterable[AlertState],
    route: Route | None,
    receivers: Mapping[str, Receiver],
    log: Mapping[LogKey, LogEntry],
    *,
    now: float,
    silences: Sequence[Silence] = (),
    acked: Collection[str] = (),
) -> list[Notification]:
    """What to send now, given every current alert state and the notification log.

    ``acked`` holds the ids (``alert_id``) of acknowledged alert episodes.
    """
    groups = _groups(states, route, silences, now)
    by_receiver: dict[str, dict[str, _Group]] = defaultdict(dict)
    for (name, group_key), group in groups.items():
        by_receiver[name][group_key] = group
    out: list[Notification] = []
    handled: set[LogKey] = set()
    for receiver_name, receiver_groups in sorted(by_receiver.items()):
        receiver = receivers.get(receiver_name)
        if receiver is None:
            continue
        for group_key, group in sorted(receiver_groups.items()):
            for key, integration in receiver.keyed():
                entry = log.get((receiver_name, key, group_key))
                handled.add((receiver_name, key, group_key))
                found = _decide(group, receiver_name, key, integration, entry, acked, now)
                if found is not None:
                    out.append(found)
    # Groups that emptied (alerts gone or silenced) or whose receiver went away: forget
    # them, so an alert that comes back (or outlives its silence) is announced afresh.
    for log_key, entry in sorted(log.items()):
        if log_key not in handled:
            out.append(Notification(*log_key[:2], None, entry.group_key, {}, (), None, False))
    return out
