"""QuantileSketch: the dict format, merge laws and the relative-error guarantee.

Reference values come from NumPy (exact order statistics) and hand computation of the
bucket formula, never from the sketch itself.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlvitals.sketches import MAX_BINS, QuantileSketch

# Shared CI machines are slow at times: no per-example time limit.
relaxed = settings(deadline=None)

ALPHA = 0.01
GAMMA = (1 + ALPHA) / (1 - ALPHA)

values = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)
value_lists = st.lists(values, max_size=60)


def sketch_of(xs: Any, alpha: float = ALPHA) -> QuantileSketch:
    s = QuantileSketch(alpha)
    for x in xs:
        s.add(float(x))
    return s


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Equal dict forms; the float sum may differ by rounding from the order of additions."""
    assert {k: v for k, v in a.items() if k != "sum"} == {k: v for k, v in b.items() if k != "sum"}
    assert math.isclose(a["sum"], b["sum"], rel_tol=1e-12, abs_tol=1e-12)


def merged(*parts: QuantileSketch) -> QuantileSketch:
    out = QuantileSketch(ALPHA)
    for p in parts:
        out.merge(p)
    return out


# -- the dict format -----------------------------------------------------------------------


def test_empty_sketch_dict_form() -> None:
    assert QuantileSketch().to_dict() == {
        "alpha": 0.01,
        "count": 0,
        "sum": 0.0,
        "min": 0.0,
        "max": 0.0,
        "zero": 0,
        "offset": 0,
        "bins": [],
    }
    assert math.isnan(QuantileSketch().quantile(0.5))


def test_dict_form_follows_the_bucket_formula() -> None:
    xs = [0.0, 5e-10, 0.003, 0.0031, 0.25, 1.0, 7.5]
    d = sketch_of(xs).to_dict()
    keys = [math.ceil(math.log(x) / math.log(GAMMA)) for x in xs if x > 1e-9]
    assert d["offset"] == min(keys)
    assert len(d["bins"]) == max(keys) - min(keys) + 1
    expected = [0] * len(d["bins"])
    for k in keys:
        expected[k - min(keys)] += 1
    assert d["bins"] == expected
    assert d["zero"] == 2
    assert d["count"] == 7
    assert d["min"] == 0.0
    assert d["max"] == 7.5
    assert d["sum"] == pytest.approx(sum(xs))
    assert keys[3] == 0  # 1.0 is bucket 0


def test_negative_values_are_clamped_to_zero_and_non_finite_rejected() -> None:
    s = QuantileSketch()
    s.add(-0.5)
    assert (s.count, s.min, s.max, s.sum) == (1, 0.0, 0.0, 0.0)
    assert s.to_dict()["zero"] == 1
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="finite"):
            s.add(bad)
        with pytest.raises(ValueError, match="finite"):
            s.add_many([1.0, bad])
    assert s.count == 1


@relaxed
@given(value_lists)
def test_dict_round_trip(xs: list[float]) -> None:
    s = sketch_of(xs)
    back = QuantileSketch.from_dict(s.to_dict())
    assert back.to_dict() == s.to_dict()
    for q in (0.0, 0.5, 0.99, 1.0):
        a, b = s.quantile(q), back.quantile(q)
        assert (math.isnan(a) and math.isnan(b)) or a == b


@relaxed
@given(value_lists)
def test_bytes_round_trip(xs: list[float]) -> None:
    s = sketch_of(xs)
    assert QuantileSketch.from_bytes(s.to_bytes()).to_dict() == s.to_dict()


def test_bytes_form_is_compact_and_checked() -> None:
    rng = np.random.default_rng(1)
    s = QuantileSketch()
    s.add_many(rng.lognormal(-4, 0.7, 10_000))
    blob = s.to_bytes()
    compact_json = json.dumps(s.to_dict(), separators=(",", ":"))
    assert len(blob) < 0.4 * len(compact_json)
    with pytest.raises(ValueError, match="magic"):
        QuantileSketch.from_bytes(b"nope" + blob[4:])
    with pytest.raises(ValueError, match="middle"):
        QuantileSketch.from_bytes(blob + b"\x80")
    with pytest.raises(ValueError, match="count"):
        QuantileSketch.from_bytes(blob + b"\x01")  # one more bin than count says


# -- from_dict rejects malformed input -----------------------------------------------------

GOOD: dict[str, Any] = {
    "alpha": 0.01,
    "count": 3,
    "sum": 0.6,
    "min": 0.1,
    "max": 0.3,
    "zero": 1,
    "offset": -115,
    "bins": [1, 0, 1],
}


def test_good_dict_is_accepted() -> None:
    s = QuantileSketch.from_dict(GOOD)
    assert s.count == 3 and s.to_dict() == GOOD


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"alpha": 0.0}, "alpha must be between 0 and 1"),
        ({"alpha": 1.0}, "alpha must be between 0 and 1"),
        ({"alpha": "0.01"}, "alpha must be a number"),
        ({"alpha": True}, "alpha must be a number"),
        ({"count": 3.0}, "count must be an integer"),
        ({"count": -1}, "count must not be negative"),
        ({"count": 4}, "count is 4 but zero \\+ bins add up to 3"),
        ({"zero": True}, "zero must be an integer"),
        ({"zero": -1, "count": 1}, "zero must not be negative"),
        ({"bins": [1, -1, 2]}, "bins entry must not be negative"),
        ({"bins": [1, 0.5, 1]}, "bins entry must be an integer"),
        ({"bins": "1,0,1"}, "must start with .u1:., .u2:., .u4:. or .u8:."),
        ({"bins": {"0": 1}}, "bins must be a list"),
        ({"bins": [0] * (MAX_BINS + 1)}, "more than the 4096 allowed"),
        ({"offset": 1.5}, "offset must be an integer"),
        ({"offset": 2**70}, "offset must be an integer"),
        ({"sum": -1.0}, "sum must be a finite non-negative number"),
        ({"sum": math.inf}, "sum must be a finite non-negative number"),
        ({"min": None}, "min must be a number"),
        ({"max": math.nan}, "max must be a finite non-negative number"),
        ({"min": 0.5}, "min 0.5 is above its max 0.3"),
    ],
)
def test_malformed_dicts_are_rejected_with_the_reason(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        QuantileSketch.from_dict({**GOOD, **change})


def test_missing_unknown_fields_and_non_objects_are_rejected() -> None:
    with pytest.raises(ValueError, match="missing bins"):
        QuantileSketch.from_dict({k: v for k, v in GOOD.items() if k != "bins"})
    with pytest.raises(ValueError, match="unknown extra"):
        QuantileSketch.from_dict({**GOOD, "extra": 1})
    with pytest.raises(ValueError, match="must be an object"):
        QuantileSketch.from_dict([1, 2])  # type: ignore[arg-type]
    empty = QuantileSketch().to_dict()
    with pytest.raises(ValueError, match="empty sketch"):
        QuantileSketch.from_dict({**empty, "max": 1.0})


def test_merge_requires_the_same_alpha() -> None:
    with pytest.raises(ValueError, match="different accuracy"):
        QuantileSketch(0.01).merge(QuantileSketch(0.02))


def test_wide_ranges_collapse_the_lowest_buckets_and_keep_count() -> None:
    s = QuantileSketch()
    xs = [1e-8, 1e-5, 1.0, 1e30, 1e35]  # spans far more than MAX_BINS buckets at alpha 0.01
    for x in xs:
        s.add(x)
    d = s.to_dict()
    assert len(d["bins"]) == MAX_BINS
    assert d["count"] == 5 and sum(d["bins"]) == 5
    back = QuantileSketch.from_dict(d)
    assert back.quantile(1.0) == 1e35
    assert back.quantile(0.75) == pytest.approx(1e30, rel=ALPHA)


# -- merge laws ------------------------------------------------------------------------------


@relaxed
@given(value_lists, value_lists)
def test_merge_is_commutative(xs: list[float], ys: list[float]) -> None:
    a, b = sketch_of(xs), sketch_of(ys)
    assert merged(a, b).to_dict() == merged(b, a).to_dict()


@relaxed
@given(value_lists, value_lists, value_lists)
def test_merge_is_associative(xs: list[float], ys: list[float], zs: list[float]) -> None:
    a, b, c = sketch_of(xs), sketch_of(ys), sketch_of(zs)
    assert_same(merged(merged(a, b), c).to_dict(), merged(a, merged(b, c)).to_dict())


@relaxed
@given(st.lists(value_lists, max_size=5))
def test_merging_parts_equals_sketching_the_whole(parts: list[list[float]]) -> None:
    whole = sketch_of([x for p in parts for x in p])
    assert_same(merged(*(sketch_of(p) for p in parts)).to_dict(), whole.to_dict())


@relaxed
@given(value_lists, value_lists)
def test_merge_survives_the_dict_form(xs: list[float], ys: list[float]) -> None:
    a = QuantileSketch.from_dict(sketch_of(xs).to_dict())
    a.merge(QuantileSketch.from_dict(sketch_of(ys).to_dict()))
    assert_same(a.to_dict(), sketch_of(xs + ys).to_dict())


@relaxed
@given(st.lists(values, max_size=200))
def test_add_many_equals_adding_one_by_one(xs: list[float]) -> None:
    batch = QuantileSketch()
    batch.add_many(xs)
    assert_same(batch.to_dict(), sketch_of(xs).to_dict())


# -- the relative-error guarantee ------------------------------------------------------------

QS = [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0]


def _datasets() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(42)
    n = 20_000
    return {
        "lognormal": rng.lognormal(mean=-3.0, sigma=1.0, size=n),
        "pareto": (rng.pareto(1.5, size=n) + 1) * 0.002,
        "bimodal": np.concatenate(
            [rng.normal(0.005, 0.0005, n // 2).clip(1e-6), rng.normal(0.8, 0.05, n // 2)]
        ),
    }


@pytest.mark.parametrize("name", ["lognormal", "pareto", "bimodal"])
@pytest.mark.parametrize("alpha", [0.01, 0.05])
def test_quantiles_are_within_alpha_of_the_true_order_statistic(name: str, alpha: float) -> None:
    data = _datasets()[name]
    one_by_one = sketch_of(data, alpha)
    halves = QuantileSketch(alpha)
    halves.add_many(data[: len(data) // 2])
    other = QuantileSketch(alpha)
    other.add_many(data[len(data) // 2 :])
    halves.merge(other)
    for s in (one_by_one, halves):
        for q in QS:
            true = float(np.quantile(data, q, method="lower"))
            assert abs(s.quantile(q) - true) <= alpha * true * (1 + 1e-9), (name, q)
            hi = float(np.quantile(data, q, method="higher"))
            assert true * (1 - alpha) <= s.quantile(q) <= hi * (1 + alpha)
    assert one_by_one.count == len(data)
    assert one_by_one.min == data.min() and one_by_one.max == data.max()
    assert one_by_one.sum == pytest.approx(data.sum(), rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=1e-6, max_value=1e6), min_size=1, max_size=300),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_any_quantile_of_any_data_is_within_alpha(xs: list[float], q: float) -> None:
    s = sketch_of(xs)
    true = float(np.quantile(np.array(xs), q, method="lower"))
    assert abs(s.quantile(q) - true) <= ALPHA * true * (1 + 1e-9)


def test_quantile_rejects_out_of_range_q() -> None:
    s = sketch_of([1.0])
    for q in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            s.quantile(q)


def test_packed_bins_round_trip_and_are_checked() -> None:
    import numpy as np
    import pytest

    from mlvitals.sketches.quantile import pack_bins

    rng = np.random.default_rng(5)
    values = rng.lognormal(-3, 1.0, 5000)
    sketch = QuantileSketch()
    sketch.add_many(values)
    packed = sketch.to_dict(packed=True)
    assert isinstance(packed["bins"], str) and packed["bins"].startswith("u1:")
    again = QuantileSketch.from_dict(packed)
    assert again.to_dict() == sketch.to_dict()
    for q in (0.5, 0.99):
        assert again.quantile(q) == sketch.quantile(q)
    wide = {**packed, "bins": pack_bins([2**40, 1]), "count": 2**40 + 1 + packed["zero"]}
    assert wide["bins"].startswith("u8:")
    QuantileSketch.check_dict(wide)
    assert not QuantileSketch.is_plain_packed(wide)  # u8 takes the checked path
    for bad, message in (
        ("x4:AAAA", "start with"),
        ("u4:!!!!", "base64"),
        ("u4:AQAA", "partial"),
        (pack_bins([1, 2]), "add up to"),
    ):
        with pytest.raises(ValueError, match=message):
            QuantileSketch.check_dict({**packed, "bins": bad})


@pytest.mark.parametrize(
    ("largest", "prefix", "width"),
    [(0, "u1:", 1), (255, "u1:", 1), (256, "u2:", 2), (65_535, "u2:", 2), (65_536, "u4:", 4)],
)
def test_packed_bins_take_the_narrowest_width_that_holds_every_count(
    largest: int, prefix: str, width: int
) -> None:
    import base64

    from mlvitals.sketches.quantile import pack_bins, unpack_bins

    counts = [largest, 0, 3, largest // 2]
    text = pack_bins(counts)
    assert text.startswith(prefix)
    raw = base64.b64decode(text[3:])
    assert len(raw) == width * len(counts)
    # Independent decoding: numpy reads the little-endian integers of that width.
    assert np.frombuffer(raw, dtype=f"<u{width}").tolist() == counts
    assert unpack_bins(text).tolist() == counts
    sketch = {
        "alpha": 0.01,
        "count": sum(counts),
        "sum": 1.0,
        "min": 0.5,
        "max": 0.5,
        "zero": 0,
        "offset": 0,
        "bins": text,
    }
    assert QuantileSketch.is_plain_packed(sketch)
    QuantileSketch.check_dict(sketch)
    off_by_one = {**sketch, "count": sum(counts) + 1}
    assert not QuantileSketch.is_plain_packed(off_by_one)
    with pytest.raises(ValueError, match="add up to"):
        QuantileSketch.check_dict(off_by_one)
    if width > 1:  # a partial count of that width is refused
        cut = {**sketch, "bins": prefix + base64.b64encode(raw[:-1]).decode()}
        assert not QuantileSketch.is_plain_packed(cut)
        with pytest.raises(ValueError, match="partial"):
            QuantileSketch.check_dict(cut)
