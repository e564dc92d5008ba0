from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerts.helpers import Sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink().start()
    yield s
    s.stop()
