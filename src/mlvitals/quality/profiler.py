"""The profile accumulators: updated batch by batch, frozen into a :class:`Profile` at the end.

Each update is a handful of vectorised numpy / Arrow calls per column; the only Python loops
are per distinct value fed to the top-values sketch (bounded per batch) and per column.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping

import numpy as np
import pyarrow as pa

from mlvitals.quality.columns import ColumnKind, kind_of, logical_type
from mlvitals.quality.correlation import CorrelationAccumulator
from mlvitals.quality.distinct import DistinctCounter
from mlvitals.quality.frequent import FEED_LIMIT, TopValuesAccumulator
from mlvitals.quality.hashing import hash_floats, hash_strings
from mlvitals.quality.histogram import Histogram
from mlvitals.quality.moments import Moments
from mlvitals.quality.parts import CategoricalPart, NumericPart, OtherPart, Part, all_whole
from mlvitals.quality.profiles import ColumnProfile, Profile
from mlvitals.quality.sorted_stats import Runs, SortedStats

# Beyond this many numeric columns the correlation matrix (k*k*5 floats) is left out.
MAX_CORRELATION_COLUMNS = 200


class _NumericAccumulator:
    """A numeric or datetime column's accumulator.

    ``deferred`` leaves out what is read off sorted values (quantiles, top values and the
    histogram): the caller sorts the whole column once later and completes the profile with
    :func:`complete_numeric`, so a column is not sorted batch by batch and again whole.
    """

    __slots__ = (
        "counts",
        "deferred",
        "distinct",
        "edges",
        "field",
        "inf",
        "kind",
        "last",
        "moments",
        "nan",
        "nulls",
        "order",
        "rows",
        "sorted_stats",
        "whole",
    )

    def __init__(
        self, field: pa.Field, edges: tuple[float, ...] | None, *, deferred: bool = False
    ) -> None:
        self.field = field
        self.kind = kind_of(field.type)
        self.deferred = deferred
        self.rows = self.nulls = self.nan = self.inf = 0
        self.moments = Moments()
        self.sorted_stats = SortedStats()
        self.distinct = DistinctCounter()
        # Floats that are all whole numbers, with nulls: integers as pandas stores them.
        self.whole = logical_type(field.type) == "float" and not pa.types.is_decimal(field.type)
        # Whether the values so far are sorted (+1 ascending, -1 descending, 0 not; None
        # before the first two values), and the last one.
        self.order: int | None = None
        self.last: float | None = None
        self.edges = None if deferred else edges
        self.counts = (
            np.zeros(len(self.edges) + 1, dtype=np.int64) if self.edges is not None else None
        )

    def update(self, part: NumericPart) -> None:
        self.rows += part.rows
        self.nulls += part.nulls
        self.nan += part.nan
        self.inf += part.inf
        if self.order != 0 and part.finite.size:
            self._follow_order(part.finite)
        known = part.finite_hashes()  # the duplicate check's row hashes, when it ran
        if self.deferred:
            if part.finite.size:
                self.moments = self.moments.merge(Moments.of(part.finite))
                self.distinct.update(known if known is not None else hash_floats(part.finite))
                if self.whole:
                    self.whole = all_whole(part.finite)
            return
        s = part.sorted
        if s.size == 0:
            return
        self.moments = self.moments.merge(Moments.of(s, is_sorted=True))
        runs = self.sorted_stats.add(s)
        if self.whole:
            self.whole = all_whole(runs.values)
        self.distinct.update(known if known is not None else hash_floats(runs.values))
        if self.counts is not None and self.edges is not None:
            self.counts += Histogram.of_sorted(s, self.edges).counts

    def _follow_order(self, f: np.ndarray) -> None:
        """Keep track of whether the values arrive sorted; on unsorted data a short prefix
        of the first batch decides, so this costs nothing more."""
        if self.last is not None:
            step = float(f[0]) - self.last
            self._see(step >= 0, step <= 0)
        for head in (f[:64], f):
            if self.order == 0:
                return
            steps = np.diff(head)
            if steps.size:
                self._see(bool((steps >= 0).all()), bool((steps <= 0).all()))
        self.last = float(f[-1])

    def _see(self, up: bool, down: bool) -> None:
        if not up and not down:
            self.order = 0
        elif self.order is None and up != down:
            self.order = 1 if up else -1
        elif (self.order == 1 and not up) or (self.order == -1 and not down):
            self.order = 0

    def freeze(self) -> ColumnProfile:
        histogram = None
        if self.edges is not None and self.counts is not None:
            histogram = Histogram(self.edges, tuple(int(c) for c in self.counts))
        quantiles, top = self.sorted_stats.freeze()
        logical = logical_type(self.field.type)
        if self.whole and self.nulls and self.moments.count:
            logical = "integer"  # a missing value made the reader store integers as floats
        return ColumnProfile(
            name=self.field.name,
            type=str(self.field.type),
            logical=logical,
            kind=self.kind,
            count=self.rows,
            nulls=self.nulls,
            distinct=self.distinct.freeze(),
            nan=self.nan,
            inf=self.inf,
            moments=self.moments,
            quantiles=None if self.deferred else quantiles,
            histogram=histogram,
            top=None if self.deferred else top,
            order="ascending" if self.order == 1 else "descending" if self.order == -1 else None,
        )


def complete_numeric(
    col: ColumnProfile, s: np.ndarray, edges: tuple[float, ...] | None = None
) -> tuple[ColumnProfile, Runs]:
    """A deferred column's profile completed from all its finite values, sorted: its
    quantiles, top values and (on ``edges``) histogram. Also returns the run lengths."""
    quantiles, top, runs = SortedStats.of_whole(s)
    histogram = Histogram.of_sorted(s, edges) if edges is not None else col.histogram
    done = dataclasses.replace(col, quantiles=quantiles, top=top, histogram=histogram)
    return done, runs


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
    without edges get no histogram from this pass. Numeric columns named in ``defer`` get no
    quantiles, top values or histogram either: see :func:`complete_numeric`.
    """

    def __init__(
        self,
        schema: pa.Schema,
        *,
        edges: Mapping[str, tuple[float, ...]] | None = None,
        correlation: bool = True,
        defer: Collection[str] = (),
    ) -> None:
        self.rows = 0
        self.accumulators: dict[str, _Accumulator] = {}
        numeric: list[str] = []
        for field in schema:
            kind = kind_of(field.type)
            if kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
                self.accumulators[field.name] = _NumericAccumulator(
                    field, (edges or {}).get(field.name), deferred=field.name in defer
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
