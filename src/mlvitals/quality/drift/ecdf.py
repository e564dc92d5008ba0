"""Two empirical CDFs evaluated on their pooled, distinct values: the input of every ECDF test.

Raw data gives unit weights; a quantile sketch gives its retained items with their weights
(which sum to the count), so the same code measures drift from raw data and from stored
profiles. The two sorted samples are merged in chunks of at most ``chunk`` values from each
side, cut between distinct values (so ties never straddle two chunks): the merge needs only
small, cache-sized temporaries however large the samples are, and each statistic folds over
the chunks.

>>> import numpy as np
>>> e = MergedECDF(np.array([1.0, 2.0, 2.0]), np.array([2.0, 3.0]))
>>> [(c.values.tolist(), c.cum_a.tolist(), c.cum_b.tolist()) for c in e.chunks()]
[([1.0, 2.0, 3.0], [1.0, 3.0, 3.0], [0.0, 1.0, 2.0])]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

DEFAULT_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive distinct pooled values and the cumulative weights at or below each."""

    values: np.ndarray
    cum_a: np.ndarray
    cum_b: np.ndarray


class MergedECDF:
    """The pooled ECDFs of two sorted samples (optionally weighted), chunk by chunk."""

    __slots__ = ("_a", "_b", "_chunk", "_distances", "_wa", "_wb", "n_a", "n_b")

    def __init__(
        self,
        a_sorted: np.ndarray,
        b_sorted: np.ndarray,
        a_weights: np.ndarray | None = None,
        b_weights: np.ndarray | None = None,
        *,
        chunk: int = DEFAULT_CHUNK,
    ) -> None:
        self._a, self._b = a_sorted, b_sorted
        self._wa, self._wb = a_weights, b_weights
        self._chunk = chunk
        self.n_a = float(a_sorted.size if a_weights is None else a_weights.sum())
        self.n_b = float(b_sorted.size if b_weights is None else b_weights.sum())
        self._distances: tuple[float, float] | None = None

    def distances(self) -> tuple[float, float]:
        """(KS statistic, Wasserstein-1 distance), computed together in one merge.

        KS is the largest gap ``|F_a - F_b|`` at a pooled value; Wasserstein integrates the
        gap between consecutive pooled values: ``sum((z[k+1] - z[k]) * gap[k])``.
        """
        if self._distances is None:
            d = w = 0.0
            prev_value = prev_gap = None
            inv_a, inv_b = 1.0 / self.n_a, 1.0 / self.n_b
            for c in self.chunks():
                gap = c.cum_a * inv_a
                gap -= c.cum_b * inv_b
                np.abs(gap, out=gap)
                d = max(d, float(gap.max()))
                if prev_value is not None and prev_gap is not None:
                    w += (float(c.values[0]) - prev_value) * prev_gap  # across the boundary
                steps = np.diff(c.values)
                steps *= gap[:-1]  # not np.dot: BLAS would start threads of its own here
                w += float(steps.sum())
                prev_value, prev_gap = float(c.values[-1]), float(gap[-1])
            self._distances = (d, w)
        return self._distances

    def chunks(self) -> Iterator[Chunk]:
        a, b, step = self._a, self._b, self._chunk
        i = j = 0
        base_a = base_b = 0.0
        while i < a.size or j < b.size:
            # Cut at the smaller of the values `step` ahead on each side, after its ties.
            candidates = [a[i + step - 1]] if i + step <= a.size else []
            if j + step <= b.size:
                candidates.append(b[j + step - 1])
            if candidates:
                cut = min(candidates)
                i_end = int(np.searchsorted(a, cut, side="right"))
                j_end = int(np.searchsorted(b, cut, side="right"))
            else:
                i_end, j_end = a.size, b.size
            chunk = self._merge(i, i_end, j, j_end, base_a, base_b)
            base_a, base_b = float(chunk.cum_a[-1]), float(chunk.cum_b[-1])
            i, j = i_end, j_end
            yield chunk

    def _merge(self, i0: int, i1: int, j0: int, j1: int, base_a: float, base_b: float) -> Chunk:
        pooled = np.concatenate((self._a[i0:i1], self._b[j0:j1]))
        order = np.argsort(pooled, kind="stable")  # two sorted runs: a linear merge
        z = pooled[order]
        from_a = order < (i1 - i0)
        if self._wa is None and self._wb is None:
            # Counts within the chunk fit 32 bits, whose running sum numpy vectorises.
            in_a = np.cumsum(from_a, dtype=np.int32)
            cum_a = in_a.astype(np.float64)
            cum_b = np.arange(1.0, z.size + 1.0)
            cum_b -= cum_a
        else:
            wa = np.ones(i1 - i0) if self._wa is None else self._wa[i0:i1]
            wb = np.ones(j1 - j0) if self._wb is None else self._wb[j0:j1]
            w = np.concatenate((wa, wb))[order]
            cum_a = np.cumsum(np.where(from_a, w, 0.0))
            cum_b = np.cumsum(np.where(from_a, 0.0, w))
        cum_a += base_a
        cum_b += base_b
        # Keep the last position of each run of equal values: the CDFs after all ties.
        new = z[1:] != z[:-1]
        if new.all():
            return Chunk(z, cum_a, cum_b)
        last = np.append(np.flatnonzero(new), z.size - 1)
        return Chunk(z[last], cum_a[last], cum_b[last])


def merge(
    a_sorted: np.ndarray,
    b_sorted: np.ndarray,
    a_weights: np.ndarray | None = None,
    b_weights: np.ndarray | None = None,
) -> MergedECDF:
    """The pooled ECDFs of two sorted samples (optionally weighted)."""
    return MergedECDF(a_sorted, b_sorted, a_weights, b_weights)
