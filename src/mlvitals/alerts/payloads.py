"""Message bodies for each integration, built from a :class:`Notification` (no I/O).

- :func:`webhook_payload`: the Alertmanager webhook payload, version ``"4"``;
- :func:`slack_payload`: a Slack-compatible incoming-webhook message (``text`` + ``blocks``);
- :func:`alertmanager_alerts`: the body of Alertmanager's ``POST /api/v2/alerts``;
- :func:`email_message`: a plain-text e-mail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from mlvitals.alerts.grouping import Notification
from mlvitals.alerts.links import absolute, alert_path
from mlvitals.alerts.state import FIRING, RESOLVED, AlertState

ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: "no end yet" in Alertmanager payloads
_SLACK_MAX_ALERTS = 20  # Slack allows 50 blocks; leave room for header and footer


def rfc3339(ts: float) -> str:
    """``2024-01-02T03:04:05.678Z``."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def generator_url(external_url: str, alert: AlertState) -> str:
    """The page of what ``alert`` is about (the Alerts page at the alert when its labels
    name no object), under ``external_url`` (a path when it is empty)."""
    return absolute(external_url, alert.link or alert_path(alert.alert_id))


def _common(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in sorted(first.items()) if all(m.get(k) == v for m in maps[1:])}


def _starts(alert: AlertState) -> float:
    return alert.fired_at if alert.fired_at is not None else alert.active_at


def _alert(alert: AlertState, external_url: str) -> dict[str, Any]:
    resolved = alert.state == RESOLVED and alert.resolved_at is not None
    return {
        "status": RESOLVED if resolved else FIRING,
        "labels": dict(sorted(alert.labels.items())),
        "annotations": dict(sorted(alert.annotations.items())),
        "startsAt": rfc3339(_starts(alert)),
        "endsAt": rfc3339(alert.resolved_at) if resolved and alert.resolved_at else ZERO_TIME,
        "generatorURL": generator_url(external_url, alert),
        "fingerprint": alert.fingerprint,
    }


def webhook_payload(n: Notification, external_url: str, max_alerts: int = 0) -> dict[str, Any]:
    """The JSON body Alertmanager's webhook receiver posts (``version: "4"``); with
    ``max_alerts`` the alert list is cut and ``truncatedAlerts`` says by how many."""
    alerts = list(n.alerts)
    truncated = max(len(alerts) - max_alerts, 0) if max_alerts else 0
    shown = alerts[:max_alerts] if max_alerts else alerts
    return {
        "receiver": n.receiver,
        "status": n.status,
        "alerts": [_alert(a, external_url) for a in shown],
        "groupLabels": dict(sorted(n.group_labels.items())),
        "commonLabels": _common([a.labels for a in alerts]),
        "commonAnnotations": _common([a.annotations for a in alerts]),
        "externalURL": external_url,
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": truncated,
    }


def title(n: Notification) -> str:
    """``[FIRING:2] HighErrorRate service=fraud``: the subject line of every integration."""
    firing = sum(1 for a in n.alerts if a.state == FIRING)
    status = f"FIRING:{firing}" if firing else "RESOLVED"
    common = _common([a.labels for a in n.alerts])
    name = common.get("alertname", "alerts")
    rest = " ".join(f"{k}={v}" for k, v in sorted(n.group_labels.items()) if k != "alertname")
    return f"[{status}] {name} {rest}".strip()


def _summary(alert: AlertState) -> str:
    return alert.annotations.get("summary") or alert.annotations.get("description") or alert.rule


def slack_payload(
    n: Notification, external_url: str, channel: str | None = None, username: str | None = None
) -> dict[str, Any]:
    """An incoming-webhook message: ``text`` (the fallback shown in notifications) and
    ``blocks`` (a header, a line per alert, a footer with the link)."""
    head = title(n)
    lines = []
    for a in n.alerts[:_SLACK_MAX_ALERTS]:
        mark = ":red_circle:" if a.state == FIRING else ":white_check_mark:"
        labels = ", ".join(f"{k}={v}" for k, v in sorted(a.labels.items()) if k != "alertname")
        summary = _slack_escape(_summary(a))
        url = generator_url(external_url, a)
        if url.startswith(("http://", "https://")):
            summary = f"<{url}|{summary}>"
        lines.append(f"{mark} *{summary}*\n`{_slack_escape(labels)}`")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
        *({"type": "section", "text": {"type": "mrkdwn", "text": line[:3000]}} for line in lines),
    ]
    more = len(n.alerts) - _SLACK_MAX_ALERTS
    footer = f"<{external_url.rstrip('/')}/alerts|Open in mlvitals>"
    if more > 0:
        footer = f"and {more} more. " + footer
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    message: dict[str, Any] = {"text": head, "blocks": blocks}
    if channel:
        message["channel"] = channel
    if username:
        message["username"] = username
    return message


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def alertmanager_alerts(
    alerts: Sequence[AlertState], external_url: str, now: float, valid_for: float
) -> list[dict[str, Any]]:
    """Postable alerts for ``POST /api/v2/alerts``. A firing alert ends ``valid_for``
    seconds from now unless re-sent (as Prometheus does), a resolved one when it resolved."""
    out = []
    for a in alerts:
        ends = a.resolved_at if a.state == RESOLVED and a.resolved_at else now + valid_for
        out.append(
            {
                "labels": dict(sorted(a.labels.items())),
                "annotations": dict(sorted(a.annotations.items())),
                "startsAt": rfc3339(_starts(a)),
                "endsAt": rfc3339(ends),
                "generatorURL": generator_url(external_url, a),
            }
        )
    return out


def email_message(
    n: Notification, sender: str, to: Sequence[str], external_url: str, now: float
) -> EmailMessage:
    """A plain-text e-mail: the title as subject, each alert with its annotations and
    labels, and the link to the dashboard."""
    msg = EmailMessage()
    msg["Subject"] = title(n)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(now, usegmt=True)
    lines = [title(n), ""]
    for a in n.alerts:
        lines.append(f"{a.state.upper()}: {_summary(a)}")
        for key, value in sorted(a.annotations.items()):
            if key != "summary":
                lines.append(f"  {key}: {value}")
        lines.append("  labels: " + ", ".join(f"{k}={v}" for k, v in sorted(a.labels.items())))
        since = _starts(a)
        lines.append(f"  since: {rfc3339(since)}")
        if a.resolved_at is not None and a.state == RESOLVED:
            lines.append(f"  resolved: {rfc3339(a.resolved_at)}")
        lines.append(f"  {generator_url(external_url, a)}")
        lines.append("")
    msg.set_content("\n".join(lines))
    return msg
