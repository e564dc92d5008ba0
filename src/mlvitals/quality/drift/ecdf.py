"""Two empirical CDFs evaluated on their pooled, distinct values: the input of every ECDF test.

Raw data gives unit weights; a quantile sketch gives its retained items with their weights
(which sum to the count), so the same code measures drift from raw data and from stored
profiles. The merge is one stable argsort of the two sorted samples (a linear merge of two
runs) and a cumulative sum.

>>> import numpy as np
>>> e = merge(np.array([1.0, 2.0, 2.0]), np.array([2.0, 3.0]))
>>> e.values.tolist(), e.cum_a.tolist(), e.cum_b.tolist()
([1.0, 2.0, 3.0], [1.0, 3.0, 3.0], [0.0, 1.0, 2.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class MergedECDF:
    """``cum_a[j]`` / ``cum_b[j]``: weight of sample a / b at or below ``values[j]``."""

    values: np.ndarray
    cum_a: np.ndarray
    cum_b: np.ndarray
    n_a: float
    n_b: float

    def cdfs(self) -> tuple[np.ndarray, np.ndarray]:
        return self.cum_a / self.n_a, self.cum_b / self.n_b


def merge(
    a_sorted: np.ndarray,
    b_sorted: np.ndarray,
    a_weights: np.ndarray | None = None,
    b_weights: np.ndarray | None = None,
) -> MergedECDF:
    """Merge two sorted samples (optionally weighted) into their pooled ECDFs."""
    na, nb = a_sorted.size, b_sorted.size
    pooled = np.concatenate((a_sorted, b_sorted))
    order = np.argsort(pooled, kind="stable")  # two sorted runs: a linear merge
    z = pooled[order]
    from_a = order < na
    if a_weights is None and b_weights is None:
        cum_a = np.cumsum(from_a, dtype=np.int64).astype(np.float64)
        cum_b = np.arange(1, na + nb + 1, dtype=np.float64) - cum_a
        total_a, total_b = float(na), float(nb)
    else:
        wa = np.ones(na) if a_weights is None else a_weights
        wb = np.ones(nb) if b_weights is None else b_weights
        w = np.concatenate((wa, wb))[order]
        cum_a = np.cumsum(np.where(from_a, w, 0.0))
        cum_b = np.cumsum(np.where(from_a, 0.0, w))
        total_a, total_b = float(wa.sum()), float(wb.sum())
    # Keep the last position of each run of equal values: the CDFs after all ties.
    last = np.flatnonzero(np.concatenate((z[1:] != z[:-1], [True])))
    return MergedECDF(z[last], cum_a[last], cum_b[last], total_a, total_b)
