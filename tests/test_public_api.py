"""The public API: every name the docs teach is importable from where they import it, and
listed in that module's ``__all__``; every name in a public ``__all__`` exists."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
PUBLIC = [
    "mlvitals",
    "mlvitals.sdk",
    "mlvitals.sketches",
    "mlvitals.quality",
    "mlvitals.pipelines",
    "mlvitals.cost",
    "mlvitals.alerts",
]


_IMPORT = re.compile(
    r"^\s*(?:>>> |\.\.\. )?(from mlvitals[\w.]* import (?:\([^)]*\)|[^\n]+))", re.M
)


def documented_imports() -> list[tuple[str, str, str]]:
    """(doc file, module, name) for every ``from mlvitals... import name`` in a code block."""
    found = []
    for doc in DOCS:
        for statement in _IMPORT.findall(doc.read_text()):
            statement = re.sub(r"\n\s*(?:\.\.\. )?", " ", statement.split("#")[0])
            node = ast.parse(statement.strip()).body[0]
            assert isinstance(node, ast.ImportFrom)
            found += [(doc.name, node.module or "", alias.name) for alias in node.names]
    return sorted(set(found))


IMPORTS = documented_imports()


def test_the_docs_teach_imports() -> None:
    assert len(IMPORTS) >= 10, IMPORTS  # the parser still finds the examples


@pytest.mark.parametrize(("doc", "module", "name"), IMPORTS)
def test_documented_name_is_public(doc: str, module: str, name: str) -> None:
    mod = importlib.import_module(module)
    assert hasattr(mod, name), f"{doc}: {module} has no {name}"
    if module in PUBLIC:
        assert name in mod.__all__, f"{doc}: {name} is taught but not in {module}.__all__"


@pytest.mark.parametrize("module", PUBLIC)
def test_every_exported_name_exists(module: str) -> None:
    mod = importlib.import_module(module)
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert not missing, f"{module}.__all__ lists missing names {missing}"


def test_the_version_is_written_once() -> None:
    import mlvitals

    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'attr = "mlvitals.__version__"' in pyproject
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+)?", mlvitals.__version__)
