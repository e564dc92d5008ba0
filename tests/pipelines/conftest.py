"""Fixtures for pipeline tests: an app client over a store, and a sink into it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mlvitals.server import create_app
from mlvitals.server.database import open_database
from mlvitals.settings import Settings
from mlvitals.store import Store


class Clock:
    def __init__(self, now: float = 1_717_200_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sqlite_store(tmp_path: Any) -> Iterator[Store]:
    s = open_database(str(tmp_path / "mlvitals.db"))
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(sqlite_store: Store, clock: Clock) -> Iterator[TestClient]:
    # The server's clock stands still in 2024 while trackers stamp the real time: accept
    # records from any time after it.
    settings = Settings(max_record_ahead=36500 * 86400.0)
    app = create_app(settings, sqlite_store, clock=clock, background=False)
    with TestClient(app) as client:
        yield client


def ingest_into(client: TestClient) -> Callable[[dict[str, Any]], None]:
    """A tracker sink that posts each record through the real ingest endpoint."""

    def emit(record: dict[str, Any]) -> None:
        body = {"batch_id": str(uuid.uuid4()), "records": [record]}
        answer = client.post("/api/v1/ingest", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["errors"] == [], answer.json()

    return emit


def post(client: TestClient, *records: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/ingest", json={"batch_id": str(uuid.uuid4()), "records": list(records)}
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    assert result["errors"] == [], result
    return result
