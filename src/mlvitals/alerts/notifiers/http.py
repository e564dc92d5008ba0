"""POSTing JSON with retries: the transport of webhook, Slack and Alertmanager pushes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from mlvitals.alerts.notifiers.base import Delivery, Permanent, Retry, Transient, with_retries
from mlvitals.http import retryable

USER_AGENT = "mlvitals-alerts"


def post_json(
    client: httpx.Client,
    url: str,
    body: Any,
    *,
    timeout: float,
    retry: Retry,
    headers: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST ``body`` as JSON; 2xx succeeds, 5xx/429/timeouts/connection errors are retried."""
    sent_headers = {"User-Agent": USER_AGENT, **(headers or {})}

    def attempt() -> int:
        try:
            response = client.post(url, json=body, headers=sent_headers, timeout=timeout)
        except httpx.TimeoutException:
            raise Transient(f"timed out after {timeout:g}s") from None
        except httpx.TransportError as exc:
            raise Transient(f"cannot connect: {exc or type(exc).__name__}") from None
        status = response.status_code
        if 200 <= status < 300:
            return status
        detail = response.text[:200].strip()
        message = f"HTTP {status}" + (f": {detail}" if detail else "")
        if retryable(status):  # the policy every mlvitals client follows
            raise Transient(message, status)
        raise Permanent(message, status)

    return with_retries(attempt, retry, sleep)
