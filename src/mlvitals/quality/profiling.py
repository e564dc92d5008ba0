"""``profile()``: the profile of a dataset, in one pass (two for a reference's histograms).

A profile made against a ``reference`` profile bins its numeric columns on the reference's
frozen edges during its single pass. A profile made alone (a future reference) needs its own
edges, which are only known once all its values were seen: its histograms are then counted
from the values kept in memory, or from a second read of its numeric columns (files).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from mlvitals.quality.columns import ColumnKind
from mlvitals.quality.histogram import (
    ATOM_SHARE,
    DEFAULT_BINS,
    Histogram,
    quantile_levels,
    reference_edges,
)
from mlvitals.quality.parts import NumericPart
from mlvitals.quality.profiler import complete_numeric
from mlvitals.quality.profiles import ColumnProfile, Profile
from mlvitals.quality.scan import RawColumns, scan
from mlvitals.quality.sorted_stats import Runs
from mlvitals.quality.sources import Progress, Source, open_source


def profile(
    data: Any,
    *,
    reference: Profile | None = None,
    format: str | None = None,
    bins: int = DEFAULT_BINS,
    correlation: bool = True,
    duplicates: bool = True,
    progress: Progress | None = None,
) -> Profile:
    """Profile a dataset: per-column counts, nulls, moments, quantiles, histogram, distinct
    count and top values, plus the correlations of numeric columns.

    ``data`` is a pandas/polars DataFrame, a pyarrow Table/RecordBatch, or the path of a CSV
    or Parquet file or folder. With ``reference``, numeric columns are binned on the
    reference's edges (so the two can be compared, or profiles of partitions merged).

    >>> import pandas as pd
    >>> p = profile(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", None]}))
    >>> p.column("x").mean, p.column("c").category_counts()
    (2.5, {'a': 2, 'b': 1})
    """
    source = open_source(data, format=format)
    edges = histogram_edges(reference) if reference is not None else {}
    result = scan(
        source,
        edges=edges,
        count_duplicates=duplicates,
        keep_raw=source.in_memory,
        correlation=correlation,
        progress=progress,
    )
    prof = result.profile
    if result.duplicates is not None:
        prof = dataclasses.replace(prof, duplicate_rows=result.duplicates.count)
    return add_histograms(prof, source, result.raw, bins=bins)


def histogram_edges(reference: Profile) -> dict[str, tuple[float, ...]]:
    """The frozen bin edges of every numeric column of a reference profile."""
    return {c.name: c.histogram.edges for c in reference.columns if c.histogram is not None}


def edges_for(col: ColumnProfile, bins: int = DEFAULT_BINS) -> tuple[float, ...] | None:
    """Bin edges for a column from its own sketches: its quantiles and its frequent values."""
    if col.quantiles is None or col.valid == 0:
        return None
    qs = col.quantiles.quantiles(quantile_levels(bins))
    if col.min is not None:
        qs[0] = col.min  # KLL's rank-0 answer is a retained item, not always the minimum
    atoms: list[float] = []
    if col.top is not None and col.top.kind == "number":
        atoms = [float(v) for v, c in col.top.items() if c >= ATOM_SHARE * col.valid]
    return reference_edges(qs, atoms)


def complete_reference(col: ColumnProfile, s: np.ndarray) -> tuple[ColumnProfile, Runs]:
    """A deferred reference column completed from its sorted values, binned on edges from
    its own completed sketches (:func:`~mlvitals.quality.profiler.complete_numeric`)."""
    col, runs = complete_numeric(col, s)
    edges = edges_for(col)
    if edges is not None:
        col = dataclasses.replace(col, histogram=Histogram.of_sorted(s, edges))
    return col, runs


def own_edges(prof: Profile, bins: int = DEFAULT_BINS) -> dict[str, tuple[float, ...]]:
    """Edges for every numeric and datetime column that has no histogram yet."""
    wanted: dict[str, tuple[float, ...]] = {}
    for col in prof.columns:
        if col.histogram is None and col.kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
            edges = edges_for(col, bins)
            if edges is not None:
                wanted[col.name] = edges
    return wanted


def add_histograms(
    prof: Profile,
    source: Source,
    raw: RawColumns | None,
    *,
    bins: int = DEFAULT_BINS,
    edges: Mapping[str, tuple[float, ...]] | None = None,
    known: Mapping[str, Histogram] | None = None,
) -> Profile:
    """Fill in the histograms a profile lacks: on the given ``edges`` (default: edges from
    its own sketches), taking ``known`` histograms as they are, counting the rest from the
    kept raw values or a second read of ``source``."""
    wanted = dict(edges) if edges is not None else own_edges(prof, bins)
    have = {c.name for c in prof.columns if c.histogram is not None}
    wanted = {name: cuts for name, cuts in wanted.items() if name not in have}
    if not wanted:
        return prof
    histograms: dict[str, Histogram] = dict(known or {})
    reread: dict[str, tuple[float, ...]] = {}
    for name, cuts in wanted.items():
        if name in histograms:
            continue
        if raw is not None and name in raw:
            counts = np.zeros(len(cuts) + 1, dtype=np.int64)
            for chunk in raw.chunks[name]:
                counts += Histogram.of(chunk, cuts).counts
            histograms[name] = Histogram(cuts, tuple(int(c) for c in counts))
        else:
            reread[name] = cuts
    if reread:
        histograms.update(count_histograms(source, reread))
    columns = tuple(
        dataclasses.replace(c, histogram=histograms[c.name]) if c.name in histograms else c
        for c in prof.columns
    )
    return dataclasses.replace(prof, columns=columns)


def count_histograms(
    source: Source, edges: Mapping[str, tuple[float, ...]]
) -> dict[str, Histogram]:
    """Exact histogram counts of some numeric columns, in one more read of those columns."""
    counts = {name: np.zeros(len(e) + 1, dtype=np.int64) for name, e in edges.items()}
    for batch in source.batches(columns=list(edges)):
        for name in edges:
            part = NumericPart(batch.column(name), 0)
            counts[name] += Histogram.of(part.finite, edges[name]).counts
    return {name: Histogram(edges[name], tuple(int(c) for c in counts[name])) for name in edges}
