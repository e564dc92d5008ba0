"""Signals over serving windows: thresholds on serving figures and error-budget burn rate."""

from __future__ import annotations

from typing import Any

from mlvitals.alerts.rules import BurnRateSpec, Rule, Selector, ServingSpec
from mlvitals.alerts.state import Sample
from mlvitals.durations import format_duration
from mlvitals.server.alerts.signal import selector_labels
from mlvitals.server.serving.queries import SeriesQuery, serving_series, serving_total
from mlvitals.store import Store


def active_services(store: Store, start: float, end: float) -> list[str]:
    """Services with at least one serving window starting in ``[start, end)``."""
    rows = store.fetch(
        "SELECT DISTINCT service FROM serving_windows WHERE start >= ? AND start < ?",
        (start, end),
    )
    return sorted(r["service"] for r in rows)


def _services(store: Store, selector: Selector, start: float, end: float) -> list[str]:
    return [selector.service] if selector.service else active_services(store, start, end)


def figures(
    store: Store,
    service: str,
    selector: Selector,
    group_by: tuple[str, ...],
    start: float,
    end: float,
) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """(labels, summary) per group of one service over ``[start, end)``; the labels hold the
    service, the selector's fixed values and the group's values."""
    base = {"service": service, **selector_labels(selector)}
    q = SeriesQuery(
        service,
        start,
        end,
        end - start,
        selector.version,
        selector.operation,
        selector.instance,
        group_by,
    )
    if not group_by:
        return [(base, serving_total(store, q))]
    out = []
    for series in serving_series(store, q):
        # One step spans the window, so each group has exactly one point.
        point = series["points"][0]
        out.append(({**base, **series["labels"]}, point))
    return out


def serving_signal(store: Store, rule: Rule, now: float) -> list[Sample]:
    """A serving figure per service (and group) over the rule's window."""
    spec = rule.spec
    assert isinstance(spec, ServingSpec)
    start = now - spec.window
    samples = []
    for service in _services(store, spec.selector, start, now):
        for labels, summary in figures(store, service, spec.selector, spec.group_by, start, now):
            value = summary.get(spec.metric)
            if value is None or int(summary["calls"]) < spec.min_calls:
                continue
            samples.append(Sample(labels, float(value), info={"calls": int(summary["calls"])}))
    return samples


def burn_rate_signal(store: Store, rule: Rule, now: float) -> list[Sample]:
    """Error-budget burn per service (and group) over every window of the rule; a window
    with fewer than ``min_calls`` calls counts as not burning."""
    spec = rule.spec
    assert isinstance(spec, BurnRateSpec)
    lengths = sorted({w for pair in spec.windows for w in (pair.long, pair.short)})
    samples = []
    for service in _services(store, spec.selector, now - max(lengths), now):
        burns: dict[tuple[tuple[str, str], ...], dict[float, float]] = {}
        for length in lengths:
            for labels, summary in figures(
                store, service, spec.selector, spec.group_by, now - length, now
            ):
                rate = summary.get("error_rate")
                enough = int(summary["calls"]) >= max(spec.min_calls, 1)
                burn = float(rate) / spec.budget if rate is not None and enough else 0.0
                burns.setdefault(tuple(sorted(labels.items())), {})[length] = burn
        for key, per_window in burns.items():
            value, firing = spec.judge(per_window)
            info = {f"burn_{format_duration(w)}": round(b, 3) for w, b in per_window.items()}
            samples.append(Sample(dict(key), value, holds=firing, info=info))
    return samples
