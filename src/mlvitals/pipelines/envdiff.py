"""The difference between two environments: what a broken run changed.

Versions are ordered by PEP 440 (``packaging.version``); a version that is not PEP 440
lands in ``changed`` rather than being guessed into upgraded or downgraded.

>>> from mlvitals.pipelines.environment import Environment
>>> a = Environment("3.11.7", "cpython", "Linux", {"numpy": "1.26.4", "six": "1.16.0"})
>>> b = Environment("3.11.7", "cpython", "Linux", {"numpy": "2.0.0", "rich": "13.7.1"})
>>> d = diff_environments(a, b)
>>> d.upgraded, d.added, d.removed
({'numpy': ('1.26.4', '2.0.0')}, {'rich': '13.7.1'}, {'six': '1.16.0'})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from mlvitals.pipelines.environment import Environment


@dataclass(frozen=True, slots=True)
class EnvDiff:
    """From ``before`` to ``after``; ``python``/``platform`` are (old, new) when they differ."""

    added: dict[str, str] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)
    upgraded: dict[str, tuple[str, str]] = field(default_factory=dict)
    downgraded: dict[str, tuple[str, str]] = field(default_factory=dict)
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)
    python: tuple[str, str] | None = None
    platform: tuple[str, str] | None = None
    before_hash: str = ""
    after_hash: str = ""

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.upgraded
            or self.downgraded
            or self.changed
            or self.python
            or self.platform
        )

    def to_dict(self) -> dict[str, Any]:
        def pairs(d: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
            return {k: {"before": a, "after": b} for k, (a, b) in d.items()}

        return {
            "before_hash": self.before_hash,
            "after_hash": self.after_hash,
            "python": _pair(self.python),
            "platform": _pair(self.platform),
            "added": self.added,
            "removed": self.removed,
            "upgraded": pairs(self.upgraded),
            "downgraded": pairs(self.downgraded),
            "changed": pairs(self.changed),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnvDiff:
        """Read :meth:`to_dict` output back (e.g. from the HTTP API)."""

        def pairs(key: str) -> dict[str, tuple[str, str]]:
            return {k: (v["before"], v["after"]) for k, v in (data.get(key) or {}).items()}

        def pair(key: str) -> tuple[str, str] | None:
            v = data.get(key)
            return None if v is None else (v["before"], v["after"])

        return cls(
            added=dict(data.get("added") or {}),
            removed=dict(data.get("removed") or {}),
            upgraded=pairs("upgraded"),
            downgraded=pairs("downgraded"),
            changed=pairs("changed"),
            python=pair("python"),
            platform=pair("platform"),
            before_hash=data.get("before_hash", ""),
            after_hash=data.get("after_hash", ""),
        )

    def lines(self) -> list[str]:
        """Human-readable lines, one per difference (``+``, ``-``, ``↑``, ``↓``, ``~``)."""
        out = []
        if self.python:
            out.append(f"~ python {self.python[0]} -> {self.python[1]}")
        if self.platform:
            out.append(f"~ platform {self.platform[0]} -> {self.platform[1]}")
        out += [f"+ {n} {v}" for n, v in self.added.items()]
        out += [f"- {n} {v}" for n, v in self.removed.items()]
        out += [f"↑ {n} {a} -> {b}" for n, (a, b) in self.upgraded.items()]
        out += [f"↓ {n} {a} -> {b}" for n, (a, b) in self.downgraded.items()]
        out += [f"~ {n} {a} -> {b}" for n, (a, b) in self.changed.items()]
        return out


def _pair(value: tuple[str, str] | None) -> dict[str, str] | None:
    return None if value is None else {"before": value[0], "after": value[1]}


def _order(before: str, after: str) -> int | None:
    """-1, 0 or 1 by PEP 440; ``None`` when either is not a PEP 440 version."""
    try:
        a, b = Version(before), Version(after)
    except InvalidVersion:
        return None
    return (a > b) - (a < b)


def diff_environments(before: Environment, after: Environment) -> EnvDiff:
    """What changed from ``before`` to ``after`` (each part sorted by name)."""
    old, new = before.packages, after.packages
    upgraded: dict[str, tuple[str, str]] = {}
    downgraded: dict[str, tuple[str, str]] = {}
    changed: dict[str, tuple[str, str]] = {}
    for name in sorted(old.keys() & new.keys()):
        a, b = old[name], new[name]
        if a == b:
            continue
        order = _order(a, b)
        if order is None:
            changed[name] = (a, b)
        elif order < 0:
            upgraded[name] = (a, b)
        elif order > 0:
            downgraded[name] = (a, b)
        # order == 0: equal under PEP 440 ("1.0" vs "1.0.0"), not a change
    return EnvDiff(
        added={n: new[n] for n in sorted(new.keys() - old.keys())},
        removed={n: old[n] for n in sorted(old.keys() - new.keys())},
        upgraded=upgraded,
        downgraded=downgraded,
        changed=changed,
        python=None if before.python == after.python else (before.python, after.python),
        platform=None if before.platform == after.platform else (before.platform, after.platform),
        before_hash=before.hash,
        after_hash=after.hash,
    )
