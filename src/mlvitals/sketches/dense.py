"""Summing many stored sketches at NumPy speed: what rollups and queries do all day.

:class:`DenseSketch` holds a :class:`~mlvitals.sketches.QuantileSketch`'s state with its
buckets as one dense int64 array, so adding a sketch in dict form (as stored) is a slice
addition instead of a Python loop over its buckets. Its :meth:`to_dict` is exactly the dict
that the equivalent ``QuantileSketch`` merges would give.

>>> from mlvitals.sketches import QuantileSketch
>>> a, b = QuantileSketch(), QuantileSketch()
>>> a.add_many([0.1, 0.2, 0.3]); b.add_many([0.25, 4.0])
>>> total = DenseSketch()
>>> total.add_dict(a.to_dict(packed=True)); total.add_dict(b.to_dict())
>>> reference = QuantileSketch.from_dict(a.to_dict()); reference.merge(b)
>>> total.to_dict() == reference.to_dict()
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from mlvitals.sketches.quantile import MAX_BINS, QuantileSketch, pack_bins, pack_counts, unpack_bins


class DenseSketch:
    """The sum of sketches added in dict form (trusted: as the store keeps them)."""

    __slots__ = ("_counts", "_max", "_min", "_offset", "_sum", "_zero", "alpha", "count")

    def __init__(self) -> None:
        self.alpha: float | None = None
        self.count = 0
        self._zero = 0
        self._sum = 0.0
        self._min = math.inf
        self._max = 0.0
        self._offset = 0
        self._counts = np.zeros(0, dtype=np.int64)

    @property
    def sum(self) -> float:
        return self._sum

    def add_dict(self, data: Mapping[str, Any]) -> None:
        """Add one sketch's :meth:`QuantileSketch.to_dict` form (packed or not)."""
        alpha = float(data["alpha"])
        if self.alpha is None or (self.count == 0 and alpha != self.alpha):
            self.alpha = alpha
        elif alpha != self.alpha:
            raise ValueError(
                f"cannot merge sketches of different accuracy ({self.alpha} and {alpha});"
                " build them with the same alpha"
            )
        bins = data["bins"]
        counts = np.asarray(unpack_bins(bins) if isinstance(bins, str) else bins, dtype=np.int64)
        self._add(int(data["offset"]), counts)
        count = int(data["count"])
        self._zero += int(data["zero"])
        self.count += count
        self._sum += float(data["sum"])
        if count:
            self._min = min(self._min, float(data["min"]))
        self._max = max(self._max, float(data["max"]))

    def merge(self, other: DenseSketch) -> None:
        if other.alpha is None:
            return
        if self.alpha is None or (self.count == 0 and other.alpha != self.alpha):
            self.alpha = other.alpha
        elif other.alpha != self.alpha:
            raise ValueError(
                f"cannot merge sketches of different accuracy ({self.alpha} and {other.alpha})"
            )
        self._add(other._offset, other._counts)
        self._zero += other._zero
        self.count += other.count
        self._sum += other._sum
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)

    def _add(self, offset: int, counts: np.ndarray) -> None:
        if counts.size == 0:
            return
        mine = self._counts
        if mine.size == 0:
            self._offset, self._counts = offset, counts.copy()
            return
        low = min(self._offset, offset)
        high = max(self._offset + mine.size, offset + counts.size)
        if low != self._offset or high != self._offset + mine.size:
            grown = np.zeros(high - low, dtype=np.int64)
            grown[self._offset - low : self._offset - low + mine.size] = mine
            self._offset, self._counts = low, grown
        start = offset - self._offset
        self._counts[start : start + counts.size] += counts

    def to_dict(self, *, packed: bool = False) -> dict[str, Any]:
        """What :meth:`QuantileSketch.to_dict` gives for the same merged sketch."""
        nonzero = np.flatnonzero(self._counts)
        if nonzero.size:
            low = self._offset + int(nonzero[0])
            high = self._offset + int(nonzero[-1])
            dense = self._counts[low - self._offset : high - self._offset + 1]
            if high - low >= MAX_BINS:  # the lowest buckets collapse into the lowest kept
                cut = high - MAX_BINS + 1 - low
                collapsed = int(dense[:cut].sum())
                dense = dense[cut:].copy()
                dense[0] += collapsed
                low = high - MAX_BINS + 1
            bins: list[int] | str = pack_counts(dense) if packed else dense.tolist()
        else:
            low, bins = 0, (pack_bins([]) if packed else [])
        return {
            "alpha": self.alpha if self.alpha is not None else 0.01,
            "count": self.count,
            "sum": self._sum,
            "min": self._min if self.count else 0.0,
            "max": self._max,
            "zero": self._zero,
            "offset": low,
            "bins": bins,
        }

    def cumulative(self, bounds: np.ndarray) -> np.ndarray:
        """Values at or below each of the increasing ``bounds``, then the count: what
        :func:`~mlvitals.sketches.cumulative_buckets` gives for the merged sketch, vectorised.

        >>> s = QuantileSketch(); s.add_many([0.001, 0.02, 0.02, 0.3])
        >>> d = DenseSketch(); d.add_dict(s.to_dict())
        >>> d.cumulative(np.array([0.01, 0.1, 1.0])).tolist()
        [1, 3, 4, 4]
        """
        per_bound = np.zeros(bounds.size + 1, dtype=np.int64)
        if self.count:
            low, high = self._min, self._max
            if self._zero:
                per_bound[np.searchsorted(bounds, min(max(0.0, low), high), "left")] += self._zero
            counts, offset = self._counts, self._offset
            nonzero = np.flatnonzero(counts)
            if nonzero.size and nonzero[-1] - nonzero[0] >= MAX_BINS:  # as to_dict collapses
                cut = int(nonzero[-1]) - MAX_BINS + 1
                counts = counts[cut:].copy()
                counts[0] += int(self._counts[:cut].sum())
                offset += cut
                nonzero = np.flatnonzero(counts)
            if nonzero.size:
                alpha = float(self.alpha or 0.01)
                gamma = math.exp(math.log((1.0 + alpha) / (1.0 - alpha)))  # as QuantileSketch
                reps = 2.0 * gamma ** (offset + nonzero.astype(np.float64)) / (gamma + 1.0)
                where = np.searchsorted(bounds, np.clip(reps, low, high), "left")
                per_bound += np.bincount(
                    where, weights=counts[nonzero], minlength=bounds.size + 1
                ).astype(np.int64)
        out = np.cumsum(per_bound)
        out[-1] = self.count
        return out

    def to_sketch(self) -> QuantileSketch:
        """The equivalent :class:`QuantileSketch` (for quantiles and Prometheus buckets)."""
        return QuantileSketch.from_dict(self.to_dict())
