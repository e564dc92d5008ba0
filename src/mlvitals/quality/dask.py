"""Profiles of Dask DataFrames: one profile per partition on the cluster, merged in a tree.

Every part of a profile merges (see :mod:`mlvitals.quality.profiles`), so the result equals
profiling the whole data in one process: exactly for counts, nulls, min, max, histograms and
distinct-count registers, to float rounding for means, standard deviations and correlations,
and within the sketch bounds for quantiles and top values. Without a ``reference``, histogram
edges are only known once all partitions are merged, so the histograms take a second, cheap
pass over the numeric columns. Duplicate rows are not counted (they span partitions).

Needs the ``dask`` extra: ``pip install 'mlvitals[dask]'``.

>>> import pandas as pd, dask.dataframe as dd  # doctest: +SKIP
>>> from distributed import Client, LocalCluster  # doctest: +SKIP
>>> with Client(LocalCluster(n_workers=2, processes=False)):  # doctest: +SKIP
...     p = profile(dd.from_pandas(pd.DataFrame({"x": range(100)}), npartitions=4))
>>> p.column("x").mean  # doctest: +SKIP
49.5
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mlvitals.errors import ConfigError, InputError
from mlvitals.quality.histogram import DEFAULT_BINS, Histogram
from mlvitals.quality.parts import NumericPart
from mlvitals.quality.profiles import Profile
from mlvitals.quality.profiling import edges_for, histogram_edges
from mlvitals.quality.scan import scan
from mlvitals.quality.sources import open_source


def _require_dask() -> Any:
    try:
        import dask
        import distributed  # noqa: F401  (the cluster runtime the extra installs)
    except ImportError:
        raise ConfigError(
            "profiling Dask DataFrames needs the dask extra: pip install 'mlvitals[dask]'"
        ) from None
    return dask


def _profile_partition(
    df: Any, edges: Mapping[str, tuple[float, ...]], correlation: bool
) -> Profile | None:
    if len(df) == 0:
        return None
    return scan(open_source(df), edges=edges, correlation=correlation).profile


def _merge(a: Profile | None, b: Profile | None) -> Profile | None:
    if a is None:
        return b
    if b is None:
        return a
    return a.merge(b)


def _count_partition(df: Any, edges: Mapping[str, tuple[float, ...]]) -> dict[str, np.ndarray]:
    import pyarrow as pa

    out = {}
    for name, e in edges.items():
        arr = pa.array(df[name], from_pandas=True)
        out[name] = np.asarray(Histogram.of(NumericPart(arr, 0).finite, e).counts, dtype=np.int64)
    return out


def _add_counts(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: a[k] + b[k] for k in a}


def _tree(dask: Any, items: list[Any], combine: Any) -> Any:
    """Combine delayed values pairwise, level by level (depth log2(n), no single hot task)."""
    while len(items) > 1:
        paired = [
            dask.delayed(combine)(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)
        ]
        if len(items) % 2:
            paired.append(items[-1])
        items = paired
    return items[0]


def profile(
    ddf: Any,
    *,
    reference: Profile | None = None,
    bins: int = DEFAULT_BINS,
    correlation: bool = True,
) -> Profile:
    """Profile a Dask DataFrame on the current Dask scheduler (a ``distributed.Client`` when
    one is active), partition by partition, and merge the partition profiles."""
    dask = _require_dask()
    if not hasattr(ddf, "to_delayed"):
        raise InputError(f"expected a Dask DataFrame, got {type(ddf).__name__}")
    parts = ddf.to_delayed()
    if not parts:
        raise InputError("the Dask DataFrame has no partitions")
    edges = histogram_edges(reference) if reference is not None else {}
    profiles = [dask.delayed(_profile_partition)(p, edges, correlation) for p in parts]
    (merged,) = dask.compute(_tree(dask, profiles, _merge))
    if merged is None:
        raise InputError("the Dask DataFrame has no rows")
    result: Profile = merged
    missing: dict[str, tuple[float, ...]] = {}
    for col in result.columns:
        if col.histogram is None and col.quantiles is not None:
            e = edges_for(col, bins)
            if e is not None:
                missing[col.name] = e
    if missing:
        counts = [dask.delayed(_count_partition)(p, missing) for p in parts]
        (totals,) = dask.compute(_tree(dask, counts, _add_counts))
        import dataclasses

        columns = tuple(
            dataclasses.replace(
                c,
                histogram=Histogram(missing[c.name], tuple(int(x) for x in totals[c.name])),
            )
            if c.name in missing
            else c
            for c in result.columns
        )
        result = dataclasses.replace(result, columns=columns)
    return result
