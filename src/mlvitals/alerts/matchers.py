"""Label matchers, as in Alertmanager: ``name=value``, ``!=``, ``=~`` and ``!~``.

Regular expressions are anchored at both ends, and a missing label matches as the empty
string, so ``team=""`` selects alerts without a ``team`` label.

>>> m = parse_matcher('service=~"fraud|risk"')
>>> (m.matches({"service": "fraud"}), m.matches({"service": "fraud-v2"}))
(True, False)
>>> parse_matcher("team!=ml").matches({})
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlvitals.alerts.labels import LABEL_NAME, Labels

OPERATORS = ("=~", "!~", "!=", "=")
_TEXT = re.compile(r"\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*")


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label condition; build it with :func:`parse_matcher` or directly."""

    name: str
    op: str
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not LABEL_NAME.fullmatch(self.name):
            raise ValueError(f"{self.name!r} is not a label name (letters, digits, _)")
        if self.op not in OPERATORS:
            raise ValueError(f"unknown operator {self.op!r}: use =, !=, =~ or !~")
        if self.op in ("=~", "!~"):
            try:
                compiled = re.compile(f"(?:{self.value})")
            except re.error as exc:
                raise ValueError(f"bad regular expression {self.value!r}: {exc}") from None
            object.__setattr__(self, "_regex", compiled)

    def matches(self, labels: Labels) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self._regex is not None
        hit = self._regex.fullmatch(actual) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        value = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{value}"'

    def to_dict(self) -> dict[str, Any]:
        """The Alertmanager API form of a matcher."""
        return {
            "name": self.name,
            "value": self.value,
            "isRegex": self.op in ("=~", "!~"),
            "isEqual": self.op in ("=", "=~"),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Matcher:
        regex, equal = bool(data.get("isRegex")), data.get("isEqual", True) is not False
        op = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}
        return cls(str(data["name"]), op[(regex, equal)], str(data["value"]))


def parse_matcher(text: str) -> Matcher:
    """``name OP value`` where the value may be double-quoted; raises ``ValueError``."""
    m = _TEXT.fullmatch(text)
    if m is None:
        raise ValueError(
            f"not a matcher: {text!r}; write name=value, name!=value, name=~regex or name!~regex"
        )
    name, op, value = m.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return Matcher(name, op, value)


def matches_all(matchers: Iterable[Matcher], labels: Labels) -> bool:
    return all(m.matches(labels) for m in matchers)
