"""The profile accumulators: updated batch by batch, frozen into a :class:`Profile` at the end.

Each update is a handful of vectorised numpy / Arrow calls per column; the only Python loops
are per distinct value fed to the top-values sketch (bounded per batch) and per column.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from mlvitals.quality.columns import ColumnKind, kind_of, logical_type
from mlvitals.quality.correlation import CorrelationAccumulator
from mlvitals.quality.distinct import DistinctCounter
from mlvitals.quality.frequent import FEED_LIMIT, TopValuesAccumulator
from mlvitals.quality.hashing import hash_floats, hash_strings
from mlvitals.quality.histogram import Histogram
from mlvitals.quality.moments import Moments
from mlvitals.quality.parts import CategoricalPart, NumericPart, OtherPart, Part
from mlvitals.quality.profiles import ColumnProfile, Profile
from mlvitals.quality.quantiles import QuantileAccumulator

# Beyond this many numeric columns the correlation matrix (k*k*5 floats) is left out.
MAX_CORRELATION_COLUMNS = 200


class _NumericAccumulator:
    __slots__ = (
        "counts",
        "distinct",
        "edges",
        "field",
        "inf",
        "kind",
        "moments",
        "nan",
        "nulls",
        "quantiles",
        "rows",
        "top",
    )

    def __init__(self, field: pa.Field, edges: tuple[float, ...] | None) -> None:
        self.field = field
        self.kind = kind_of(field.type)
        self.rows = self.nulls = self.nan = self.inf = 0
        self.moments = Moments()
        self.quantiles = QuantileAccumulator()
        self.distinct = DistinctCounter()
        self.top = TopValuesAccumulator("number")
        self.edges = edges
        self.counts = np.zeros(len(edges) + 1, dtype=np.int64) if edges is not None else None

    def update(self, part: NumericPart) -> None:
        self.rows += part.rows
        self.nulls += part.nulls
        self.nan += part.nan
        self.inf += part.inf
        s = part.sorted
        if s.size == 0:
            return
        self.moments = self.moments.merge(Moments.of(s, is_sorted=True))
        self.quantiles.update(s)
        # Run lengths of the sorted values: the distinct values and their exact counts.
        starts = np.flatnonzero(s[1:] != s[:-1]) + 1
        uniques = s[np.concatenate(([0], starts))]
        known = part.finite_hashes()  # the duplicate check's row hashes, when it ran
        self.distinct.update(known if known is not None else hash_floats(uniques))
        if uniques.size < s.size:  # some value repeats: worth counting as a top value
            counts = np.diff(np.concatenate(([0], starts, [s.size])))
            self.top.update(uniques, counts)
        else:
            self.top.dropped += 1  # every value here occurred once; none was fed
        if self.counts is not None and self.edges is not None:
            self.counts += Histogram.of_sorted(s, self.edges).counts

    def freeze(self) -> ColumnProfile:
        histogram = None
        if self.edges is not None and self.counts is not None:
            histogram = Histogram(self.edges, tuple(int(c) for c in self.counts))
        return ColumnProfile(
            name=self.field.name,
            type=str(self.field.type),
            logical=logical_type(self.field.type),
            kind=self.kind,
            count=self.rows,
            nulls=self.nulls,
            distinct=self.distinct.freeze(),
            nan=self.nan,
            inf=self.inf,
            moments=self.moments,
            quantiles=self.quantiles.freeze(),
            histogram=histogram,
            top=self.top.freeze(),
        )


class _CategoricalAccumulator:
    __slots__ = ("distinct", "field", "kind", "nulls", "rows", "top")

    def __init__(self, field: pa.Field) -> None:
        self.field = field
        self.kind = kind_of(field.type)
        self.rows = self.nulls = 0
        self.distinct = DistinctCounter()
        self.top = TopValuesAccumulator("string")

    def update(self, part: CategoricalPart) -> None:
        self.rows += part.rows
        self.nulls += part.nulls
        present = part.present()
        if present.size == 0:
            return
        values = part.dictionary.take(pa.array(present))
        self.distinct.update(hash_strings(values))
        counts = part.counts[present]
        if present.size > FEED_LIMIT:
            keep = np.argpartition(counts, -FEED_LIMIT)[-FEED_LIMIT:]
            rest = np.ones(counts.size, dtype=bool)
            rest[keep] = False
            self.top.dropped += int(counts[rest].max())
            values, counts = values.take(pa.array(keep)), counts[keep]
        self.top.update(values.to_pylist(), counts)

    def freeze(self) -> ColumnProfile:
        return ColumnProfile(
            name=self.field.name,
            type=str(self.field.type),
            logical=logical_type(self.field.type),
            kind=self.kind,
            count=self.rows,
            nulls=self.nulls,
            distinct=self.distinct.freeze(),
            top=self.top.freeze(),
        )


class _OtherAccumulator:
    __slots__ = ("field", "nulls", "rows")

    def __init__(self, field: pa.Field) -> None:
        self.field = field
        self.rows = self.nulls = 0

    def update(self, part: OtherPart) -> None:
        self.rows += part.rows
        self.nulls += part.nulls

    def freeze(self) -> ColumnProfile:
        return ColumnProfile(
            name=self.field.name,
            type=str(self.field.type),
            logical=logical_type(self.field.type),
            kind=ColumnKind.OTHER,
            count=self.rows,
            nulls=self.nulls,
        )


_Accumulator = _NumericAccumulator | _CategoricalAccumulator | _OtherAccumulator


class Profiler:
    """Builds a :class:`Profile` from the parts of successive batches.

    ``edges`` freezes the histogram bins of numeric columns (a reference's edges); columns
    without edges get no histogram from this pass.
    """

    def __init__(
        self,
        schema: pa.Schema,
        *,
        edges: Mapping[str, tuple[float, ...]] | None = None,
        correlation: bool = True,
    ) -> None:
        self.rows = 0
        self.accumulators: dict[str, _Accumulator] = {}
        numeric: list[str] = []
        for field in schema:
            kind = kind_of(field.type)
            if kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
                self.accumulators[field.name] = _NumericAccumulator(
                    field, (edges or {}).get(field.name)
                )
                if kind is ColumnKind.NUMERIC:
                    numeric.append(field.name)
            elif kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
                self.accumulators[field.name] = _CategoricalAccumulator(field)
            else:
                self.accumulators[field.name] = _OtherAccumulator(field)
        use_corr = correlation and 2 <= len(numeric) <= MAX_CORRELATION_COLUMNS
        self.correlation = CorrelationAccumulator(tuple(numeric)) if use_corr else None

    def update(self, parts: Mapping[str, Part], rows: int) -> None:
        self.rows += rows
        for name, acc in self.accumulators.items():
            acc.update(parts[name])  # type: ignore[arg-type]
        if self.correlation is not None:
            chosen = [parts[c] for c in self.correlation.columns]
            numeric = [p for p in chosen if isinstance(p, NumericPart)]
            self.correlation.update([p.values for p in numeric], [p.finite_mask for p in numeric])

    def finish(self) -> Profile:
        columns = tuple(acc.freeze() for acc in self.accumulators.values())
        corr = self.correlation.freeze() if self.correlation is not None else None
        return Profile(self.rows, columns, corr)
