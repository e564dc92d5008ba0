"""What a service page shows, computed in one pass over the stored windows of its range.

The page fetches the service's window rows once (raw windows or rollups, see
:func:`mlvitals.server.serving.queries.fetch_rows`) and :func:`collect` folds every row into
the aggregates the page reads: the whole range, each step, each step of each group of the
"split by" choice, each operation, and per-instance resource peaks. Each row's sketches are
decoded once and merged into those aggregates, which is exact (sketch merges add counts).

>>> row = {"service": "svc", "version": "v1", "operation": "predict", "instance": "a",
...        "start": 20.0, "calls": 4, "errors": 1, "client_errors": 0,
...        "failures": '{"TimeoutError": 1}', "latency": _EMPTY, "cpu": _EMPTY,
...        "cpu_seconds": 0.0, "peak_rss_bytes": 100, "gpu_busy_seconds": None,
...        "gpu_peak_memory_bytes": None, "peak_in_flight": 1}
>>> view = collect([row], start=0.0, end=60.0, step=30.0, split="version")
>>> view.total.calls, view.steps, sorted(view.groups)
(4, [0.0, 30.0], ['v1'])
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlvitals.server.serving.aggregate import WindowAggregate

SPLITS = ("none", "version", "instance", "operation")
"""The "split by" choices of a service page; ``none`` draws one series per chart."""

MAX_GROUPS = 8
"""Charts draw at most this many groups (the busiest); the rest are merged into "other"."""

NO_VERSION = "(no version)"

_EMPTY = '{"alpha":0.01,"count":0,"sum":0,"min":0,"max":0,"zero":0,"offset":0,"bins":[]}'


@dataclass(frozen=True, slots=True)
class Filters:
    """The page's filters; ``None`` keeps every value."""

    version: str | None = None
    instance: str | None = None

    def keeps(self, row: Mapping[str, Any]) -> bool:
        return (self.version is None or row["version"] == self.version) and (
            self.instance is None or row["instance"] == self.instance
        )

    @property
    def active(self) -> bool:
        return self.version is not None or self.instance is not None


@dataclass
class InstancePoint:
    """Per-instance resource figures of one step, from the windows' process readings."""

    peak_rss_bytes: int | None = None
    gpu_busy_seconds: float | None = None
    gpu_peak_memory_bytes: int | None = None

    def add_row(self, row: Mapping[str, Any]) -> None:
        rss, busy, gpu_memory = (
            row["peak_rss_bytes"],
            row["gpu_busy_seconds"],
            row["gpu_peak_memory_bytes"],
        )
        if rss is not None:
            self.peak_rss_bytes = max(self.peak_rss_bytes or 0, int(rss))
        if busy is not None:
            # The SDK splits a process's GPU time between its operations: the sum is the
            # process's busy time.
            self.gpu_busy_seconds = (self.gpu_busy_seconds or 0.0) + float(busy)
        if gpu_memory is not None:
            self.gpu_peak_memory_bytes = max(self.gpu_peak_memory_bytes or 0, int(gpu_memory))


@dataclass
class ServiceView:
    """Everything :func:`collect` computes for one service page."""

    start: float
    end: float
    step: float
    split: str
    total: WindowAggregate = field(default_factory=WindowAggregate)
    by_step: dict[float, WindowAggregate] = field(default_factory=dict)
    groups: dict[str, dict[float, WindowAggregate]] = field(default_factory=dict)
    group_totals: dict[str, WindowAggregate] = field(default_factory=dict)
    operations: dict[str, WindowAggregate] = field(default_factory=dict)
    instances: dict[str, dict[float, InstancePoint]] = field(default_factory=dict)
    versions_seen: set[str] = field(default_factory=set)
    instances_seen: set[str] = field(default_factory=set)

    @property
    def steps(self) -> list[float]:
        """The start of every step in the range, including steps without data."""
        count = max(0, int(-(-(self.end - self.start) // self.step)))
        return [self.start + k * self.step for k in range(count)]


def group_label(split: str, row: Mapping[str, Any]) -> str:
    value = str(row[split])
    return NO_VERSION if split == "version" and not value else value


def merge_into(target: WindowAggregate, part: WindowAggregate) -> None:
    """``target.merge(part)``: an empty target adopts ``part``'s sketch accuracy (a producer
    may build its sketches with another ``alpha`` than the default)."""
    target.merge(part)


def _bucket(table: dict[Any, WindowAggregate], key: Any) -> WindowAggregate:
    agg = table.get(key)
    if agg is None:
        agg = table[key] = WindowAggregate()
    return agg


def collect(
    rows: Iterable[Mapping[str, Any]],
    *,
    start: float,
    end: float,
    step: float,
    filters: Filters = Filters(),
    split: str = "none",
) -> ServiceView:
    """Fold window rows of ``[start, end)`` into a :class:`ServiceView`.

    Rows that the filters drop still name the versions and instances the filter menus
    offer. Groups past :data:`MAX_GROUPS` (by calls) are merged into one "other" group.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    view = ServiceView(start, end, step, split)
    groups: dict[str, dict[float, WindowAggregate]] = defaultdict(dict)
    for row in rows:
        view.versions_seen.add(str(row["version"]))
        view.instances_seen.add(str(row["instance"]))
        if not filters.keeps(row):
            continue
        part = WindowAggregate()
        part.add_row(row)
        t = start + ((float(row["start"]) - start) // step) * step
        merge_into(_bucket(view.by_step, t), part)
        merge_into(_bucket(view.operations, str(row["operation"])), part)
        if split != "none":
            merge_into(_bucket(groups[group_label(split, row)], t), part)
        per_instance = view.instances.setdefault(str(row["instance"]), {})
        per_instance.setdefault(t, InstancePoint()).add_row(row)
    # Totals merge the per-step aggregates: far fewer merges than one per row.
    for agg in view.by_step.values():
        merge_into(view.total, agg)
    for label, points in groups.items():
        total = view.group_totals[label] = WindowAggregate()
        for agg in points.values():
            merge_into(total, agg)
    view.groups = _limit_groups(dict(groups), view.group_totals)
    return view


def _limit_groups(
    groups: dict[str, dict[float, WindowAggregate]], totals: dict[str, WindowAggregate]
) -> dict[str, dict[float, WindowAggregate]]:
    """The busiest :data:`MAX_GROUPS` - 1 groups and "other (N)", or all if they fit."""
    if len(groups) <= MAX_GROUPS:
        return dict(sorted(groups.items()))
    ranked = sorted(groups, key=lambda g: (-totals[g].calls, g))
    kept, rest = ranked[: MAX_GROUPS - 1], ranked[MAX_GROUPS - 1 :]
    other: dict[float, WindowAggregate] = {}
    for label in rest:
        for t, agg in groups[label].items():
            merge_into(_bucket(other, t), agg)
    out = {label: groups[label] for label in sorted(kept)}
    out[f"other ({len(rest)})"] = other
    return out


def operations_table(view: ServiceView) -> list[dict[str, Any]]:
    """One row per operation over the whole range, busiest first."""
    span = view.end - view.start
    rows = [
        {"operation": name, **agg.summary(span)}
        for name, agg in sorted(view.operations.items(), key=lambda kv: (-kv[1].calls, kv[0]))
    ]
    return rows
