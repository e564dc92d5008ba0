"""What every notifier shares: the delivery result and retries with exponential backoff.

Transient failures (timeouts, refused connections, HTTP 5xx and 429, SMTP 4xx) are retried;
anything else (a 4xx from a webhook, a rejected address) fails at once, since sending the
same message again cannot succeed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one notification to one integration, after any retries."""

    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Retry:
    """``attempts`` tries in all, waiting ``backoff`` seconds after the first failure and
    ``factor`` times longer after each next one (capped at ``max_backoff``)."""

    attempts: int = 3
    backoff: float = 0.5
    factor: float = 2.0
    max_backoff: float = 8.0

    def delays(self) -> list[float]:
        """The waits between tries.

        >>> Retry(attempts=4, backoff=1.0).delays()
        [1.0, 2.0, 4.0]
        """
        return [
            min(self.backoff * self.factor**i, self.max_backoff) for i in range(self.attempts - 1)
        ]


class Transient(Exception):
    """A failure worth another try."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Permanent(Exception):
    """A failure another try would repeat."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def with_retries(
    attempt: Callable[[], int | None],
    retry: Retry,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Delivery:
    """Run ``attempt`` (which returns a status code or ``None`` on success, or raises
    :class:`Transient` / :class:`Permanent`) until it succeeds or the tries are used up."""
    started = clock()
    delays = retry.delays()
    tries = 0
    while True:
        tries += 1
        try:
            status = attempt()
            return Delivery(True, tries, status, None, clock() - started)
        except Permanent as exc:
            return Delivery(False, tries, exc.status, str(exc), clock() - started)
        except Transient as exc:
            if tries > len(delays):
                return Delivery(False, tries, exc.status, str(exc), clock() - started)
            sleep(delays[tries - 1])


def redact_url(url: str) -> str:
    """Scheme, host and port only: webhook paths often carry secrets (Slack's do)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"
