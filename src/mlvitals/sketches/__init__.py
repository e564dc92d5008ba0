"""Mergeable sketches: pure values with a bounded error, merged across windows and replicas.

>>> from mlvitals.sketches import QuantileSketch
>>> s = QuantileSketch()
>>> s.add(0.25)
>>> s.quantile(0.99)
0.25
"""

from mlvitals.sketches.histogram import COARSE_BOUNDS, DEFAULT_BOUNDS, cumulative_buckets
from mlvitals.sketches.quantile import MAX_BINS, ZERO_CUTOFF, QuantileSketch

__all__ = [
    "COARSE_BOUNDS",
    "DEFAULT_BOUNDS",
    "MAX_BINS",
    "ZERO_CUTOFF",
    "QuantileSketch",
    "cumulative_buckets",
]
