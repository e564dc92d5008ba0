"""DenseSketch sums stored sketches exactly as QuantileSketch merges would."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlvitals.sketches import QuantileSketch
from mlvitals.sketches.dense import DenseSketch

values = st.lists(
    st.one_of(
        st.floats(min_value=1e-6, max_value=1e3),
        st.just(0.0),
        st.floats(min_value=1e-300, max_value=1e-200),  # far below: exercises the bin cap
        st.floats(min_value=1e100, max_value=1e200),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(values, min_size=1, max_size=6), st.booleans())
def test_summing_dict_forms_equals_merging_sketches(
    groups: list[list[float]], packed: bool
) -> None:
    sketches = []
    for group in groups:
        s = QuantileSketch()
        s.add_many(group)
        sketches.append(s)
    reference = QuantileSketch.from_dict(sketches[0].to_dict())
    for s in sketches[1:]:
        reference.merge(s)
    dense = DenseSketch()
    for s in sketches:
        dense.add_dict(s.to_dict(packed=packed))
    assert dense.to_dict() == reference.to_dict()
    assert dense.to_dict(packed=True) == reference.to_dict(packed=True)
    # Merging two partial sums is the same again.
    left, right = DenseSketch(), DenseSketch()
    for k, s in enumerate(sketches):
        (left if k % 2 else right).add_dict(s.to_dict(packed=True))
    left.merge(right)
    merged, expected = left.to_dict(), reference.to_dict()
    # The sums add in another order: equal to float rounding.
    assert merged.pop("sum") == pytest.approx(expected.pop("sum"), rel=1e-12)
    assert merged == expected
    if reference.count:  # as stored: past the bucket cap the dict form collapses the lowest
        stored = QuantileSketch.from_dict(reference.to_dict())
        assert dense.to_sketch().quantile(0.9) == stored.quantile(0.9)


ODD = [0, 1, -1, 3, 0.0, 0.5, 1.0, -0.5, float("inf"), float("nan"), True, None, "x", 2**63]
ODD += ["u4:", "u4:AQAAAA==", "u4:AQAAAAIAAAA=", "u4:AQAA", "u4:!!!!", "u8:AQAAAAAAAAA=", [1]]


@settings(max_examples=800, deadline=None)
@given(
    values,
    st.lists(
        st.tuples(
            st.sampled_from(["alpha", "count", "sum", "min", "max", "zero", "offset", "bins"]),
            st.sampled_from(ODD),
        ),
        max_size=2,
    ),
)
def test_what_passes_the_plain_packed_check_passes_the_full_check(
    group: list[float], changes: list[tuple[str, object]]
) -> None:
    s = QuantileSketch()
    s.add_many(group)
    data = s.to_dict(packed=True)
    data.update(changes)
    if QuantileSketch.is_plain_packed(data):
        rebuilt = QuantileSketch.from_dict(data)  # the full check: raises if anything is off
        assert rebuilt.count == data["count"]


@settings(max_examples=300, deadline=None)
@given(st.lists(values, min_size=1, max_size=4))
def test_cumulative_buckets_equal_the_sketch_s(groups: list[list[float]]) -> None:
    import numpy as np

    from mlvitals.sketches import COARSE_BOUNDS, DEFAULT_BOUNDS, cumulative_buckets

    dense = DenseSketch()
    for group in groups:
        s = QuantileSketch()
        s.add_many(group)
        dense.add_dict(s.to_dict(packed=True))
    for bounds in (COARSE_BOUNDS, DEFAULT_BOUNDS):
        expected = [n for _, n in cumulative_buckets(dense.to_sketch(), bounds)]
        assert dense.cumulative(np.asarray(bounds)).tolist() == expected
