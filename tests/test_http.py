"""The one HTTP client's retry policy, against a real local HTTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mlvitals.errors import ConfigError, MlvitalsError, RequestError
from mlvitals.http import Client, Reply, RetryPolicy, parse_retry_after, urllib_send

Answer = tuple[int, dict[str, str]]


class ScriptedServer:
    """Answers requests with a script of ``(status, headers)``, then 200; logs each request."""

    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.seen: list[tuple[float, str, str, bytes]] = []  # (monotonic, method, path, body)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server._lock:
                    server.seen.append((time.monotonic(), self.command, self.path, body))
                    status, headers = server.script.pop(0) if server.script else (200, {})
                reply = json.dumps(
                    {"error": f"scripted {status}"} if status >= 400 else {"path": self.path}
                ).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def do_PUT(self) -> None:
                self._answer()

            def do_DELETE(self) -> None:
                self._answer()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,))
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    s = ScriptedServer()
    yield s
    s.stop()


def refused_url() -> str:
    """A port nobody listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """Accepts connections (the kernel's backlog) and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield f"http://127.0.0.1:{s.getsockname()[1]}"
    s.close()


class Counting:
    """The real urllib sender, counting tries (to count tries to a port nobody serves)."""

    def __init__(self) -> None:
        self.tries = 0

    def __call__(
        self, method: str, url: str, body: bytes | None, headers: Mapping[str, str], t: float
    ) -> Reply:
        self.tries += 1
        return urllib_send(method, url, body, headers, t)


FAST = RetryPolicy(attempts=3, backoff=0.001, max_backoff=5.0)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    script: list[Answer]
    status: int | None  # None: the call succeeds
    requests: int  # how many the server saw
    idempotent: bool | None = None


CASES = [
    Case("429 then ok", "GET", [(429, {"Retry-After": "0"})], None, 2),
    Case("503 twice then ok", "GET", [(503, {}), (503, {})], None, 3),
    Case("503 forever: gives up", "GET", [(503, {})] * 5, 503, 3),
    Case("500 forever on PUT", "PUT", [(500, {})] * 5, 500, 3),
    Case("400 is final", "GET", [(400, {})], 400, 1),
    Case("401 is final", "POST", [(401, {})], 401, 1),
    Case("404 is final", "DELETE", [(404, {})], 404, 1),
    Case("413 is final", "POST", [(413, {})], 413, 1, idempotent=True),
    Case("POST 500: may have acted, not repeated", "POST", [(500, {})], 500, 1),
    Case("POST 429: refused, repeated", "POST", [(429, {})], None, 2),
    Case("idempotent POST 502 repeated", "POST", [(502, {})], None, 2, idempotent=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_retry_policy_against_a_real_server(server: ScriptedServer, case: Case) -> None:
    server.script = list(case.script)
    client = Client(server.url, token="T0k", retry=FAST)
    if case.status is None:
        answer = client.call(case.method, "/api/v1/x", {"a": 1}, idempotent=case.idempotent)
        assert answer == {"path": "/api/v1/x"}
    else:
        with pytest.raises(RequestError) as caught:
            client.call(case.method, "/api/v1/x", {"a": 1}, idempotent=case.idempotent)
        assert caught.value.status == case.status
        assert caught.value.attempts == case.requests
        assert f"HTTP {case.status}: scripted {case.status}" in str(caught.value)
        assert caught.value.exit_code == 4
    assert len(server.seen) == case.requests
    assert {body for *_, body in server.seen} == {b'{"a":1}'}  # the same body each time


def test_retry_after_is_honoured(server: ScriptedServer) -> None:
    server.script = [(429, {"Retry-After": "1"}), (503, {"Retry-After": "1"})]
    client = Client(server.url, retry=RetryPolicy(attempts=3, backoff=0.001, max_backoff=5.0))
    assert client.get("/api/v1/alerts") == {"path": "/api/v1/alerts"}
    times = [t for t, *_ in server.seen]
    assert len(times) == 3
    # Our own backoff is a millisecond: only Retry-After explains a second between tries.
    assert times[1] - times[0] >= 0.95 and times[2] - times[1] >= 0.95


def test_retry_after_never_waits_past_max_backoff() -> None:
    waits: list[float] = []
    replies = iter([Reply(429, retry_after=3600.0), Reply(200, body="{}")])
    client = Client(
        "http://127.0.0.1:1",
        retry=RetryPolicy(attempts=2, backoff=0.1, max_backoff=2.0),
        send=lambda *a: next(replies),
        sleep=waits.append,
    )
    assert client.get("/") == {}
    assert waits == [2.0]


def test_connection_refused_is_retried_then_raised_as_a_network_error() -> None:
    url = refused_url()
    counting = Counting()
    client = Client(url, retry=FAST, send=counting)
    with pytest.raises(RequestError) as caught:
        client.post("/api/v1/silences", {"a": 1})  # not idempotent: but nothing was sent
    assert counting.tries == 3 and caught.value.attempts == 3
    assert caught.value.status is None
    assert str(caught.value).startswith(f"cannot reach the server at {url}:")
    assert not isinstance(caught.value, ConfigError)
    assert isinstance(caught.value, MlvitalsError)


def test_a_server_that_never_answers_times_out_and_post_is_not_repeated(silent_url: str) -> None:
    counting = Counting()
    client = Client(silent_url, timeout=0.2, retry=FAST, send=counting)
    with pytest.raises(RequestError) as caught:
        client.post("/api/v1/silences", {"a": 1})
    assert counting.tries == 1 and caught.value.status is None
    with pytest.raises(RequestError):
        client.get("/api/v1/alerts")
    assert counting.tries == 1 + 3


def test_token_user_agent_and_query() -> None:
    seen: list[tuple[str, str, dict[str, str]]] = []

    def send(m: str, url: str, b: bytes | None, h: Mapping[str, str], t: float) -> Reply:
        seen.append((m, url, dict(h)))
        return Reply(200, body='{"ok": true}')

    client = Client("http://h:1/", token="s3cret", send=send)
    assert client.get("/api/v1/alerts", {"state": "firing", "q": "a b"}) == {"ok": True}
    method, url, headers = seen[0]
    assert method == "GET"
    assert url == "http://h:1/api/v1/alerts?state=firing&q=a+b"
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["User-Agent"] == "mlvitals"


def test_bad_arguments_name_what_is_wrong() -> None:
    with pytest.raises(ConfigError, match="must be an http:// or https:// URL, got 'localhost:8'"):
        Client("localhost:8")
    with pytest.raises(ValueError, match="attempts must be at least 1, got 0"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="backoff and max_backoff must be >= 0"):
        RetryPolicy(backoff=-1)


def test_retry_after_http_date_against_the_stdlib_formatter() -> None:
    from email.utils import formatdate

    assert parse_retry_after(formatdate(1_000_060, usegmt=True), now=lambda: 1_000_000.0) == 60.0
    assert parse_retry_after(formatdate(10, usegmt=True), now=lambda: 1_000.0) == 0.0
