"""Jensen-Shannon distance: the square root of the mean KL of each side from their average.

Symmetric, finite without smoothing, between 0 and sqrt(ln 2) ~ 0.83 (natural log, as
``scipy.spatial.distance.jensenshannon``, which it equals).

>>> import numpy as np
>>> round(js_distance(np.array([1.0, 0.0]), np.array([0.0, 1.0])) ** 2, 6)
0.693147
"""

from __future__ import annotations

import numpy as np

from mlvitals.quality.drift.base import COUNTED, DriftMethod, Statistic, register
from mlvitals.quality.drift.inputs import ColumnData
from mlvitals.quality.drift.shares import plain


def _kl_terms(p: np.ndarray, m: np.ndarray) -> float:
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / m[nz])))


def js_distance(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    p, q = plain(ref_counts), plain(cur_counts)
    m = (p + q) / 2.0
    divergence = (_kl_terms(p, m) + _kl_terms(q, m)) / 2.0
    return float(np.sqrt(max(divergence, 0.0)))


def _compute(data: ColumnData) -> Statistic:
    ref, cur, _ = data.binned()
    return Statistic(js_distance(ref, cur))


JENSEN_SHANNON = register(
    DriftMethod(
        name="jensen_shannon",
        kind="distance",
        reads="bins",
        applies_to=COUNTED,
        compute=_compute,
        default_threshold=0.1,
        description="Jensen-Shannon distance (natural log), 0 to 0.83",
    )
)
