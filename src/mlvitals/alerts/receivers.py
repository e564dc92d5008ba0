"""Receivers: named sets of notification integrations, configured in the rules file.

::

    receivers:
      - name: ml-oncall
        webhooks:                    # Alertmanager webhook payload, version "4"
          - url: https://hooks.example.com/alerts
            send_resolved: true      # default true
            max_alerts: 0            # 0: all alerts of a group; else truncated
            headers: {Authorization: "Bearer ..."}
        slack:                       # Slack-compatible incoming webhooks (text + blocks)
          - url: https://chat.example.com/hooks/T000/B000/XXXX
        alertmanager:                # push to an Alertmanager's POST /api/v2/alerts
          - url: http://alertmanager:9093
            resend_interval: 1m      # firing alerts are re-sent so they stay active there
        email:                       # SMTP; the password comes from --smtp-password
          - to: [ml-oncall@example.com]
            from: mlvitals@example.com
            host: smtp.example.com
            port: 587                # STARTTLS by default on 587
            username: mlvitals
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from mlvitals.alerts.reader import Reader


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str
    send_resolved: bool = True
    max_alerts: int = 0
    timeout: float = 10.0
    headers: Mapping[str, str] = field(default_factory=dict)
    type: str = field(default="webhook", init=False)


@dataclass(frozen=True, slots=True)
class SlackConfig:
    url: str
    send_resolved: bool = True
    channel: str | None = None
    username: str | None = None
    timeout: float = 10.0
    type: str = field(default="slack", init=False)


@dataclass(frozen=True, slots=True)
class AlertmanagerConfig:
    url: str
    resend_interval: float = 60.0
    timeout: float = 10.0
    type: str = field(default="alertmanager", init=False)

    @property
    def send_resolved(self) -> bool:
        # Alertmanager must learn of resolution, or it shows the alert until it times out.
        return True


@dataclass(frozen=True, slots=True)
class EmailConfig:
    to: tuple[str, ...]
    sender: str
    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    send_resolved: bool = True
    timeout: float = 10.0
    type: str = field(default="email", init=False)


Integration = WebhookConfig | SlackConfig | AlertmanagerConfig | EmailConfig


@dataclass(frozen=True, slots=True)
class Receiver:
    name: str
    integrations: tuple[Integration, ...] = ()

    def keyed(self) -> list[tuple[str, Integration]]:
        """Each integration with a stable key like ``webhook/0`` (for the notification log)."""
        counts: dict[str, int] = {}
        out = []
        for integration in self.integrations:
            n = counts.get(integration.type, 0)
            counts[integration.type] = n + 1
            out.append((f"{integration.type}/{n}", integration))
        return out


def _url(r: Reader, name: str = "url") -> str | None:
    url = r.text(name, required=True)
    if url is not None and urlsplit(url).scheme not in ("http", "https"):
        r.error(name, f"expected an http:// or https:// URL, got {url!r}")
        return None
    return url


def _common(r: Reader) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if (send := r.flag("send_resolved")) is not None:
        out["send_resolved"] = send
    if (timeout := r.duration("timeout", positive=True)) is not None:
        out["timeout"] = timeout
    return out


def _webhook(r: Reader) -> Integration | None:
    r.only({"url", "send_resolved", "max_alerts", "timeout", "headers"})
    url = _url(r)
    extra = _common(r)
    if (n := r.number("max_alerts", low=0)) is not None:
        extra["max_alerts"] = int(n)
    headers = r.mapping("headers")
    if headers is not None:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            r.error("headers", "expected a mapping of header names to strings")
        else:
            extra["headers"] = MappingProxyType(dict(headers))
    return None if r.failed or url is None else WebhookConfig(url, **extra)


def _slack(r: Reader) -> Integration | None:
    r.only({"url", "send_resolved", "channel", "username", "timeout"})
    url = _url(r)
    extra = _common(r)
    for name in ("channel", "username"):
        if (value := r.text(name)) is not None:
            extra[name] = value
    return None if r.failed or url is None else SlackConfig(url, **extra)


def _alertmanager(r: Reader) -> Integration | None:
    r.only({"url", "resend_interval", "timeout"})
    url = _url(r)
    extra: dict[str, Any] = {}
    if (resend := r.duration("resend_interval", positive=True)) is not None:
        extra["resend_interval"] = resend
    if (timeout := r.duration("timeout", positive=True)) is not None:
        extra["timeout"] = timeout
    return None if r.failed or url is None else AlertmanagerConfig(url.rstrip("/"), **extra)


def _email(r: Reader) -> Integration | None:
    r.only({"to", "from", "host", "port", "starttls", "username", "send_resolved", "timeout"})
    raw_to = r.data.get("to")
    to = (raw_to,) if isinstance(raw_to, str) else r.strings("to")
    if not to:
        if "to" not in r.data:
            r.error("to", "is required: one address or a list")
        to = None
    elif not all("@" in a for a in to):
        r.error("to", f"expected e-mail addresses, got {list(to)!r}")
    sender = r.text("from", required=True)
    if sender is not None and "@" not in sender:
        r.error("from", f"expected an e-mail address, got {sender!r}")
    host = r.text("host", required=True)
    port = r.number("port", low=1, high=65535)
    extra = _common(r)
    starttls = r.flag("starttls")
    if (username := r.text("username")) is not None:
        extra["username"] = username
    if r.failed or to is None or sender is None or host is None:
        return None
    p = int(port) if port is not None else 25
    return EmailConfig(
        to, sender, host, p, starttls=starttls if starttls is not None else p == 587, **extra
    )


_PARSERS = {
    "webhooks": _webhook,
    "slack": _slack,
    "alertmanager": _alertmanager,
    "email": _email,
}


def parse_receiver(data: Any, index: int, errors: list[str]) -> Receiver | None:
    if not isinstance(data, Mapping):
        errors.append(f"receiver {index + 1}: expected a mapping with 'name'")
        return None
    name = data.get("name")
    where = f"receiver {name!r}" if isinstance(name, str) and name else f"receiver {index + 1}"
    r = Reader(data, where, errors)
    r.only({"name", *_PARSERS})
    r.text("name", required=True)
    integrations: list[Integration] = []
    for key, parse in _PARSERS.items():
        for i, item in enumerate(r.items(key) or []):
            sub_where = f"{where}, {key} {i + 1}"
            if not isinstance(item, Mapping):
                errors.append(f"{sub_where}: expected a mapping with 'url'")
                continue
            found = parse(Reader(item, sub_where, errors))
            if found is not None:
                integrations.append(found)
    if r.failed or not isinstance(name, str):
        return None
    return Receiver(name, tuple(integrations))
