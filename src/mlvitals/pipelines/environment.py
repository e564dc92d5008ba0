"""The software environment of a run: Python, platform and every installed distribution.

Capturing must be cheap because it happens at every run start. ``importlib.metadata``
parses each distribution's METADATA file (about 1 ms each); instead the ``*.dist-info``
folder names on ``sys.path`` are read, which carry the normalized name and version by
specification, and only folders whose name lacks a version (some ``*.egg-info``) have
their metadata header read. The first distribution of a name on ``sys.path`` wins, as for
``importlib.metadata``.

>>> env = capture_environment()
>>> env.python.count(".") == 2 and len(env.hash) == 64
True
>>> Environment.from_dict(env.to_dict()) == env
True
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlvitals.errors import InputError

_SUFFIXES = (".dist-info", ".egg-info")
_NAME_RUN = re.compile(r"[-_.]+")


def normalize_name(name: str) -> str:
    """The PEP 503 form of a distribution name: ``Foo_Bar`` -> ``foo-bar``."""
    return _NAME_RUN.sub("-", name).lower()


@dataclass(frozen=True, slots=True)
class Environment:
    """An immutable environment snapshot; ``hash`` identifies its content.

    ``packages`` maps normalized distribution names to versions.
    """

    python: str
    implementation: str
    platform: str
    packages: Mapping[str, str] = field(default_factory=dict)
    captured_at: float | None = field(default=None, compare=False)

    @property
    def hash(self) -> str:
        return content_hash(self.python, self.implementation, self.platform, self.packages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "hash": self.hash,
            "python": self.python,
            "implementation": self.implementation,
            "platform": self.platform,
            "packages": dict(sorted(self.packages.items())),
            "captured_at": self.captured_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Environment:
        """Read a snapshot written by :meth:`to_dict`; raise :class:`InputError` if malformed."""
        try:
            packages = data["packages"]
            if not isinstance(packages, Mapping):
                raise TypeError("'packages' must be an object of name: version")
            env = cls(
                python=str(data["python"]),
                implementation=str(data.get("implementation", "")),
                platform=str(data.get("platform", "")),
                packages={normalize_name(str(k)): str(v) for k, v in packages.items()},
                captured_at=data.get("captured_at"),
            )
        except (KeyError, TypeError) as exc:
            raise InputError(f"not an environment snapshot: {exc}") from None
        return env


def content_hash(python: str, implementation: str, plat: str, packages: Mapping[str, str]) -> str:
    """SHA-256 over a canonical JSON form, so equal environments hash equally anywhere."""
    canonical = json.dumps(
        {
            "python": python,
            "implementation": implementation,
            "platform": plat,
            "packages": sorted(packages.items()),
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def capture_environment(
    paths: Iterable[str] | None = None, *, captured_at: float | None = None
) -> Environment:
    """Snapshot this interpreter and the distributions importable from ``paths`` (``sys.path``).

    >>> "pyyaml" in capture_environment().packages
    True
    """
    uname = platform.uname()
    return Environment(
        python=platform.python_version(),
        implementation=sys.implementation.name,
        platform=f"{uname.system}-{uname.release}-{uname.machine}",
        packages=installed_distributions(sys.path if paths is None else paths),
        captured_at=captured_at,
    )


def installed_distributions(paths: Iterable[str]) -> dict[str, str]:
    """``{normalized name: version}`` of the distributions found on ``paths``, first one wins."""
    found: dict[str, str] = {}
    seen: set[str] = set()
    for entry in paths:
        folder = entry or "."
        if folder in seen:
            continue
        seen.add(folder)
        try:
            scan = os.scandir(folder)
        except OSError:
            continue  # zip files and missing folders hold no installed distributions
        with scan:
            names = sorted(e.name for e in scan if e.name.endswith(_SUFFIXES))
        for dirname in names:
            parsed = _parse_folder(Path(folder, dirname))
            if parsed is not None and parsed[0] not in found:
                found[parsed[0]] = parsed[1]
    return found


def _parse_folder(path: Path) -> tuple[str, str] | None:
    stem = path.name.rsplit(".", 1)[0]
    parts = stem.split("-")
    # A well-formed folder name is NAME-VERSION (egg-info may add -pyX.Y): the name part
    # never contains '-' there, since the spec replaces it with '_'.
    if path.name.endswith(".dist-info") and len(parts) == 2:
        return normalize_name(parts[0]), parts[1]
    return _read_header(path)


def _read_header(path: Path) -> tuple[str, str] | None:
    file = path / ("METADATA" if path.name.endswith(".dist-info") else "PKG-INFO")
    if path.is_file():
        file = path  # a single-file egg-info
    name = version = None
    try:
        with file.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    break  # the header ends at the first blank line
                key, _, value = line.partition(":")
                if key == "Name":
                    name = value.strip()
                elif key == "Version":
                    version = value.strip()
                if name and version:
                    break
    except OSError:
        return None
    if not name or version is None:
        return None
    return normalize_name(name), version


def save_snapshot(env: Environment, path: str | Path) -> None:
    Path(path).write_text(json.dumps(env.to_dict(), indent=2) + "\n", encoding="utf-8")


def load_snapshot(path: str | Path) -> Environment:
    """Read a snapshot file written by ``mlvitals env snapshot -o FILE``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read snapshot {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"snapshot {path} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"snapshot {path}: expected a JSON object")
    return Environment.from_dict(data)
