"""What a cost computation returns: cost lines, and warnings about what it could not know."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mlvitals.cost.lines import CostLine


@dataclass(frozen=True, slots=True)
class CostResult:
    """Lines, and one warning per gap in the data (e.g. an instance with no allocation)."""

    lines: tuple[CostLine, ...] = ()
    warnings: tuple[str, ...] = ()

    @staticmethod
    def combine(results: Iterable[CostResult]) -> CostResult:
        lines: list[CostLine] = []
        warnings: list[str] = []
        for r in results:
            lines.extend(r.lines)
            warnings.extend(w for w in r.warnings if w not in warnings)
        return CostResult(tuple(lines), tuple(warnings))

    @property
    def amount(self) -> float:
        return sum(line.amount for line in self.lines)
