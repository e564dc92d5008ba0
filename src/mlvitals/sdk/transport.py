"""Shipping records to the server: batched, gzip'd, retried, bounded, off the request path.

:class:`HttpTransport` keeps records in a bounded buffer (a full buffer drops the oldest and
counts the drops) and sends them from one daemon thread as
``POST {server}/api/v1/ingest`` with a gzip'd JSON body ``{"batch_id", "records"}``, with the
retry policy of :mod:`mlvitals.http`:

- While the server cannot be reached (refused, reset, timed out) a batch is retried with
  exponential backoff and jitter for as long as it takes: records wait in the buffer, so a
  restarted server loses nothing that fitted there.
- 429 and 5xx are retried the same way, honouring ``Retry-After``, but ``attempts`` tries in
  all: then the batch is dropped and counted (``failed``), so one batch the server cannot
  take never holds up the newer ones.
- Any other 4xx is not retried: the batch is dropped and counted (``rejected``), because
  sending it again cannot succeed.

A retried batch keeps its ``batch_id``, so one that reached the server before a lost reply is
not stored twice. Drops are logged on the ``mlvitals.sdk`` logger at most once a minute, with
their count and reasons.

Only the standard library is used, so the SDK imports fast.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from typing import Any, Protocol

from mlvitals.http import Reply, RetryPolicy, describe, urllib_post

log = logging.getLogger("mlvitals.sdk")

INGEST_PATH = "/api/v1/ingest"

REFUSED = "refused by the server"

DROP_LOG_INTERVAL = 60.0
"""Seconds between two log lines about dropped records (each line sums what came between)."""


class Transport(Protocol):
    """Where the collector's records go. ``send`` must never block for long or raise."""

    def send(self, records: list[dict[str, Any]]) -> None: ...

    def flush(self, timeout: float) -> bool: ...

    def close(self, timeout: float) -> bool: ...

    def after_fork(self) -> None: ...


Post = Callable[[str, bytes, dict[str, str], float], Reply]


class _DropLog:
    """Logs drops at most once per ``interval`` seconds: the first at once, later ones summed."""

    def __init__(self, interval: float, clock: Callable[[], float]) -> None:
        self.interval = interval
        self.clock = clock
        self.last = float("-inf")
        self.unlogged: Counter[str] = Counter()
        self.detail = ""

    def add(self, reason: str, n: int, detail: str = "") -> None:
        self.unlogged[reason] += n
        if detail:
            self.detail = detail
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self.emit()

    def emit(self) -> None:
        total = sum(self.unlogged.values())
        if not total:
            return
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.unlogged.items()))
        detail = f"; last failure: {self.detail}" if self.detail else ""
        # A refusal (a bad token, a record the server does not take) needs someone to act.
        level = logging.ERROR if self.unlogged[REFUSED] else logging.WARNING
        noun = "record" if total == 1 else "records"
        log.log(level, "mlvitals: dropped %d %s (%s)%s", total, noun, reasons, detail)
        self.unlogged.clear()
        self.detail = ""


class HttpTransport:
    """Ships records to an mlvitals server from a background thread.

    ``max_buffer`` records wait while the server is away; ``batch_size`` go in one request,
    each try waiting up to ``timeout`` seconds for the answer; a batch answered with 429 or
    5xx gets ``attempts`` tries in all, ``backoff`` to ``max_backoff`` seconds apart.

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
        attempts: int = 8,
        post: Post = urllib_post,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_buffer < 1 or batch_size < 1:
            raise ValueError("max_buffer and batch_size must be at least 1")
        self.retry = RetryPolicy(attempts=attempts, backoff=backoff, max_backoff=max_backoff)
        self.url = server.rstrip("/") + INGEST_PATH
        self.token = token
        self.max_buffer = max_buffer
        self.batch_size = batch_size
        self.timeout = timeout
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._post = post
        self._rng = rng
        self._clock = clock
        self._init()

    def _init(self) -> None:
        self._cond = threading.Condition()
        self._buffer: deque[dict[str, Any]] = deque()
        self._in_flight = 0
        self._waiting = False  # the batch in flight waits for its next try, not on the wire
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._wake = threading.Event()
        self._down = False
        self._drops = _DropLog(DROP_LOG_INTERVAL, self._clock)
        self.dropped = 0
        """Every record dropped: buffer full, left unsent at close, ``failed`` or ``rejected``."""
        self.failed = 0
        """Records in batches still answered with 429 or 5xx after ``attempts`` tries."""
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
            over = len(self._buffer) + len(records) - self.max_buffer
            for r in records:
                if len(self._buffer) >= self.max_buffer:
                    self._buffer.popleft()
                self._buffer.append(r)
            if over > 0:
                self.dropped += over
                self._drops.add("buffer full", over)
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
        """Flush for up to ``timeout`` seconds, then stop; unsent records count as dropped.

        Returns within ``timeout`` even when the server never answers: a request still on
        the wire then is left to the daemon thread, which counts its records when it ends.
        """
        deadline = time.monotonic() + timeout
        done = self.flush(timeout)
        with self._cond:
            self._stopped = True
            unsent = len(self._buffer) + (self._in_flight if self._waiting else 0)
            self.dropped += unsent
            self._buffer.clear()
            if unsent:
                self._drops.add("unsent at close", unsent)
            self._drops.emit()
            self._cond.notify_all()
        self._wake.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(max(0.0, deadline - time.monotonic()))
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
        attempt = answered = 0
        while not self._stopped:
            reply = self._post(self.url, body, headers, self.timeout)
            if reply.ok:
                with self._cond:
                    self.sent += len(records)
                if self._down:
                    log.warning("mlvitals: server %s reachable again", self.url)
                    self._down = False
                return
            if reply.status is not None:
                answered += 1
                if not reply.retryable or answered >= self.retry.attempts:
                    self._give_up(records, reply, answered)
                    return
            if not self._down:
                what = f"HTTP {reply.status}" if reply.status is not None else reply.body
                log.warning("mlvitals: cannot ship to %s (%s); retrying", self.url, what)
                self._down = True
            with self._cond:
                if self._stopped:
                    break
                self._waiting = True
            self._wake.wait(self._delay(attempt, reply.retry_after))
            with self._cond:
                self._waiting = False
                if self._stopped:
                    return  # close() counted this batch as unsent while it waited
            attempt += 1
        with self._cond:  # stopped while the batch was on the wire
            self.dropped += len(records)

    def _give_up(self, records: list[dict[str, Any]], reply: Reply, tries: int) -> None:
        n = len(records)
        reason = describe(reply, "POST", self.url)
        with self._cond:
            if reply.retryable:
                self.failed += n
                self.dropped += n
                self._drops.add("server kept failing", n, f"{reason} ({tries} tries)")
            else:
                self.rejected += n
                self.dropped += n
                self._drops.add(REFUSED, n, reason)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter: a uniform pick in [d/2, d], d doubling per try."""
        return self.retry.delay(attempt, retry_after, self._rng())
