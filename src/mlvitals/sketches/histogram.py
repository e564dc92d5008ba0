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

BUCKET_RATIO = 1.05
"""Ratio of neighbouring bounds of :data:`DEFAULT_BOUNDS` between 1 ms and 60 s."""


def geometric_bounds(low: float, high: float, ratio: float) -> tuple[float, ...]:
    """Bounds from ``low`` up to the first at or above ``high``, each ``ratio`` times the last,
    rounded to four significant digits (short ``le`` labels).

    >>> geometric_bounds(0.001, 0.0012, 1.05)
    (0.001, 0.00105, 0.001102, 0.001158, 0.001216)
    """
    if not (0 < low < high and ratio > 1):
        raise ValueError(f"need 0 < low < high and ratio > 1, got {low}, {high}, {ratio}")
    out: list[float] = []
    k = 0
    while not out or out[-1] < high:
        out.append(float(f"{low * ratio**k:.4g}"))
        k += 1
    return tuple(out)


DEFAULT_BOUNDS: tuple[float, ...] = (0.0001, 0.00025, 0.0005, *geometric_bounds(0.001, 60.0, 1.05))
"""Upper bounds in seconds: three below a millisecond, then 5 % apart from 1 ms to 60 s.

``histogram_quantile`` interpolates inside the bucket that holds the quantile, so between
1 ms and 60 s its answer is within about 5 % of the true quantile (plus the sketch's 1 %
near a bound). 230 bounds: 233 series per histogram and label set."""

COARSE_BOUNDS: tuple[float, ...] = (
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
"""Sixteen bounds from half a millisecond to a minute: 19 series per histogram, but a
quantile read from them can be off by half a bucket (tens of percent)."""


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
