"""Wasserstein-1 (earth mover's) distance between the two distributions of a numeric column.

``W = integral |F_ref(x) - F_cur(x)| dx``, equal to ``scipy.stats.wasserstein_distance`` on raw
data. ``wasserstein`` is in the column's units (give it a threshold); ``wasserstein_norm``
divides by the reference's standard deviation, so 0.1 means "the mass moved a tenth of a
standard deviation on average" whatever the units: the default effect size for numeric columns.

From profiles each CDF value is within the sketches' rank error, so W is within
``effect_error`` = rank error x the pooled range (divided by the std for the normed variant).

>>> import numpy as np
>>> from mlvitals.quality.drift.ecdf import merge
>>> wasserstein_distance(merge(np.array([0.0, 1.0]), np.array([1.0, 2.0])))
1.0
"""

from __future__ import annotations

import math

from mlvitals.quality.drift.base import NUMERIC, DriftMethod, Statistic, register
from mlvitals.quality.drift.ecdf import MergedECDF
from mlvitals.quality.drift.inputs import ColumnData


def wasserstein_distance(e: MergedECDF) -> float:
    return e.distances()[1]


def _raw(data: ColumnData) -> Statistic:
    e = data.ecdf()
    low, high = data.pooled_range()
    return Statistic(wasserstein_distance(e), error_bound=data.rank_error * (high - low))


def _normed(data: ColumnData) -> Statistic:
    s = _raw(data)
    std = data.ref_std
    if std > 0:
        return Statistic(s.value / std, error_bound=(s.error_bound or 0.0) / std)
    # A constant reference: any movement at all is infinitely many standard deviations.
    return Statistic(0.0 if s.value == 0 else math.inf, error_bound=s.error_bound)


WASSERSTEIN = register(
    DriftMethod(
        name="wasserstein",
        kind="distance",
        reads="ecdf",
        applies_to=NUMERIC,
        compute=_raw,
        default_threshold=None,
        description="Wasserstein-1 distance in the column's units (needs a threshold)",
    )
)
WASSERSTEIN_NORM = register(
    DriftMethod(
        name="wasserstein_norm",
        kind="distance",
        reads="ecdf",
        applies_to=NUMERIC,
        compute=_normed,
        default_threshold=0.1,
        description="Wasserstein-1 distance divided by the reference's standard deviation",
    )
)
