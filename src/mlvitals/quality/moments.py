"""Exact, mergeable moments: count, mean, M2 (sum of squared deviations), min and max.

Batches and partitions combine with Chan, Golub and LeVeque's parallel update, so the mean and
standard deviation of merged profiles equal those of the whole data up to float rounding, with
none of the cancellation of running sums of squares.

>>> import numpy as np
>>> x = np.array([1.0, 2.0, 3.0, 4.0])
>>> m = Moments.of(x[:1]).merge(Moments.of(x[1:]))
>>> (m.mean, m.std == float(np.std(x)), m.min, m.max)
(2.5, True, 1.0, 4.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Moments:
    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    min: float = math.inf
    max: float = -math.inf

    @staticmethod
    def of(values: np.ndarray, *, is_sorted: bool = False) -> Moments:
        """Moments of a float64 array of finite values (two passes: exact and stable)."""
        n = int(values.size)
        if n == 0:
            return Moments()
        mean = float(values.mean())
        centred = values - mean
        m2 = float(np.dot(centred, centred))
        if is_sorted:
            low, high = float(values[0]), float(values[-1])
        else:
            low, high = float(values.min()), float(values.max())
        return Moments(n, mean, m2, low, high)

    def merge(self, other: Moments) -> Moments:
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        n = self.count + other.count
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.count / n)
        m2 = self.m2 + other.m2 + delta * delta * (self.count * other.count / n)
        return Moments(n, mean, m2, min(self.min, other.min), max(self.max, other.max))

    @property
    def variance(self) -> float:
        """Population variance (``ddof=0``, numpy's default); NaN without values."""
        return self.m2 / self.count if self.count else math.nan

    @property
    def std(self) -> float:
        """Population standard deviation (``numpy.std``); NaN without values."""
        return math.sqrt(self.variance) if self.count else math.nan
