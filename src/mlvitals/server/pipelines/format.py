"""Words and numbers of the Pipelines pages: times, states, and why a run was flagged.

Registered as Jinja filters (``stamp``, ``until``, ``state_label``) and used by the page
builders to word anomalies the way a person on call reads them.

>>> stamp(1_800_000_000.0)
'2027-01-15 08:00:00'
>>> until(1300.0, 1000.0), until(900.0, 1000.0)
('in 5 min', 'due now')
>>> metric_value("output_rows", 1234.0), metric_value("duration_seconds", 90.0)
('1,234', '1.50 min')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mlvitals.server.web import units
from mlvitals.server.web.formatting import out_of_range, to_datetime

STATE_LABELS = {
    "succeeded": "Succeeded",
    "failed": "Failed",
    "running": "Running",
    "aborted": "Aborted",
}
"""What a run's state is called on the pages."""

STATE_CLASSES = {
    "succeeded": "status-up",
    "failed": "status-down",
    "aborted": "status-degraded",
    "running": "status-running",
}

HEALTH_LABELS = {
    "ok": "OK",
    "running": "Running",
    "failed": "Failing",
    "late": "Late",
    "missed": "Missed",
    "overdue": "Overdue",
    "unknown": "No runs",
}
"""The health that ``GET /api/v1/pipelines`` reports, as the pages word it."""

HEALTH_CLASSES = {
    "ok": "status-up",
    "running": "status-running",
    "failed": "status-down",
    "late": "status-degraded",
    "missed": "status-down",
    "overdue": "status-down",
    "unknown": "status-none",
}

METRIC_LABELS = {
    "duration_seconds": "duration",
    "input_files": "files read",
    "input_bytes": "size read",
    "input_rows": "rows read",
    "output_files": "files written",
    "output_bytes": "size written",
    "output_rows": "rows written",
}


def stamp(when: float | None) -> str:
    """A Unix time as ``YYYY-MM-DD HH:MM:SS`` in UTC (tables say "UTC" in their header)."""
    if when is None:
        return "—"
    moment = to_datetime(when)
    return out_of_range(when) if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def clock(when: float) -> str:
    """A Unix time as ``HH:MM UTC``, for reasons that name a scheduled time."""
    moment = to_datetime(when)
    return out_of_range(when) if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def until(then: float | None, now: float) -> str:
    """How long after ``now`` the Unix time ``then`` is, e.g. ``in 5 min``."""
    if then is None:
        return "—"
    seconds = then - now
    if seconds < 60:
        return "due now"
    if seconds < 3600:
        return f"in {int(seconds // 60)} min"
    if seconds < 86400:
        return f"in {int(seconds // 3600)} h"
    days = int(seconds // 86400)
    return "in 1 day" if days == 1 else f"in {days} days"


def state_label(state: str | None) -> str:
    return STATE_LABELS.get(state or "", (state or "unknown").capitalize())


def metric_value(metric: str, value: float) -> str:
    """A step metric with its unit: durations as time, bytes in binary units, else a count."""
    if metric == "duration_seconds":
        return units.duration(value)
    if metric.endswith("_bytes"):
        return units.size(value)
    return f"{round(value):,}"


def anomaly_reason(anomaly: Mapping[str, Any]) -> str:
    """Why a step metric was flagged, from one entry of ``step_anomalies(...).to_dict()``.

    >>> anomaly_reason({"step": "load", "metric": "output_rows", "value": 40.0,
    ...                 "direction": "low", "median": 1000.0, "low": 900.0,
    ...                 "high": 1100.0, "history": 6})
    'step load: rows written 40, below the usual 900 to 1,100 (median 1,000 of 6 good runs)'
    """
    metric = str(anomaly["metric"])
    label = METRIC_LABELS.get(metric, metric)
    where = "below" if anomaly["direction"] == "low" else "above"
    low = max(float(anomaly["low"]), 0.0)

    def shown(v: float) -> str:
        return metric_value(metric, v)

    return (
        f"step {anomaly['step']}: {label} {shown(float(anomaly['value']))}, {where} the usual "
        f"{shown(low)} to {shown(float(anomaly['high']))} "
        f"(median {shown(float(anomaly['median']))} of {anomaly['history']} good runs)"
    )


FILTERS: dict[str, Callable[..., Any]] = {
    "stamp": stamp,
    "until": until,
    "state_label": state_label,
}
