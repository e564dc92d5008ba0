"""Bearer tokens and scopes."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlvitals.errors import ConfigError
from mlvitals.server.auth import load_tokens_file, parse_tokens
from tests.records import batch, samples
from tests.server.conftest import MakeClient

TOKENS = "ingest-token-1:ingest;reader-token-1:read;admin-token-1:admin"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_scopes_are_enforced(make_client: MakeClient) -> None:
    client = make_client(tokens=TOKENS)
    body = batch(samples(2))
    assert client.post("/api/v1/ingest", json=body).status_code == 401
    assert client.post("/api/v1/ingest", json=body, headers=auth("wrong-token")).status_code == 401
    assert (
        client.post("/api/v1/ingest", json=body, headers=auth("reader-token-1")).status_code == 403
    )
    assert (
        client.post("/api/v1/ingest", json=body, headers=auth("ingest-token-1")).status_code == 200
    )
    for path in ("/metrics", "/api/v1/summary", "/api/v1/openapi.json", "/api/v1/docs"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers=auth("ingest-token-1")).status_code == 403, path
        assert client.get(path, headers=auth("reader-token-1")).status_code == 200, path
        assert client.get(path, headers=auth("admin-token-1")).status_code == 200, path
    assert client.get("/healthz").status_code == 200


def test_no_tokens_means_open(make_client: MakeClient) -> None:
    client = make_client()
    assert client.get("/api/v1/summary").status_code == 200


def test_token_spec_errors_are_clear() -> None:
    with pytest.raises(ConfigError, match="TOKEN:SCOPE"):
        parse_tokens("justatoken")
    with pytest.raises(ConfigError, match="at least 8"):
        parse_tokens("short:read")
    with pytest.raises(ConfigError, match="subset of admin, ingest, read"):
        parse_tokens("longenough:write")


def test_tokens_file(tmp_path: Path, make_client: MakeClient) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text("tokens:\n  - token: file-token-123\n    scopes: [read]\n")
    assert load_tokens_file(str(path)).scopes_for("file-token-123") == frozenset({"read"})
    client = make_client(tokens_file=str(path))
    assert client.get("/api/v1/summary", headers=auth("file-token-123")).status_code == 200
    path.write_text("tokens: nope")
    with pytest.raises(ConfigError, match="list 'tokens'"):
        load_tokens_file(str(path))
    with pytest.raises(ConfigError, match="cannot read"):
        load_tokens_file(str(tmp_path / "missing.yaml"))
