"""Integrations against real local receivers: an HTTP server and an SMTP server."""

from __future__ import annotations

import email
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from mlvitals.alerts.grouping import Notification
from mlvitals.alerts.labels import fingerprint
from mlvitals.alerts.notifiers import Dispatcher, Retry
from mlvitals.alerts.receivers import EmailConfig, SlackConfig, WebhookConfig
from mlvitals.alerts.state import AlertState
from tests.alerts.helpers import T0, Sink
from tests.conftest import free_port, require_service

NO_WAIT = Retry(attempts=3, backoff=0.0)


def alert(service: str, state: str = "firing") -> AlertState:
    labels = {
        "alertname": "HighErrorRate",
        "severity": "critical",
        "service": service,
        "team": "risk",
    }
    fp = fingerprint(labels)
    return AlertState(
        "HighErrorRate",
        fp,
        f"id-{service}",
        labels,
        {"summary": f"{service}: 20% of calls fail", "runbook": "https://wiki/errors"},
        state,
        active_at=T0 - 60,
        last_true_at=T0,
        value=0.2,
        updated_at=T0,
        fired_at=T0,
        resolved_at=T0 + 300 if state == "resolved" else None,
    )


def notification(integration: Any, alerts: list[AlertState]) -> Notification:
    return Notification(
        "ops",
        "x/0",
        integration,
        '{}:{alertname="HighErrorRate"}',
        {"alertname": "HighErrorRate"},
        tuple(alerts),
        None,
    )


def dispatcher(**kw: Any) -> Dispatcher:
    return Dispatcher("http://mlvitals.example:8765/", retry=NO_WAIT, sleep=lambda s: None, **kw)


def test_webhook_sends_the_alertmanager_v4_payload(sink: Sink) -> None:
    hook = WebhookConfig(sink.url + "/hook", headers={"Authorization": "Bearer s3cret"})
    n = notification(hook, [alert("fraud"), alert("risk", "resolved")])
    delivery = dispatcher().deliver(n, T0 + 300)
    assert delivery.ok and delivery.attempts == 1 and delivery.status == 200
    (body,) = sink.bodies
    assert sink.paths == ["/hook"]
    assert sink.headers[0]["Authorization"] == "Bearer s3cret"
    assert set(body) == {
        "receiver",
        "status",
        "alerts",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "version",
        "groupKey",
        "truncatedAlerts",
    }
    assert (body["version"], body["status"], body["receiver"]) == ("4", "firing", "ops")
    assert body["groupKey"] == '{}:{alertname="HighErrorRate"}'
    assert body["externalURL"] == "http://mlvitals.example:8765"
    assert body["commonLabels"] == {
        "alertname": "HighErrorRate",
        "severity": "critical",
        "team": "risk",
    }
    assert body["commonAnnotations"] == {"runbook": "https://wiki/errors"}
    firing, resolved = body["alerts"]
    assert set(firing) == {
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "generatorURL",
        "fingerprint",
    }
    assert firing["status"] == "firing" and firing["endsAt"] == "0001-01-01T00:00:00Z"
    assert firing["startsAt"] == "2025-06-15T15:06:40.000Z"  # T0 = 1750000000
    assert resolved["status"] == "resolved" and resolved["endsAt"] == "2025-06-15T15:11:40.000Z"
    assert firing["fingerprint"] == fingerprint(firing["labels"])
    # The alert's labels name no object it keeps a link to: it leads to its own entry.
    assert firing["generatorURL"] == "http://mlvitals.example:8765/alerts?id=id-fraud"
    assert body["truncatedAlerts"] == 0


def test_webhook_max_alerts_truncates(sink: Sink) -> None:
    n = notification(WebhookConfig(sink.url, max_alerts=2), [alert(f"s{i}") for i in range(5)])
    assert dispatcher().deliver(n, T0).ok
    assert (len(sink.bodies[0]["alerts"]), sink.bodies[0]["truncatedAlerts"]) == (2, 3)


def test_server_errors_are_retried_and_client_errors_are_not(sink: Sink) -> None:
    n = notification(WebhookConfig(sink.url), [alert("fraud")])
    sink.statuses = [502, 429, 200]
    ok = dispatcher().deliver(n, T0)
    assert (ok.ok, ok.attempts) == (True, 3)
    sink.statuses = [400]
    bad = dispatcher().deliver(n, T0)
    assert (bad.ok, bad.attempts, bad.status) == (False, 1, 400)
    sink.statuses = [500, 500, 500]
    down = dispatcher().deliver(n, T0)
    assert (down.ok, down.attempts, down.status) == (False, 3, 500)


def test_timeouts_are_retried_with_backoff(sink: Sink) -> None:
    sink.delay = 0.5
    waits: list[float] = []
    d = Dispatcher("http://x", retry=Retry(attempts=3, backoff=0.25), sleep=waits.append)
    delivery = d.deliver(notification(WebhookConfig(sink.url, timeout=0.1), [alert("f")]), T0)
    d.close()
    assert (delivery.ok, delivery.attempts) == (False, 3)
    assert "timed out" in (delivery.error or "")
    assert waits == [0.25, 0.5]


def test_unreachable_receivers_fail_after_the_retries() -> None:
    hook = WebhookConfig(f"http://127.0.0.1:{free_port()}/", timeout=1.0)
    delivery = dispatcher().deliver(notification(hook, [alert("f")]), T0)
    assert (delivery.ok, delivery.attempts) == (False, 3) and "connect" in (delivery.error or "")


def test_slack_message_has_text_and_blocks(sink: Sink) -> None:
    n = notification(
        SlackConfig(sink.url, channel="#ml"), [alert("fraud"), alert("risk", "resolved")]
    )
    assert dispatcher().deliver(n, T0).ok
    (body,) = sink.bodies
    assert body["text"] == "[FIRING:1] HighErrorRate"
    assert body["channel"] == "#ml"
    kinds = [b["type"] for b in body["blocks"]]
    assert kinds == ["header", "section", "section", "context"]
    assert "fraud: 20% of calls fail" in body["blocks"][1]["text"]["text"]
    assert body["blocks"][1]["text"]["type"] == "mrkdwn"
    assert "http://mlvitals.example:8765/alerts" in body["blocks"][-1]["elements"][0]["text"]


# --- e-mail -------------------------------------------------------------------------------


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(  # noqa: N802  (the name aiosmtpd calls)
        self, server: Any, session: Session, envelope: Envelope
    ) -> str:
        if self.replies:
            return self.replies.pop(0)
        raw = envelope.original_content or b""
        self.messages.append(email.message_from_bytes(raw))
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        ok = data.password == b"hunter2"
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def test_email_through_a_local_smtp_server(smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    config = EmailConfig(
        ("oncall@example.com", "ml@example.com"), "mlvitals@example.com", "127.0.0.1", port
    )
    n = notification(config, [alert("fraud"), alert("risk", "resolved")])
    assert dispatcher().deliver(n, T0).ok
    (msg,) = box.messages
    assert box.envelopes == [("mlvitals@example.com", ["oncall@example.com", "ml@example.com"])]
    assert msg["Subject"] == "[FIRING:1] HighErrorRate"
    assert msg["To"] == "oncall@example.com, ml@example.com"
    body = msg.get_payload(decode=True).decode()
    assert "FIRING: fraud: 20% of calls fail" in body
    assert "RESOLVED: risk: 20% of calls fail" in body
    assert "runbook: https://wiki/errors" in body


def test_email_retries_temporary_smtp_failures_only(smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    config = EmailConfig(("oncall@example.com",), "mlvitals@example.com", "127.0.0.1", port)
    n = notification(config, [alert("fraud")])
    box.replies = ["451 4.3.0 try again later"]
    retried = dispatcher().deliver(n, T0)
    assert (retried.ok, retried.attempts) == (True, 2) and len(box.messages) == 1
    box.replies = ["554 5.7.1 rejected"]
    refused = dispatcher().deliver(n, T0)
    assert (refused.ok, refused.attempts, refused.status) == (False, 1, 554)


def _certificate(tmp: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        require_service("openssl is needed to make a test certificate for STARTTLS")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_email_with_starttls_and_login(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=box.authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        config = EmailConfig(
            ("oncall@example.com",),
            "mlvitals@example.com",
            "127.0.0.1",
            port,
            starttls=True,
            username="mlvitals",
        )
        client_tls = ssl.create_default_context(cafile=str(cert))
        n = notification(config, [alert("fraud")])
        ok = dispatcher(smtp_password="hunter2", tls_context=client_tls).deliver(n, T0)
        assert ok.ok, ok.error
        assert box.logins == [(b"mlvitals", b"hunter2")] and len(box.messages) == 1
        wrong = dispatcher(smtp_password="nope", tls_context=client_tls).deliver(n, T0)
        assert not wrong.ok and wrong.attempts == 1 and wrong.status == 535
        plain = EmailConfig(("oncall@example.com",), "mlvitals@example.com", "127.0.0.1", port)
        refused = dispatcher().deliver(notification(plain, [alert("fraud")]), T0)
        assert not refused.ok and len(box.messages) == 1  # the server insists on STARTTLS
    finally:
        controller.stop()
