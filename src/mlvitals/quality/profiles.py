"""Dataset profiles: immutable, mergeable summaries of every column.

A :class:`Profile` is what :func:`mlvitals.quality.profile` returns and what a check keeps
instead of the reference data. Everything in it merges: profiles of the partitions of a dataset
merge into the profile of the whole, exactly for counts, nulls, min, max, mean, standard
deviation, histograms and correlations (up to float rounding), and within the sketches' error
bounds for quantiles, distinct counts and top values.

>>> import pyarrow as pa
>>> from mlvitals.quality import profile
>>> p = profile(pa.table({"x": [1.0, 2.0, None]}))
>>> c = p.column("x")
>>> (c.count, c.nulls, c.mean)
(3, 1, 1.5)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np

from mlvitals.errors import InputError
from mlvitals.quality.columns import ColumnKind
from mlvitals.quality.correlation import CoMoments
from mlvitals.quality.distinct import DistinctSketch
from mlvitals.quality.frequent import TopValues
from mlvitals.quality.histogram import Histogram
from mlvitals.quality.moments import Moments
from mlvitals.quality.quantiles import KllSketch


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """The profile of one column: ``type`` is the Arrow type, ``logical`` the schema type.

    ``count`` counts every row, ``nulls`` the missing ones; ``nan`` and ``inf`` count the
    non-finite floats, which are left out of every statistic (``valid`` values are the rest).
    """

    name: str
    type: str
    logical: str
    kind: ColumnKind
    count: int
    nulls: int
    distinct: DistinctSketch | None = None
    nan: int = 0
    inf: int = 0
    moments: Moments | None = None
    quantiles: KllSketch | None = None
    histogram: Histogram | None = None
    top: TopValues | None = None
    order: Literal["ascending", "descending"] | None = None
    """Whether the values (numeric and datetime columns) come sorted, in row order."""

    @property
    def valid(self) -> int:
        return self.count - self.nulls - self.nan - self.inf

    @property
    def null_share(self) -> float:
        return self.nulls / self.count if self.count else 0.0

    @property
    def mean(self) -> float | None:
        return self.moments.mean if self.moments and self.moments.count else None

    @property
    def std(self) -> float | None:
        """Population standard deviation (``numpy.std``, ``ddof=0``)."""
        return self.moments.std if self.moments and self.moments.count else None

    @property
    def min(self) -> float | None:
        return self.moments.min if self.moments and self.moments.count else None

    @property
    def max(self) -> float | None:
        return self.moments.max if self.moments and self.moments.count else None

    @property
    def distinct_count(self) -> float | None:
        """Estimated distinct non-null values (exact when the top values are exact)."""
        if self.top is not None and self.top.exact:
            return float(len(self.top.items()))
        return self.distinct.estimate() if self.distinct is not None else None

    def quantile(self, q: float) -> float | None:
        if self.quantiles is None or not self.valid:
            return None
        return self.quantiles.quantile(q)

    def category_counts(self) -> dict[str, int]:
        """Counts per value for categorical and boolean columns (exact when ``top.exact``)."""
        if self.top is None:
            return {}
        return {str(v): c for v, c in self.top.items()}

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        if other.name != self.name or other.kind != self.kind:
            raise InputError(
                f"incompatible profiles: column {self.name!r} is {self.kind} ({self.type}) in "
                f"one and {other.kind} ({other.type}) in the other"
            )
        return ColumnProfile(
            name=self.name,
            type=self.type,
            logical=_merge_logical(self.logical, other.logical),
            kind=self.kind,
            count=self.count + other.count,
            nulls=self.nulls + other.nulls,
            distinct=_merge(self.distinct, other.distinct, DistinctSketch.merge),
            nan=self.nan + other.nan,
            inf=self.inf + other.inf,
            moments=_merge(self.moments, other.moments, Moments.merge),
            quantiles=_merge(self.quantiles, other.quantiles, KllSketch.merge),
            histogram=self._merge_histograms(other),
            top=_merge(self.top, other.top, TopValues.merge),
            order=self._merge_order(other),
        )

    def _merge_order(self, other: ColumnProfile) -> Literal["ascending", "descending"] | None:
        """Sorted when both parts are, in the same direction, and ``other`` follows on."""
        if not self.valid or not other.valid:
            return self.order if other.valid == 0 else other.order
        if self.order != other.order or self.order is None:
            return None
        a, b = self.max, other.min
        if self.order == "descending":
            a, b = other.max, self.min
        return self.order if a is not None and b is not None and a <= b else None

    def _merge_histograms(self, other: ColumnProfile) -> Histogram | None:
        a, b = self.histogram, other.histogram
        if a is None or b is None:
            return a or b
        if a.edges != b.edges:
            raise InputError(
                f"incompatible profiles: column {self.name!r} is binned on different edges; "
                "profile both parts against the same reference (reference=...) to merge them"
            )
        return a.merge(b)


T = TypeVar("T")


def _merge_logical(a: str, b: str) -> str:
    """Whole floats with nulls read as integers: merged with other floats they are floats."""
    return a if a == b or {a, b} != {"integer", "float"} else "float"


def _merge(a: T | None, b: T | None, merge: Callable[[T, T], T]) -> T | None:
    if a is None:
        return b
    if b is None:
        return a
    return merge(a, b)


@dataclass(frozen=True, slots=True)
class Profile:
    """The profile of a dataset: its row count, one :class:`ColumnProfile` per column, the
    co-moments of its numeric columns (``None`` when there are fewer than two) and the number
    of rows that duplicate an earlier one (``None`` when not counted, and after a merge: rows
    of two partitions may duplicate each other, which no per-partition count can tell)."""

    rows: int
    columns: tuple[ColumnProfile, ...]
    correlation: CoMoments | None = None
    duplicate_rows: int | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnProfile:
        for c in self.columns:
            if c.name == name:
                return c
        raise InputError(f"no column {name!r} in the profile; it has: {', '.join(self.names)}")

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def correlation_matrix(self) -> tuple[tuple[str, ...], np.ndarray]:
        """Column names and their Pearson correlation matrix (pairwise-complete rows)."""
        if self.correlation is None:
            return (), np.empty((0, 0))
        return self.correlation.columns, self.correlation.matrix()

    def merge(self, other: Profile) -> Profile:
        """The profile of the two datasets together (say, two partitions)."""
        if other.names != self.names:
            raise InputError(
                "incompatible profiles: the columns differ "
                f"({', '.join(self.names)} vs {', '.join(other.names)})"
            )
        columns = tuple(a.merge(b) for a, b in zip(self.columns, other.columns, strict=True))
        correlation = _merge(self.correlation, other.correlation, CoMoments.merge)
        return Profile(self.rows + other.rows, columns, correlation)

    def to_json(self) -> str:
        """Versioned JSON (sketches as base64); read back with :meth:`from_json`."""
        from mlvitals.quality.profile_json import dumps

        return dumps(self)

    @staticmethod
    def from_json(text: str | bytes) -> Profile:
        from mlvitals.quality.profile_json import loads

        return loads(text)
