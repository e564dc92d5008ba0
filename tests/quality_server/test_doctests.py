"""The examples in the docstrings of the data-quality server, SDK and page modules hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = (
    "mlvitals.sdk.quality",
    "mlvitals.sdk.monitor",
    "mlvitals.server.quality.records",
    "mlvitals.server.quality.queries",
    "mlvitals.server.quality.histograms",
    "mlvitals.server.quality.view",
    "mlvitals.server.quality.pages",
    "mlvitals.server.quality.signals",
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
