"""Turning aligned counts into distributions, with the smoothing log-ratio measures need.

PSI and KL divide by a share and take its log, so an empty bin on either side would make them
infinite. Such shares are raised to ``EPSILON`` (0.0001) and the distribution renormalised
(so it still sums to 1 and the measures stay non-negative). Jensen-Shannon and Hellinger are
finite without smoothing and use the plain shares.

>>> smoothed(np.array([0.0, 5.0, 5.0])).round(4).tolist()
[0.0001, 0.5, 0.5]
"""

from __future__ import annotations

import numpy as np

EPSILON = 1e-4


def plain(counts: np.ndarray) -> np.ndarray:
    total = float(counts.sum())
    if total > 0:
        return np.asarray(counts, dtype=np.float64) / total
    return np.full(counts.size, 1.0 / max(counts.size, 1))


def smoothed(counts: np.ndarray, epsilon: float = EPSILON) -> np.ndarray:
    p = np.maximum(plain(counts), epsilon)
    return np.asarray(p / p.sum(), dtype=np.float64)
