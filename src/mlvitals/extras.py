"""Optional dependencies: a feature whose extra is missing says which one to install.

>>> cause = ModuleNotFoundError("No module named 'fastapi'")
>>> print(missing_extra("server", "mlvitals serve", cause))
mlvitals serve needs the [server] extra (No module named 'fastapi'): pip install 'mlvitals[server]'
"""

from __future__ import annotations

import importlib

from mlvitals.errors import MissingExtra

EXTRAS = ("quality", "server", "postgres", "gpu", "dask", "demo", "all")


def missing_extra(extra: str, feature: str, cause: BaseException | None = None) -> MissingExtra:
    """The error to raise when ``feature`` cannot import what the ``extra`` installs."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}")
    why = f" ({cause})" if cause is not None else ""
    return MissingExtra(
        f"{feature} needs the [{extra}] extra{why}: pip install 'mlvitals[{extra}]'"
    )


# What a command imports from each extra: enough to tell whether the extra is installed.
MODULES = {
    "quality": ("pyarrow", "scipy", "datasketches"),
    "server": ("fastapi", "starlette", "pydantic", "uvicorn", "jinja2", "pyarrow", "scipy"),
    "demo": ("sklearn",),
}


def require_extra(extra: str, feature: str) -> None:
    """Raise :func:`missing_extra` unless the modules the ``extra`` installs import.

    >>> require_extra("quality", "mlvitals check")  # nothing happens when installed
    """
    for name in MODULES.get(extra, ()):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise missing_extra(extra, feature, exc) from None
