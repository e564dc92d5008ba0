"""Mergeable building blocks (moments, co-moments, distinct counts, hashes, histograms),
checked against numpy/pandas and for their merge laws."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlvitals.quality.correlation import CorrelationAccumulator
from mlvitals.quality.distinct import DistinctCounter
from mlvitals.quality.hashing import hash_floats, hash_strings
from mlvitals.quality.histogram import Histogram
from mlvitals.quality.moments import Moments

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=60), st.data())
def test_moments_of_any_split_merge_to_numpy_mean_and_std(values: list[float], data) -> None:
    x = np.array(values)
    cut = data.draw(st.integers(0, len(values)))
    merged = Moments.of(x[:cut]).merge(Moments.of(x[cut:]))
    assert merged.count == x.size
    assert merged.min == x.min() and merged.max == x.max()
    scale = max(1.0, float(np.abs(x).max()))
    assert merged.mean == pytest.approx(float(np.mean(x)), abs=1e-12 * scale)
    assert merged.std == pytest.approx(float(np.std(x)), abs=1e-9 * scale)


def test_moments_stay_accurate_with_a_large_offset() -> None:
    # Sums of squares lose every digit here (x**2 ~ 1e18 against a variance of 1); Chan's
    # update only pays for the float spacing of the mean near 1e9 (~1e-7).
    rng = np.random.default_rng(0)
    x = 1e9 + rng.normal(size=10_000)
    merged = Moments()
    for p in np.array_split(x, 7):
        merged = merged.merge(Moments.of(p))
    exact = float(np.std(x - 1e9))  # the subtraction is exact (Sterbenz)
    naive = math.sqrt(max(float(np.mean(x * x) - np.mean(x) ** 2), 0.0))
    assert merged.std == pytest.approx(exact, rel=1e-7)
    assert naive != pytest.approx(exact, rel=1e-2)


def test_correlation_with_missing_values_equals_pandas_pairwise() -> None:
    rng = np.random.default_rng(1)
    n = 3_000
    a = rng.normal(size=n)
    b = 0.6 * a + rng.normal(size=n)
    c = 1e6 + rng.normal(size=n) - 0.3 * b
    df = pd.DataFrame({"a": a, "b": b, "c": c})
    df.loc[rng.random(n) < 0.2, "b"] = np.nan
    df.loc[rng.random(n) < 0.1, "c"] = np.nan
    acc = CorrelationAccumulator(("a", "b", "c"))
    for chunk in np.array_split(np.arange(n), 5):  # several batches: merged co-moments
        part = df.iloc[chunk]
        values = [part[k].to_numpy() for k in "abc"]
        acc.update(values, [np.isfinite(v) for v in values])
    expected = df.corr().to_numpy()
    np.testing.assert_allclose(acc.freeze().matrix(), expected, atol=1e-10)


@pytest.mark.parametrize("n", [0, 1, 50, 1_000, 30_000, 300_000])
def test_distinct_estimate_is_within_four_standard_errors(n: int) -> None:
    values = np.random.default_rng(n).permutation(np.arange(n, dtype=np.float64) * 0.5)
    counter = DistinctCounter()
    counter.update(hash_floats(np.concatenate([values, values[: n // 3]])))  # repeats
    sketch = counter.freeze()
    assert abs(sketch.estimate() - n) <= max(4 * sketch.relative_error * n, 1.0)


def test_distinct_sketches_merge_to_the_sketch_of_the_union() -> None:
    x = np.arange(20_000, dtype=np.float64)
    a, b, whole = DistinctCounter(), DistinctCounter(), DistinctCounter()
    a.update(hash_floats(x[:12_000]))
    b.update(hash_floats(x[8_000:]))
    whole.update(hash_floats(x))
    assert a.freeze().merge(b.freeze()) == whole.freeze()


def test_float_hashes_fold_negative_zero_and_integers_into_their_float() -> None:
    h = hash_floats(np.array([0.0, -0.0, 3.0, np.float64(np.int64(3))]))
    assert h[0] == h[1] and h[2] == h[3] and h[0] != h[2]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=30))
def test_string_hashes_depend_only_on_the_string(values: list[str]) -> None:
    arr = pa.array(["prefix", *values])
    sliced = hash_strings(arr.slice(1))  # a slice (buffer offset) hashes like a fresh array
    fresh = hash_strings(pa.array(values))
    assert np.array_equal(sliced, fresh)
    unique = {v: h for v, h in zip(values, fresh.tolist(), strict=True)}
    assert len(set(unique.values())) == len(unique)  # no collisions among distinct strings


def test_histogram_of_sorted_and_unsorted_values_count_like_comparisons() -> None:
    rng = np.random.default_rng(2)
    x = np.round(rng.normal(size=5_000), 1)
    edges = (-1.0, 0.0, 0.5, 1.0)
    expected = [
        int((x < -1).sum()),
        int(((x >= -1) & (x < 0)).sum()),
        int(((x >= 0) & (x < 0.5)).sum()),
        int(((x >= 0.5) & (x < 1)).sum()),
        int((x >= 1).sum()),
    ]
    assert list(Histogram.of(x, edges).counts) == expected
    assert list(Histogram.of_sorted(np.sort(x), edges).counts) == expected


def test_nan_sigma_of_empty_moments() -> None:
    assert math.isnan(Moments().std)
