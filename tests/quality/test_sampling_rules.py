"""Inferred schema rules that know about sampling: rare categories and values just past the
reference's range do not fail a check on unchanged data, real changes still do, and values
outside the reference's range are reported as warnings even within the tolerance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlvitals.quality import check, infer_schema, profile

# Five common categories and four rare ones: at 300 rows a rare one is often seen on one
# side only.
NAMES = ["a", "b", "c", "d", "e", "r1", "r2", "r3", "r4"]
P = np.array([0.3, 0.25, 0.2, 0.13, 0.1, 0.008, 0.006, 0.004, 0.002])


def _frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "plan": rng.choice(NAMES, n, p=P / P.sum()),
            "age": rng.integers(18, 90, n),
            "income": rng.lognormal(10, 0.5, n),
        }
    )


def test_unchanged_small_samples_pass_despite_rare_categories() -> None:
    failed = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        result = check(_frame(300, rng), reference=_frame(300, rng))
        if not result.passed:
            failed.append((seed, result.summary()))
    assert failed == []


def test_inferred_unknown_share_follows_the_stated_rule() -> None:
    rng = np.random.default_rng(3)
    ref = _frame(300, rng)
    counts = ref.plan.value_counts().to_numpy()
    f1, f2 = int((counts == 1).sum()), int((counts == 2).sum())
    expected = (f1 + 3 * np.sqrt(f1 + 2 * f2) + 3) / len(ref)
    rule = infer_schema(profile(ref)).column("plan")
    assert rule.max_unknown_share == pytest.approx(expected, abs=1e-4)


def test_a_real_new_category_still_fails() -> None:
    rng = np.random.default_rng(4)
    ref, cur = _frame(300, rng), _frame(300, rng)
    cur.loc[cur.index[:30], "plan"] = "gold"  # 10 %
    result = check(cur, reference=ref)
    failure = next(f for f in result.failures if f.check == "categories")
    assert failure.count >= 30 and failure.samples[0].value == "gold"
    # And at scale a far smaller share fails: 0.2 % of 100,000 rows.
    big_ref, big_cur = _frame(100_000, rng), _frame(100_000, rng)
    big_cur.loc[big_cur.index[:200], "plan"] = "gold"
    assert any(f.check == "categories" for f in check(big_cur, reference=big_ref).failures)


def test_values_past_the_range_within_tolerance_are_warnings_with_samples() -> None:
    rng = np.random.default_rng(5)
    ref = _frame(4_000, rng)
    cur = _frame(1_000, rng)
    cur.loc[[10, 20, 30, 40, 50], "age"] = 130
    result = check(cur, reference=ref)
    assert not any(f.check == "range" for f in result.failures)
    warning = next(w for w in result.warnings if w.check == "range" and w.column == "age")
    assert warning.count == 5
    assert [(s.row, s.value) for s in warning.samples] == [(r, 130) for r in (10, 20, 30, 40, 50)]
    assert "age" in result.summary() and "warning" in result.summary()
    assert result.to_dict()["warnings"][0]["column"] == "age"
    # Many more values out of range fail.
    cur.loc[cur.index[:100], "age"] = 130
    assert any(f.check == "range" for f in check(cur, reference=ref).failures)


def test_limits_allow_what_sampling_explains_and_no_more() -> None:
    from mlvitals.quality.sampling import allowed_count

    for n, share in ((300, 0.01), (10_000, 0.0005), (1_000_000, 3e-6)):
        k = allowed_count(share, n)
        assert k == int(stats.binom.ppf(0.999, n, share))
        assert stats.binom.sf(k, n, share) <= 0.001 < stats.binom.sf(k - 1, n, share)
    assert allowed_count(0.0, 1_000) == 0  # a limit of 0 allows none
