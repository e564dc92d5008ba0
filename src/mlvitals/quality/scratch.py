"""Reusable per-thread work buffers for column-sized temporaries.

Touching freshly allocated memory costs page faults (on some virtual machines more than the
arithmetic on it), so the drift code sorts each column into one of a few buffers that are
reused from column to column instead of allocating new arrays every time. A buffer's content
is only valid until the next call for the same slot in the same thread.

>>> import numpy as np
>>> b = buffer("doc", 3)
>>> b[:] = 1.0
>>> buffer("doc", 2).base is b.base
True
>>> release()
"""

from __future__ import annotations

import threading

import numpy as np

_local = threading.local()


def buffer(slot: str, size: int) -> np.ndarray:
    """A float64 array of ``size`` values (uninitialised), reused per slot and thread."""
    buffers: dict[str, np.ndarray] = _local.__dict__.setdefault("buffers", {})
    current = buffers.get(slot)
    if current is None or current.size < size:
        current = np.empty(max(size, 1))
        buffers[slot] = current
    return current[:size]


def release() -> None:
    """Drop this thread's buffers (call when a check or profile is done)."""
    _local.__dict__.pop("buffers", None)
