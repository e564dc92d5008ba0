"""Population Stability Index: ``sum((cur - ref) * ln(cur / ref))`` over aligned bins.

Numeric columns use the reference's frozen decile bins, categorical columns their categories;
empty bins are smoothed (see :mod:`~mlvitals.quality.drift.shares`). Rules of thumb: below
0.1 no shift, 0.1 to 0.25 a moderate shift, above 0.25 a major one.

>>> import numpy as np
>>> round(psi(np.array([50.0, 50.0]), np.array([40.0, 60.0])), 6)
0.040547
"""

from __future__ import annotations

import numpy as np

from mlvitals.quality.drift.base import COUNTED, DriftMethod, Statistic, register
from mlvitals.quality.drift.inputs import ColumnData
from mlvitals.quality.drift.shares import smoothed


def psi(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    e, a = smoothed(ref_counts), smoothed(cur_counts)
    return float(np.sum((a - e) * np.log(a / e)))


def _compute(data: ColumnData) -> Statistic:
    ref, cur, _ = data.binned()
    return Statistic(psi(ref, cur))


PSI = register(
    DriftMethod(
        name="psi",
        kind="distance",
        reads="bins",
        applies_to=COUNTED,
        compute=_compute,
        default_threshold=0.1,
        description="Population Stability Index on reference bins or categories",
    )
)
