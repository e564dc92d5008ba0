"""The examples in the demo modules' docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import mlvitals.demo


def _modules() -> list[str]:
    prefix = mlvitals.demo.__name__ + "."
    return sorted(info.name for info in pkgutil.iter_modules(mlvitals.demo.__path__, prefix))


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
