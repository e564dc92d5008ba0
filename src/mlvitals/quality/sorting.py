"""Sort a column's finite values, kept as chunks, into a reusable work buffer.

Whole numbers in a small range (counts, ratings, codes stored as floats) are counted rather
than compared: one ``bincount`` and one ``repeat`` instead of an O(n log n) sort, several
times faster on a million values. Anything else is concatenated and sorted in place.

>>> import numpy as np
>>> sort_chunks("doc", [np.array([3.0, 1.0]), np.array([2.0, 1.0])]).tolist()
[1.0, 1.0, 2.0, 3.0]
>>> sort_chunks("doc", [np.array([0.5, -1.0])]).tolist()
[-1.0, 0.5]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mlvitals.quality.scratch import buffer

MAX_COUNTED_SPAN = 1 << 16
"""Widest range of whole numbers (largest minus smallest) that is counted, not sorted."""


def sort_chunks(
    slot: str, chunks: Sequence[np.ndarray], bounds: tuple[float, float] | None = None
) -> np.ndarray:
    """The chunks' finite float64 values, sorted, in this thread's ``slot`` work buffer.

    ``bounds`` is the smallest and largest value when known (a profile's), saving a pass.
    """
    size = sum(c.size for c in chunks)
    out = buffer(slot, size)
    if size and _count_into(out, chunks, bounds):
        return out
    np.concatenate(chunks, out=out)
    out.sort()
    return out


def _count_into(
    out: np.ndarray, chunks: Sequence[np.ndarray], bounds: tuple[float, float] | None
) -> bool:
    """Fill ``out`` by counting, when every value is a whole number in a small range."""
    present = [c for c in chunks if c.size]
    if bounds is None:
        bounds = min(float(c.min()) for c in present), max(float(c.max()) for c in present)
    low, high = bounds
    span = high - low
    if not (low.is_integer() and span <= MAX_COUNTED_SPAN and math.isfinite(span)):
        return False
    counts = np.zeros(int(span) + 1, dtype=np.int64)
    for c in present:
        index = (c - low).astype(np.int64)
        if not np.array_equal(index + low, c):
            return False  # some value is not a whole number (checked on the value itself)
        counts += np.bincount(index, minlength=counts.size)
    values = np.flatnonzero(counts)
    out[:] = np.repeat(values.astype(np.float64) + low, counts[values])
    return True
