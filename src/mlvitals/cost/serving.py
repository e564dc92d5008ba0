"""Hosting and inference cost of model services, in OpenCost's terms.

For each instance of a service and each cell (a UTC day, cut where a rate changes), with
lines over the part of the cell its usage covers:

- **allocated**: CPU cores, memory and GPUs the instance holds (from its instance samples,
  or the rate card's ``allocations``) × the time it was up (``cpuCoreHours``,
  ``ramByteHours``, ``gpuHours``);
- **used**: CPU-seconds and GPU-busy seconds of its calls (serving windows), and its resident
  memory (RSS) over the time it was up;
- **billed** = max(allocated, used) per resource; **idle** = billed − used.

Attribution to operations: each operation gets its own measured CPU and GPU use; memory use
and idle of every resource are shared among the instance's operations in proportion to their
CPU-seconds in the cell, or to their calls when no CPU time was measured. An instance with
no calls at all in a cell keeps its cost as idle with an empty ``operation``. So an
operation's cost is its share of the hosting cost, and its cost per call is that over its
calls. Services billed per call (``per_1k_calls`` in the rate card) get a ``calls`` line too.

>>> from mlvitals.cost.config import DEFAULT_CONFIG
>>> inst = InstanceUsage("iris", "1", "pod-1", 0.0, 3600.0, up_seconds=3600.0,
...                      core_seconds=2 * 3600.0, memory_byte_seconds=0.0)
>>> op = OperationUsage("iris", "1", "predict", "pod-1", 0.0, 3600.0, calls=1000,
...                     cpu_seconds=1800.0)
>>> result = serving_lines([inst], [op], DEFAULT_CONFIG)
>>> round(result.amount, 6) == round(2 * 0.031611, 6)
True
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mlvitals.cost.config import CostConfig
from mlvitals.cost.lines import GIB, CostLine, priced
from mlvitals.cost.rates import DEFAULT_GPU, Rates
from mlvitals.cost.result import CostResult
from mlvitals.cost.spread import spread
from mlvitals.cost.timegrid import HOUR, grid_cell


@dataclass(frozen=True, slots=True)
class InstanceUsage:
    """What the instance samples of one instance say over ``[start, end)``.

    ``*_seconds`` are integrals over the time the instance was up: ``core_seconds`` is
    reported cores × seconds (``cores_unknown_seconds`` the up time with no cores reported),
    likewise memory in byte-seconds; ``rss_byte_seconds`` is memory used.
    """

    service: str
    version: str
    instance: str
    start: float
    end: float
    up_seconds: float
    core_seconds: float = 0.0
    cores_unknown_seconds: float = 0.0
    memory_byte_seconds: float = 0.0
    memory_unknown_seconds: float = 0.0
    rss_byte_seconds: float = 0.0
    gpus: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OperationUsage:
    """What the serving windows of one operation on one instance say over ``[start, end)``."""

    service: str
    version: str
    operation: str
    instance: str
    start: float
    end: float
    calls: int = 0
    cpu_seconds: float = 0.0
    gpu_busy_seconds: float = 0.0


@dataclass
class _Op:
    calls: float = 0.0
    cpu: float = 0.0
    gpu: float = 0.0


@dataclass
class _Cell:
    """Everything known about one instance in one cell, in hours."""

    core_h: float = 0.0
    mem_gib_h: float = 0.0
    rss_gib_h: float = 0.0
    gpu_h: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    up_by_version: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    ops: dict[tuple[str, str], _Op] = field(default_factory=dict)
    # The part of the cell the usage covers: the lines' period.
    lo: float = math.inf
    hi: float = -math.inf

    def cover(self, start: float, end: float) -> None:
        self.lo = min(self.lo, start)
        self.hi = max(self.hi, end)


def serving_lines(
    instances: Iterable[InstanceUsage],
    operations: Iterable[OperationUsage],
    config: CostConfig,
    *,
    start: float = -math.inf,
    end: float = math.inf,
) -> CostResult:
    """Cost lines of model services over ``[start, end)`` (see the module docstring)."""
    card = config.card
    cuts = [p.effective_from for p in card.periods[1:]]
    cells: dict[tuple[str, str, float, float], _Cell] = defaultdict(_Cell)
    gaps: dict[tuple[str, str, str], float] = defaultdict(float)

    for u in instances:
        override = config.service_allocation(u.service, u.version, u.instance)
        for a, b, frac in spread(u.start, u.end, start=start, end=end, cuts=cuts):
            rates = card.at(a)
            cell = cells[(u.service, u.instance, *grid_cell(a, cuts))]
            cell.cover(a, b)
            up_h = u.up_seconds * frac / HOUR
            cell.up_by_version[u.version] += up_h
            if override.cpu_cores is not None:
                cell.core_h += override.cpu_cores * up_h
            else:
                cell.core_h += u.core_seconds * frac / HOUR
                gaps[(u.service, u.instance, "CPU")] += u.cores_unknown_seconds * frac / HOUR
            if override.memory_bytes is not None:
                cell.mem_gib_h += override.memory_bytes / GIB * up_h
            else:
                cell.mem_gib_h += u.memory_byte_seconds * frac / GIB / HOUR
                gaps[(u.service, u.instance, "memory")] += u.memory_unknown_seconds * frac / HOUR
            cell.rss_gib_h += u.rss_byte_seconds * frac / GIB / HOUR
            for model in override.gpus if override.gpus is not None else u.gpus:
                cell.gpu_h[rates.gpu(model)[0]] += up_h

    for o in operations:
        for a, b, frac in spread(o.start, o.end, start=start, end=end, cuts=cuts):
            cell = cells[(o.service, o.instance, *grid_cell(a, cuts))]
            cell.cover(a, b)
            op = cell.ops.setdefault((o.version, o.operation), _Op())
            op.calls += o.calls * frac
            op.cpu += o.cpu_seconds * frac / HOUR
            op.gpu += o.gpu_busy_seconds * frac / HOUR

    lines: list[CostLine] = []
    unsampled: set[tuple[str, str]] = set()
    for (service, instance, c_start, _c_end), cell in sorted(cells.items()):
        rates = card.at(c_start)
        if not cell.up_by_version and cell.ops:
            unsampled.add((service, instance))
        lines += _cell_lines(service, instance, cell.lo, cell.hi, cell, rates, card.currency)

    warnings = [
        f"{what} allocation of instance {instance!r} of service {service!r} is unknown for "
        f"{hours:.1f} h: only its measured use is billed; set it under 'allocations' in "
        "the rate card"
        for (service, instance, what), hours in sorted(gaps.items())
        if hours > 0 and (service, instance) not in unsampled
    ]
    warnings += [
        f"instance {instance!r} of service {service!r} sent no instance samples: its hosting "
        "cost is unknown and only its measured use is billed"
        for service, instance in sorted(unsampled)
    ]
    return CostResult(tuple(lines), tuple(warnings))


def _cell_lines(
    service: str,
    instance: str,
    start: float,
    end: float,
    cell: _Cell,
    rates: Rates,
    currency: str,
) -> list[CostLine]:
    ops = cell.ops
    cpu_used = sum(op.cpu for op in ops.values())
    calls = sum(op.calls for op in ops.values())
    gpu_used = sum(op.gpu for op in ops.values())
    # Who shares memory use and idle: CPU-seconds, else calls, else nobody.
    weights: dict[tuple[str, str], float] = {}
    if cpu_used > 0:
        weights = {k: op.cpu / cpu_used for k, op in ops.items()}
    elif calls > 0:
        weights = {k: op.calls / calls for k, op in ops.items()}
    up_total = sum(cell.up_by_version.values())
    owners: dict[tuple[str, str], float] = weights or {
        (version, ""): up / up_total for version, up in cell.up_by_version.items() if up > 0
    }

    out: list[CostLine] = []

    def emit(
        key: tuple[str, str], resource: str, qty: float, rate: float, idle: bool, sku: str = ""
    ) -> None:
        if qty > 0:
            out.append(
                priced(
                    start=start,
                    end=end,
                    resource=resource,
                    quantity=qty,
                    rate=rate,
                    currency=currency,
                    idle=idle,
                    service=service,
                    version=key[0],
                    operation=key[1],
                    instance=instance,
                    sku=sku,
                )
            )

    def shared(resource: str, qty: float, rate: float, idle: bool, sku: str = "") -> None:
        for key, w in owners.items():
            emit(key, resource, qty * w, rate, idle, sku)

    # CPU: each operation's own CPU time, then the idle rest of the allocation.
    for key, op in ops.items():
        emit(key, "cpu", op.cpu, rates.cpu_core_hour, False)
    shared("cpu", max(cell.core_h - cpu_used, 0.0), rates.cpu_core_hour, True)

    # Memory: use (RSS) and idle are both shared.
    shared("ram", cell.rss_gib_h, rates.ram_gib_hour, False)
    shared("ram", max(cell.mem_gib_h - cell.rss_gib_h, 0.0), rates.ram_gib_hour, True)

    # GPU: busy time is spread over the models held in proportion to their GPU-hours.
    allocated = sum(cell.gpu_h.values())
    models = dict(cell.gpu_h) if allocated > 0 else {DEFAULT_GPU: 0.0}
    for sku, held in sorted(models.items()):
        share = held / allocated if allocated > 0 else 1.0
        rate = rates.gpu_hour.get(sku, rates.gpu_hour[DEFAULT_GPU])
        used = gpu_used * share
        for key, op in ops.items():
            emit(key, "gpu", op.gpu * share, rate, False, sku)
        shared("gpu", max(held - used, 0.0), rate, True, sku)

    per_1k = rates.per_1k_calls.get(service)
    if per_1k is not None:
        for key, op in ops.items():
            emit(key, "calls", op.calls / 1000.0, per_1k, False)
    return out


def per_call(
    lines: Sequence[CostLine], operations: Iterable[OperationUsage]
) -> list[dict[str, float | str | int]]:
    """Cost per call and per 1,000 calls for each (service, version, operation)."""
    calls: dict[tuple[str, str, str], float] = defaultdict(float)
    for o in operations:
        calls[(o.service, o.version, o.operation)] += o.calls
    cost: dict[tuple[str, str, str], float] = defaultdict(float)
    for line in lines:
        if line.category == "serving" and line.operation:
            cost[(line.service, line.version, line.operation)] += line.amount
    rows: list[dict[str, float | str | int]] = []
    for key in sorted(set(calls) | set(cost)):
        n = calls.get(key, 0.0)
        amount = cost.get(key, 0.0)
        rows.append(
            {
                "service": key[0],
                "version": key[1],
                "operation": key[2],
                "calls": round(n),
                "amount": amount,
                "per_call": amount / n if n else 0.0,
                "per_1k_calls": 1000.0 * amount / n if n else 0.0,
            }
        )
    return rows
