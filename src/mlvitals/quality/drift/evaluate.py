"""Apply a :class:`DriftPolicy` to columns: compute, correct for multiple tests, decide.

>>> import pyarrow as pa
>>> from mlvitals.quality import profile
>>> ref = profile(pa.table({"x": [float(i % 50) for i in range(1000)]}))
>>> cur = profile(pa.table({"x": [float(i % 50) + 20 for i in range(1000)]}), reference=ref)
>>> report = compare_profiles(ref, cur)
>>> report.column("x").drifted, report.column("x").route
(True, 'profile')
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from mlvitals.errors import ConfigError
from mlvitals.quality.columns import ColumnKind
from mlvitals.quality.drift.base import DriftMethod, Statistic, get_method
from mlvitals.quality.drift.config import ColumnRule, DriftPolicy
from mlvitals.quality.drift.correction import benjamini_hochberg
from mlvitals.quality.drift.inputs import ColumnData
from mlvitals.quality.drift.result import ColumnDrift, DriftReport
from mlvitals.quality.profiles import Profile

_DEFAULTS = {
    ColumnKind.NUMERIC: ("ks", "wasserstein_norm"),
    ColumnKind.CATEGORICAL: ("chi2", "psi"),
    ColumnKind.BOOLEAN: ("chi2", "psi"),
}


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    test: DriftMethod | None
    effect: DriftMethod | None
    alpha: float | None
    threshold: float | None


def _plan(data: ColumnData, rule: ColumnRule, policy: DriftPolicy) -> _Plan | str:
    """What to compute for a column, or why it is not tested."""
    if rule.method is None:
        if data.kind not in _DEFAULTS:
            return f"{data.kind} columns are not tested by default (name a method to test it)"
        test_name, effect_name = _DEFAULTS[data.kind]
        threshold = rule.threshold if rule.threshold is not None else policy.effect_threshold
        return _Plan(get_method(test_name), get_method(effect_name), policy.alpha, threshold)
    method = get_method(rule.method)
    if data.kind not in method.applies_to:
        raise ConfigError(
            f"drift method {method.name!r} does not apply to {data.kind} column {data.name!r} "
            f"(it takes {', '.join(sorted(method.applies_to))} columns)"
        )
    if not method.from_profiles and not data.raw:
        raise ConfigError(
            f"drift method {method.name!r} (column {data.name!r}) needs raw data on both "
            "sides; give the reference data rather than its profile, or choose another method"
        )
    if method.kind == "test":
        alpha = rule.threshold if rule.threshold is not None else policy.alpha
        return _Plan(method, None, alpha, None)
    effect_threshold = rule.threshold if rule.threshold is not None else method.default_threshold
    if effect_threshold is None:
        raise ConfigError(f"drift method {method.name!r} (column {data.name!r}) needs a threshold")
    return _Plan(None, method, None, effect_threshold)


def _test_column(data: ColumnData, policy: DriftPolicy, skip: Mapping[str, str]) -> ColumnDrift:
    """One column's test and effect size, undecided (the correction needs every column).

    A deferred column's profiles are completed first, whatever the policy says of it.
    """
    try:
        data.prepare()
        return _test_prepared(data, policy, skip)
    finally:
        data.release()


def _test_prepared(data: ColumnData, policy: DriftPolicy, skip: Mapping[str, str]) -> ColumnDrift:
    rule = policy.rule_for(data.name)
    base = ColumnDrift(
        column=data.name,
        kind=str(data.kind),
        method="",
        n_reference=data.n_ref,
        n_current=data.n_cur,
        route="raw" if data.raw else "profile",
    )
    if rule.skip:
        plan: _Plan | str = "skipped by the drift policy"
    elif data.name in skip and rule.method is None:
        plan = skip[data.name]  # an identifier or an ignored column, unless a method is named
    else:
        plan = _plan(data, rule, policy)
    if isinstance(plan, str):
        return dataclasses.replace(base, skipped=True, note=plan)
    if data.n_ref == 0 or data.n_cur == 0:
        side = "reference" if data.n_ref == 0 else "current data"
        note = f"no values in the {side}"
        return dataclasses.replace(base, skipped=True, note=note)
    names = [m.name for m in (plan.test, plan.effect) if m is not None]
    row = dataclasses.replace(base, method="+".join(names), alpha=plan.alpha)
    profile_route = row.route == "profile"
    if plan.test is not None:
        s = plan.test.compute(data)
        row = dataclasses.replace(
            row,
            test=plan.test.name,
            statistic=s.value,
            p_value=s.p_value,
            statistic_error=_bound(s, data) if profile_route else None,
        )
    if plan.effect is not None:
        s = plan.effect.compute(data)
        row = dataclasses.replace(
            row,
            effect=plan.effect.name,
            effect_size=s.value,
            threshold=plan.threshold,
            effect_error=_bound(s, data) if profile_route else None,
        )
    return row


MAX_WORKERS = 4
"""Most threads that test columns at once (each sorts its columns into buffers of its own)."""


def evaluate(
    columns: Sequence[ColumnData],
    policy: DriftPolicy | None = None,
    *,
    workers: int | None = None,
    skip: Mapping[str, str] | None = None,
) -> DriftReport:
    """Test every column, adjust the p-values together, and decide column and dataset drift.

    ``skip`` maps columns not to test (unless the policy names a method for them) to why.

    Columns tested on raw data spend most of their time sorting, which numpy does without
    the GIL: with ``workers`` threads (default: the CPUs, at most :data:`MAX_WORKERS`, and
    only when two or more columns have raw data) several columns are tested at once. Each
    thread holds two column-sized sort buffers. The report is the same either way.
    """
    policy = policy or DriftPolicy()
    skipped = skip or {}
    if workers is None:
        raw = sum(1 for c in columns if c.raw)
        workers = min(os.cpu_count() or 1, MAX_WORKERS, raw) if raw > 1 else 1
    if workers > 1:
        with ThreadPoolExecutor(workers, thread_name_prefix="mlvitals-drift") as pool:
            results = list(pool.map(lambda data: _test_column(data, policy, skipped), columns))
    else:
        results = [_test_column(data, policy, skipped) for data in columns]
    results = _decide(results, policy)
    tested = [r for r in results if not r.skipped]
    share = sum(r.drifted for r in tested) / len(tested) if tested else 0.0
    return DriftReport(
        columns=tuple(results),
        drifted_share=share,
        dataset_share=policy.dataset_share,
        dataset_drift=bool(tested) and share >= policy.dataset_share,
        correction=policy.correction,
    )


def _bound(s: Statistic, data: ColumnData) -> float | None:
    """The profile route's error bound: the method's own, else 0 when counts are exact."""
    if s.error_bound is not None:
        return s.error_bound
    return 0.0 if data.binned_error == 0 else None


def _decide(rows: list[ColumnDrift], policy: DriftPolicy) -> list[ColumnDrift]:
    tested = [i for i, r in enumerate(rows) if r.p_value is not None]
    p_values = [rows[i].p_value or 0.0 for i in tested]
    adjusted = benjamini_hochberg(p_values) if policy.correction == "bh" else p_values
    for i, p_adj in zip(tested, adjusted, strict=True):
        rows[i] = dataclasses.replace(rows[i], p_adjusted=p_adj)
    out = []
    for r in rows:
        if r.skipped:
            out.append(r)
            continue
        significant = r.p_adjusted is None or (r.alpha is not None and r.p_adjusted < r.alpha)
        large = r.effect_size is None or (r.threshold is not None and r.effect_size >= r.threshold)
        out.append(dataclasses.replace(r, drifted=bool(significant and large)))
    return out


def compare_profiles(
    reference: Profile, current: Profile, policy: DriftPolicy | None = None
) -> DriftReport:
    """Drift between two stored profiles (the current one binned on the reference's edges).

    Columns are matched by name; columns of only one side are left out (a check reports
    them as missing or extra columns).
    """
    policy = policy or DriftPolicy()
    data = [
        ColumnData(reference.column(c.name), c, ks_method=policy.ks_method)
        for c in current.columns
        if c.name in reference and reference.column(c.name).kind == c.kind
    ]
    return evaluate(data, policy)
