"""The fields annotation templates can use, and the summary of a rule that gives none.

>>> from mlvitals.alerts.rules import Condition, Rule, ServingSpec
>>> rule = Rule("Slow", ServingSpec("latency_p99", Condition(">", 0.5), window=300.0))
>>> f = template_fields(rule, {"service": "fraud"}, 0.75, {})
>>> (f["service"], f["value"], f["threshold"], f["window"], f["metric"])
('fraud', 0.75, 0.5, '5m', 'latency_p99')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mlvitals.alerts.rules import (
    AvailabilitySpec,
    BurnRateSpec,
    Rule,
    ServingSpec,
)
from mlvitals.durations import format_duration

SLO_PERIOD = 30 * 86400.0

_SUMMARIES = {
    "serving": "{service}: {metric} is {value:.4g} ({op} {threshold:g}) over {window}",
    "absence": "{service} has sent no data for {value:.0f}s",
    "availability": "uptime probe {target}: {value:.1%} of checks succeeded over {window}",
    "burn_rate": "{service} burns its error budget {value:.1f}x faster than sustainable",
    "pipeline": "pipeline {pipeline}: {condition}",
    "environment_changed": "pipeline {pipeline}: dependencies changed between runs",
    "check_failed": "dataset {dataset}: data-quality check failed",
    "drift": "dataset {dataset}: drift {value:.3g} over {threshold:g}",
    "budget": "budget {budget}: forecast {value:.0%} of the budget",
}


def default_summary(rule: Rule) -> str:
    return _SUMMARIES.get(rule.kind, "{rule} is {value}")


def template_fields(
    rule: Rule, labels: Mapping[str, str], value: float, info: Mapping[str, Any]
) -> dict[str, Any]:
    """Rule settings, then the alert's labels, then the signal's extra fields, then value."""
    spec = rule.spec
    out: dict[str, Any] = {
        "rule": rule.name,
        "severity": rule.severity,
        "op": spec.condition.op,
        "threshold": spec.condition.threshold,
    }
    if isinstance(spec, ServingSpec):
        out |= {"metric": spec.metric, "window": format_duration(spec.window)}
    elif isinstance(spec, AvailabilitySpec):
        out["window"] = format_duration(spec.window)
    elif isinstance(spec, BurnRateSpec):
        out["objective"] = spec.objective
        out["exhaustion"] = (
            format_duration(SLO_PERIOD / value) if value > 0 and math.isfinite(value) else "never"
        )
    elif hasattr(spec, "condition_name"):
        out["condition"] = spec.condition_name
    return out | dict(labels) | dict(info) | {"value": value}
