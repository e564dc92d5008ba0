"""Profiles: numbers against numpy/pandas, the partition merge law, JSON, every input kind."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlvitals.errors import InputError, SchemaError
from mlvitals.quality import ColumnKind, Profile, profile
from mlvitals.quality.profile_json import loads


def _frame(n: int = 20_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x": rng.normal(3.0, 2.0, n),
            "k": rng.integers(0, 6, n),
            "city": rng.choice(["Paris", "Lyon", "Nice", "Brest"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "flag": rng.random(n) < 0.3,
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
        }
    )
    df.loc[rng.random(n) < 0.05, "x"] = np.nan
    df.loc[rng.random(n) < 0.02, "city"] = None
    return df


def test_numeric_profile_equals_numpy() -> None:
    df = _frame()
    x = df["x"].dropna().to_numpy()
    c = profile(df).column("x")
    assert (c.count, c.nulls, c.valid) == (len(df), int(df["x"].isna().sum()), x.size)
    assert c.mean == pytest.approx(float(np.mean(x)), rel=1e-12)
    assert c.std == pytest.approx(float(np.std(x)), rel=1e-12)
    assert (c.min, c.max) == (float(x.min()), float(x.max()))
    assert c.quantiles is not None
    eps = c.quantiles.rank_error
    for q in (0.01, 0.1, 0.5, 0.9, 0.99):
        got = c.quantile(q)
        assert got is not None
        rank = float(np.mean(x <= got))  # the true rank of the sketch's answer
        assert abs(rank - q) <= eps + 1 / x.size
    assert c.distinct is not None
    assert abs(c.distinct.estimate() - x.size) <= 4 * c.distinct.relative_error * x.size


def test_categorical_boolean_and_integer_counts_equal_pandas() -> None:
    df = _frame()
    p = profile(df)
    city = p.column("city")
    assert city.kind is ColumnKind.CATEGORICAL and city.nulls == int(df["city"].isna().sum())
    assert city.category_counts() == df["city"].value_counts().to_dict()
    assert city.top is not None and city.top.exact and city.distinct_count == 4
    flag = p.column("flag")
    assert flag.category_counts() == {"true": int(df.flag.sum()), "false": int((~df.flag).sum())}
    k = p.column("k")
    assert {int(v): n for v, n in k.top.items()} == df["k"].value_counts().to_dict()
    # a discrete column gets one bin per value, so its histogram holds its exact counts
    assert k.histogram is not None and k.histogram.edges == (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
    assert list(k.histogram.counts[1:]) == [int((df.k == v).sum()) for v in range(6)]
    when = p.column("when")
    assert when.kind is ColumnKind.DATETIME
    assert when.min == pytest.approx(df["when"].min().timestamp())


def test_correlation_matrix_equals_pandas() -> None:
    df = _frame()
    df["y"] = 0.5 * df["x"] - 0.2 * df["k"] + np.random.default_rng(1).normal(size=len(df))
    names, matrix = profile(df).correlation_matrix()
    assert names == ("x", "k", "y")
    np.testing.assert_allclose(matrix, df[list(names)].corr().to_numpy(), atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 3_000), min_size=1, max_size=5))
def test_merged_partition_profiles_equal_the_profile_of_the_whole(sizes: list[int]) -> None:
    df = _frame(sum(sizes), seed=len(sizes))
    reference = profile(df)  # fixes the bins, so partition histograms can be added
    whole = profile(df, reference=reference, duplicates=False)
    bounds = np.cumsum([0, *sizes])
    parts = [
        profile(df.iloc[a:b], reference=reference, duplicates=False)
        for a, b in itertools.pairwise(bounds)
    ]
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.merge(p)
    assert merged.rows == whole.rows
    for m, w in zip(merged.columns, whole.columns, strict=True):
        assert (m.count, m.nulls, m.nan, m.inf) == (w.count, w.nulls, w.nan, w.inf)
        assert m.histogram == w.histogram  # exact
        assert m.distinct == w.distinct  # the registers are identical
        if w.moments is not None and w.valid:
            assert (m.min, m.max) == (w.min, w.max)
            assert m.mean == pytest.approx(w.mean, rel=1e-12, abs=1e-9)
            assert m.std == pytest.approx(w.std, rel=1e-9, abs=1e-9)
        if w.top is not None and m.top is not None:
            merged_counts, whole_counts = dict(m.top.items()), dict(w.top.items())
            bound = m.top.max_error + w.top.max_error  # 0 when both are exact
            for value in set(merged_counts) | set(whole_counts):
                diff = merged_counts.get(value, 0) - whole_counts.get(value, 0)
                assert abs(diff) <= bound
    np.testing.assert_allclose(
        merged.correlation_matrix()[1], whole.correlation_matrix()[1], atol=1e-9
    )


def test_profile_json_round_trips_and_is_versioned() -> None:
    p = profile(_frame(2_000))
    text = p.to_json()
    assert '"format":"mlvitals.profile"' in text and '"version":1' in text
    assert Profile.from_json(text) == p
    with pytest.raises(InputError, match="version 99"):
        loads(text.replace('"version":1', '"version":99'))
    with pytest.raises(InputError, match="not an mlvitals profile"):
        loads('{"rows": 3}')


def _exact_parts(p: Profile) -> list[tuple[object, ...]]:
    """What any two profiles of the same data share exactly (KLL sketches are randomised)."""
    out: list[tuple[object, ...]] = [(p.rows, p.duplicate_rows)]
    for c in p.columns:
        moments = (c.moments.count, c.moments.min, c.moments.max) if c.moments else None
        out.append((c.name, c.logical, c.kind, c.count, c.nulls, c.nan, c.inf, moments))
        out.append((c.distinct, c.category_counts() if c.kind is not ColumnKind.NUMERIC else 0))
    return out


def test_every_input_kind_gives_the_same_profile(tmp_path: Path) -> None:
    df = _frame(3_000).drop(columns=["when"])
    base = profile(df)
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, tmp_path / "d.parquet", row_group_size=700)
    df.to_csv(tmp_path / "d.csv", index=False)
    with gzip.open(tmp_path / "d.csv.gz", "wt") as f:
        df.to_csv(f, index=False)
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(df)), 3)):
        pq.write_table(table.take(chunk), folder / f"part-{i}.parquet")
    inputs = {
        "arrow table": table,
        "record batch": table.combine_chunks().to_batches()[0],
        "polars": pl.from_pandas(df),
        "parquet": tmp_path / "d.parquet",
        "parquet folder": folder,
        "csv": tmp_path / "d.csv",
        "gzipped csv": str(tmp_path / "d.csv.gz"),
    }
    for name, data in inputs.items():
        p = profile(data)
        if "csv" not in name:  # CSV has no int/bool types of its own: compare the numbers
            assert _exact_parts(p) == _exact_parts(base), name
        assert p.rows == len(df), name
        assert p.column("x").mean == pytest.approx(df.x.mean(), rel=1e-12), name
        assert p.column("x").std == pytest.approx(df.x.std(ddof=0), rel=1e-12), name
        assert p.column("city").category_counts() == df.city.value_counts().to_dict(), name
        assert p.column("x").nulls == int(df.x.isna().sum()), name


def test_input_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        profile(tmp_path / "missing.parquet")
    (tmp_path / "data.xlsx").write_bytes(b"x")
    with pytest.raises(InputError, match=r"unknown format '\.xlsx'"):
        profile(tmp_path / "data.xlsx")
    with pytest.raises(InputError, match="has no rows"):
        profile(pd.DataFrame({"x": pd.Series([], dtype=float)}))
    with pytest.raises(InputError, match="has no columns"):
        profile(pa.table({}))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        profile(tmp_path / "empty.csv")
    with pytest.raises(SchemaError, match=r"column 'mixed'.*mixes types"):
        profile(pd.DataFrame({"mixed": [1, "two", 3.0]}))
    with pytest.raises(InputError, match="cannot read data of type"):
        profile([1, 2, 3])
    empty_dir = tmp_path / "nothing"
    empty_dir.mkdir()
    with pytest.raises(InputError, match="no CSV or Parquet files"):
        profile(empty_dir)


def test_csv_whose_type_changes_after_the_first_block_names_the_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlvitals.quality import sources

    monkeypatch.setattr(sources, "CSV_BLOCK_BYTES", 1 << 10)  # tiny blocks: types from row 1
    lines = ["id,score"] + [f"{i},{i}" for i in range(500)] + ["501,not-a-number"]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(SchemaError, match="column 'score' mixes types"):
        profile(tmp_path / "d.csv")


def test_folder_of_files_with_conflicting_types_is_refused(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "1.parquet")
    pq.write_table(pa.table({"a": ["x", "y"]}), tmp_path / "2.parquet")
    with pytest.raises(SchemaError, match="column 'a' mixes types"):
        profile(tmp_path)


def test_all_null_and_non_finite_values_are_counted_apart() -> None:
    table = pa.table(
        {
            "x": pa.array([1.0, float("nan"), float("inf"), None, 3.0]),
            "empty": pa.array([None] * 5, type=pa.float64()),
        }
    )
    p = profile(table)
    x = p.column("x")
    assert (x.nulls, x.nan, x.inf, x.valid, x.mean) == (1, 1, 1, 2, 2.0)
    empty = p.column("empty")
    assert (empty.nulls, empty.valid, empty.mean, empty.histogram) == (5, 0, None, None)


def test_an_unknown_extension_is_refused_unless_the_format_is_named(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("x,y\n1,a\n2,b\n")
    with pytest.raises(InputError, match=r"unknown format '\.txt'.*--format"):
        profile(notes)
    assert profile(notes, format="csv").rows == 2
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.csv").write_text("x\n1\n")
    (folder / "readme.txt").write_text("not data\n")
    assert profile(folder).rows == 1  # a folder reads its data files, not the others
