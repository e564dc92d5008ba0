"""What changed: one timeline merged from the changes each area reports (pure, no I/O).

Each area's ``queries.py`` reports its own changes as dicts with ``time``, ``area``,
``kind``, ``subject``, ``text`` and ``url`` (deploys and instance starts and stops;
deployment, retraining, failed and late runs and changed dependencies; failed and drifted
checks). :func:`merge` puts them on one timeline, newest first.

>>> a = [{"time": 1.0, "area": "serving", "kind": "deploy", "text": "v2", "url": "/s"}]
>>> b = [{"time": 2.0, "area": "pipelines", "kind": "deployment", "text": "d", "url": "/r"}]
>>> [c["text"] for c in merge([a, b])]
['d', 'v2']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MAX_CHANGES = 100


def merge(
    sources: Iterable[Sequence[Mapping[str, Any]]], limit: int = MAX_CHANGES
) -> list[dict[str, Any]]:
    """The changes of every source, newest first (ties by area, then text), the same change
    reported twice kept once, at most ``limit``."""
    seen: set[tuple[Any, ...]] = set()
    out: list[dict[str, Any]] = []
    for source in sources:
        for change in source:
            key = (change["time"], change["kind"], change["text"])
            if key not in seen:
                seen.add(key)
                out.append(dict(change))
    out.sort(key=lambda c: (-float(c["time"]), c["area"], c["text"]))
    return out[:limit]
