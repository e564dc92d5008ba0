"""OTLP/HTTP metrics in: ``POST /v1/metrics`` is under the ingest scope like
``/api/v1/ingest``."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import ServerProcess


def test_otlp_without_a_token_is_refused(
    server_factory: type[ServerProcess], tmp_path: Path
) -> None:
    server = server_factory(str(tmp_path / "m.db"), "--tokens=ingest-token-1:ingest")
    reply = httpx.post(
        f"{server.url}/v1/metrics", content=b"", headers={"Content-Type": "application/x-protobuf"}
    )
    assert reply.status_code == 401
