"""The same inputs and configuration give byte-identical results, on every input path."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlvitals.quality import check, profile
from mlvitals.quality.kll import Levels
from mlvitals.quality.quantiles import KllSketch, QuantileAccumulator


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.lognormal(size=n),
            "k": rng.poisson(4, n),
            "c": rng.choice(["a", "b", "c"], n),
        }
    )


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[object, object]]:
    d = tmp_path_factory.mktemp("same")
    ref, cur = _frame(30_000, 1), _frame(30_000, 2)
    small_ref, small_cur = _frame(1_000, 3), _frame(1_000, 4)
    out: dict[str, tuple[object, object]] = {
        "frames": (cur, ref),
        "small frames (< 4,096 values)": (small_cur, small_ref),
        "arrow": (pa.Table.from_pandas(cur), pa.Table.from_pandas(ref)),
    }
    for name, frame in (("ref", ref), ("cur", cur)):
        pq.write_table(pa.Table.from_pandas(frame), d / f"{name}.parquet", row_group_size=7_000)
        frame.to_csv(d / f"{name}.csv", index=False)
        with gzip.open(d / f"{name}.csv.gz", "wt") as f:
            frame.to_csv(f, index=False)
    out["parquet"] = (d / "cur.parquet", d / "ref.parquet")
    out["csv"] = (d / "cur.csv", d / "ref.csv")
    out["gzipped csv"] = (d / "cur.csv.gz", d / "ref.csv.gz")
    (d / "ref.json").write_text(profile(d / "ref.csv").to_json())
    out["csv against a stored profile"] = (d / "cur.csv", d / "ref.json")
    return out


PATHS = [
    "frames",
    "small frames (< 4,096 values)",
    "arrow",
    "parquet",
    "csv",
    "gzipped csv",
    "csv against a stored profile",
]


@pytest.mark.parametrize("path", PATHS)
def test_each_input_path_gives_byte_identical_json_twice(
    path: str, inputs: dict[str, tuple[object, object]]
) -> None:
    data, reference = inputs[path]
    first, second = (check(data, reference=reference).to_json() for _ in range(2))
    assert first == second
    # Profiles alone (a different path: each batch is sketched as it is read) as well.
    assert profile(data).to_json() == profile(data).to_json()


def test_csv_with_a_small_raw_limit_is_reproducible_too(
    inputs: dict[str, tuple[object, object]],
) -> None:
    data, reference = inputs["csv"]
    runs = [check(data, reference=reference, raw_limit_bytes=1 << 16) for _ in range(2)]
    assert runs[0].notes and runs[0].to_json() == runs[1].to_json()  # the sketch route


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 30_000), min_size=1, max_size=6))
def test_reproducible_sketches_answer_ranks_within_their_error(sizes: list[int]) -> None:
    rng = np.random.default_rng(sum(sizes))
    batches = [rng.normal(size=n) for n in sizes]
    acc = QuantileAccumulator()
    for b in batches:
        acc.update(b)
    sketch = acc.freeze()
    values = np.sort(np.concatenate(batches))
    assert sketch.count == values.size
    lib = sketch._sketch()
    assert (lib.get_min_value(), lib.get_max_value()) == (values[0], values[-1])
    items, weights = sketch.weighted_items()
    assert weights.sum() == values.size
    # Every rank the sketch answers is within its stated error (plus one value's weight).
    cdf = np.cumsum(weights) / values.size
    true = np.searchsorted(values, items, side="right") / values.size
    assert np.max(np.abs(cdf - true)) <= sketch.rank_error + weights.max() / values.size
    # And the bytes read back into the same levels.
    assert Levels.from_bytes(sketch.data).to_bytes() == sketch.data
    half = len(batches) // 2 or 1
    a, b = QuantileAccumulator(), QuantileAccumulator()
    for x in batches[:half]:
        a.update(x)
    for x in batches[half:]:
        b.update(x)
    merged = a.freeze().merge(b.freeze())
    assert merged == a.freeze().merge(b.freeze()) and merged.count == values.size
    assert isinstance(merged, KllSketch)
