"""Storage cost of datasets, and network egress.

A dataset version is stored from when it was written until it is replaced (the next write of
the same dataset), deleted, or its retention (the rate card's ``storage`` rules) runs out,
whichever is first; a version still stored is counted up to the end of the period asked
about. Its cost is GiB × months × the GiB-month rate of its storage class, a month being
730 hours as on cloud price lists.

>>> from mlvitals.cost.config import DEFAULT_CONFIG
>>> item = DatasetStorage("features", 2 * 2**30, 0.0, 730 * 3600.0)
>>> result = storage_lines([item], DEFAULT_CONFIG)
>>> len(result.lines), result.lines[0].resource  # one line per UTC day
(31, 'object_storage')
>>> round(sum(line.quantity for line in result.lines), 9), round(result.amount, 9)
(2.0, 0.046)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from mlvitals.cost.config import CostConfig
from mlvitals.cost.lines import GIB, HOURS_PER_MONTH, CostLine, priced
from mlvitals.cost.result import CostResult
from mlvitals.cost.spread import spread
from mlvitals.cost.timegrid import DAY, HOUR


@dataclass(frozen=True, slots=True)
class DatasetStorage:
    """One stored version of a dataset: ``bytes`` held from ``start`` until ``end``
    (``None``: still stored). ``storage_class`` ``None`` takes the rate card's rule."""

    dataset: str
    bytes: float
    start: float
    end: float | None = None
    storage_class: str | None = None
    pipeline: str = ""
    run: str = ""


@dataclass(frozen=True, slots=True)
class EgressUsage:
    """Bytes sent out of the network over ``[start, end)`` on behalf of a subject."""

    bytes: float
    start: float
    end: float
    service: str = ""
    pipeline: str = ""
    run: str = ""


def storage_lines(
    items: Iterable[DatasetStorage],
    config: CostConfig,
    *,
    start: float = -math.inf,
    end: float = math.inf,
) -> CostResult:
    """Cost lines of stored dataset versions over ``[start, end)``."""
    card = config.card
    cuts = [p.effective_from for p in card.periods[1:]]
    lines: list[CostLine] = []
    for item in items:
        rule = config.storage_rule(item.dataset)
        stored_until = end if item.end is None else item.end
        if rule.retention_days is not None:
            stored_until = min(stored_until, item.start + rule.retention_days * DAY)
        if not math.isfinite(stored_until) or item.bytes <= 0:
            continue
        cls = item.storage_class or rule.storage_class
        resource = f"{cls}_storage"
        gib = item.bytes / GIB
        for a, b, _frac in spread(item.start, stored_until, start=start, end=end, cuts=cuts):
            rates = card.at(a)
            rate = (
                rates.block_storage_gib_month if cls == "block" else rates.object_storage_gib_month
            )
            lines.append(
                priced(
                    start=a,
                    end=b,
                    resource=resource,
                    quantity=gib * (b - a) / HOUR / HOURS_PER_MONTH,
                    rate=rate,
                    currency=card.currency,
                    dataset=item.dataset,
                    pipeline=item.pipeline,
                    run=item.run,
                    sku=cls,
                )
            )
    return CostResult(tuple(lines))


def dataset_versions(writes: Iterable[DatasetStorage]) -> list[DatasetStorage]:
    """Stored versions from writes (items whose ``end`` is unknown): each write of a dataset
    is stored until the next write of the same dataset replaces it.

    >>> writes = [DatasetStorage("a", 1, 0.0), DatasetStorage("a", 2, 5.0)]
    >>> [(v.dataset, v.start, v.end) for v in dataset_versions(writes)]
    [('a', 0.0, 5.0), ('a', 5.0, None)]
    """
    by_name: dict[str, list[DatasetStorage]] = defaultdict(list)
    for w in writes:
        by_name[w.dataset].append(w)
    out: list[DatasetStorage] = []
    for _name, versions in sorted(by_name.items()):
        versions.sort(key=lambda v: v.start)
        for i, v in enumerate(versions):
            nxt = versions[i + 1].start if i + 1 < len(versions) else v.end
            out.append(replace(v, end=nxt))
    return out


def egress_lines(
    items: Iterable[EgressUsage],
    config: CostConfig,
    *,
    start: float = -math.inf,
    end: float = math.inf,
) -> CostResult:
    """Cost lines of egress: GiB × the egress rate, spread over the measured period."""
    card = config.card
    cuts = [p.effective_from for p in card.periods[1:]]
    lines: list[CostLine] = []
    for item in items:
        gib = item.bytes / GIB
        for a, b, frac in spread(item.start, item.end, start=start, end=end, cuts=cuts):
            lines.append(
                priced(
                    start=a,
                    end=b,
                    resource="egress",
                    quantity=gib * frac,
                    rate=card.at(a).egress_gib,
                    currency=card.currency,
                    service=item.service,
                    pipeline=item.pipeline,
                    run=item.run,
                )
            )
    return CostResult(tuple(lines))
