"""Benjamini-Hochberg adjustment of p-values for testing many columns at once.

Testing 100 undrifted columns at alpha = 0.05 flags five of them on average. The adjusted
p-values control the expected share of false alarms among the flagged columns (the false
discovery rate) at alpha instead; they equal ``scipy.stats.false_discovery_control(p)``.

>>> benjamini_hochberg([0.01, 0.04, 0.03, 0.2])
[0.04, 0.05333333333333334, 0.05333333333333334, 0.2]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    # Each adjusted value is the smallest scaled value at or after it, capped at 1.
    adjusted_sorted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return [float(x) for x in adjusted]
