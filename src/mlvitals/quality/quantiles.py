"""Quantiles of a numeric column: an Apache DataSketches KLL sketch behind an immutable value.

KLL keeps a few hundred weighted items however long the stream; every rank it answers is off
by at most :attr:`QuantileSketch.rank_error` (about 1.3 % of the count with ``k=200``, with
99 % confidence), and sketches of partitions merge into a sketch of the whole with the same
guarantee.

>>> import numpy as np
>>> acc = QuantileAccumulator()
>>> acc.update(np.arange(1000, dtype=float))
>>> s = acc.freeze()
>>> abs(s.quantile(0.5) - 500) <= s.rank_error * 1000
True
"""

from __future__ import annotations

from dataclasses import dataclass

import datasketches
import numpy as np

DEFAULT_K = 200


@dataclass(frozen=True, slots=True)
class QuantileSketch:
    """An immutable, serialised KLL sketch of float64 values."""

    data: bytes

    def _sketch(self) -> datasketches.kll_doubles_sketch:
        return datasketches.kll_doubles_sketch.deserialize(self.data)

    @property
    def count(self) -> int:
        return int(self._sketch().n)

    @property
    def rank_error(self) -> float:
        """Bound on the normalised rank error of one quantile or CDF query (99 % confidence);
        0 while the sketch still holds every value."""
        sk = self._sketch()
        if not sk.is_estimation_mode():
            return 0.0
        return float(sk.normalized_rank_error(False))

    def quantile(self, q: float) -> float:
        return float(self._sketch().get_quantile(q))

    def quantiles(self, qs: list[float]) -> list[float]:
        sk = self._sketch()
        if sk.is_empty():
            return [float("nan")] * len(qs)
        return [float(v) for v in sk.get_quantiles(qs)]

    def weighted_items(self) -> tuple[np.ndarray, np.ndarray]:
        """The retained items, sorted, with their weights (which add up to the count).

        This is the discrete distribution the sketch stands for; ECDF statistics computed
        on it are within the rank error of those on the raw data.
        """
        pairs = list(self._sketch())
        if not pairs:
            return np.empty(0), np.empty(0)
        items = np.fromiter((p[0] for p in pairs), dtype=np.float64, count=len(pairs))
        weights = np.fromiter((p[1] for p in pairs), dtype=np.float64, count=len(pairs))
        order = np.argsort(items, kind="stable")
        return items[order], weights[order]

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        sk = self._sketch()
        sk.merge(other._sketch())
        return QuantileSketch(sk.serialize())


class QuantileAccumulator:
    """The mutable KLL sketch a profile pass updates."""

    __slots__ = ("sketch",)

    def __init__(self, k: int = DEFAULT_K) -> None:
        self.sketch = datasketches.kll_doubles_sketch(k)

    def update(self, values: np.ndarray) -> None:
        """Add finite float64 values (sorted input is about twice as fast to add)."""
        if values.size:
            self.sketch.update(np.ascontiguousarray(values, dtype=np.float64))

    def freeze(self) -> QuantileSketch:
        return QuantileSketch(self.sketch.serialize())
