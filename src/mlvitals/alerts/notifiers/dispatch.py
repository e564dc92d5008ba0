"""Sending a planned notification through its integration.

>>> d = Dispatcher("http://127.0.0.1:8765")
>>> d.target_of(WebhookConfig("https://hooks.example.com/T0/secret"))
'webhook https://hooks.example.com'
>>> d.close()
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable

import httpx

from mlvitals.alerts.grouping import Notification
from mlvitals.alerts.notifiers.base import Delivery, Retry, redact_url
from mlvitals.alerts.notifiers.email import send_email
from mlvitals.alerts.notifiers.http import post_json
from mlvitals.alerts.payloads import (
    alertmanager_alerts,
    email_message,
    slack_payload,
    webhook_payload,
)
from mlvitals.alerts.receivers import (
    AlertmanagerConfig,
    EmailConfig,
    Integration,
    SlackConfig,
    WebhookConfig,
)


class Dispatcher:
    """Delivers notifications; one instance holds one HTTP connection pool."""

    def __init__(
        self,
        external_url: str,
        *,
        smtp_password: str = "",
        retry: Retry | None = None,
        sleep: Callable[[float], None] = time.sleep,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.external_url = external_url.rstrip("/")
        self.smtp_password = smtp_password
        self.retry = retry or Retry()
        self.sleep = sleep
        self.tls_context = tls_context
        self.client = httpx.Client(follow_redirects=False)

    def close(self) -> None:
        self.client.close()

    @staticmethod
    def target_of(integration: Integration) -> str:
        """Where an integration sends, safe to log and show (no secret paths)."""
        if isinstance(integration, EmailConfig):
            return (
                f"email smtp://{integration.host}:{integration.port} to {', '.join(integration.to)}"
            )
        return f"{integration.type} {redact_url(integration.url)}"

    def deliver(self, n: Notification, now: float) -> Delivery:
        """Send ``n`` (which must have ``send`` set and an integration)."""
        i = n.integration
        if isinstance(i, WebhookConfig):
            body = webhook_payload(n, self.external_url, i.max_alerts)
            return self._post(i.url, body, i.timeout, dict(i.headers))
        if isinstance(i, SlackConfig):
            body = slack_payload(n, self.external_url, i.channel, i.username)
            return self._post(i.url, body, i.timeout)
        if isinstance(i, AlertmanagerConfig):
            # Valid for four resend intervals, as Prometheus does: a missed push or two
            # does not resolve the alert in Alertmanager.
            alerts = alertmanager_alerts(n.alerts, self.external_url, now, 4 * i.resend_interval)
            return self._post(f"{i.url}/api/v2/alerts", alerts, i.timeout)
        if isinstance(i, EmailConfig):
            message = email_message(n, i.sender, i.to, self.external_url, now)
            return send_email(
                i,
                message,
                password=self.smtp_password,
                retry=self.retry,
                sleep=self.sleep,
                tls_context=self.tls_context,
            )
        raise ValueError(f"notification {n.key} has no integration to send through")

    def _post(
        self, url: str, body: object, timeout: float, headers: dict[str, str] | None = None
    ) -> Delivery:
        return post_json(
            self.client,
            url,
            body,
            timeout=timeout,
            retry=self.retry,
            headers=headers,
            sleep=self.sleep,
        )
