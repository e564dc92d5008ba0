"""Cost lines as a FOCUS-style CSV (the FinOps Open Cost and Usage Specification).

One row per cost line with FOCUS column names, so FinOps tools and spreadsheets read it as
they read a cloud bill. There are no discounts here: ``BilledCost``, ``EffectiveCost`` and
``ListCost`` are equal. Times are ISO 8601 UTC; ``Tags`` is a JSON object of the subject
(service, version, operation, pipeline, run, dataset) and ``idle``.

>>> import io
>>> from mlvitals.cost.lines import CostLine
>>> out = io.StringIO()
>>> write_focus_csv([CostLine(0.0, 3600.0, "cpu", 2.0, "core-hour", 0.5, 1.0, "USD",
...                           service="iris", instance="pod-1")], out)
1
>>> out.getvalue().splitlines()[1][:30]
'1.0,1.0,1.0,0.5,1970-01-01T00:'
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from mlvitals.cost.lines import CostLine
from mlvitals.cost.timegrid import iso

FOCUS_COLUMNS = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ListUnitPrice",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeDescription",
    "ServiceName",
    "ServiceCategory",
    "ResourceId",
    "ResourceType",
    "SkuId",
    "ConsumedQuantity",
    "ConsumedUnit",
    "PricingQuantity",
    "PricingUnit",
    "BillingCurrency",
    "Tags",
)

_UNITS = {
    "core-hour": "Core-Hours",
    "GiB-hour": "GiB-Hours",
    "GPU-hour": "GPU-Hours",
    "GiB-month": "GiB-Months",
    "GiB": "GiB",
    "1000 calls": "1000 Requests",
}
_SERVICE_CATEGORY = {"serving": "AI and Machine Learning", "run": "Compute", "storage": "Storage"}
_RESOURCE_TYPE = {"serving": "Model service instance", "run": "Pipeline run", "storage": "Dataset"}
_TAG_FIELDS = ("service", "version", "operation", "instance", "pipeline", "run", "dataset")


def focus_row(line: CostLine) -> dict[str, Any]:
    """One FOCUS row for one line."""
    tags = {name: getattr(line, name) for name in _TAG_FIELDS if getattr(line, name)}
    tags["idle"] = "true" if line.idle else "false"
    pricing_unit = _UNITS.get(line.unit, line.unit)
    if line.resource == "calls":
        consumed_qty, consumed_unit = line.quantity * 1000.0, "Requests"
    else:
        consumed_qty, consumed_unit = line.quantity, pricing_unit
    what = "idle " if line.idle else ""
    return {
        "BilledCost": line.amount,
        "EffectiveCost": line.amount,
        "ListCost": line.amount,
        "ListUnitPrice": line.rate,
        "ChargePeriodStart": iso(line.start),
        "ChargePeriodEnd": iso(line.end),
        "ChargeCategory": "Usage",
        "ChargeDescription": f"{what}{line.resource} of {line.category} {line.subject}".strip(),
        "ServiceName": line.subject,
        "ServiceCategory": _SERVICE_CATEGORY[line.category],
        "ResourceId": line.resource_id,
        "ResourceType": _RESOURCE_TYPE[line.category],
        "SkuId": f"{line.resource}/{line.sku}" if line.sku else line.resource,
        "ConsumedQuantity": consumed_qty,
        "ConsumedUnit": consumed_unit,
        "PricingQuantity": line.quantity,
        "PricingUnit": pricing_unit,
        "BillingCurrency": line.currency,
        "Tags": json.dumps(tags, sort_keys=True, separators=(",", ":")),
    }


def write_focus_csv(lines: Iterable[CostLine], out: TextIO) -> int:
    """Write a header and one row per line to ``out``; return the number of rows."""
    writer = csv.DictWriter(out, fieldnames=FOCUS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for line in lines:
        writer.writerow(focus_row(line))
        n += 1
    return n
