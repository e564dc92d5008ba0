"""The examples in the quality package's docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import mlvitals.quality

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(mlvitals.quality.__path__, "mlvitals.quality.")
    if m.name != "mlvitals.quality.dask"  # its example needs a cluster: see test_dask.py
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


DOC = Path(__file__).resolve().parents[2] / "docs" / "quality.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_docs_page_examples_run(
    index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # examples may write files (report.html)
    if "dask" in _python_blocks()[index]:
        pytest.importorskip("distributed", reason="needs the dask extra")
    exec(compile(_python_blocks()[index], f"{DOC.name}[{index}]", "exec"), {})
