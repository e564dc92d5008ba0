"""Kullback-Leibler divergence of the reference from the current distribution (nats).

``KL(ref || cur) = sum(ref * ln(ref / cur))`` on aligned bins (``scipy.stats.entropy(ref,
cur)``), with empty bins smoothed (see :mod:`~mlvitals.quality.drift.shares`). Not
symmetric and unbounded; Jensen-Shannon is the bounded, symmetric relative.

>>> import numpy as np
>>> round(kl_divergence(np.array([50.0, 50.0]), np.array([40.0, 60.0])), 6)
0.020411
"""

from __future__ import annotations

import numpy as np

from mlvitals.quality.drift.base import COUNTED, DriftMethod, Statistic, register
from mlvitals.quality.drift.inputs import ColumnData
from mlvitals.quality.drift.shares import smoothed


def kl_divergence(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    p, q = smoothed(ref_counts), smoothed(cur_counts)
    return float(np.sum(p * np.log(p / q)))


def _compute(data: ColumnData) -> Statistic:
    ref, cur, _ = data.binned()
    return Statistic(kl_divergence(ref, cur))


KL = register(
    DriftMethod(
        name="kl",
        kind="distance",
        reads="bins",
        applies_to=COUNTED,
        compute=_compute,
        default_threshold=0.1,
        description="Kullback-Leibler divergence KL(reference || current), in nats",
    )
)
