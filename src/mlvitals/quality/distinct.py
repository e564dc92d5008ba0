"""Distinct counts: a HyperLogLog sketch updated with whole numpy arrays.

DataSketches' HLL takes one value per Python call (~140 ns each: seconds per million-row
column), so the registers are kept here and updated vectorised from the stable hashes of
:mod:`mlvitals.quality.hashing`. The estimate is Ertl's improved raw estimator (2017), unbiased
over the whole range without empirical correction tables. Merging takes the register-wise max,
so the distinct count of a merged profile equals that of the whole data, exactly as sketches.

The relative standard error is 1.04 / sqrt(2**lg_k): 1.6 % with the default ``lg_k=12``.

>>> import numpy as np
>>> from mlvitals.quality.hashing import hash_floats
>>> c = DistinctCounter()
>>> c.update(hash_floats(np.arange(10_000, dtype=float) % 1000))
>>> round(c.freeze().estimate(), -1)
1000.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEFAULT_LG_K = 12


@dataclass(frozen=True, slots=True)
class DistinctSketch:
    """An immutable HyperLogLog sketch: ``2**lg_k`` one-byte registers."""

    lg_k: int
    registers: bytes

    @property
    def relative_error(self) -> float:
        """One relative standard error of :meth:`estimate`."""
        return 1.04 / math.sqrt(1 << self.lg_k)

    def estimate(self) -> float:
        """The estimated number of distinct values."""
        return _ertl_estimate(np.frombuffer(self.registers, dtype=np.uint8), self.lg_k)

    def merge(self, other: DistinctSketch) -> DistinctSketch:
        if other.lg_k != self.lg_k:
            raise ValueError(f"cannot merge HLL sketches of lg_k {self.lg_k} and {other.lg_k}")
        a = np.frombuffer(self.registers, dtype=np.uint8)
        b = np.frombuffer(other.registers, dtype=np.uint8)
        return DistinctSketch(self.lg_k, np.maximum(a, b).tobytes())


class DistinctCounter:
    """The mutable accumulator behind :class:`DistinctSketch`."""

    __slots__ = ("_q", "lg_k", "registers")

    def __init__(self, lg_k: int = DEFAULT_LG_K) -> None:
        if not 4 <= lg_k <= 18:
            raise ValueError(f"lg_k must be 4-18, got {lg_k}")
        self.lg_k = lg_k
        self._q = 64 - lg_k
        self.registers = np.zeros(1 << lg_k, dtype=np.uint8)

    def update(self, hashes: np.ndarray) -> None:
        """Add values given by their 64-bit hashes (duplicates are harmless)."""
        if hashes.size == 0:
            return
        q = np.uint64(self._q)
        index = (hashes >> q).astype(np.intp)
        rest = hashes & np.uint64((1 << self._q) - 1)
        # The rest has at most 52 bits, so float64 holds it exactly and frexp gives its bit
        # length; the rank is the position of the first 1-bit (q + 1 when all bits are 0).
        _, bit_length = np.frexp(rest.astype(np.float64))
        rank = (self._q + 1 - bit_length).astype(np.uint8)
        np.maximum.at(self.registers, index, rank)

    def freeze(self) -> DistinctSketch:
        return DistinctSketch(self.lg_k, self.registers.tobytes())


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        z_old = z
        z += x * y
        y += y
        if z == z_old:
            return z


def _tau(x: float) -> float:
    if x in (0.0, 1.0):
        return 0.0
    y, z = 1.0, 1.0 - x
    while True:
        x = math.sqrt(x)
        z_old = z
        y *= 0.5
        z -= (1.0 - x) ** 2 * y
        if z == z_old:
            return z / 3.0


def _ertl_estimate(registers: np.ndarray, lg_k: int) -> float:
    m = 1 << lg_k
    q = 64 - lg_k
    counts = np.bincount(registers, minlength=q + 2).astype(np.float64)
    z = m * _tau(1.0 - counts[q + 1] / m)
    for k in range(q, 0, -1):
        z = 0.5 * (z + counts[k])
    z += m * _sigma(counts[0] / m)
    if math.isinf(z):
        return 0.0
    return float(m * m / (2.0 * math.log(2.0)) / z)
