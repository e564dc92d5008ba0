"""Drift methods against scipy and hand computations; the default policy's decisions; the
profile route against the raw route."""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlvitals.errors import ConfigError, InputError
from mlvitals.quality import ColumnRule, DriftPolicy, check, compare_profiles, get_method, profile
from mlvitals.quality.drift.anderson_darling import anderson_darling
from mlvitals.quality.drift.chi2 import chi2_test
from mlvitals.quality.drift.correction import benjamini_hochberg
from mlvitals.quality.drift.ecdf import MergedECDF, merge
from mlvitals.quality.drift.hellinger import hellinger_distance
from mlvitals.quality.drift.jensen_shannon import js_distance
from mlvitals.quality.drift.kl import kl_divergence
from mlvitals.quality.drift.ks import ks_pvalue, ks_statistic
from mlvitals.quality.drift.psi import psi
from mlvitals.quality.drift.wasserstein import wasserstein_distance

samples = st.lists(
    st.floats(min_value=-100, max_value=100, allow_nan=False).map(lambda v: round(v, 1)),
    min_size=1,
    max_size=120,
)


def _ecdf(a: np.ndarray, b: np.ndarray):  # type: ignore[no-untyped-def]
    return merge(np.sort(a), np.sort(b))


@settings(max_examples=150, deadline=None)
@given(samples, samples)
def test_ks_equals_scipy_exact_and_asymptotic(a: list[float], b: list[float]) -> None:
    x, y = np.array(a), np.array(b)
    d = ks_statistic(_ecdf(x, y))
    for method in ("exact", "asymp"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ref = stats.ks_2samp(x, y, method=method)
        assert d == pytest.approx(ref.statistic, abs=1e-12)
        p = ks_pvalue(d, x.size, y.size, method)
        fell_back = any("Switching to method=asymp" in str(w.message) for w in caught)
        if math.isnan(ref.pvalue) or fell_back:
            # scipy's asymptotic size rounds to 0 for 1 vs 1 value (NaN), and its exact
            # recursion gives up on a few tiny cases (it then answers asymptotically).
            assert 0.0 <= p <= 1.0
        else:
            assert p == pytest.approx(ref.pvalue, abs=1e-9)


def test_ks_exact_pvalue_where_every_path_reaches_the_statistic() -> None:
    # With 7 vs 7 values, D >= 1/7 for every ordering: the p-value is exactly 1.
    assert ks_pvalue(1 / 7, 7, 7, "exact") == 1.0


@pytest.mark.parametrize(("n1", "n2"), [(2_000, 2_000), (3_001, 1_999), (9_000, 10_000)])
def test_ks_exact_pvalue_on_larger_samples_equals_scipy(n1: int, n2: int) -> None:
    rng = np.random.default_rng(n1)
    x, y = rng.normal(size=n1), rng.normal(0.03, 1.0, size=n2)
    d = ks_statistic(_ecdf(x, y))
    ref = stats.ks_2samp(x, y, method="exact")
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    assert ks_pvalue(d, n1, n2, "exact") == pytest.approx(ref.pvalue, abs=1e-9)
    assert ks_pvalue(d, n1, n2, "auto") == pytest.approx(ref.pvalue, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(samples, samples)
def test_wasserstein_equals_scipy(a: list[float], b: list[float]) -> None:
    x, y = np.array(a), np.array(b)
    expected = stats.wasserstein_distance(x, y)
    assert wasserstein_distance(_ecdf(x, y)) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(samples, samples)
def test_anderson_darling_equals_scipy_midrank(a: list[float], b: list[float]) -> None:
    x, y = np.array(a), np.array(b)
    if x.size + y.size < 5 or np.unique(np.concatenate([x, y])).size < 2:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # p-value capped warnings
        ref = stats.anderson_ksamp([x, y], variant="midrank")
    s = anderson_darling(_ecdf(x, y))
    assert s.value == pytest.approx(ref.statistic, rel=1e-9, abs=1e-9)
    assert s.p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)


# Counts from 1 to 100 in at most 12 bins: every share is above the smoothing floor (1e-4).
counts = st.lists(st.integers(1, 100), min_size=2, max_size=12)


@settings(max_examples=150, deadline=None)
@given(counts, st.data())
def test_count_measures_equal_scipy(ref_counts: list[int], data) -> None:
    size = len(ref_counts)
    cur_counts = data.draw(st.lists(st.integers(1, 100), min_size=size, max_size=size))
    r, c = np.array(ref_counts, float), np.array(cur_counts, float)
    chi = chi2_test(r, c)
    expected = stats.chi2_contingency(np.vstack([r, c]), correction=False)
    assert chi.value == pytest.approx(expected.statistic, rel=1e-9)
    assert chi.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert js_distance(r, c) == pytest.approx(jensenshannon(r, c), rel=1e-9, abs=1e-12)
    # No empty bins: no smoothing, so KL is exactly scipy's relative entropy.
    assert kl_divergence(r, c) == pytest.approx(stats.entropy(r, c), rel=1e-9, abs=1e-15)


def test_chi2_equals_scipy_goodness_of_fit_when_the_reference_is_large() -> None:
    # With a huge reference, homogeneity tends to goodness of fit against its shares.
    ref = np.array([2e9, 3e9, 5e9])
    cur = np.array([190.0, 320.0, 490.0])
    expected = stats.chisquare(cur, f_exp=ref / ref.sum() * cur.sum())
    got = chi2_test(ref, cur)
    assert got.value == pytest.approx(expected.statistic, rel=1e-6)
    assert got.p_value == pytest.approx(expected.pvalue, rel=1e-5)


def test_psi_and_hellinger_equal_hand_computations() -> None:
    ref = np.array([10.0, 20.0, 30.0, 40.0])
    cur = np.array([20.0, 20.0, 20.0, 40.0])
    e, a = ref / 100, cur / 100
    by_hand = sum((ai - ei) * math.log(ai / ei) for ai, ei in zip(a, e, strict=True))
    assert psi(ref, cur) == pytest.approx(by_hand, rel=1e-12)
    hell = math.sqrt(
        0.5 * sum((math.sqrt(x) - math.sqrt(y)) ** 2 for x, y in zip(e, a, strict=True))
    )
    assert hellinger_distance(ref, cur) == pytest.approx(hell, rel=1e-12)


def test_psi_smooths_empty_bins_to_one_in_ten_thousand() -> None:
    ref, cur = np.array([50.0, 50.0, 0.0]), np.array([40.0, 40.0, 20.0])
    e = np.array([0.5, 0.5, 1e-4]) / 1.0001
    a = np.array([0.4, 0.4, 0.2])
    assert psi(ref, cur) == pytest.approx(float(np.sum((a - e) * np.log(a / e))), rel=1e-12)
    assert math.isfinite(kl_divergence(cur, ref))


def test_benjamini_hochberg_equals_scipy() -> None:
    p = np.random.default_rng(3).random(40) ** 3
    expected = stats.false_discovery_control(p, method="bh")
    np.testing.assert_allclose(benjamini_hochberg(p.tolist()), expected, rtol=1e-12)


# -- the default policy -------------------------------------------------------------------


def test_negligible_shift_on_a_million_rows_is_significant_but_not_drift() -> None:
    rng = np.random.default_rng(4)
    ref = pa.table({"x": rng.normal(size=1_000_000)})
    cur = pa.table({"x": rng.normal(0.02, 1.0, size=1_000_000)})
    d = check(cur, reference=ref).drift.column("x")
    assert d.p_adjusted is not None and d.p_adjusted < 1e-6  # KS sees it...
    assert d.effect_size is not None and d.effect_size < 0.05  # ...but it is tiny
    assert not d.drifted
    assert (d.n_reference, d.n_current) == (1_000_000, 1_000_000)


def test_real_shift_on_500_rows_is_drift() -> None:
    rng = np.random.default_rng(5)
    ref = pa.table({"x": rng.normal(size=500)})
    cur = pa.table({"x": rng.normal(0.5, 1.0, size=500)})
    d = check(cur, reference=ref).drift.column("x")
    assert d.drifted and d.test == "ks" and d.effect == "wasserstein_norm"
    assert d.effect_size is not None and d.effect_size > 0.3


def test_no_drift_between_two_samples_of_one_distribution() -> None:
    rng = np.random.default_rng(6)
    ref = pa.table({f"x{i}": rng.normal(size=2_000) for i in range(10)})
    cur = pa.table({f"x{i}": rng.normal(size=2_000) for i in range(10)})
    assert not check(cur, reference=ref).drift.drifted


def test_dataset_drift_needs_the_configured_share_of_columns() -> None:
    rng = np.random.default_rng(7)
    ref = pa.table({f"x{i}": rng.normal(size=1_000) for i in range(4)})
    cols = {f"x{i}": rng.normal(size=1_000) + (3.0 if i < 2 else 0.0) for i in range(4)}
    cur = pa.table(cols)
    half = check(cur, reference=ref).drift
    assert half.drifted_share == 0.5 and half.dataset_drift  # 2 of 4 reaches 0.5
    strict = check(cur, reference=ref, policy=DriftPolicy(dataset_share=0.75)).drift
    assert not strict.dataset_drift


def test_multiple_testing_correction_adjusts_p_values() -> None:
    rng = np.random.default_rng(8)
    ref = pa.table({f"x{i}": rng.normal(size=300) for i in range(6)})
    cur = pa.table({f"x{i}": rng.normal(size=300) for i in range(6)})
    report = check(cur, reference=ref).drift
    raw = [c.p_value for c in report.columns]
    assert [c.p_adjusted for c in report.columns] == pytest.approx(
        stats.false_discovery_control(raw, method="bh")
    )


def test_per_column_method_and_threshold() -> None:
    rng = np.random.default_rng(9)
    ref = pa.table({"x": rng.normal(size=2_000), "y": rng.normal(size=2_000)})
    cur = pa.table({"x": rng.normal(0.3, 1, size=2_000), "y": rng.normal(size=2_000)})
    policy = DriftPolicy(
        columns={"x": ColumnRule("psi", threshold=0.5), "y": ColumnRule(skip=True)}
    )
    report = check(cur, reference=ref, policy=policy).drift
    x = report.column("x")
    assert x.method == "psi" and x.threshold == 0.5 and x.p_value is None
    assert x.drifted == (x.effect_size is not None and x.effect_size >= 0.5)
    assert report.column("y").skipped


def test_method_errors_are_clear() -> None:
    ref = pa.table({"c": ["a", "b"] * 50, "x": [1.0, 2.0] * 50})
    with pytest.raises(ConfigError, match="unknown drift method 'nope'"):
        get_method("nope")
    with pytest.raises(ConfigError, match="does not apply to categorical column 'c'"):
        check(ref, reference=ref, policy=DriftPolicy(columns={"c": ColumnRule("ks")}))
    with pytest.raises(ConfigError, match="needs a threshold"):
        check(ref, reference=ref, policy=DriftPolicy(columns={"x": ColumnRule("wasserstein")}))
    with pytest.raises(ConfigError, match="not_there"):
        check(ref, reference=ref, policy=DriftPolicy(columns={"not_there": ColumnRule("psi")}))


# -- the profile route ----------------------------------------------------------------------


def test_profile_route_matches_raw_route_within_its_error_bound() -> None:
    rng = np.random.default_rng(10)
    ref = pa.table({"x": rng.gamma(2.0, size=200_000), "c": rng.choice(list("abcd"), 200_000)})
    cur = pa.table(
        {
            "x": rng.gamma(2.2, size=150_000),
            "c": rng.choice(list("abcd"), 150_000, p=[0.4, 0.2, 0.2, 0.2]),
        }
    )
    ref_profile = profile(ref)
    from_raw = check(cur, reference=ref).drift
    from_profile = check(cur, reference=ref_profile).drift
    x_raw, x_prof = from_raw.column("x"), from_profile.column("x")
    assert x_raw.route == "raw" and x_prof.route == "profile"
    assert x_prof.statistic_error is not None and 0 < x_prof.statistic_error < 0.03
    assert abs(x_prof.statistic - x_raw.statistic) <= x_prof.statistic_error
    assert x_prof.effect_error is not None
    assert abs(x_prof.effect_size - x_raw.effect_size) <= x_prof.effect_error
    # Binned measures read the same exact counts either way.
    c_raw, c_prof = from_raw.column("c"), from_profile.column("c")
    assert (c_raw.route, c_prof.route) == ("raw", "profile")
    assert c_prof.statistic_error == 0 and c_prof.effect_error == 0
    assert c_prof.effect_size == pytest.approx(c_raw.effect_size, rel=1e-12)
    assert c_prof.statistic == pytest.approx(c_raw.statistic, rel=1e-12)


def test_compare_two_stored_profiles() -> None:
    rng = np.random.default_rng(11)
    ref = profile(pa.table({"x": rng.normal(size=5_000)}))
    cur = profile(pa.table({"x": rng.normal(1.0, 1.0, size=5_000)}), reference=ref)
    same_bins = compare_profiles(ref, cur)
    assert same_bins.column("x").drifted and same_bins.column("x").route == "profile"
    psi_policy = DriftPolicy(columns={"x": ColumnRule("psi")})
    assert compare_profiles(ref, cur, psi_policy).column("x").effect_size > 0.25


def test_incompatible_profiles_are_refused() -> None:
    rng = np.random.default_rng(12)
    a = profile(pa.table({"x": rng.normal(size=1_000)}))
    b = profile(pa.table({"x": rng.normal(size=1_000) + 5}))  # its own bins
    with pytest.raises(InputError, match=r"incompatible profiles.*different edges"):
        compare_profiles(a, b, DriftPolicy(columns={"x": ColumnRule("psi")}))
    with pytest.raises(InputError, match="incompatible profiles"):
        a.merge(b)
    strings = profile(pa.table({"x": ["a", "b"]}))
    with pytest.raises(InputError, match="incompatible profiles"):
        a.merge(strings)


def test_anderson_darling_needs_raw_data_on_both_sides() -> None:
    rng = np.random.default_rng(13)
    ref = pa.table({"x": rng.normal(size=1_000)})
    policy = DriftPolicy(columns={"x": ColumnRule("anderson_darling")})
    assert not check(ref, reference=ref, policy=policy).drift.column("x").skipped
    with pytest.raises(ConfigError, match="needs raw data"):
        check(ref, reference=profile(ref), policy=policy)


@settings(max_examples=60, deadline=None)
@given(samples, samples, st.integers(1, 4))
def test_ecdf_statistics_do_not_depend_on_the_merge_chunk_size(
    a: list[float], b: list[float], chunk: int
) -> None:
    # Tiny chunks put many chunk boundaries (and ties next to them) in every sample.
    x, y = np.sort(np.array(a)), np.sort(np.array(b))
    small = MergedECDF(x, y, chunk=chunk)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's p-value fallback; only D is compared
        expected_d = stats.ks_2samp(x, y).statistic
    assert ks_statistic(small) == pytest.approx(expected_d, abs=1e-12)
    w = stats.wasserstein_distance(x, y)
    assert wasserstein_distance(small) == pytest.approx(w, rel=1e-12, abs=1e-12)
    if x.size + y.size >= 5 and np.unique(np.concatenate([x, y])).size >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = stats.anderson_ksamp([x, y], variant="midrank")
        assert anderson_darling(small).value == pytest.approx(ref.statistic, rel=1e-9, abs=1e-9)


def test_columns_tested_on_threads_give_the_report_of_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlvitals.quality import checking
    from mlvitals.quality.drift.evaluate import evaluate

    rng = np.random.default_rng(5)
    n = 20_000
    numbers = {f"x{i}": rng.normal(0, 1, n) for i in range(6)}
    ref = pa.table({**numbers, "c": ["a", "b"] * (n // 2)})
    shifted = {f"x{i}": rng.normal(0.05 * i, 1, n) for i in range(6)}
    cur = pa.table({**shifted, "c": ["a", "a", "b", "c"] * (n // 4)})
    reports = []
    for workers in (1, 3):
        monkeypatch.setattr(checking, "evaluate", functools.partial(evaluate, workers=workers))
        reports.append(check(cur, reference=ref).drift)
    one, three = reports
    assert one == three
    # And each KS statistic is scipy's on the raw columns.
    for i in range(6):
        expected = stats.ks_2samp(numbers[f"x{i}"], shifted[f"x{i}"])
        assert three.column(f"x{i}").statistic == pytest.approx(expected.statistic, abs=1e-12)


# -- a robust scale for the numeric effect size ---------------------------------------------


def _robust_scale(x: np.ndarray) -> float:
    q1, q3 = np.quantile(x, [0.25, 0.75])
    return float(q3 - q1) / 1.349


def test_one_reference_outlier_does_not_hide_a_shift() -> None:
    rng = np.random.default_rng(21)
    ref = np.append(rng.normal(size=20_000), 1e9)  # one wild value inflates the std
    cur = rng.normal(0.5, 1.0, size=20_000)
    d = check(pa.table({"x": cur}), reference=pa.table({"x": ref})).drift.column("x")
    expected = stats.wasserstein_distance(ref, cur) / _robust_scale(ref)
    assert d.effect_size == pytest.approx(expected, rel=1e-9)
    assert d.drifted


def test_a_zero_inflated_column_with_an_outlier_keeps_its_verdict() -> None:
    rng = np.random.default_rng(22)
    n = 30_000

    def mixed(mu: float) -> np.ndarray:
        return np.where(rng.random(n) < 0.7, 0.0, rng.lognormal(mu, 1.0, n))

    ref, cur = mixed(3.0), mixed(3.8)
    with_outlier = np.append(ref, 1e12)
    for reference in (ref, with_outlier):
        d = check(pa.table({"x": cur}), reference=pa.table({"x": reference})).drift.column("x")
        assert d.drifted, d
    same = check(pa.table({"x": mixed(3.0)}), reference=pa.table({"x": with_outlier})).drift.column(
        "x"
    )
    assert not same.drifted


def test_heavy_tailed_change_is_caught_on_every_seed() -> None:
    # Pareto tail index 1.5 -> 1.1: the reference std is itself wildly variable.
    for seed in range(6):
        rng = np.random.default_rng(100 + seed)
        ref, cur = rng.pareto(1.5, 50_000) + 1, rng.pareto(1.1, 50_000) + 1
        d = check(pa.table({"x": cur}), reference=pa.table({"x": ref})).drift.column("x")
        assert d.drifted and d.effect_size is not None and d.effect_size > 1.0, (seed, d)


def test_mostly_constant_reference_falls_back_to_the_std() -> None:
    rng = np.random.default_rng(23)
    ref = np.where(rng.random(10_000) < 0.9, 0.0, rng.normal(5, 1, 10_000))
    cur = np.where(rng.random(10_000) < 0.8, 0.0, rng.normal(5, 1, 10_000))
    assert _robust_scale(ref) == 0.0  # quartiles equal: the IQR says nothing
    d = check(pa.table({"x": cur}), reference=pa.table({"x": ref})).drift.column("x")
    assert d.effect_size == pytest.approx(stats.wasserstein_distance(ref, cur) / ref.std())
