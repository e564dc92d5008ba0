"""The examples in the docstrings of the Pipelines and Cost page modules run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = (
    "mlvitals.server.cost.pages",
    "mlvitals.server.cost.view",
    "mlvitals.server.pipelines.format",
    "mlvitals.server.pipelines.view",
    "mlvitals.server.pipelines.pages",
    "mlvitals.server.pipelines.run_view",
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
