"""Cost of pipeline and training runs: max(requested, used) × duration × rates.

A run requests resources (the rate card's ``allocations`` for its pipeline) and uses some
(CPU-seconds, peak RSS, GPU-seconds, as the run records them). Per resource it is billed
for the larger of the two over its wall time:

- CPU: max(requested cores × hours, CPU-seconds / 3600) core-hours;
- memory: max(requested GiB, peak RSS in GiB) × hours (peak RSS is held for the whole run:
  memory a run needed at its peak had to be there all along);
- GPU: max(requested GPUs × hours, GPU-seconds / 3600) GPU-hours, at the requested models'
  rates (the default GPU rate when no model is known).

Where the request exceeds the use, the difference is an ``idle`` line. A run that crosses
a midnight or a rate change is split there in proportion to time.

>>> from mlvitals.cost.config import DEFAULT_CONFIG, Allocation
>>> run = RunUsage("r-1", "nightly", 0.0, 7200.0, cpu_seconds=3600.0,
...                requested=Allocation(cpu_cores=4))
>>> result = run_lines([run], DEFAULT_CONFIG)
>>> [(l.resource, l.quantity, l.idle) for l in result.lines]
[('cpu', 1.0, False), ('cpu', 7.0, True)]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from mlvitals.cost.config import Allocation, CostConfig
from mlvitals.cost.lines import GIB, CostLine, priced
from mlvitals.cost.rates import DEFAULT_GPU
from mlvitals.cost.result import CostResult
from mlvitals.cost.spread import spread
from mlvitals.cost.timegrid import HOUR


@dataclass(frozen=True, slots=True)
class RunUsage:
    """One finished run: its wall time and what it used; ``requested`` comes from the
    rate card when not given."""

    run: str
    pipeline: str
    start: float
    end: float
    cpu_seconds: float = 0.0
    peak_rss_bytes: float = 0.0
    gpu_seconds: float = 0.0
    requested: Allocation | None = None
    gpu_models: tuple[str, ...] = field(default=())


def run_lines(
    runs: Iterable[RunUsage],
    config: CostConfig,
    *,
    start: float = -math.inf,
    end: float = math.inf,
) -> CostResult:
    """Cost lines of runs over ``[start, end)`` (see the module docstring)."""
    card = config.card
    cuts = [p.effective_from for p in card.periods[1:]]
    lines: list[CostLine] = []
    for run in runs:
        hours = (run.end - run.start) / HOUR
        if not hours > 0:
            continue
        req = run.requested if run.requested is not None else config.pipeline_request(run.pipeline)
        # (resource, sku, idle, quantity): quantities over the whole run.
        parts: list[tuple[str, str, bool, float]] = []
        cpu_used = run.cpu_seconds / HOUR
        cpu_req = (req.cpu_cores or 0.0) * hours
        parts += [("cpu", "", False, cpu_used), ("cpu", "", True, max(cpu_req - cpu_used, 0))]
        ram_used = run.peak_rss_bytes / GIB * hours
        ram_req = (req.memory_bytes or 0.0) / GIB * hours
        parts += [("ram", "", False, ram_used), ("ram", "", True, max(ram_req - ram_used, 0))]
        parts += _gpu_parts(req.gpus or run.gpu_models, run.gpu_seconds / HOUR, hours)
        for a, b, frac in spread(run.start, run.end, start=start, end=end, cuts=cuts):
            rates = card.at(a)
            for resource, sku, idle, qty in parts:
                if not qty * frac > 0:
                    continue
                if resource == "cpu":
                    key, rate = "", rates.cpu_core_hour
                elif resource == "ram":
                    key, rate = "", rates.ram_gib_hour
                else:
                    key, rate = rates.gpu(sku)
                lines.append(
                    priced(
                        start=a,
                        end=b,
                        resource=resource,
                        quantity=qty * frac,
                        rate=rate,
                        currency=card.currency,
                        idle=idle,
                        pipeline=run.pipeline,
                        run=run.run,
                        sku=key,
                    )
                )
    return CostResult(tuple(lines))


def _gpu_parts(
    models: Iterable[str], used_h: float, hours: float
) -> list[tuple[str, str, bool, float]]:
    counts = Counter(models)
    if not counts:
        return [("gpu", DEFAULT_GPU, False, used_h)]
    n = sum(counts.values())
    parts: list[tuple[str, str, bool, float]] = []
    for model, k in sorted(counts.items()):
        used = used_h * k / n
        parts += [("gpu", model, False, used), ("gpu", model, True, max(k * hours - used, 0))]
    return parts
