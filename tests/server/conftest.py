from __future__ import annotations

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

    def make(**settings: object) -> TestClient:
        client = TestClient(create_app(Settings().replace(**settings), store))
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()
