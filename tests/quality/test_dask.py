"""Profiling a Dask DataFrame on a two-worker LocalCluster equals profiling it in-process."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe", reason="needs the dask extra")
distributed = pytest.importorskip("distributed", reason="needs the dask extra")

from mlvitals.quality import profile  # noqa: E402
from mlvitals.quality.dask import profile as dask_profile  # noqa: E402


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 40_000
    df = pd.DataFrame(
        {
            "x": rng.normal(10, 3, n),
            "k": rng.integers(0, 4, n),
            "city": rng.choice(["a", "b", "c"], n),
        }
    )
    df.loc[rng.random(n) < 0.1, "x"] = np.nan
    return df


def test_dask_profile_equals_single_process_profile(client: object) -> None:
    df = _frame()
    ddf = dd.from_pandas(df, npartitions=7)
    assert len(client.scheduler_info()["workers"]) == 2  # type: ignore[attr-defined]
    reference = profile(df)
    single = profile(df, reference=reference, duplicates=False)
    distributed_profile = dask_profile(ddf, reference=reference)
    assert distributed_profile.rows == single.rows
    for d, s in zip(distributed_profile.columns, single.columns, strict=True):
        assert (d.count, d.nulls, d.histogram, d.distinct) == (
            s.count,
            s.nulls,
            s.histogram,
            s.distinct,
        )
        if s.moments is not None:
            assert (d.min, d.max) == (s.min, s.max)
            assert d.mean == pytest.approx(s.mean, rel=1e-12)
            assert d.std == pytest.approx(s.std, rel=1e-12)
            x = df[d.name].dropna().to_numpy()
            eps = d.quantiles.rank_error
            for q in (0.1, 0.5, 0.9):  # the answer's true rank is within the sketch's error
                got = d.quantile(q)
                assert float(np.mean(x < got)) - eps <= q <= float(np.mean(x <= got)) + eps
        else:
            assert d.category_counts() == s.category_counts()
    np.testing.assert_allclose(
        distributed_profile.correlation_matrix()[1], single.correlation_matrix()[1], atol=1e-12
    )


def test_dask_profile_without_reference_counts_histograms_on_merged_edges(client: object) -> None:
    df = _frame()
    p = dask_profile(dd.from_pandas(df, npartitions=5))
    x = p.column("x")
    assert x.histogram is not None
    edges = np.array(x.histogram.edges)
    values = df["x"].dropna().to_numpy()
    expected = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
    assert list(x.histogram.counts) == expected.tolist()
