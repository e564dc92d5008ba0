"""Wasserstein-1 (earth mover's) distance between the two distributions of a numeric column.

``W = integral |F_ref(x) - F_cur(x)| dx``, equal to ``scipy.stats.wasserstein_distance`` on raw
data. ``wasserstein`` is in the column's units (give it a threshold); ``wasserstein_norm``
divides by the reference's robust spread, its interquartile range / 1.349 (which equals the
standard deviation of a normal distribution), so 0.1 means "the mass moved a tenth of a
standard deviation on average" whatever the units: the default effect size for numeric
columns. A robust spread keeps one extreme reference value, which can multiply the standard
deviation of a heavy-tailed column, from shrinking the effect of a real change. When the
quartiles are equal (more than half the reference is one value) the standard deviation stands
in; ``wasserstein_std`` always divides by the standard deviation.

From profiles each CDF value is within the sketches' rank error, so W is within
``effect_error`` = rank error x the pooled range (divided by the spread for the normed
variants); the quartiles then come from the reference's quantile sketch.

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


def _per(scale: float, s: Statistic) -> Statistic:
    if scale > 0:
        return Statistic(s.value / scale, error_bound=(s.error_bound or 0.0) / scale)
    # A constant reference: any movement at all is infinitely far.
    return Statistic(0.0 if s.value == 0 else math.inf, error_bound=s.error_bound)


def _normed(data: ColumnData) -> Statistic:
    s = _raw(data)
    return _per(data.ref_scale(), s)


def _per_std(data: ColumnData) -> Statistic:
    return _per(data.ref_std, _raw(data))


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
        description="Wasserstein-1 distance divided by the reference's IQR / 1.349",
    )
)
WASSERSTEIN_STD = register(
    DriftMethod(
        name="wasserstein_std",
        kind="distance",
        reads="ecdf",
        applies_to=NUMERIC,
        compute=_per_std,
        default_threshold=0.1,
        description="Wasserstein-1 distance divided by the reference's standard deviation",
    )
)
