"""The demo's alert rules: the default rule pack, with windows the demo's pace can fill.

The default pack judges minutes of data (errors over 5 minutes, for 2 minutes); the demo
stages an incident a minute, so every window is cut to a few SDK windows and ``for`` to
zero, so each alert fires within two evaluation intervals of its condition holding. Two
rules differ in substance:

- the latency rule watches p90 per version instead of p99 per service: the demo's traffic
  sends 3 % deliberately slow calls (0.25 s), so p99 sits on them by design;
- a ``budget`` rule warns when a forecast passes 90 % of a budget's limit, before the
  pack's own budget rule (over the limit) would;
- the data-quality rules the demo's drifted batch raises (a failed check; half the columns
  drifted) are added if the pack does not have them.

>>> from mlvitals.alerts.config import parse_rules
>>> from mlvitals.demo.timing import Timing
>>> rules = parse_rules(demo_rules(Timing.for_pace(60)), "demo rules")
>>> [r.name for r in rules.rules if r.kind in ("serving", "drift", "check_failed")]
['HighErrorRate', 'HighLatencyP90', 'DataCheckFailed', 'DatasetDrift']
"""

from __future__ import annotations

from typing import Any

import yaml

from mlvitals.alerts.config import default_rules_text
from mlvitals.demo.timing import Timing

# Seconds of p90. The canary's regression adds 1.5 s to every call; clean calls take a few
# milliseconds, and stay a few hundred at most on a machine whose cores are all busy.
LATENCY_THRESHOLD = 1.0
BUDGET_THRESHOLD = 0.9


def _s(seconds: float) -> str:
    return f"{seconds:g}s"


def _overrides(t: Timing) -> dict[str, dict[str, Any]]:
    keep = _s(2 * t.alert_interval)  # rides over one noisy evaluation without flapping
    return {
        "ServiceDown": {"duration": _s(t.absence)},
        "InstanceDown": {"duration": _s(t.absence)},
        "HighErrorRate": {
            "window": _s(t.rule_window),
            "for": "0s",
            "keep_firing_for": keep,
        },
        "HighLatencyP99": {
            "name": "HighLatencyP90",
            "metric": "latency_p90",
            "threshold": LATENCY_THRESHOLD,
            "window": _s(t.rule_window),
            "group_by": ["version"],
            "min_calls": 10,
            "for": "0s",
            "keep_firing_for": keep,
            "annotations": {
                "summary": "{service} {version}: p90 latency {value:.3f}s over the last"
                " {window} (limit {threshold}s)"
            },
        },
        "ErrorBudgetBurn": {
            "windows": [{"long": _s(3 * t.rule_window), "short": _s(t.rule_window), "factor": 6}],
        },
        "ProbeFailing": {
            "below": 0.5,
            "window": _s(4 * t.probe_interval),
            "min_checks": 3,
        },
    }


EXTRA_RULES: list[dict[str, Any]] = [
    {
        "name": "BudgetForecastHigh",
        "kind": "budget",
        "threshold": BUDGET_THRESHOLD,
        "severity": "warning",
        "annotations": {
            "summary": "budget {budget} ({period}): the forecast is {value:.0%} of its"
            " {limit:.4g} {currency} limit",
            "description": "Spent so far this period: {spent} {currency}. See the cost page.",
        },
    },
    {
        "name": "DataCheckFailed",
        "kind": "check_failed",
        "severity": "warning",
        "annotations": {"summary": "dataset {dataset}: the latest check failed: {failed}"},
    },
    {
        "name": "DatasetDrift",
        "kind": "drift",
        "threshold": 0.5,  # as the engine's dataset drift: half the columns
        "severity": "warning",
        "annotations": {
            "summary": "dataset {dataset}: {value:.0%} of its columns drifted ({columns})"
        },
    },
]


def demo_rules(timing: Timing) -> dict[str, Any]:
    """The rules document for ``timing`` (pass it to ``parse_rules`` or write it as YAML)."""
    pack = yaml.safe_load(default_rules_text())
    overrides = _overrides(timing)
    rules = [{**rule, **overrides.get(rule["name"], {})} for rule in pack["rules"]]
    names = {rule["name"] for rule in rules}
    return {"rules": [*rules, *(r for r in EXTRA_RULES if r["name"] not in names)]}


def rules_yaml(timing: Timing) -> str:
    header = (
        "# The alert rules of `mlvitals demo`: the default rule pack (`mlvitals rules default`)\n"
        f"# with windows cut to the demo's pace ({timing.pace:g}s between incidents), a p90\n"
        "# latency rule per version, a budget rule and data-quality rules. See docs/demo.md.\n"
    )
    return header + yaml.safe_dump(demo_rules(timing), sort_keys=False, allow_unicode=True)
