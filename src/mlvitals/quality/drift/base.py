"""The drift method contract and the registry of methods (one module per method).

A method is an immutable value: its name, whether it is a statistical ``test`` (a statistic
and a p-value: drift when the p-value, corrected for the number of columns, is below alpha) or
a ``distance`` (an effect size: drift when it reaches the threshold), which column kinds it
applies to, which shape of data it reads (``ecdf`` or ``bins``), and a pure function of a
:class:`~mlvitals.quality.drift.inputs.ColumnData`.

>>> get_method("psi").kind
'distance'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from mlvitals.errors import ConfigError
from mlvitals.quality.columns import ColumnKind
from mlvitals.quality.drift.inputs import ColumnData

NUMERIC = frozenset({ColumnKind.NUMERIC})
COUNTED = frozenset({ColumnKind.NUMERIC, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN})


@dataclass(frozen=True, slots=True)
class Statistic:
    """A method's number, its p-value (tests) and, from profiles, a bound on its error."""

    value: float
    p_value: float | None = None
    error_bound: float | None = None


@dataclass(frozen=True, slots=True)
class DriftMethod:
    name: str
    kind: Literal["test", "distance"]
    reads: Literal["ecdf", "bins"]
    applies_to: frozenset[ColumnKind]
    compute: Callable[[ColumnData], Statistic]
    default_threshold: float | None
    description: str
    from_profiles: bool = True


_REGISTRY: dict[str, DriftMethod] = {}


def register(method: DriftMethod) -> DriftMethod:
    """Add a method under its name; a name is registered once (re-importing a module is fine)."""
    existing = _REGISTRY.get(method.name)
    if existing is not None and existing.compute.__qualname__ != method.compute.__qualname__:
        raise ValueError(f"drift method {method.name!r} is already registered")
    _REGISTRY[method.name] = method
    return method


def get_method(name: str) -> DriftMethod:
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown drift method {name!r}; known: {', '.join(sorted(_REGISTRY))}"
        ) from None


def methods() -> dict[str, DriftMethod]:
    _load_builtin()
    return dict(_REGISTRY)


def _load_builtin() -> None:
    # Importing the modules registers them; done lazily to keep import order simple.
    from mlvitals.quality.drift import (  # noqa: F401
        anderson_darling,
        chi2,
        hellinger,
        jensen_shannon,
        kl,
        ks,
        psi,
        wasserstein,
    )
