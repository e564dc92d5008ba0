"""One batch of one column, converted once and shared by profiling and validation.

The single pass over the data turns each column of each batch into a *part*: numeric and
datetime columns into float64 values (with a validity mask and a sorted copy of the finite
values), string and boolean columns into a dictionary with exact counts. The profiler, the
validator and the raw-data collector for drift all read the same part, so no column is
converted or sorted twice.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlvitals.quality.columns import ColumnKind, as_dictionary, to_float64
from mlvitals.quality.hashing import NULL_HASH, hash_floats, hash_strings


class NumericPart:
    """A numeric or datetime column batch.

    ``values`` is row-aligned (nulls read as NaN); ``finite_mask`` is ``None`` when every row
    holds a finite value; ``finite`` holds the finite values in row order and ``sorted`` the
    same, sorted.
    """

    __slots__ = (
        "_hashes",
        "_sorted",
        "finite",
        "finite_mask",
        "inf",
        "nan",
        "null_mask",
        "nulls",
        "offset",
        "rows",
        "values",
    )

    def __init__(self, arr: pa.Array, offset: int) -> None:
        self.offset = offset
        self.rows = len(arr)
        self.nulls = arr.null_count
        floats = to_float64(arr)
        self.values: np.ndarray = np.asarray(
            floats.to_numpy(zero_copy_only=False), dtype=np.float64
        )
        self.null_mask: np.ndarray | None = None
        if self.nulls:
            self.null_mask = np.asarray(arr.is_null().to_numpy(zero_copy_only=False))
        finite = np.isfinite(self.values)
        if finite.all():
            self.finite_mask: np.ndarray | None = None
            self.finite = self.values
            self.nan = self.inf = 0
        else:
            self.finite_mask = finite
            self.finite = self.values[finite]
            self.inf = int(np.isinf(self.values).sum())
            self.nan = self.rows - self.nulls - self.inf - int(self.finite.size)
        self._sorted: np.ndarray | None = None
        self._hashes: np.ndarray | None = None

    @property
    def sorted(self) -> np.ndarray:
        if self._sorted is None:
            self._sorted = np.sort(self.finite)
        return self._sorted

    def fraction_rows(self) -> np.ndarray:
        """Positions (within the batch) of finite values that are not whole numbers."""
        v = self.values
        with np.errstate(invalid="ignore"):
            return np.flatnonzero(np.isfinite(v) & (np.trunc(v) != v))

    def nonfinite_rows(self) -> np.ndarray:
        """Positions (within the batch) of NaN and infinite values that are not nulls."""
        if self.finite_mask is None:
            return np.empty(0, dtype=np.intp)
        bad = ~self.finite_mask
        if self.null_mask is not None:
            bad &= ~self.null_mask
        return np.flatnonzero(bad)

    def row_hashes(self) -> np.ndarray:
        """One hash per row (nulls share one hash); computed once and kept."""
        if self._hashes is None:
            h = hash_floats(self.values)
            if self.null_mask is not None:
                h[self.null_mask] = NULL_HASH
            self._hashes = h
        return self._hashes

    def finite_hashes(self) -> np.ndarray | None:
        """Hashes of the finite values, when the row hashes were already computed."""
        if self._hashes is None:
            return None
        return self._hashes if self.finite_mask is None else self._hashes[self.finite_mask]


class CategoricalPart:
    """A string or boolean column batch as a dictionary with exact counts per entry."""

    __slots__ = ("counts", "dictionary", "indices", "nulls", "offset", "rows")

    def __init__(self, arr: pa.Array, offset: int) -> None:
        self.offset = offset
        self.rows = len(arr)
        self.nulls = arr.null_count
        encoded = as_dictionary(arr)
        self.dictionary: pa.Array = encoded.dictionary
        indices = encoded.indices
        if indices.null_count:
            indices = pc.fill_null(indices, -1)
        self.indices: np.ndarray = np.asarray(
            indices.to_numpy(zero_copy_only=False), dtype=np.int64
        )
        valid = self.indices[self.indices >= 0] if self.nulls else self.indices
        self.counts: np.ndarray = np.bincount(valid, minlength=len(self.dictionary))

    def present(self) -> np.ndarray:
        """Dictionary positions that occur in this batch."""
        return np.flatnonzero(self.counts)

    def row_hashes(self) -> np.ndarray:
        table = hash_strings(self.dictionary)
        if self.nulls:
            table = np.append(table, NULL_HASH)  # index -1 picks the last entry
        return np.asarray(table[self.indices], dtype=np.uint64)


class OtherPart:
    """A column of a kind that is only counted (lists, structs, binary, all-null)."""

    __slots__ = ("nulls", "offset", "rows")

    def __init__(self, arr: pa.Array, offset: int) -> None:
        self.offset = offset
        self.rows = len(arr)
        self.nulls = arr.null_count

    def row_hashes(self) -> np.ndarray | None:
        return None


Part = NumericPart | CategoricalPart | OtherPart


def all_whole(values: np.ndarray) -> bool:
    """Whether every (finite) value is a whole number; a fractional prefix answers early."""
    head = values[:64]
    if not np.array_equal(np.trunc(head), head):
        return False
    return bool(np.array_equal(np.trunc(values), values))


def make_part(arr: pa.Array, kind: ColumnKind, offset: int) -> Part:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
        return NumericPart(arr, offset)
    if kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        return CategoricalPart(arr, offset)
    return OtherPart(arr, offset)
