"""Chart series of a service page, from a :class:`ServiceView` (pure functions).

Every series has a point for every step of the range; a step without data is ``None``,
which the chart draws as a gap (no report is not the same as zero calls). Rates are per
whole step, as in ``GET /api/v1/services/{service}/series``, so the step still in
progress shows what has arrived of it so far. Units are chosen
for reading: latency and CPU time in milliseconds, memory in MiB, shares in percent.

>>> from mlvitals.server.serving.view import ServiceView
>>> view = ServiceView(start=0.0, end=60.0, step=30.0, split="none")
>>> calls_per_second(view)
[{'name': 'all', 'x': [0.0, 30.0], 'y': [None, None]}]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mlvitals.server.serving.aggregate import WindowAggregate
from mlvitals.server.serving.view import InstancePoint, ServiceView

Series = dict[str, Any]
MIB = 1024.0 * 1024.0
MAX_ERROR_TYPES = 6
LATENCY_QUANTILES = ("p50", "p90", "p95", "p99")


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _series(
    view: ServiceView,
    name: str,
    points: Mapping[float, WindowAggregate],
    value: Callable[[dict[str, Any]], float | None],
) -> Series:
    steps = view.steps
    y = []
    for t in steps:
        agg = points.get(t)
        y.append(None if agg is None else value(agg.summary(view.step)))
    return {"name": name, "x": steps, "y": y}


def _per_group(view: ServiceView, value: Callable[[dict[str, Any]], float | None]) -> list[Series]:
    """One series per group of the split, or one named "all" without a split."""
    if view.split == "none":
        return [_series(view, "all", view.by_step, value)]
    return [_series(view, label, points, value) for label, points in view.groups.items()]


def _milliseconds(key: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda s: _scaled(s[key], 1000.0)


def _failures_of(error_type: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda s: float(s["failures"].get(error_type, 0))


def calls_per_second(view: ServiceView) -> list[Series]:
    return _per_group(view, lambda s: s["calls_per_second"])


def error_rate(view: ServiceView) -> list[Series]:
    """Server-side failures as a percentage of calls."""
    return _per_group(view, lambda s: _scaled(s["error_rate"], 100.0))


def cpu_per_call(view: ServiceView) -> list[Series]:
    """Mean CPU time per call, in milliseconds."""
    return _per_group(view, lambda s: _scaled(s["cpu_per_call"], 1000.0))


def latency(view: ServiceView) -> list[Series]:
    """p50, p90, p95 and p99 in milliseconds; with a split, the p99 of each group."""
    if view.split == "none":
        return [
            _series(view, q, view.by_step, _milliseconds(f"latency_{q}")) for q in LATENCY_QUANTILES
        ]
    return _per_group(view, lambda s: _scaled(s["latency_p99"], 1000.0))


def failures_by_type(view: ServiceView) -> list[Series]:
    """Failed calls per step by error type (stacked bars), the most frequent types first."""
    ranked = sorted(view.total.failures.items(), key=lambda kv: (-kv[1], kv[0]))
    types = [name for name, n in ranked if n]
    shown, rest = types[:MAX_ERROR_TYPES], set(types[MAX_ERROR_TYPES:])
    out = []
    for name in shown:
        out.append(_series(view, name, view.by_step, _failures_of(name)))
    if rest:
        out.append(
            _series(
                view,
                f"other ({len(rest)} types)",
                view.by_step,
                lambda s: sum(n for k, n in s["failures"].items() if k in rest),
            )
        )
    return out


def _instance_series(
    view: ServiceView, value: Callable[[InstancePoint, float], float | None]
) -> list[Series]:
    out = []
    for instance, points in sorted(view.instances.items()):
        y = [None if (p := points.get(t)) is None else value(p, view.step) for t in view.steps]
        if any(v is not None for v in y):
            out.append({"name": instance, "x": view.steps, "y": y})
    return out


def window_memory(view: ServiceView) -> list[Series]:
    """Peak RSS per instance in MiB, as the windows report it."""
    return _instance_series(view, lambda p, _: _scaled(p.peak_rss_bytes, 1 / MIB))


def gpu_utilization(view: ServiceView) -> list[Series]:
    """GPU busy time per instance as a percentage of the step."""
    return _instance_series(
        view,
        lambda p, seconds: _scaled(p.gpu_busy_seconds, 100.0 / seconds),
    )


def gpu_memory(view: ServiceView) -> list[Series]:
    """Peak GPU memory per instance in MiB."""
    return _instance_series(view, lambda p, _: _scaled(p.gpu_peak_memory_bytes, 1 / MIB))


def sample_series(
    resources: list[dict[str, Any]],
    view: ServiceView,
    field: str,
    factor: float,
    keep: Callable[[str], bool],
) -> list[Series]:
    """Per-instance series of ``field`` from :func:`instance_series` rows (instance samples)."""
    index = {t: i for i, t in enumerate(view.steps)}
    out = []
    for entry in resources:
        instance = entry["labels"]["instance"]
        if not keep(instance):
            continue
        y: list[float | None] = [None] * len(index)
        for point in entry["points"]:
            i = index.get(float(point["time"]))
            if i is not None and point[field] is not None:
                y[i] = float(point[field]) * factor
        if any(v is not None for v in y):
            out.append({"name": instance, "x": view.steps, "y": y})
    return out
