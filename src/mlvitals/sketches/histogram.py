"""From a quantile sketch to fixed cumulative buckets (a Prometheus histogram).

Prometheus histograms need counts of values at or below fixed upper bounds. A sketch bucket
is counted under the first bound at or above its representative value (clamped to the
sketch's exact min and max), so only a sketch bucket that straddles a bound can be counted
on the wrong side of it: a value within a relative ``alpha`` of a bound may land in the
neighbouring Prometheus bucket. Counts, ``+Inf`` and the sum stay exact.

The server reuses this to export fleet-wide histograms from merged sketches.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from itertools import pairwise

from mlvitals.sketches.quantile import QuantileSketch

DEFAULT_BOUNDS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
"""Upper bounds in seconds, from half a millisecond (a small model) to a minute (a batch)."""


def cumulative_buckets(
    sketch: QuantileSketch, bounds: Sequence[float] = DEFAULT_BOUNDS
) -> list[tuple[float, int]]:
    """``(upper_bound, values <= upper_bound)`` for each bound, then ``(inf, count)``.

    >>> s = QuantileSketch()
    >>> for v in (0.001, 0.02, 0.02, 0.3):
    ...     s.add(v)
    >>> cumulative_buckets(s, [0.01, 0.1, 1.0])
    [(0.01, 1), (0.1, 3), (1.0, 4), (inf, 4)]
    """
    _check_bounds(bounds)
    per_bound = [0] * (len(bounds) + 1)
    d = sketch.to_dict()
    low, high = d["min"], d["max"]
    if d["zero"]:
        per_bound[bisect_left(bounds, min(max(0.0, low), high))] += d["zero"]
    gamma = sketch.gamma
    for k, n in enumerate(d["bins"]):
        if n:
            rep = 2.0 * gamma ** (d["offset"] + k) / (gamma + 1.0)
            per_bound[bisect_left(bounds, min(max(rep, low), high))] += n
    out: list[tuple[float, int]] = []
    running = 0
    for bound, n in zip(bounds, per_bound[:-1], strict=True):
        running += n
        out.append((float(bound), running))
    out.append((math.inf, d["count"]))
    return out


def _check_bounds(bounds: Sequence[float]) -> None:
    if not bounds:
        raise ValueError("histogram bounds must not be empty")
    for a, b in pairwise(bounds):
        if not a < b:
            raise ValueError(f"histogram bounds must increase strictly, got {a} then {b}")
    if not all(math.isfinite(b) for b in bounds):
        raise ValueError("histogram bounds must be finite; +Inf is added for you")
