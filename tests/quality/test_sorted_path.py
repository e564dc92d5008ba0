"""A check on in-memory data sorts each numeric column once: the profiles it completes from
the sorted values and the drift it measures on them hold against numpy, scipy and DataSketches.
"""

from __future__ import annotations

from pathlib import Path

import datasketches
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mlvitals.quality import check, profile
from mlvitals.quality.quantiles import KllSketch, sketch_of_sorted
from mlvitals.quality.sorting import sort_chunks

N = 60_000


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(11)

    def frame(shift: float) -> pd.DataFrame:
        cont = rng.lognormal(shift, 0.5, N)
        cont[rng.random(N) < 0.02] = np.nan  # nulls, left out of every statistic
        return pd.DataFrame(
            {
                "cont": cont,
                "counts": rng.poisson(3 + shift, N).astype(np.float64),  # whole numbers
                "halves": rng.integers(-40, 40, N) / 2.0,  # repeats, but not whole
                "cat": rng.choice(["a", "b", "c"], N),
            }
        )

    return frame(0.0), frame(0.2)


def _finite(values: pd.Series) -> np.ndarray:
    x = values.to_numpy(dtype=np.float64)
    return x[np.isfinite(x)]


def test_profiles_completed_from_sorted_columns_match_numpy() -> None:
    ref, cur = _frames()
    result = check(cur, reference=ref)
    for prof, data in ((result.reference, ref), (result.profile, cur)):
        for name in ("cont", "counts", "halves"):
            col, x = prof.column(name), _finite(data[name])
            assert col.valid == x.size
            assert col.mean == pytest.approx(x.mean(), rel=1e-12)
            assert col.std == pytest.approx(x.std(), rel=1e-9)
            assert (col.min, col.max) == (x.min(), x.max())
            # Quantiles: the rank of each answer is within the sketch's bound of the level.
            assert col.quantiles is not None and col.quantiles.count == x.size
            s = np.sort(x)
            for q in (0.01, 0.1, 0.5, 0.9, 0.99):
                v = col.quantile(q)
                assert v is not None
                low = np.searchsorted(s, v, side="left") / s.size
                high = np.searchsorted(s, v, side="right") / s.size
                assert low - col.quantiles.rank_error <= q <= high + col.quantiles.rank_error
            # Histograms of both sides on the reference's edges: exact counts.
            assert col.histogram is not None
            edges = np.asarray(result.reference.column(name).histogram.edges)
            assert col.histogram.edges == tuple(edges)
            expected = np.bincount(
                np.searchsorted(edges, x, side="right"), minlength=edges.size + 1
            )
            assert list(col.histogram.counts) == expected.tolist()
        # Top values of a column with repeats are exact counts.
        values, counts = np.unique(_finite(data["counts"]), return_counts=True)
        top = prof.column("counts").top
        assert top is not None and top.exact
        assert dict(top.items()) == dict(zip(values.tolist(), counts.tolist(), strict=True))


def test_the_check_profiles_the_current_data_as_profile_does() -> None:
    ref, cur = _frames()
    result = check(cur, reference=ref)
    alone = profile(cur, reference=result.reference)
    for name in ("cont", "counts", "halves"):
        a, b = result.profile.column(name), alone.column(name)
        assert (a.count, a.nulls, a.valid) == (b.count, b.nulls, b.valid)
        assert a.histogram == b.histogram
        assert a.distinct == b.distinct  # the same registers: the same set of hashes
        assert a.moments is not None and b.moments is not None
        assert a.moments.mean == pytest.approx(b.moments.mean, rel=1e-12)
    assert dict(result.profile.column("counts").top.items()) == dict(  # type: ignore[union-attr]
        alone.column("counts").top.items()  # type: ignore[union-attr]
    )


def test_drift_on_sorted_and_counted_columns_equals_scipy() -> None:
    ref, cur = _frames()
    report = check(cur, reference=ref).drift
    for name in ("cont", "counts", "halves"):
        x, y = _finite(ref[name]), _finite(cur[name])
        expected = stats.ks_2samp(x, y)
        row = report.column(name)
        assert row.route == "raw"
        assert row.statistic == pytest.approx(expected.statistic, abs=1e-12)
        assert row.p_value == pytest.approx(expected.pvalue, abs=1e-9)
        q1, q3 = np.quantile(x, [0.25, 0.75])
        scale = (q3 - q1) / 1.349 if q3 > q1 else x.std()
        w = stats.wasserstein_distance(x, y) / scale
        assert row.effect_size == pytest.approx(w, rel=1e-9)


def test_reference_columns_the_current_data_lacks_are_still_completed() -> None:
    ref, cur = _frames()
    cur = cur.drop(columns=["cont"]).assign(counts=cur["counts"].astype(str))
    result = check(cur, reference=ref)
    for name in ("cont", "counts"):  # one missing, one of another kind now
        col = result.reference.column(name)
        x = _finite(ref[name])
        assert col.quantiles is not None and col.quantiles.count == x.size
        assert col.histogram is not None and col.histogram.total == x.size
        assert col.top is not None
    assert {f.check for f in result.failures} >= {"missing_column", "type"}


@pytest.mark.parametrize("n", [4_096, 10_007, 250_000, 2_000_003])
def test_a_sketch_laid_out_from_sorted_values_is_a_regular_kll_sketch(n: int) -> None:
    rng = np.random.default_rng(n)
    s = np.sort(rng.standard_t(3, n))
    q = sketch_of_sorted(s)
    sk = datasketches.kll_doubles_sketch.deserialize(q.data)
    assert (sk.n, sk.get_min_value(), sk.get_max_value()) == (n, s[0], s[-1])
    assert sk.is_estimation_mode()
    levels = np.linspace(0.001, 0.999, 97)
    answers = np.array(sk.get_quantiles(levels))
    ranks = np.searchsorted(s, answers, side="right") / n
    assert np.abs(ranks - levels).max() <= q.rank_error
    # It merges with and takes updates like a sketch the library built itself.
    other = datasketches.kll_doubles_sketch(200)
    other.update(rng.normal(size=5_000))
    merged = q.merge(KllSketch(other.serialize()))
    assert merged.count == n + 5_000
    sk.update(rng.normal(size=1_000))
    assert datasketches.kll_doubles_sketch.deserialize(sk.serialize()).n == n + 1_000


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(-300, 300).map(float), st.floats(-1e6, 1e6)),
        min_size=1,
        max_size=300,
    ),
    st.integers(1, 4),
)
def test_sorted_chunks_equal_numpy_sort(values: list[float], pieces: int) -> None:
    x = np.array(values, dtype=np.float64)
    chunks = np.array_split(x, pieces)
    out = sort_chunks("test", chunks)
    assert out.tolist() == np.sort(x).tolist()
    assert sort_chunks("test", chunks, (float(x.min()), float(x.max()))).tolist() == out.tolist()


def test_whole_numbers_in_a_wide_range_are_sorted_not_counted() -> None:
    x = np.array([0.0, 1e12, 5.0, -3.0])
    assert sort_chunks("test", [x]).tolist() == [-3.0, 0.0, 5.0, 1e12]


def test_parquet_files_that_fit_take_the_same_single_sort_as_frames(tmp_path: Path) -> None:
    ref, cur = _frames()
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    frames = check(cur, reference=ref)
    parquet = check(tmp_path / "cur.parquet", reference=tmp_path / "ref.parquet")
    csv = check(
        tmp_path / "cur.csv", reference=tmp_path / "ref.csv"
    )  # length unknown: batch by batch
    for name in ("cont", "counts", "halves"):
        x, y = _finite(ref[name]), _finite(cur[name])
        expected = stats.ks_2samp(x, y).statistic
        for result in (frames, parquet, csv):
            assert result.drift.column(name).route == "raw"
            assert result.drift.column(name).statistic == pytest.approx(expected, abs=1e-12)
        # Quantile sketches laid out from sorted values are deterministic: files and frames
        # give the same; both sides' histograms count exactly on the same edges.
        assert parquet.reference.column(name) == frames.reference.column(name)
        assert parquet.profile.column(name).histogram == frames.profile.column(name).histogram
        edges = csv.reference.column(name).histogram.edges  # type: ignore[union-attr]
        counts = np.bincount(np.searchsorted(edges, y, side="right"), minlength=len(edges) + 1)
        assert csv.profile.column(name).histogram.counts == tuple(counts)  # type: ignore[union-attr]
    # Numeric columns over the raw limit: batch by batch, and drift from the sketches.
    small = check(
        tmp_path / "cur.parquet", reference=tmp_path / "ref.parquet", raw_limit_bytes=1 << 20
    )
    assert small.drift.column("cont").route == "profile"
