"""The cost line: what every cost computation returns.

A line says who (service, version, operation, instance; or pipeline and run; or dataset) used
how much of what (``quantity`` in ``unit`` of ``resource``) over which period (``start`` to
``end``, Unix seconds), at which ``rate``, for which ``amount`` in ``currency``.

``idle`` lines are the part of what was allocated (and so paid for) that was not used, in
OpenCost's sense of idle. A subject's cost is the sum of its used and its idle lines.

Money is a ``float`` throughout and is only rounded when shown (the CLI, the dashboard);
the API and the CSV export carry full precision. The error of binary floating point
(about 1e-16 relative per operation) is far below what any price list is precise to.

>>> line = CostLine(start=0.0, end=3600.0, resource="cpu", quantity=2.0, unit="core-hour",
...                 rate=0.031611, amount=0.063222, currency="USD", service="iris")
>>> line.category, line.subject
('serving', 'iris')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

#: Resources a line can be for, and the unit each is counted in.
UNITS = {
    "cpu": "core-hour",
    "ram": "GiB-hour",
    "gpu": "GPU-hour",
    "block_storage": "GiB-month",
    "object_storage": "GiB-month",
    "egress": "GiB",
    "calls": "1000 calls",
}
RESOURCES = tuple(UNITS)
GIB = float(1 << 30)
#: Hours in a billing month: the cloud providers' convention (8,760 h / 12).
HOURS_PER_MONTH = 730.0


@dataclass(frozen=True, slots=True)
class CostLine:
    """One priced quantity of one resource, for one subject, over one period."""

    start: float
    end: float
    resource: str
    quantity: float
    unit: str
    rate: float
    amount: float
    currency: str
    idle: bool = False
    service: str = ""
    version: str = ""
    operation: str = ""
    instance: str = ""
    pipeline: str = ""
    run: str = ""
    dataset: str = ""
    #: The rate-card entry the rate came from, e.g. the GPU model ``A100``.
    sku: str = ""

    @property
    def category(self) -> str:
        """``serving``, ``run`` or ``storage``: what kind of subject the line is for."""
        if self.dataset:
            return "storage"
        if self.run or self.pipeline:
            return "run"
        return "serving"

    @property
    def subject(self) -> str:
        """The main subject's name: the service, else the pipeline, else the dataset."""
        return self.service or self.pipeline or self.dataset

    @property
    def resource_id(self) -> str:
        """What the cost was incurred on: the instance, the run or the dataset."""
        return self.instance or self.run or self.dataset


def priced(
    *,
    start: float,
    end: float,
    resource: str,
    quantity: float,
    rate: float,
    currency: str,
    idle: bool = False,
    **subject: str,
) -> CostLine:
    """A line with ``amount = quantity × rate`` and the resource's unit."""
    return CostLine(
        start=start,
        end=end,
        resource=resource,
        quantity=quantity,
        unit=UNITS[resource],
        rate=rate,
        amount=quantity * rate,
        currency=currency,
        idle=idle,
        **subject,
    )


def total(lines: Iterable[CostLine]) -> float:
    return sum(line.amount for line in lines)


def scaled(line: CostLine, fraction: float, start: float, end: float) -> CostLine:
    """The part of ``line`` that falls in ``[start, end)``, as ``fraction`` of it."""
    return replace(
        line,
        start=start,
        end=end,
        quantity=line.quantity * fraction,
        amount=line.amount * fraction,
    )
