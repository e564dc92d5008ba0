"""The examples in the SDK's and sketches' docstrings and pages run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import mlvitals.sdk
import mlvitals.sketches
from mlvitals import Monitor
from tests.sdk.conftest import Receiver

DOCS = Path(__file__).resolve().parents[2] / "docs"
MODULES = sorted(
    [
        "mlvitals.sdk",
        "mlvitals.sketches",
        *(
            m.name
            for package in (mlvitals.sdk, mlvitals.sketches)
            for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        ),
    ]
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.S)


@pytest.mark.parametrize("page", ["sdk.md", "sketches.md"])
def test_page_examples_run(page: str, receiver: Receiver) -> None:
    blocks = python_blocks(page)
    assert blocks
    for block in blocks:
        namespace: dict[str, object] = {"__name__": "docs_example"}
        # The examples talk to a server on the default address: point them at a live one.
        exec(block.replace("http://127.0.0.1:8765", receiver.url), namespace)
        for value in namespace.values():
            if isinstance(value, Monitor):
                assert value.close(5)
    if page == "sdk.md":  # the quick start flushed its calls to the server
        ops = {r["operation"] for r in receiver.records if r["kind"] == "serving_window"}
        assert {"predict", "preprocess"} <= ops
