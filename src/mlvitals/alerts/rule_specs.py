"""Parsing the kind-specific fields of a rule (see ``docs/alerts.md`` for every field)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mlvitals.alerts.reader import Reader
from mlvitals.alerts.rules import (
    COMPARISONS,
    METRIC_ALIASES,
    PIPELINE_CONDITIONS,
    SERVING_GROUPS,
    SERVING_METRICS,
    AbsenceSpec,
    AvailabilitySpec,
    BudgetSpec,
    BurnRateSpec,
    BurnWindow,
    CheckSpec,
    Condition,
    DriftSpec,
    EnvironmentSpec,
    PipelineSpec,
    Selector,
    ServingSpec,
    Spec,
)


def _selector(r: Reader, fields: tuple[str, ...]) -> Selector:
    raw = r.mapping("selector")
    if raw is None:
        return Selector()
    unknown = sorted(set(raw) - set(fields), key=str)
    if unknown:
        r.error(
            "selector", f"unknown key(s) {', '.join(map(str, unknown))}; use {', '.join(fields)}"
        )
    values = {}
    for key in fields:
        value = raw.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                r.error("selector", f"{key} must be a string, got {value!r}")
            else:
                values[key] = str(value)
    return Selector(**values)


def _group_by(r: Reader, allowed: tuple[str, ...]) -> tuple[str, ...]:
    groups = r.strings("group_by") or ()
    bad = [g for g in groups if g not in allowed]
    if bad:
        r.error("group_by", f"cannot group by {', '.join(bad)}; choose from {', '.join(allowed)}")
    return groups


def _min_calls(r: Reader) -> int:
    value = r.number("min_calls", low=0)
    return int(value) if value is not None else 0


def _serving(r: Reader) -> Spec | None:
    metric = r.text("metric", required=True)
    if metric is not None:
        metric = METRIC_ALIASES.get(metric, metric)
        if metric not in SERVING_METRICS:
            r.error(
                "metric", f"unknown metric {metric!r}; choose from {', '.join(SERVING_METRICS)}"
            )
    op = r.text("op", choices=COMPARISONS) or ">"
    threshold = r.number("threshold", required=True)
    window = r.duration("window", positive=True)
    selector = _selector(r, ("service", "version", "operation", "instance"))
    groups = _group_by(r, SERVING_GROUPS)
    min_calls = _min_calls(r)
    if r.failed or metric is None or threshold is None:
        return None
    return ServingSpec(
        metric, Condition(op, threshold), window or 300.0, selector, groups, min_calls
    )


def _absence(r: Reader) -> Spec | None:
    duration = r.duration("duration", required=True, positive=True)
    selector = _selector(r, ("service", "instance"))
    groups = _group_by(r, ("instance",))
    forget = r.duration("forget_after", positive=True)
    if duration is not None and forget is not None and forget <= duration:
        r.error("forget_after", "must be longer than 'duration'")
    if r.failed or duration is None:
        return None
    return AbsenceSpec(duration, selector, groups, forget or 86400.0)


def _availability(r: Reader) -> Spec | None:
    below = r.number("below", required=True, low=0.0, high=1.0)
    window = r.duration("window", positive=True)
    target = r.text("target")
    min_checks = r.number("min_checks", low=1)
    if r.failed or below is None:
        return None
    return AvailabilitySpec(below, window or 600.0, target, int(min_checks or 1))


def _burn_windows(r: Reader) -> tuple[BurnWindow, ...] | None:
    raw = r.items("windows")
    if raw is None:
        return None
    if not raw:
        r.error("windows", "give at least one {long, short, factor}")
    out = []
    for i, item in enumerate(raw):
        sub = Reader(
            item if isinstance(item, Mapping) else {}, f"{r.where}, windows {i + 1}", r.errors
        )
        if not isinstance(item, Mapping):
            sub.error(None, "expected a mapping {long, short, factor}")
            continue
        sub.only({"long", "short", "factor"})
        long = sub.duration("long", required=True, positive=True)
        short = sub.duration("short", required=True, positive=True)
        factor = sub.number("factor", required=True, low=0.0)
        if long is not None and short is not None and short >= long:
            sub.error("short", "must be shorter than 'long'")
        if long is not None and short is not None and factor is not None:
            out.append(BurnWindow(long, short, factor))
    return tuple(out)


def _burn_rate(r: Reader) -> Spec | None:
    objective = r.number("objective", required=True, low=0.0, high=1.0)
    if objective is not None and not 0.0 < objective < 1.0:
        r.error("objective", f"must be between 0 and 1 exclusive (e.g. 0.999), got {objective:g}")
    windows = _burn_windows(r)
    selector = _selector(r, ("service", "version", "operation", "instance"))
    groups = _group_by(r, SERVING_GROUPS)
    min_calls = _min_calls(r)
    if r.failed or objective is None:
        return None
    spec = BurnRateSpec(objective, selector=selector, group_by=groups, min_calls=min_calls)
    return (
        spec if windows is None else BurnRateSpec(objective, windows, selector, groups, min_calls)
    )


def _pipeline(r: Reader) -> Spec | None:
    condition = r.text("condition", required=True, choices=PIPELINE_CONDITIONS)
    pipeline = r.text("pipeline")
    if r.failed or condition is None:
        return None
    return PipelineSpec(condition, pipeline)


def _environment(r: Reader) -> Spec | None:
    pipeline = r.text("pipeline")
    return None if r.failed else EnvironmentSpec(pipeline)


def _check(r: Reader) -> Spec | None:
    dataset = r.text("dataset")
    return None if r.failed else CheckSpec(dataset)


def _drift(r: Reader) -> Spec | None:
    threshold = r.number("threshold", required=True, low=0.0)
    dataset = r.text("dataset")
    column = r.text("column")
    if r.failed or threshold is None:
        return None
    return DriftSpec(threshold, dataset, column)


def _budget(r: Reader) -> Spec | None:
    budget = r.text("budget")
    threshold = r.number("threshold", low=0.0)
    if r.failed:
        return None
    return BudgetSpec(budget, 1.0 if threshold is None else threshold)


# kind -> (its own fields, parser)
KINDS: dict[str, tuple[frozenset[str], Callable[[Reader], Spec | None]]] = {
    "serving": (
        frozenset({"metric", "op", "threshold", "window", "selector", "group_by", "min_calls"}),
        _serving,
    ),
    "absence": (frozenset({"duration", "selector", "group_by", "forget_after"}), _absence),
    "availability": (frozenset({"below", "window", "target", "min_checks"}), _availability),
    "burn_rate": (
        frozenset({"objective", "windows", "selector", "group_by", "min_calls"}),
        _burn_rate,
    ),
    "pipeline": (frozenset({"condition", "pipeline"}), _pipeline),
    "environment_changed": (frozenset({"pipeline"}), _environment),
    "check_failed": (frozenset({"dataset"}), _check),
    "drift": (frozenset({"threshold", "dataset", "column"}), _drift),
    "budget": (frozenset({"budget", "threshold"}), _budget),
}


def parse_spec(kind: str, r: Reader) -> Spec | None:
    """The spec of a rule of ``kind`` (a key of :data:`KINDS`), or ``None`` after errors."""
    return KINDS[kind][1](r)
