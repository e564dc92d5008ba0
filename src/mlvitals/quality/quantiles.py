"""Quantiles of a numeric column: an Apache DataSketches KLL sketch behind an immutable value.

KLL keeps a few hundred weighted items however long the stream; every rank it answers is off
by at most :attr:`KllSketch.rank_error` (about 1.3 % of the count with ``k=200``, with
99 % confidence), and sketches of partitions merge into a sketch of the whole with the same
guarantee.

>>> import numpy as np
>>> acc = QuantileAccumulator()
>>> acc.update(np.arange(1000, dtype=float))
>>> s = acc.freeze()
>>> abs(s.quantile(0.5) - 500) <= s.rank_error * 1000
True
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import datasketches
import numpy as np

from mlvitals.quality.kll import DEFAULT_K, Levels, M, level_capacity

_HEADER = struct.Struct("<BBBBHBBQHBB")
_DIRECT_MIN = 4096  # below this many values the library's own updates are as cheap


@dataclass(frozen=True, slots=True)
class KllSketch:
    """An immutable, serialised KLL sketch of float64 values."""

    data: bytes

    def _sketch(self) -> datasketches.kll_doubles_sketch:
        return datasketches.kll_doubles_sketch.deserialize(self.data)

    @property
    def count(self) -> int:
        return int(self._sketch().n)

    @property
    def rank_error(self) -> float:
        """Bound on the normalised rank error of one quantile or CDF query (99 % confidence);
        0 while the sketch still holds every value."""
        sk = self._sketch()
        if not sk.is_estimation_mode():
            return 0.0
        return float(sk.normalized_rank_error(False))

    def quantile(self, q: float) -> float:
        return float(self._sketch().get_quantile(q))

    def quantiles(self, qs: list[float]) -> list[float]:
        sk = self._sketch()
        if sk.is_empty():
            return [float("nan")] * len(qs)
        return [float(v) for v in sk.get_quantiles(qs)]

    def weighted_items(self) -> tuple[np.ndarray, np.ndarray]:
        """The retained items, sorted, with their weights (which add up to the count).

        This is the discrete distribution the sketch stands for; ECDF statistics computed
        on it are within the rank error of those on the raw data.
        """
        # Read from the levels (weight 2**h at level h): the library's iterator gives a
        # wrong weight to every item when its lowest level is empty.
        levels = Levels.from_bytes(self.data).levels
        if not any(lv.size for lv in levels):
            return np.empty(0), np.empty(0)
        items = np.concatenate(levels)
        weights = np.concatenate([np.full(lv.size, float(1 << h)) for h, lv in enumerate(levels)])
        order = np.argsort(items, kind="stable")
        return items[order], weights[order]

    def merge(self, other: KllSketch) -> KllSketch:
        """The sketch of both streams (reproducible: see :mod:`mlvitals.quality.kll`)."""
        levels = Levels.from_bytes(self.data)
        levels.merge(Levels.from_bytes(other.data))
        return KllSketch(levels.to_bytes())


def sketch_of_sorted(s: np.ndarray, k: int = DEFAULT_K) -> KllSketch:
    """The KLL sketch of ``s``, sorted finite float64 values, built directly.

    Updating a KLL sketch costs about 14 ns a value and holds the GIL. For values already
    sorted the same kind of sketch is laid out at once: the levels the library would have
    (its capacities for ``k``), level ``h`` holding every ``2**h``-th value of a run of
    consecutive values (the middle one of each block of ``2**h``), so every rank it answers
    is off by at most half the largest weight, within the library's own error bound. The
    result is a regular sketch in the library's serial format (version 1): it answers,
    merges and serialises like any other.

    >>> import numpy as np
    >>> v = np.arange(100_000, dtype=float)
    >>> q = sketch_of_sorted(v)
    >>> q.count, abs(q.quantile(0.5) - 50_000) <= q.rank_error * 100_000
    (100000, True)
    """
    n = int(s.size)
    if n < _DIRECT_MIN:
        acc = QuantileAccumulator(k)
        acc.update(s)
        return acc.freeze()
    # Laid out directly: every rank within half the largest weight.
    levels = 1
    while sum(level_capacity(k, levels, h) << h for h in range(levels)) < n:
        levels += 1
    sizes = [0] * levels
    remaining = n
    for h in range(levels - 1, -1, -1):  # the heaviest level takes the lowest values
        sizes[h] = min(level_capacity(k, levels, h), remaining >> h)
        remaining -= sizes[h] << h
    parts: list[np.ndarray] = []
    start = n  # fill from the top: level h covers values [start - sizes[h] * 2**h, start)
    for h in range(levels):
        width = 1 << h
        start -= sizes[h] << h
        parts.append(s[start + width // 2 : start + (sizes[h] << h) : width])
    items = np.concatenate(parts)
    capacity = sum(level_capacity(k, levels, h) for h in range(levels))
    offsets = [capacity - items.size]
    for size in sizes[:-1]:
        offsets.append(offsets[-1] + size)
    head = _HEADER.pack(5, 1, 15, 0, k, M, 0, n, k, levels, 0)
    body = struct.pack(f"<{levels}I", *offsets) + struct.pack("<dd", s[0], s[-1])
    return KllSketch(head + body + items.astype("<f8").tobytes())


class QuantileAccumulator:
    """The mutable KLL sketch a profile pass updates: reproducible, the same values in the
    same batches give the same sketch (:class:`~mlvitals.quality.kll.Levels`)."""

    __slots__ = ("levels",)

    def __init__(self, k: int = DEFAULT_K) -> None:
        self.levels = Levels(k)

    def update(self, values: np.ndarray, *, is_sorted: bool = False) -> None:
        """Add finite float64 values."""
        if values.size:
            v = np.asarray(values, dtype=np.float64)
            self.levels.add(v if is_sorted else np.sort(v))

    def freeze(self) -> KllSketch:
        return KllSketch(self.levels.to_bytes())
