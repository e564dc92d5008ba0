"""Hellinger distance: ``sqrt(1 - sum(sqrt(ref * cur)))`` on aligned bins, from 0 to 1.

Equal to ``||sqrt(ref) - sqrt(cur)||_2 / sqrt(2)``; symmetric and finite without smoothing.

>>> import numpy as np
>>> hellinger_distance(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
1.0
"""

from __future__ import annotations

import numpy as np

from mlvitals.quality.drift.base import COUNTED, DriftMethod, Statistic, register
from mlvitals.quality.drift.inputs import ColumnData
from mlvitals.quality.drift.shares import plain


def hellinger_distance(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    overlap = float(np.sum(np.sqrt(plain(ref_counts) * plain(cur_counts))))
    return float(np.sqrt(max(1.0 - overlap, 0.0)))


def _compute(data: ColumnData) -> Statistic:
    ref, cur, _ = data.binned()
    return Statistic(hellinger_distance(ref, cur))


HELLINGER = register(
    DriftMethod(
        name="hellinger",
        kind="distance",
        reads="bins",
        applies_to=COUNTED,
        compute=_compute,
        default_threshold=0.1,
        description="Hellinger distance, 0 to 1",
    )
)
