"""A reproducible KLL sketch, in Apache DataSketches' serial format.

The library's KLL sketch tosses a coin at every compaction, from a generator seeded anew in
each process, so the same values give different sketches (and different histogram edges and
binned statistics) from one run to the next. :class:`Levels` holds the same structure (level
``h`` holds values of weight ``2**h``, with the library's capacities) and compacts the same
way, but draws its coins from a generator with a fixed seed: the same values in the same
batches give the same bytes, and the sketch keeps its error guarantee for any data not
chosen against that seed. The bytes are a regular library sketch (serial version 1): it
answers, merges and serialises like any other, and sketches the library wrote are read
back into levels for a reproducible merge.

>>> import numpy as np
>>> a, b = Levels(), Levels()
>>> for levels in (a, b):
...     levels.add(np.sort(np.random.default_rng(1).normal(size=50_000)))
>>> a.to_bytes() == b.to_bytes(), Levels.from_bytes(a.to_bytes()).n
(True, 50000)
"""

from __future__ import annotations

import itertools
import struct

import datasketches
import numpy as np

DEFAULT_K = 200
M = 8  # the smallest level capacity (DataSketches' default)
SEED = 0x6D6C76  # any fixed value: what matters is that it never changes
_HEADER = struct.Struct("<BBBBHBBQHBB")
_EMPTY, _SINGLE = 1, 4  # flag bits of the library's short forms


def level_capacity(k: int, levels: int, height: int) -> int:
    """DataSketches' KLL capacity of level ``height`` of ``levels``: about k (2/3)^depth."""
    depth = levels - height - 1
    if depth > 30:
        half = depth // 2
        return max(M, _round_capacity(_round_capacity(k, half), depth - half))
    return max(M, _round_capacity(k, depth))


def _round_capacity(k: int, depth: int) -> int:
    return int((((2 * k) << depth) // 3**depth + 1) >> 1)


class Levels:
    """A KLL sketch being built: sorted levels, compacted with seeded coins."""

    __slots__ = ("_bits", "_gen", "_used", "k", "levels", "max", "min", "n")

    def __init__(self, k: int = DEFAULT_K) -> None:
        self.k = k
        self.n = 0
        self.min = self.max = 0.0
        self.levels: list[np.ndarray] = [np.empty(0)]
        self._gen: np.random.Generator | None = None
        self._bits = np.empty(0, dtype=np.uint8)
        self._used = 0

    def add(self, s: np.ndarray) -> None:
        """Add sorted finite values."""
        if s.size == 0:
            return
        lo, hi = float(s[0]), float(s[-1])
        self.min, self.max = (lo, hi) if self.n == 0 else (min(self.min, lo), max(self.max, hi))
        self.n += int(s.size)
        self._put(0, s)
        self._compress()

    def merge(self, other: Levels) -> None:
        """Add another sketch's levels (a sketch of the two streams together)."""
        if other.n == 0:
            return
        lo, hi = other.min, other.max
        self.min, self.max = (lo, hi) if self.n == 0 else (min(self.min, lo), max(self.max, hi))
        self.n += other.n
        for h, level in enumerate(other.levels):
            self._put(h, level)
        self._compress()

    def _put(self, h: int, s: np.ndarray) -> None:
        while len(self.levels) <= h:
            self.levels.append(np.empty(0))
        level = self.levels[h]
        if level.size == 0:
            self.levels[h] = s
        else:  # two sorted runs: the stable sort merges them in linear time
            merged = np.concatenate((level, s))
            merged.sort(kind="stable")
            self.levels[h] = merged

    def _capacity(self, h: int) -> int:
        return level_capacity(self.k, len(self.levels), h)

    def _compress(self) -> None:
        """Halve the lowest full level until every level fits (the library keeps the total
        under the total capacity; a level far over its own capacity, as a whole batch added
        at once, is halved as often as it takes, each time into the level above)."""
        while True:
            full = [h for h, lv in enumerate(self.levels) if lv.size > self._capacity(h)]
            total = sum(lv.size for lv in self.levels)
            caps = sum(self._capacity(h) for h in range(len(self.levels)))
            if not full and total <= caps:
                return
            h = (
                full[0]
                if full
                else next(h for h, lv in enumerate(self.levels) if lv.size >= self._capacity(h))
            )
            self._compact(h)

    def _compact(self, h: int) -> None:
        level = self.levels[h]
        keep = level[:1] if level.size % 2 else level[:0]  # an odd item stays behind
        rest = level[keep.size :]
        promoted = rest[self._bit() :: 2]
        self.levels[h] = keep.copy()
        self._put(h + 1, promoted.copy())

    def _bit(self) -> int:
        if self._used == self._bits.size:
            # One generator per sketch, seeded alike, drawn in blocks: reproducible, cheap.
            if self._gen is None:
                self._gen = np.random.default_rng(SEED)
            self._bits = self._gen.integers(0, 2, 1024, dtype=np.uint8)
            self._used = 0
        bit = int(self._bits[self._used])
        self._used += 1
        return bit

    def to_bytes(self) -> bytes:
        """The sketch in the library's serial format."""
        if self.n == 0:
            return bytes(datasketches.kll_doubles_sketch(self.k).serialize())
        if self.n == 1:
            sk = datasketches.kll_doubles_sketch(self.k)
            sk.update(self.min)
            return bytes(sk.serialize())
        levels = len(self.levels)
        capacity = sum(level_capacity(self.k, levels, h) for h in range(levels))
        items = np.concatenate(self.levels)
        offsets = [capacity - items.size]
        for level in self.levels[:-1]:
            offsets.append(offsets[-1] + level.size)
        head = _HEADER.pack(5, 1, 15, 0, self.k, M, 0, self.n, self.k, levels, 0)
        body = struct.pack(f"<{levels}I", *offsets) + struct.pack("<dd", self.min, self.max)
        return head + body + items.astype("<f8").tobytes()

    @staticmethod
    def from_bytes(data: bytes) -> Levels:
        """Read a serialised sketch (written here or by the library) back into levels."""
        pre, _, _, flags, k = struct.unpack_from("<BBBBH", data)
        out = Levels(k)
        if flags & _EMPTY:
            return out
        if flags & _SINGLE or pre == 2:
            (value,) = struct.unpack_from("<d", data, 8)
            out.n, out.min, out.max = 1, value, value
            out.levels = [np.array([value])]
            return out
        *_, n, _, levels, _ = _HEADER.unpack_from(data)
        offsets = list(struct.unpack_from(f"<{levels}I", data, _HEADER.size))
        start = _HEADER.size + 4 * levels
        lo, hi = struct.unpack_from("<dd", data, start)
        items = np.frombuffer(data, dtype="<f8", offset=start + 16).astype(np.float64)
        capacity = offsets[0] + items.size
        bounds = [o - offsets[0] for o in [*offsets, capacity]]
        out.n, out.min, out.max = int(n), float(lo), float(hi)
        out.levels = [np.sort(items[a:b]) for a, b in itertools.pairwise(bounds)]
        return out
