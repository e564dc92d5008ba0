"""Two-sample Kolmogorov-Smirnov test: the largest gap between the two ECDFs, and its p-value.

On raw data the statistic and the p-value equal ``scipy.stats.ks_2samp`` (two-sided) with the
same ``method``: ``exact`` counts the lattice paths that stay inside the band (Hodges 1958),
``asymp`` uses the distribution of the one-sample statistic with the effective size
``n*m/(n+m)``, and ``auto`` is exact when both samples have at most 10,000 values.

From a profile the statistic is within the sketches' rank error (``statistic_error``) and the
p-value is the asymptotic one for that statistic.

>>> import numpy as np
>>> from mlvitals.quality.drift.ecdf import merge
>>> ks_statistic(merge(np.array([1.0, 2.0]), np.array([3.0, 4.0])))
1.0
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy import stats

from mlvitals.quality.drift.base import NUMERIC, DriftMethod, Statistic, register
from mlvitals.quality.drift.ecdf import MergedECDF
from mlvitals.quality.drift.inputs import ColumnData

KsMethod = Literal["auto", "exact", "asymp"]
MAX_AUTO_EXACT = 10_000


def ks_statistic(e: MergedECDF) -> float:
    return e.distances()[0]


def ks_pvalue(d: float, n1: int, n2: int, method: KsMethod = "auto") -> float:
    """Two-sided p-value of a KS statistic ``d`` between samples of sizes ``n1`` and ``n2``."""
    if method == "auto":
        method = "exact" if max(n1, n2) <= MAX_AUTO_EXACT else "asymp"
    if method == "exact":
        g = math.gcd(n1, n2)
        if (n1 // g) * (n2 // g) < np.iinfo(np.int32).max:  # scipy's limit for exact
            lcm = (n1 // g) * n2
            h = round(d * lcm)
            return _exact_pvalue(n1, n2, g, h)
    if d <= 0.0:
        return 1.0
    m, n = float(max(n1, n2)), float(min(n1, n2))
    en = max(np.round(m * n / (m + n)), 1.0)  # scipy's size 0 (for 1 vs 1) would give NaN
    return float(np.clip(stats.kstwo.sf(d, en), 0.0, 1.0))


def _exact_pvalue(n1: int, n2: int, g: int, h: int) -> float:
    """P(D >= h/lcm): 1 - the share of lattice paths that keep ``|i*n2 - j*n1| < h*g``.

    Paths from (0, 0) to (m, n) are counted row by row, in logs (the counts reach
    C(m+n, m)); within a row the count is a cumulative sum over the band, so each row is one
    vectorised ``logaddexp.accumulate``. Below 1e-9 the difference 1 - inside has no
    relative precision left, and the asymptotic tail is reported instead.
    """
    if h == 0:
        return 1.0
    m, n = (n1, n2) if n1 <= n2 else (n2, n1)
    en = max(np.round(m * n / (m + n)), 1.0)
    if en >= 100:
        # Far in the tail the answer is the asymptotic one below anyway: skip the recursion.
        tail = float(stats.kstwo.sf(h / ((n1 // g) * n2), en))
        if tail < 1e-12:
            return tail
    bound = h * g  # |i*n - j*m| < bound

    def band(i: int) -> tuple[int, int]:
        lo = (i * n - bound) // m + 1
        hi = -((-(i * n + bound)) // m) - 1  # ceil((i*n + bound) / m) - 1
        return max(lo, 0), min(hi, n)

    lo, hi = band(0)
    row = np.full(n + 1, -np.inf)
    row[lo : hi + 1] = 0.0
    for i in range(1, m + 1):
        lo, hi = band(i)
        new = np.full(n + 1, -np.inf)
        if lo <= hi:
            new[lo : hi + 1] = np.logaddexp.accumulate(row[lo : hi + 1])
        row = new
    log_total = math.lgamma(m + n + 1) - math.lgamma(m + 1) - math.lgamma(n + 1)
    inside = math.exp(row[n] - log_total) if np.isfinite(row[n]) else 0.0
    p = min(1.0, max(0.0, 1.0 - inside))
    if p < 1e-9:
        return float(min(stats.kstwo.sf(h / ((n1 // g) * n2), en), 1e-9))
    return p


def ks_test(data: ColumnData) -> Statistic:
    d = ks_statistic(data.ecdf())
    method: KsMethod = data.ks_method  # type: ignore[assignment]
    if not data.raw:
        method = "asymp"  # the statistic is approximate: an exact tail would be spurious
    return Statistic(d, ks_pvalue(d, data.n_ref, data.n_cur, method), data.rank_error)


KS = register(
    DriftMethod(
        name="ks",
        kind="test",
        reads="ecdf",
        applies_to=NUMERIC,
        compute=ks_test,
        default_threshold=0.05,
        description="Kolmogorov-Smirnov two-sample test (statistic D, p-value)",
    )
)
