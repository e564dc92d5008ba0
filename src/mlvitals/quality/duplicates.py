"""Duplicate rows, counted exactly from one 64-bit hash per row (8 bytes of memory a row).

Two rows count as duplicates when every numeric, string, boolean and datetime value is equal
(nulls equal nulls); other columns (lists, structs, binary) are not compared. A collision of two
different rows has a probability of about rows² / 2**65 (3e-6 for ten million rows).

>>> import numpy as np
>>> d = DuplicateCounter()
>>> d.add(np.array([7, 8, 7, 7], dtype=np.uint64))
>>> d.result().count, [(s.row, s.value) for s in d.result().samples]
(2, [(2, 0), (3, 0)])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mlvitals.quality.failures import SAMPLE_SIZE, OffendingValue
from mlvitals.quality.hashing import combine, fmix64
from mlvitals.quality.parts import Part


@dataclass(frozen=True, slots=True)
class Duplicates:
    rows: int
    count: int
    samples: tuple[OffendingValue, ...]  # value: the row number of the first occurrence

    @property
    def share(self) -> float:
        return self.count / self.rows if self.rows else 0.0


class DuplicateCounter:
    __slots__ = ("_hashes",)

    def __init__(self) -> None:
        self._hashes: list[np.ndarray] = []

    def add_parts(self, parts: Sequence[Part], rows: int) -> None:
        acc = np.zeros(rows, dtype=np.uint64)
        for part in parts:
            h = part.row_hashes()
            if h is not None:
                combine(acc, h)
        self._hashes.append(fmix64(acc))

    def add(self, row_hashes: np.ndarray) -> None:
        self._hashes.append(row_hashes)

    def result(self) -> Duplicates:
        if not self._hashes:
            return Duplicates(0, 0, ())
        h = np.concatenate(self._hashes)
        hs = np.sort(h)
        count = int(np.count_nonzero(hs[1:] == hs[:-1]))
        if count == 0:  # the usual case: no need for the (slower) argsort of the rows
            return Duplicates(int(h.size), 0, ())
        order = np.argsort(h, kind="stable")  # equal hashes stay in row order
        hs = h[order]
        repeat = np.concatenate(([False], hs[1:] == hs[:-1]))
        # The first row of each group of equal hashes, spread over the group.
        group_first = order[np.maximum.accumulate(np.where(~repeat, np.arange(h.size), 0))]
        dup_rows = order[repeat]
        firsts = group_first[repeat]
        pick = np.argsort(dup_rows)[:SAMPLE_SIZE]
        samples = tuple(OffendingValue(int(dup_rows[i]), int(firsts[i])) for i in pick)
        return Duplicates(int(h.size), count, samples)
