"""Rates and the rate card: prices per resource, each effective from a date on.

A :class:`RateCard` is a currency and a list of :class:`RatePeriod`, each with the complete
:class:`Rates` in force from its ``effective_from`` until the next one. A cost over a period
that spans a change is split at the change, so a new rate never rewrites past costs.

>>> from mlvitals.cost.defaults import DEFAULT_RATES
>>> card = RateCard("USD", (RatePeriod(float("-inf"), DEFAULT_RATES),
...                         RatePeriod(1.8e9, DEFAULT_RATES.with_changes(cpu_core_hour=0.02))))
>>> card.at(1.7e9).cpu_core_hour, card.at(1.8e9).cpu_core_hour
(0.031611, 0.02)
>>> card.at(1.7e9).gpu("NVIDIA A100-SXM4-40GB")
('A100', 1.7555)
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

DEFAULT_GPU = "default"


@lru_cache(maxsize=256)
def _gpu_pattern(key: str) -> re.Pattern[str]:
    # The key must stand alone in the device name: "A10G" must not match "A100".
    return re.compile(rf"(?<![A-Z0-9]){re.escape(key.upper())}(?![A-Z0-9])")


@dataclass(frozen=True, slots=True)
class Rates:
    """Every price in force at one time, in the card's currency.

    ``gpu_hour`` maps a GPU model key (``"A100"``) to its price per GPU-hour; the key
    ``"default"`` prices models no other key matches. ``per_1k_calls`` maps the name of a
    managed endpoint (a service billed per call) to its price per 1,000 calls.
    """

    cpu_core_hour: float
    ram_gib_hour: float
    gpu_hour: Mapping[str, float]
    block_storage_gib_month: float
    object_storage_gib_month: float
    egress_gib: float
    per_1k_calls: Mapping[str, float] = field(default_factory=dict)

    def gpu(self, model: str) -> tuple[str, float]:
        """The rate-card key and the price per GPU-hour for a device name as NVML reports it.

        Keys match case-insensitively as a whole token of the name (``A100`` matches
        ``NVIDIA A100-SXM4-40GB``); the longest matching key wins; no match gives
        ``default``.
        """
        return _match_gpu(tuple(sorted(self.gpu_hour.items())), model)

    def with_changes(self, **changes: Any) -> Rates:
        """These rates with some replaced; ``gpu_hour`` and ``per_1k_calls`` are merged."""
        for name in ("gpu_hour", "per_1k_calls"):
            if name in changes:
                changes[name] = {**getattr(self, name), **changes[name]}
        return replace(self, **changes)


@lru_cache(maxsize=1024)
def _match_gpu(table: tuple[tuple[str, float], ...], model: str) -> tuple[str, float]:
    name = model.upper()
    best: tuple[str, float] | None = None
    for key, price in table:
        if key == DEFAULT_GPU or not _gpu_pattern(key).search(name):
            continue
        if best is None or len(key) > len(best[0]):
            best = (key, price)
    if best is not None:
        return best
    return DEFAULT_GPU, dict(table)[DEFAULT_GPU]


@dataclass(frozen=True, slots=True)
class RatePeriod:
    """Rates in force from ``effective_from`` (Unix seconds, ``-inf`` for since always)."""

    effective_from: float
    rates: Rates


@dataclass(frozen=True, slots=True)
class RateCard:
    """A currency and rate periods in date order; the first is in force since always."""

    currency: str
    periods: tuple[RatePeriod, ...]

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("a rate card needs at least one rate period")
        starts = [p.effective_from for p in self.periods]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("rate periods must be in strictly increasing date order")

    def at(self, t: float) -> Rates:
        """The rates in force at ``t`` (the first period's before its date)."""
        starts = [p.effective_from for p in self.periods]
        i = bisect.bisect_right(starts, t) - 1
        return self.periods[max(i, 0)].rates

    def change_points(self, start: float, end: float) -> list[float]:
        """Times strictly inside ``(start, end)`` where the rates change."""
        return [p.effective_from for p in self.periods[1:] if start < p.effective_from < end]
