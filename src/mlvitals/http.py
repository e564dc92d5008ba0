"""One HTTP client for everything that calls an mlvitals server, with one retry policy.

The SDK's shipper, the pipeline sink, quality uploads and the CLI's ``--server`` reads all
go through here. Only the standard library is used, so importing the SDK stays light.

The retry policy (:class:`RetryPolicy`):

- no answer (connection refused or reset, timeout, DNS failure), 429 and 5xx are retried
  with exponential backoff and jitter, waiting at least what ``Retry-After`` asks (capped
  at ``max_backoff``);
- any other 4xx is final: sending the same request again cannot succeed;
- a request that is not idempotent (a ``POST`` other than an ingest batch, whose
  ``batch_id`` makes a repeat harmless) is retried only when it surely never reached the
  server: a refused connection or a 429.

After the last try :class:`Client` raises :class:`~mlvitals.errors.RequestError`, whose
``status`` is ``None`` when no answer came: a network failure is never reported as a
configuration error.

>>> client = Client("http://127.0.0.1:8765", token="READ_TOKEN", retry=RetryPolicy(attempts=3))
>>> client.url("/api/v1/alerts", {"state": "firing"})
'http://127.0.0.1:8765/api/v1/alerts?state=firing'
>>> alerts = client.get("/api/v1/alerts")["alerts"]  # doctest: +SKIP
"""

from __future__ import annotations

import email.utils
import http.client
import json as jsonlib
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mlvitals.errors import ConfigError, RequestError

_ERROR_BODY_CHARS = 4096


@dataclass(frozen=True, slots=True)
class Reply:
    """What one request got: a status (``None`` when no HTTP answer came), ``Retry-After``
    in seconds, and the body text (the reason of the failure when there was no answer).

    ``refused`` is True when the connection could not even be opened, so the server got
    nothing and any request may be sent again.
    """

    status: int | None
    retry_after: float | None = None
    body: str = ""
    refused: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        """No answer, 429 or 5xx: worth another try after a wait."""
        return retryable(self.status)


def retryable(status: int | None) -> bool:
    """Whether a reply with ``status`` (``None``: no answer) is worth another try.

    >>> [retryable(s) for s in (None, 200, 400, 404, 429, 500, 503)]
    [True, False, False, False, True, True, True]
    """
    return status is None or status == 429 or status >= 500


Send = Callable[[str, str, bytes | None, Mapping[str, str], float], Reply]
"""One try: ``(method, url, body, headers, timeout) -> Reply``; never raises."""


def urllib_send(
    method: str, url: str, body: bytes | None, headers: Mapping[str, str], timeout: float
) -> Reply:
    """Send one request with urllib; network failures come back as ``Reply(None, ...)``."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(int(response.status), None, response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        text = exc.read(_ERROR_BODY_CHARS).decode("utf-8", "replace") if exc.fp is not None else ""
        return Reply(int(exc.code), parse_retry_after(exc.headers.get("Retry-After")), text)
    except urllib.error.URLError as exc:  # raised before a request was sent: connect, DNS
        reason = exc.reason
        refused = isinstance(reason, ConnectionRefusedError | socket.gaierror)
        return Reply(None, None, str(reason), refused=refused)
    except (OSError, ValueError, http.client.HTTPException) as exc:  # reset, read timeout
        return Reply(None, None, str(exc) or type(exc).__name__)


def urllib_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Reply:
    """POST with urllib; network failures come back as ``Reply(None, body=reason)``."""
    return urllib_send("POST", url, body, headers, timeout)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait: a number or an HTTP date.

    >>> parse_retry_after("7"), parse_retry_after("soon"), parse_retry_after(None)
    (7.0, None, None)
    >>> parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", now=lambda: 20.0)
    40.0
    """
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries in all; after the n-th failure wait a uniform pick in
    ``[d/2, d]`` with ``d = min(max_backoff, backoff * 2**(n-1))``, or what ``Retry-After``
    asks when that is longer (never past ``max_backoff``).

    >>> RetryPolicy(backoff=1.0, max_backoff=8.0).delay(2, None, pick=1.0)
    4.0
    >>> RetryPolicy(backoff=1.0, max_backoff=8.0).delay(0, 60.0, pick=0.0)
    8.0
    """

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if self.backoff < 0 or self.max_backoff < 0:
            raise ValueError(
                f"backoff and max_backoff must be >= 0, got {self.backoff} and {self.max_backoff}"
            )

    def delay(self, attempt: int, retry_after: float | None, pick: float) -> float:
        """The wait after failed try number ``attempt`` (0 for the first); ``pick`` in [0, 1]."""
        d = min(self.max_backoff, self.backoff * 2.0 ** min(attempt, 60))
        d = d / 2 + d / 2 * pick
        if retry_after is not None:
            d = max(d, min(retry_after, self.max_backoff))
        return d

    def retries(self, reply: Reply, idempotent: bool) -> bool:
        """Whether this failed ``reply`` is worth another try (tries left aside)."""
        if not reply.retryable:
            return False
        return idempotent or reply.refused or reply.status == 429


def describe(reply: Reply, method: str, url: str) -> str:
    """One line saying what went wrong, with the server's own ``{"error": ...}`` reason."""
    if reply.status is None:
        return f"cannot reach the server at {_origin(url)}: {reply.body or 'no answer'}"
    text = reply.body.strip()
    try:
        decoded = jsonlib.loads(text)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict) and isinstance(decoded.get("error"), str):
        text = decoded["error"]
    return f"{method} {url} answered HTTP {reply.status}" + (f": {text[:500]}" if text else "")


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Client:
    """Calls one mlvitals server: JSON in and out, a bearer token, the retry policy.

    ``send``, ``sleep`` and ``rng`` are injectable (tests, custom transports).
    """

    def __init__(
        self,
        server: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        user_agent: str = "mlvitals",
        send: Send = urllib_send,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not server.startswith(("http://", "https://")):
            raise ConfigError(f"the server must be an http:// or https:// URL, got {server!r}")
        self.server = server.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.user_agent = user_agent
        self._send = send
        self._sleep = sleep
        self._rng = rng

    def url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return f"{self.server}{path}{query}"

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Reply:
        """Send with retries; the 2xx :class:`Reply`, or :class:`RequestError` after the
        last try. ``idempotent`` defaults to True for every method but ``POST``."""
        url = self.url(path, params)
        sent = {"Accept": "application/json", "User-Agent": self.user_agent, **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        again = method != "POST" if idempotent is None else idempotent
        attempt = 0
        while True:
            reply = self._send(method, url, body, sent, self.timeout)
            if reply.ok:
                return reply
            attempt += 1
            if attempt >= self.retry.attempts or not self.retry.retries(reply, again):
                tries = f" (after {attempt} tries)" if attempt > 1 else ""
                raise RequestError(
                    describe(reply, method, url) + tries,
                    url=url,
                    status=reply.status,
                    attempts=attempt,
                )
            self._sleep(self.retry.delay(attempt - 1, reply.retry_after, self._rng()))

    def call(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send ``json`` (when not None) and return the decoded JSON answer."""
        headers = {}
        body = None
        if json is not None:
            body = jsonlib.dumps(json, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        reply = self.request(
            method, path, body=body, headers=headers, params=params, idempotent=idempotent
        )
        if not reply.body.strip():
            return None
        try:
            return jsonlib.loads(reply.body)
        except ValueError:
            raise RequestError(
                f"{method} {self.url(path, params)} answered HTTP {reply.status} "
                f"with a body that is not JSON: {reply.body[:200]!r}",
                url=self.url(path, params),
                status=reply.status,
            ) from None

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """``GET`` and decode: ``client.get("/api/v1/alerts", {"state": "firing"})``."""
        return self.call("GET", path, params=params)

    def post(self, path: str, json: Any, *, idempotent: bool | None = None) -> Any:
        return self.call("POST", path, json, idempotent=idempotent)

    def put(self, path: str, json: Any) -> Any:
        return self.call("PUT", path, json)

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)


__all__ = [
    "Client",
    "Reply",
    "RetryPolicy",
    "Send",
    "describe",
    "parse_retry_after",
    "retryable",
    "urllib_post",
    "urllib_send",
]
