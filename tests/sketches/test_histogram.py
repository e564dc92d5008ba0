"""Sketch -> fixed cumulative buckets, checked against exact NumPy counts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlvitals.sketches import DEFAULT_BOUNDS, QuantileSketch, cumulative_buckets

# Shared CI machines are slow at times: no per-example time limit.
relaxed = settings(deadline=None)

ALPHA = 0.01


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bucket_counts_match_exact_counts_but_for_values_next_to_a_bound(seed: int) -> None:
    rng = np.random.default_rng(seed)
    data = np.concatenate([rng.lognormal(-4, 1.2, 5_000), np.zeros(7), [0.1, 0.25, 1.0]])
    s = QuantileSketch(ALPHA)
    s.add_many(data)
    got = cumulative_buckets(s, DEFAULT_BOUNDS)
    assert [b for b, _ in got] == [*DEFAULT_BOUNDS, math.inf]
    for bound, count in got[:-1]:
        exact = int((data <= bound).sum())
        # Only values within a relative alpha of the bound can land on the wrong side.
        near = int(((data >= bound / (1 + ALPHA)) & (data <= bound / (1 - ALPHA))).sum())
        assert abs(count - exact) <= near, bound
    assert got[-1] == (math.inf, len(data))
    counts = [c for _, c in got]
    assert counts == sorted(counts)


@relaxed
@given(st.lists(st.floats(min_value=0, max_value=100), max_size=80))
def test_buckets_are_cumulative_and_end_with_the_count(xs: list[float]) -> None:
    s = QuantileSketch()
    s.add_many(xs)
    got = cumulative_buckets(s, [0.001, 0.1, 10.0])
    counts = [c for _, c in got]
    assert counts == sorted(counts)
    assert got[-1] == (math.inf, len(xs))
    # Every value is at most the max, so the first bound at or above the max holds them all.
    for bound, count in got:
        if xs and bound >= max(xs):
            assert count == len(xs)
        if xs and bound < min(xs):
            assert count == 0


def test_bounds_are_checked() -> None:
    s = QuantileSketch()
    with pytest.raises(ValueError, match="increase strictly"):
        cumulative_buckets(s, [1.0, 0.5])
    with pytest.raises(ValueError, match="empty"):
        cumulative_buckets(s, [])
    with pytest.raises(ValueError, match="finite"):
        cumulative_buckets(s, [1.0, math.inf])


def test_default_bounds_are_at_most_five_percent_apart_from_1ms_to_60s() -> None:
    bounds = np.array(DEFAULT_BOUNDS)
    assert bounds[0] < 0.001 and bounds[-1] >= 60.0
    inside = bounds[(bounds >= 0.001) & (bounds <= 60.0)]
    assert inside[0] == 0.001
    ratios = inside[1:] / inside[:-1]
    # Rounding the labels to four digits moves a ratio by at most 0.1 %.
    assert ratios.max() <= 1.05 * 1.001 and ratios.min() >= 1.05 / 1.001
