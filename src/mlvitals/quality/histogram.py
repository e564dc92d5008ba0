"""Histograms on bins frozen from a reference, with exact counts.

The edges ``e[0] < ... < e[m-1]`` are the reference's deciles (from its quantile sketch; the
first is its minimum) plus every value that holds a large share of the reference (so the
values of a discrete column get bins of their own). There are ``m + 1`` bins::

    (-inf, e[0])  [e[0], e[1])  ...  [e[m-2], e[m-1])  [e[m-1], +inf)

The first bin is empty for the reference itself and catches current values below its range.
Counts are exact, so histograms of partitions binned on the same edges add up to the
histogram of the whole, and binned drift measures (PSI, chi-squared, Jensen-Shannon, KL,
Hellinger) give the same value from stored profiles as from raw data.

>>> import numpy as np
>>> h = Histogram.of_sorted(np.array([1.0, 2.0, 2.0, 5.0]), (1.0, 2.0, 4.0))
>>> h.counts
(0, 1, 2, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_BINS = 10
# A value holding at least this share of the reference gets a bin edge of its own.
ATOM_SHARE = 0.02


@dataclass(frozen=True, slots=True)
class Histogram:
    edges: tuple[float, ...]
    counts: tuple[int, ...]

    @staticmethod
    def of_sorted(values: np.ndarray, edges: Sequence[float]) -> Histogram:
        """Counts of sorted values (O(bins log n): no pass over the values)."""
        cuts = np.searchsorted(values, np.asarray(edges, dtype=np.float64), side="left")
        bounds = np.concatenate(([0], cuts, [values.size]))
        return Histogram(tuple(edges), tuple(int(c) for c in np.diff(bounds)))

    @staticmethod
    def of(values: np.ndarray, edges: Sequence[float]) -> Histogram:
        """Counts of unsorted values."""
        idx = np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="right")
        counts = np.bincount(idx, minlength=len(edges) + 1)
        return Histogram(tuple(edges), tuple(int(c) for c in counts))

    def merge(self, other: Histogram) -> Histogram:
        if other.edges != self.edges:
            raise ValueError("histograms have different bin edges")
        return Histogram(
            self.edges, tuple(a + b for a, b in zip(self.counts, other.counts, strict=True))
        )

    @property
    def total(self) -> int:
        return sum(self.counts)


def reference_edges(quantiles: Sequence[float], atoms: Sequence[float] = ()) -> tuple[float, ...]:
    """Edges from the reference's quantiles at 0, 1/bins, ..., (bins-1)/bins and its atoms.

    Ties collapse (a constant column has one edge, so two bins: below it and from it on).
    """
    values = {float(v) for v in (*quantiles, *atoms) if np.isfinite(v)}
    return tuple(sorted(values))


def quantile_levels(bins: int = DEFAULT_BINS) -> list[float]:
    return [i / bins for i in range(bins)]
