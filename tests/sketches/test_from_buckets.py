"""Sketches from histogram buckets: counts and sums exact, quantiles within the stated bound
of numpy's quantiles of the raw values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlvitals.sketches.from_buckets import from_explicit_buckets, from_exponential_buckets

VALUES = np.random.default_rng(7).lognormal(-3.5, 0.8, 50_000)
QS = (0.5, 0.9, 0.95, 0.99)
ALPHA = 0.01


@pytest.mark.parametrize("scale", [3, 5, 6, 8])
def test_exponential_buckets_within_the_bound(scale: int) -> None:
    log_base = math.log(2) * 2.0**-scale
    index = np.ceil(np.log(VALUES) / log_base).astype(int) - 1  # (base**i, base**(i+1)]
    offset = int(index.min())
    counts = np.bincount(index - offset).tolist()
    sketch = from_exponential_buckets(
        scale, offset, counts, total=float(VALUES.sum()), low=VALUES.min(), high=VALUES.max()
    )
    assert sketch.count == VALUES.size
    assert sketch.sum == pytest.approx(VALUES.sum())
    bound = 2 ** (2.0**-scale) * (1 + ALPHA) - 1
    for q in QS:
        true = np.quantile(VALUES, q, method="lower")
        assert abs(sketch.quantile(q) / true - 1) <= bound, (scale, q)


def test_explicit_buckets_within_the_bucket_of_the_true_quantile() -> None:
    bounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0]
    counts = np.histogram(VALUES, [0.0, *bounds, np.inf])[0].tolist()
    sketch = from_explicit_buckets(
        bounds, counts, total=float(VALUES.sum()), low=VALUES.min(), high=VALUES.max()
    )
    assert sketch.count == VALUES.size
    edges = [float(VALUES.min()), *bounds, float(VALUES.max())]
    for q in QS:
        true = np.quantile(VALUES, q, method="lower")
        i = int(np.searchsorted(bounds, true))
        lo, hi = edges[i], edges[i + 1]
        assert abs(sketch.quantile(q) / true - 1) <= hi / lo * (1 + ALPHA) - 1


def test_bad_buckets_are_named() -> None:
    with pytest.raises(ValueError, match="2 bounds need 3 counts"):
        from_explicit_buckets([1.0, 2.0], [1, 2], total=3.0)
    with pytest.raises(ValueError, match="must increase"):
        from_explicit_buckets([2.0, 1.0], [1, 2, 0], total=3.0)
