"""Shipping records to the server: batched, gzip'd, retried, bounded, off the request path.

:class:`HttpTransport` keeps records in a bounded buffer (a full buffer drops the oldest and
counts the drops) and sends them from one daemon thread as
``POST {server}/api/v1/ingest`` with a gzip'd JSON body ``{"batch_id", "records"}``.

- Connection errors, timeouts, 429 and 5xx are retried with exponential backoff and jitter,
  honouring ``Retry-After``; the batch keeps its ``batch_id``, so a batch that reached the
  server before a lost reply is not stored twice.
- Any other 4xx is not retried: the reply is logged and the batch is dropped (counted in
  ``rejected``), because sending it again cannot succeed.

Only the standard library is used, so the SDK imports fast.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("mlvitals.sdk")

INGEST_PATH = "/api/v1/ingest"


class Transport(Protocol):
    """Where the collector's records go. ``send`` must never block for long or raise."""

    def send(self, records: list[dict[str, Any]]) -> None: ...

    def flush(self, timeout: float) -> bool: ...

    def close(self, timeout: float) -> bool: ...

    def after_fork(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Reply:
    """What one POST got: a status (None when no HTTP reply came), headers and body text."""

    status: int | None
    retry_after: float | None = None
    body: str = ""


Post = Callable[[str, bytes, dict[str, str], float], Reply]


def urllib_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Reply:
    """POST with urllib; network failures come back as ``Reply(None, body=reason)``."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(int(response.status), None, response.read(4096).decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        text = exc.read(4096).decode("utf-8", "replace") if exc.fp is not None else ""
        return Reply(int(exc.code), _retry_after(exc.headers.get("Retry-After")), text)
    except (OSError, ValueError) as exc:  # URLError, refused, reset, timeout, bad URL
        return Reply(None, None, str(getattr(exc, "reason", exc)))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


class HttpTransport:
    """Ships records to an mlvitals server from a background thread.

    >>> t = HttpTransport("http://127.0.0.1:8765", token=None)
    >>> t.send([])  # nothing to do; the thread starts with the first records
    >>> t.close(timeout=0.1)
    True
    """

    def __init__(
        self,
        server: str,
        token: str | None = None,
        *,
        max_buffer: int = 10_000,
        batch_size: int = 1_000,
        timeout: float = 10.0,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        post: Post = urllib_post,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if max_buffer < 1 or batch_size < 1:
            raise ValueError("max_buffer and batch_size must be at least 1")
        self.url = server.rstrip("/") + INGEST_PATH
        self.token = token
        self.max_buffer = max_buffer
        self.batch_size = batch_size
        self.timeout = timeout
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._post = post
        self._rng = rng
        self._init()

    def _init(self) -> None:
        self._cond = threading.Condition()
        self._buffer: deque[dict[str, Any]] = deque()
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._closing = False
        self._stopped = False
        self._wake = threading.Event()
        self._down = False
        self.dropped = 0
        """Records dropped because the buffer was full (or left unsent at close)."""
        self.rejected = 0
        """Records in batches the server refused with a 4xx other than 429."""
        self.sent = 0
        """Records the server accepted."""

    def after_fork(self) -> None:
        """In a forked child: the parent ships its own records; start empty, thread unstarted."""
        self._init()

    # -- the collector's side ------------------------------------------------------------------

    def send(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        with self._cond:
            if self._stopped:
                self.dropped += len(records)
                return
            for r in records:
                if len(self._buffer) >= self.max_buffer:
                    self._buffer.popleft()
                    self.dropped += 1
                self._buffer.append(r)
            self._cond.notify_all()
        self._ensure_thread()

    def flush(self, timeout: float) -> bool:
        """Wait until every record sent so far has been shipped (or refused); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._buffer or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float) -> bool:
        """Flush for up to ``timeout`` seconds, then stop; unsent records count as dropped."""
        done = self.flush(timeout)
        with self._cond:
            self._stopped = True
            self.dropped += len(self._buffer)
            self._buffer.clear()
            self._cond.notify_all()
        self._wake.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(min(timeout, 1.0) if timeout > 0 else 0.1)
        return done

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._buffer) + self._in_flight

    # -- the shipping thread -------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._cond:
            if self._thread is None and not self._stopped:
                t = threading.Thread(target=self._run, name="mlvitals-transport", daemon=True)
                self._thread = t
                t.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._buffer and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                n = min(self.batch_size, len(self._buffer))
                batch = [self._buffer.popleft() for _ in range(n)]
                self._in_flight = n
            try:
                self._ship(batch)
            except Exception:  # never let a bug kill shipping
                log.exception("mlvitals: shipping a batch failed unexpectedly; dropped it")
                with self._cond:
                    self.dropped += len(batch)
            finally:
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()

    def _ship(self, records: list[dict[str, Any]]) -> None:
        payload = {"batch_id": str(uuid.uuid4()), "records": records}
        body = gzip.compress(json.dumps(payload, separators=(",", ":")).encode(), compresslevel=6)
        headers = {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "User-Agent": "mlvitals-sdk",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        attempt = 0
        while not self._stopped:
            reply = self._post(self.url, body, headers, self.timeout)
            status = reply.status
            if status is not None and 200 <= status < 300:
                self.sent += len(records)
                if self._down:
                    log.warning("mlvitals: server %s reachable again", self.url)
                    self._down = False
                return
            if status is not None and 400 <= status < 500 and status != 429:
                self.rejected += len(records)
                log.error(
                    "mlvitals: server refused a batch of %d records with %d: %s",
                    len(records),
                    status,
                    reply.body[:500],
                )
                return
            if not self._down:
                what = f"HTTP {status}" if status is not None else reply.body
                log.warning("mlvitals: cannot ship to %s (%s); retrying", self.url, what)
                self._down = True
            self._wake.wait(self._delay(attempt, reply.retry_after))
            attempt += 1
        with self._cond:  # stopped while the server was down
            self.dropped += len(records)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter: a uniform pick in [d/2, d], d doubling per try."""
        d = min(self.max_backoff, self.backoff * 2.0 ** min(attempt, 60))
        d = d / 2 + d / 2 * self._rng()
        if retry_after is not None:
            d = max(d, min(retry_after, self.max_backoff))
        return d
