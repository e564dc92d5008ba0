"""A quantile sketch from histogram buckets (OpenTelemetry explicit-bucket and exponential
histograms, Prometheus buckets).

A histogram keeps only how many values fell in each bucket. Each bucket's count is spread
over the sketch bins it overlaps in proportion to log-length (values assumed log-uniform
inside the bucket), with integer counts that add up exactly. Counts, the sum, min and max
are carried over exactly.

**Error bound.** A quantile of the result lies in the same histogram bucket ``(lo, hi]``
as the true quantile, so its relative error is at most ``(hi / lo) * (1 + alpha) - 1``
(``alpha``: the sketch's accuracy, 1 %). For an exponential histogram at scale ``s`` every
bucket has ``hi / lo = 2 ** (2 ** -s)``: 4.4 % at scale 4, 2.2 % at scale 5, 1.1 % at
scale 6, then ``alpha`` dominates. A bucket lying inside one sketch bin (most buckets once
``2 ** (2 ** -s) <= (1 + alpha) / (1 - alpha)``, i.e. scale 6 and finer at alpha = 1 %) maps
losslessly: the result is the sketch the raw values would have made. The first bucket of an
explicit histogram, ``(0, b0]``, starts at the data point's ``min`` when known, and the last,
``(bn, +Inf)``, ends at its ``max`` (else at the bound itself).

>>> s = from_explicit_buckets([0.1, 0.2, 0.5], [0, 90, 10, 0], total=15.0, low=0.11, high=0.4)
>>> s.count, round(s.quantile(0.5), 2), s.max
(100, 0.15, 0.4)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mlvitals.sketches.quantile import ZERO_CUTOFF, QuantileSketch


def from_explicit_buckets(
    bounds: Sequence[float],
    counts: Sequence[int],
    *,
    total: float,
    low: float | None = None,
    high: float | None = None,
    alpha: float = 0.01,
) -> QuantileSketch:
    """Buckets ``(-inf, b0], (b0, b1], ..., (bn, +inf)``: ``len(counts) == len(bounds) + 1``."""
    if len(counts) != len(bounds) + 1:
        raise ValueError(f"{len(bounds)} bounds need {len(bounds) + 1} counts, got {len(counts)}")
    edges = [*bounds]
    if any(b >= a for a, b in zip(edges[1:], edges, strict=False)):
        raise ValueError("bucket bounds must increase")
    parts: list[tuple[float, float, int]] = []
    for i, n in enumerate(counts):
        if n < 0:
            raise ValueError(f"bucket counts must not be negative, got {n}")
        if n == 0:
            continue
        lo = edges[i - 1] if i > 0 else (low if low is not None else edges[0] if edges else 0.0)
        hi = edges[i] if i < len(edges) else (high if high is not None else edges[-1])
        if low is not None:
            lo = max(lo, low)
        if high is not None:
            hi = min(hi, high)
        parts.append((min(lo, hi), hi, int(n)))
    return _sketch(parts, total, low, high, alpha)


def from_exponential_buckets(
    scale: int,
    offset: int,
    counts: Sequence[int],
    *,
    zero_count: int = 0,
    total: float,
    low: float | None = None,
    high: float | None = None,
    alpha: float = 0.01,
) -> QuantileSketch:
    """Positive buckets ``(base**i, base**(i+1)]`` for ``i = offset, offset + 1, ...`` with
    ``base = 2 ** (2 ** -scale)``, plus ``zero_count`` values at 0 (negative buckets do not
    occur in durations and are not taken)."""
    if not -10 <= scale <= 20:
        raise ValueError(f"scale must be between -10 and 20, got {scale}")
    log_base = math.log(2.0) * 2.0**-scale
    parts: list[tuple[float, float, int]] = [(0.0, 0.0, int(zero_count))] if zero_count else []
    for i, n in enumerate(counts):
        if n < 0:
            raise ValueError(f"bucket counts must not be negative, got {n}")
        if n:
            index = offset + i
            parts.append((math.exp(index * log_base), math.exp((index + 1) * log_base), int(n)))
    return _sketch(parts, total, low, high, alpha)


def _sketch(
    parts: list[tuple[float, float, int]],
    total: float,
    low: float | None,
    high: float | None,
    alpha: float,
) -> QuantileSketch:
    sketch = QuantileSketch(alpha)
    log_gamma = math.log(sketch.gamma)
    bins: dict[int, int] = {}
    zero = 0
    lowest, highest = math.inf, 0.0
    for lo, hi, n in parts:
        if hi <= ZERO_CUTOFF:
            zero += n
            lowest = min(lowest, 0.0)
            continue
        lo = max(lo, ZERO_CUTOFF)
        lowest, highest = min(lowest, lo), max(highest, hi)
        for key, share in _spread(math.log(lo), math.log(hi), log_gamma, n).items():
            bins[key] = bins.get(key, 0) + share
    count = zero + sum(bins.values())
    data = {
        "alpha": alpha,
        "count": count,
        "sum": max(float(total), 0.0),
        "min": low if low is not None else (lowest if count else 0.0),
        "max": high if high is not None else (highest if count else 0.0),
        "zero": zero,
        "offset": min(bins) if bins else 0,
        "bins": [bins.get(k, 0) for k in range(min(bins), max(bins) + 1)] if bins else [],
    }
    return QuantileSketch.from_dict(data)


def _spread(a: float, b: float, log_gamma: float, n: int) -> dict[int, int]:
    """``n`` values log-uniform over ``(e**a, e**b]`` as counts per sketch bin (bin ``k`` holds
    ``(gamma**(k-1), gamma**k]``), by largest remainder so the counts add up to ``n``."""
    first, last = math.ceil(a / log_gamma), math.ceil(b / log_gamma)
    if first >= last or b - a <= 0:
        return {last: n}
    shares = {}
    for k in range(first, last + 1):
        inside = min(b, k * log_gamma) - max(a, (k - 1) * log_gamma)
        if inside > 0:
            shares[k] = n * inside / (b - a)
    out = {k: int(v) for k, v in shares.items()}
    left = n - sum(out.values())
    for k in sorted(shares, key=lambda k: shares[k] - out[k], reverse=True)[:left]:
        out[k] += 1
    return {k: v for k, v in out.items() if v}
