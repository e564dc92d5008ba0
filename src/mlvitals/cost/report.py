"""Summaries of cost lines: breakdowns, the daily trend, the idle share, and allocations in
OpenCost's vocabulary (``cpuCoreHours``, ``ramByteHours``, ``gpuHours``, idle).

>>> from mlvitals.cost.lines import CostLine
>>> lines = [CostLine(0.0, 3600.0, "cpu", 1.0, "core-hour", 0.5, 0.5, "USD", service="a"),
...          CostLine(0.0, 3600.0, "cpu", 1.0, "core-hour", 0.5, 0.5, "USD", idle=True,
...                   service="a")]
>>> [(g["service"], g["amount"], g["idle"]) for g in breakdown(lines, "service")]
[('a', 1.0, 0.5)]
>>> idle_share(lines)
0.5
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mlvitals.cost.lines import GIB, CostLine
from mlvitals.cost.timegrid import iso_date

_KEYS: dict[str, tuple[str, ...]] = {
    "service": ("service",),
    "version": ("service", "version"),
    "operation": ("service", "version", "operation"),
    "instance": ("service", "instance"),
    "pipeline": ("pipeline",),
    "run": ("pipeline", "run"),
    "dataset": ("dataset",),
    "resource": ("resource", "unit"),
    "category": ("category",),
    "day": ("day",),
}
#: What ``breakdown`` can group by.
GROUPS = tuple(_KEYS)


def group_keys(by: str) -> tuple[str, ...]:
    """The fields that name a group of ``breakdown(lines, by)``."""
    return _KEYS[by]


def _field(name: str) -> Callable[[CostLine], str]:
    if name == "day":
        return lambda line: iso_date(line.start)
    if name == "category":
        return lambda line: line.category
    return lambda line: str(getattr(line, name))


def breakdown(lines: Iterable[CostLine], by: str) -> list[dict[str, Any]]:
    """Amount and idle amount per group, largest first (by day: in date order).

    Grouping by ``resource`` also sums the quantity, which then has one unit.
    """
    if by not in _KEYS:
        raise ValueError(f"cannot group by {by!r}: choose from {', '.join(GROUPS)}")
    names = _KEYS[by]
    getters = [_field(n) for n in names]
    groups: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for line in lines:
        acc = groups[tuple(g(line) for g in getters)]
        acc[0] += line.amount
        acc[1] += line.amount if line.idle else 0.0
        acc[2] += line.quantity
    rows = []
    for key, (amount, idle, quantity) in groups.items():
        row: dict[str, Any] = dict(zip(names, key, strict=True))
        row.update(amount=amount, idle=idle)
        if by == "resource":
            row["quantity"] = quantity
        rows.append(row)
    if by == "day":
        rows.sort(key=lambda r: r["day"])
    else:
        rows.sort(key=lambda r: (-r["amount"], *(r[n] for n in names)))
    return rows


def daily(lines: Iterable[CostLine]) -> list[dict[str, Any]]:
    """Per UTC day: the amount per category (serving, run, storage), idle, and the total."""
    days: dict[str, dict[str, float]] = defaultdict(
        lambda: {"serving": 0.0, "run": 0.0, "storage": 0.0, "idle": 0.0, "total": 0.0}
    )
    for line in lines:
        day = days[iso_date(line.start)]
        day[line.category] += line.amount
        day["total"] += line.amount
        if line.idle:
            day["idle"] += line.amount
    return [{"day": d, **v} for d, v in sorted(days.items())]


def idle_share(lines: Iterable[CostLine]) -> float:
    """Idle amount over total amount (0 when nothing was spent)."""
    total = idle = 0.0
    for line in lines:
        total += line.amount
        if line.idle:
            idle += line.amount
    return idle / total if total > 0 else 0.0


def allocations(lines: Sequence[CostLine], by: str = "service") -> list[dict[str, Any]]:
    """Per service (or pipeline): OpenCost-style allocation totals.

    ``cpuCoreHours``, ``ramByteHours`` and ``gpuHours`` are what was billed (used and
    idle); ``*Efficiency`` is used over billed.
    """
    if by not in ("service", "pipeline"):
        raise ValueError("allocations are per service or per pipeline")
    acc: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for line in lines:
        name = getattr(line, by)
        if not name or line.resource not in ("cpu", "ram", "gpu"):
            continue
        a = acc[name]
        qty = line.quantity * (GIB if line.resource == "ram" else 1.0)
        a[f"{line.resource}_qty"] += qty
        a[f"{line.resource}_cost"] += line.amount
        if line.idle:
            a["idle_cost"] += line.amount
        else:
            a[f"{line.resource}_used"] += qty
    out = []
    for name, a in sorted(acc.items()):
        total = a["cpu_cost"] + a["ram_cost"] + a["gpu_cost"]
        out.append(
            {
                by: name,
                "cpuCoreHours": a["cpu_qty"],
                "ramByteHours": a["ram_qty"],
                "gpuHours": a["gpu_qty"],
                "cpuCost": a["cpu_cost"],
                "ramCost": a["ram_cost"],
                "gpuCost": a["gpu_cost"],
                "idleCost": a["idle_cost"],
                "totalCost": total,
                "cpuEfficiency": _ratio(a["cpu_used"], a["cpu_qty"]),
                "ramEfficiency": _ratio(a["ram_used"], a["ram_qty"]),
                "gpuEfficiency": _ratio(a["gpu_used"], a["gpu_qty"]),
                "totalEfficiency": _ratio(total - a["idle_cost"], total),
            }
        )
    return out


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else 0.0


def with_calls(
    groups: Sequence[dict[str, Any]], calls: Iterable[tuple[str, str, str, float]], by: str
) -> list[dict[str, Any]]:
    """Add ``calls``, ``per_call`` and ``per_1k_calls`` to groups by service, version or
    operation, from ``(service, version, operation, calls)``; other groupings are returned
    unchanged.

    >>> with_calls([{"service": "a", "amount": 2.0, "idle": 0.0}], [("a", "1", "p", 4000)],
    ...            "service")[0]["per_1k_calls"]
    0.5
    """
    if by not in ("service", "version", "operation"):
        return list(groups)
    names = _KEYS[by]
    counts: dict[tuple[str, ...], float] = defaultdict(float)
    for service, version, operation, n in calls:
        full = {"service": service, "version": version, "operation": operation}
        counts[tuple(full[k] for k in names)] += n
    out = []
    for g in groups:
        n = counts.get(tuple(g[k] for k in names), 0.0)
        out.append(
            {
                **g,
                "calls": round(n),
                "per_call": g["amount"] / n if n else 0.0,
                "per_1k_calls": 1000.0 * g["amount"] / n if n else 0.0,
            }
        )
    return out
