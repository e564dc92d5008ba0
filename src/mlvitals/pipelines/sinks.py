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
import uuid
from collections.abc import Callable
from typing import Any

from mlvitals.errors import RequestError
from mlvitals.http import Client, RetryPolicy

log = logging.getLogger("mlvitals.pipelines")

DEFAULT_SERVER = "http://127.0.0.1:8765"


class HttpSink:
    """POST records as gzip JSON batches ``{"batch_id", "records"}`` with a bearer token.

    ``sent`` and ``dropped`` count records. No answer, 429 and 5xx get ``retries`` more
    tries, ``backoff``, ``2 * backoff``, ... seconds apart (with jitter, honouring
    ``Retry-After``); any other 4xx is not retried.
    """

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, got {retries}")
        self.client = Client(
            server,
            token,
            timeout=timeout,
            retry=RetryPolicy(attempts=retries + 1, backoff=backoff),
            user_agent="mlvitals-pipelines",
            sleep=sleep,
        )
        self.url = self.client.url("/api/v1/ingest")
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
        # One batch id for all tries: a retry after a lost answer is a no-op server-side.
        body = json.dumps(
            {"batch_id": str(uuid.uuid4()), "records": records}, separators=(",", ":")
        ).encode()
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        try:
            reply = self.client.request(
                "POST",
                "/api/v1/ingest",
                body=gzip.compress(body, compresslevel=5),
                headers=headers,
                idempotent=True,
            )
        except RequestError as exc:
            self.dropped += len(records)
            log.warning("mlvitals: dropped %d record(s): %s", len(records), exc)
            return False
        try:
            answer = json.loads(reply.body or "{}")
        except ValueError:
            answer = {}
        if isinstance(answer, dict) and answer.get("errors"):
            log.warning("mlvitals: the server rejected records: %s", answer["errors"][:3])
        self.sent += len(records)
        return True
