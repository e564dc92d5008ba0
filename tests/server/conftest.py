from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from mlvitals.server import create_app
from mlvitals.settings import Settings
from mlvitals.store import Store

MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(store: Store) -> Iterator[MakeClient]:
    clients: list[TestClient] = []

    def make(clock: Callable[[], float] | None = None, **settings: object) -> TestClient:
        app = create_app(Settings().replace(**settings), store, clock=clock or time.time)
        client = TestClient(app)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()
