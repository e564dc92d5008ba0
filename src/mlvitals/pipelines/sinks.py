"""A synchronous HTTP sink: each record is POSTed to ``/api/v1/ingest`` as it is made.

Good for scripts and batch jobs, where a few milliseconds per run or step event do not
matter and a record sent at once survives a crash of the job. Failures are retried with
backoff, then logged and dropped: a down server never fails the pipeline.

>>> sink = HttpSink("http://127.0.0.1:8765", token=None)
>>> sink.url
'http://127.0.0.1:8765/api/v1/ingest'
"""

from __future__ import annotations

import gzip
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

log = logging.getLogger("mlvitals.pipelines")

DEFAULT_SERVER = "http://127.0.0.1:8765"


class HttpSink:
    """POST records as gzip JSON batches ``{"batch_id", "records"}`` with a bearer token.

    ``sent`` and ``dropped`` count records; ``retries`` extra attempts follow a failure
    after ``backoff``, ``2 * backoff``, ... seconds. A 4xx answer is not retried.
    """

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.url = server.rstrip("/") + "/api/v1/ingest"
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sent = 0
        self.dropped = 0

    def __call__(self, record: dict[str, Any]) -> None:
        self.send([record])

    def send(self, records: list[dict[str, Any]]) -> bool:
        """Send one batch; ``True`` when the server stored or already had it."""
        # One batch id for all attempts: a retry after a lost answer is a no-op server-side.
        body = json.dumps(
            {"batch_id": str(uuid.uuid4()), "records": records}, separators=(",", ":")
        ).encode()
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = gzip.compress(body, compresslevel=5)
        error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    answer = json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as exc:
                error = f"HTTP {exc.code}: {exc.read(500).decode(errors='replace')}"
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    break
                continue
            except (OSError, ValueError) as exc:
                error = str(exc)
                continue
            if answer.get("errors"):
                log.warning("mlvitals: the server rejected records: %s", answer["errors"][:3])
            self.sent += len(records)
            return True
        self.dropped += len(records)
        log.warning("mlvitals: dropped %d record(s) for %s: %s", len(records), self.url, error)
        return False
