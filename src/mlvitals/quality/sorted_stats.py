"""The statistics read off sorted values: the quantile sketch and the exact run lengths.

A profile pass feeds each batch's sorted finite values here; a check that keeps a column's
values in memory sorts the whole column once instead and feeds it in one go (the drift tests
then read the same sorted array). Run lengths of sorted values are the distinct values and
their exact counts, which feed the top-values sketch.

>>> import numpy as np
>>> stats = SortedStats()
>>> runs = stats.add(np.array([1.0, 2.0, 2.0, 5.0]))
>>> runs.values.tolist(), runs.counts.tolist()
([1.0, 2.0, 5.0], [1, 2, 1])
>>> quantiles, top = stats.freeze()
>>> top.items()[0], quantiles.count
((2.0, 2), 4)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlvitals.quality.frequent import TopValues, TopValuesAccumulator
from mlvitals.quality.quantiles import KllSketch, QuantileAccumulator, sketch_of_sorted


@dataclass(frozen=True, slots=True)
class Runs:
    """The distinct values of a sorted array, ascending, and how often each occurs.

    ``counts`` is None when every value occurs once (``values`` is then the array itself).
    """

    values: np.ndarray
    counts: np.ndarray | None

    @staticmethod
    def of(s: np.ndarray) -> Runs:
        if s.size < 2:
            return Runs(s, None)
        starts = np.flatnonzero(s[1:] != s[:-1])
        if starts.size == s.size - 1:
            return Runs(s, None)
        starts += 1
        first = np.concatenate(([0], starts))
        counts = np.diff(np.concatenate((first, [s.size])))
        return Runs(s[first], counts)


class SortedStats:
    """Accumulates the quantile sketch and top values from sorted batches of finite floats."""

    __slots__ = ("quantiles", "top")

    def __init__(self) -> None:
        self.quantiles = QuantileAccumulator()
        self.top = TopValuesAccumulator("number")

    def add(self, s: np.ndarray) -> Runs:
        """Add sorted finite values; returns their run lengths (for the caller's reuse)."""
        runs = Runs.of(s)
        if s.size:
            self.quantiles.update(s, is_sorted=True)
            self._count(runs)
        return runs

    def _count(self, runs: Runs) -> None:
        if runs.counts is not None:  # some value repeats: worth counting as a top value
            self.top.update(runs.values, runs.counts)
        else:
            self.top.dropped += 1  # every value here occurred once; none was fed

    def freeze(self) -> tuple[KllSketch, TopValues]:
        return self.quantiles.freeze(), self.top.freeze()

    @staticmethod
    def of_whole(s: np.ndarray) -> tuple[KllSketch, TopValues, Runs]:
        """The statistics of all of a column's values at once, sorted: the quantile sketch is
        then laid out directly (:func:`~mlvitals.quality.quantiles.sketch_of_sorted`)."""
        stats = SortedStats()
        runs = Runs.of(s)
        if s.size:
            stats._count(runs)
        return sketch_of_sorted(s), stats.top.freeze(), runs
