"""Chi-squared test of homogeneity of the reference and current counts (a 2 x k table).

Equal to ``scipy.stats.chi2_contingency([ref, cur], correction=False)`` once bins empty on
both sides are dropped. No continuity correction, so two bins and many columns behave alike.

>>> import numpy as np
>>> s = chi2_test(np.array([50.0, 50.0]), np.array([50.0, 50.0]))
>>> (s.value, s.p_value)
(0.0, 1.0)
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from mlvitals.quality.drift.base import COUNTED, DriftMethod, Statistic, register
from mlvitals.quality.drift.inputs import ColumnData


def chi2_test(ref_counts: np.ndarray, cur_counts: np.ndarray) -> Statistic:
    table = np.vstack((ref_counts, cur_counts)).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return Statistic(0.0, 1.0)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    return Statistic(statistic, float(stats.chi2.sf(statistic, dof)))


def _compute(data: ColumnData) -> Statistic:
    ref, cur, _ = data.binned()
    return chi2_test(ref, cur)


CHI2 = register(
    DriftMethod(
        name="chi2",
        kind="test",
        reads="bins",
        applies_to=COUNTED,
        compute=_compute,
        default_threshold=0.05,
        description="chi-squared test of homogeneity (statistic, p-value)",
    )
)
