"""Checking parsed YAML (or JSON) values, with errors that name the source and the field.

>>> Validator("cost.yaml").number(-1, "rates[0].cpu_core_hour")
Traceback (most recent call last):
...
mlvitals.errors.ConfigError: cost.yaml: rates[0].cpu_core_hour: must be zero or more, got -1
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from mlvitals.errors import ConfigError


@dataclass
class Validator:
    """Checks values; every failure raises :class:`ConfigError` as ``SOURCE: FIELD: why``."""

    source: str

    def fail(self, where: str, message: str) -> NoReturn:
        prefix = f"{self.source}: {where}: " if where else f"{self.source}: "
        raise ConfigError(prefix + message)

    def mapping(self, raw: Any, where: str, allowed: set[str] | None) -> Mapping[str, Any]:
        if not isinstance(raw, Mapping):
            self.fail(where, f"must be a mapping, got {type(raw).__name__}")
        if allowed is not None:
            unknown = sorted(str(k) for k in raw if k not in allowed)
            if unknown:
                at = f"{where}." if where else ""
                self.fail(
                    f"{at}{unknown[0]}",
                    f"unknown field; expected one of {', '.join(sorted(allowed))}",
                )
        return raw

    def sequence(self, raw: Any, where: str) -> Sequence[Any]:
        if not isinstance(raw, list):
            self.fail(where, f"must be a list, got {type(raw).__name__}")
        return raw

    def number(self, raw: Any, where: str, *, positive: bool = False) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            self.fail(where, f"must be a number, got {raw!r}")
        if raw < 0 or (positive and raw == 0):
            self.fail(where, f"must be {'positive' if positive else 'zero or more'}, got {raw!r}")
        return float(raw)

    def text(self, raw: Any, where: str) -> str:
        if not isinstance(raw, str):
            self.fail(where, f"must be a string, got {raw!r}")
        return raw
