"""Reading one mapping of a rules file, collecting every error with where it was.

Each getter returns the value, or ``None`` after recording an error that names the place
(``rule 'HighErrorRate'``) and the field, so one pass reports all mistakes of a file.

>>> errors: list[str] = []
>>> r = Reader({"threshold": "high"}, "rule 'X'", errors)
>>> r.number("threshold") is None, errors
(True, ["rule 'X', field 'threshold': expected a number, got 'high'"])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from typing import Any, TypeVar

from mlvitals.alerts.labels import LABEL_NAME
from mlvitals.durations import parse_duration

T = TypeVar("T")


class Reader:
    def __init__(self, data: Mapping[str, Any], where: str, errors: list[str]) -> None:
        self.data = data
        self.where = where
        self.errors = errors
        self._start = len(errors)

    @property
    def failed(self) -> bool:
        return len(self.errors) > self._start

    def error(self, field: str | None, message: str) -> None:
        at = f"{self.where}, field '{field}'" if field else self.where
        self.errors.append(f"{at}: {message}")

    def only(self, allowed: Set[str]) -> None:
        """Record an error for every key not in ``allowed`` (typos must not pass silently)."""
        for key in sorted(set(self.data) - allowed, key=str):
            self.error(str(key), f"unknown field; expected one of {', '.join(sorted(allowed))}")

    def _get(self, name: str, required: bool) -> Any:
        if name not in self.data or self.data[name] is None:
            if required:
                self.error(name, "is required")
            return None
        return self.data[name]

    def convert(self, name: str, fn: Callable[[Any], T], required: bool = False) -> T | None:
        raw = self._get(name, required)
        if raw is None:
            return None
        try:
            return fn(raw)
        except (ValueError, TypeError) as exc:
            self.error(name, str(exc))
            return None

    def text(self, name: str, required: bool = False, choices: tuple[str, ...] = ()) -> str | None:
        raw = self._get(name, required)
        if raw is None:
            return None
        if not isinstance(raw, str | int | float) or isinstance(raw, bool) or str(raw) == "":
            self.error(name, f"expected a non-empty string, got {raw!r}")
            return None
        if choices and str(raw) not in choices:
            self.error(name, f"expected one of {', '.join(choices)}, got {raw!r}")
            return None
        return str(raw)

    def number(
        self, name: str, required: bool = False, low: float | None = None, high: float | None = None
    ) -> float | None:
        raw = self._get(name, required)
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            self.error(name, f"expected a number, got {raw!r}")
            return None
        value = float(raw)
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = (
                f"between {low:g} and {high:g}"
                if low is not None and high is not None
                else (f"at least {low:g}" if low is not None else f"at most {high:g}")
            )
            self.error(name, f"must be {bounds}, got {raw!r}")
            return None
        return value

    def duration(self, name: str, required: bool = False, positive: bool = False) -> float | None:
        return self.convert(name, lambda raw: parse_duration(raw, positive=positive), required)

    def flag(self, name: str) -> bool | None:
        raw = self._get(name, False)
        if raw is None:
            return None
        if not isinstance(raw, bool):
            self.error(name, f"expected true or false, got {raw!r}")
            return None
        return raw

    def mapping(self, name: str, required: bool = False) -> Mapping[str, Any] | None:
        raw = self._get(name, required)
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            self.error(name, f"expected a mapping, got {raw!r}")
            return None
        return raw

    def items(self, name: str, required: bool = False) -> list[Any] | None:
        raw = self._get(name, required)
        if raw is None:
            return None
        if not isinstance(raw, list):
            self.error(name, f"expected a list, got {raw!r}")
            return None
        return raw

    def strings(self, name: str) -> tuple[str, ...] | None:
        raw = self.items(name)
        if raw is None:
            return None
        if not all(isinstance(v, str) and v for v in raw):
            self.error(name, f"expected a list of strings, got {raw!r}")
            return None
        return tuple(raw)

    def labels(self, name: str) -> dict[str, str] | None:
        """A mapping of label names to string values (numbers are turned into strings)."""
        raw = self.mapping(name)
        if raw is None:
            return None
        out: dict[str, str] = {}
        for key, value in raw.items():
            if not isinstance(key, str) or not LABEL_NAME.fullmatch(key):
                self.error(name, f"{key!r} is not a label name (letters, digits and _)")
            elif isinstance(value, bool) or not isinstance(value, str | int | float):
                self.error(name, f"the value of {key!r} must be a string, got {value!r}")
            else:
                out[key] = str(value)
        return out
