"""Top values of a column: an Apache DataSketches frequent-items sketch, exact while small.

Each batch is first counted exactly (vectorised); the sketch then receives one weighted update
per distinct value of the batch, at most :data:`FEED_LIMIT` of them (the largest counts). With
up to 768 distinct values overall the counts stay exact. Beyond that every count is within
:attr:`TopValues.max_error` of the truth: the sketch's own error plus, for values that were
too rare in some batch to be fed, the largest count left out of each batch.

>>> import numpy as np
>>> acc = TopValuesAccumulator("string")
>>> acc.update(["a", "b"], np.array([3, 1]))
>>> acc.freeze().items()[0]
('a', 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import datasketches
import numpy as np

LG_MAX_MAP_SIZE = 10  # capacity 0.75 * 2**10 = 768 distinct values before estimates start
FEED_LIMIT = 2048

ValueKind = Literal["string", "number"]
_NFN = datasketches.frequent_items_error_type.NO_FALSE_NEGATIVES


def _new(kind: ValueKind) -> datasketches.frequent_strings_sketch:
    if kind == "string":
        return datasketches.frequent_strings_sketch(LG_MAX_MAP_SIZE)
    return datasketches.frequent_items_sketch(LG_MAX_MAP_SIZE)


def _load(kind: ValueKind, data: bytes) -> datasketches.frequent_strings_sketch:
    if kind == "string":
        return datasketches.frequent_strings_sketch.deserialize(data)
    return datasketches.frequent_items_sketch.deserialize(data, datasketches.PyDoublesSerDe())


def _dump(kind: ValueKind, sketch: datasketches.frequent_strings_sketch) -> bytes:
    if kind == "string":
        return bytes(sketch.serialize())
    return bytes(sketch.serialize(datasketches.PyDoublesSerDe()))


@dataclass(frozen=True, slots=True)
class TopValues:
    """Immutable top values: ``kind`` says whether the values are strings or numbers."""

    kind: ValueKind
    data: bytes
    dropped: int = 0

    def _rows(self) -> list[tuple[object, int, int, int]]:
        rows = _load(self.kind, self.data).get_frequent_items(_NFN)
        return [(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows]

    def items(self, limit: int | None = None) -> list[tuple[str | float, int]]:
        """(value, estimated count) pairs, most frequent first."""
        rows = sorted(self._rows(), key=lambda r: (-r[1], str(r[0])))
        out = [(r[0], r[1]) for r in rows[:limit]]
        return out  # type: ignore[return-value]

    @property
    def max_error(self) -> int:
        """Largest possible error of any count (0: the counts are exact)."""
        rows = self._rows()
        sketch_error = max((r[3] - r[2] for r in rows), default=0)
        return sketch_error + self.dropped

    @property
    def exact(self) -> bool:
        return self.max_error == 0

    def merge(self, other: TopValues) -> TopValues:
        if other.kind != self.kind:
            raise ValueError(f"cannot merge top values of {self.kind}s and {other.kind}s")
        sketch = _load(self.kind, self.data)
        sketch.merge(_load(other.kind, other.data))
        return TopValues(self.kind, _dump(self.kind, sketch), self.dropped + other.dropped)


class TopValuesAccumulator:
    __slots__ = ("dropped", "kind", "sketch")

    def __init__(self, kind: ValueKind) -> None:
        self.kind = kind
        self.sketch = _new(kind)
        self.dropped = 0

    def update(self, values: Sequence[object] | np.ndarray, counts: np.ndarray) -> None:
        """Add a batch's exact counts: ``counts[i]`` occurrences of ``values[i]``."""
        if len(counts) > FEED_LIMIT:
            keep = np.argpartition(counts, -FEED_LIMIT)[-FEED_LIMIT:]
            rest = np.ones(len(counts), dtype=bool)
            rest[keep] = False
            self.dropped += int(counts[rest].max())
            values = [values[i] for i in keep.tolist()]
            counts = counts[keep]
        if isinstance(values, np.ndarray):
            values = values.tolist()
        update = self.sketch.update
        for value, count in zip(values, counts.tolist(), strict=True):
            if count > 0:
                update(value, count)

    def freeze(self) -> TopValues:
        return TopValues(self.kind, _dump(self.kind, self.sketch), self.dropped)
