"""Validation failures: what failed, where, by how much, with a sample of offending rows.

>>> f = Failure("nulls", "age", "3 of 10 values are null (30%), over the limit of 0%",
...             observed=0.3, limit=0.0, count=3, samples=(OffendingValue(4, None),))
>>> f.check, f.samples[0].row
('nulls', 4)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SAMPLE_SIZE = 5

# The checks, in the order a report lists them.
CHECKS = (
    "rows",
    "missing_column",
    "extra_column",
    "type",
    "nulls",
    "non_finite",
    "range",
    "categories",
    "duplicates",
)


@dataclass(frozen=True, slots=True)
class OffendingValue:
    """One offending value and its row number (0-based, counted over the whole input)."""

    row: int
    value: Any


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed check. ``column`` is ``None`` for dataset-level checks (rows, duplicates)."""

    check: str
    column: str | None
    message: str
    observed: float | int | str | None = None
    limit: float | int | str | None = None
    count: int | None = None
    samples: tuple[OffendingValue, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "column": self.column,
            "message": self.message,
            "observed": self.observed,
            "limit": self.limit,
            "count": self.count,
            "samples": [{"row": s.row, "value": s.value} for s in self.samples],
        }
