"""The examples in the docstrings of the Pipelines and Cost page modules run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = (
    "mlvitals.server.dashboard.cost_page",
    "mlvitals.server.dashboard.cost_view",
    "mlvitals.server.dashboard.pipeline_format",
    "mlvitals.server.dashboard.pipeline_view",
    "mlvitals.server.dashboard.pipelines",
    "mlvitals.server.dashboard.run_view",
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
