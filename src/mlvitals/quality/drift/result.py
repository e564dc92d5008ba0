"""Drift results: one :class:`ColumnDrift` per column and the dataset verdict.

Every tested column reports its effect size, p-value and sample sizes together, with where
they came from (``route``: ``raw`` data or ``profile`` sketches) and, from profiles, bounds on
the error that route can add to the test statistic and to the effect size
(``statistic_error``, ``effect_error``; 0 where the profile route is exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    column: str
    kind: str
    method: str
    n_reference: int
    n_current: int
    drifted: bool = False
    test: str | None = None
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    alpha: float | None = None
    effect: str | None = None
    effect_size: float | None = None
    threshold: float | None = None
    route: Literal["raw", "profile"] = "raw"
    statistic_error: float | None = None
    effect_error: float | None = None
    skipped: bool = False
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        from mlvitals.quality.profile_json import num

        return {
            "column": self.column,
            "kind": self.kind,
            "method": self.method,
            "drifted": self.drifted,
            "test": self.test,
            "statistic": num(self.statistic),
            "p_value": num(self.p_value),
            "p_adjusted": num(self.p_adjusted),
            "alpha": self.alpha,
            "effect": self.effect,
            "effect_size": num(self.effect_size),
            "threshold": self.threshold,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "route": self.route,
            "statistic_error": num(self.statistic_error),
            "effect_error": num(self.effect_error),
            "skipped": self.skipped,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class DriftReport:
    columns: tuple[ColumnDrift, ...]
    drifted_share: float
    dataset_share: float
    dataset_drift: bool
    correction: str

    @property
    def tested(self) -> tuple[ColumnDrift, ...]:
        return tuple(c for c in self.columns if not c.skipped)

    @property
    def drifted(self) -> tuple[ColumnDrift, ...]:
        return tuple(c for c in self.columns if c.drifted)

    def column(self, name: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_drift": self.dataset_drift,
            "drifted_share": self.drifted_share,
            "dataset_share": self.dataset_share,
            "drifted_columns": [c.column for c in self.drifted],
            "correction": self.correction,
            "columns": [c.to_dict() for c in self.columns],
        }
