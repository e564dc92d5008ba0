"""Schema inference, YAML, and every validation failure with its samples and row numbers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlvitals.errors import InputError
from mlvitals.quality import ColumnRule, DriftPolicy, check, infer_schema, load_schema, profile
from mlvitals.quality.schema_yaml import schema_from_yaml, schema_to_yaml


def _reference(n: int = 4_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "income": rng.lognormal(10, 0.5, n),
            "plan": rng.choice(["free", "pro", "team"], n),
            "score": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)),
        }
    )


def test_inferred_schema_follows_the_documented_rules() -> None:
    ref = _reference()
    schema = infer_schema(profile(ref), duplicate_share=0.0)
    age = schema.column("age")
    assert (age.type, age.required, age.max_null_share) == ("integer", True, 0.0)
    assert (age.min, age.max) == (float(ref.age.min()), float(ref.age.max()))
    assert age.max_out_of_range_share == pytest.approx(0.001 + 10 / len(ref), abs=1e-4)
    assert schema.column("plan").categories == ("free", "pro", "team")
    null_share = float(ref.score.isna().mean())
    assert schema.column("score").max_null_share == pytest.approx(null_share + 0.05, abs=1e-4)
    assert schema.column("income").categories is None
    assert schema.max_duplicate_share == 0.01 and not schema.allow_extra_columns


def test_schema_yaml_round_trip_and_errors(tmp_path: Path) -> None:
    schema = infer_schema(profile(_reference()), duplicate_share=0.02)
    assert schema_from_yaml(schema_to_yaml(schema)) == schema
    path = tmp_path / "s.yaml"
    path.write_text("columns:\n  a: {type: integer, maximum: 3}\n")
    with pytest.raises(InputError, match=r"s\.yaml: column 'a': unknown key\(s\) maximum"):
        load_schema(path)
    path.write_text("columns:\n  a: {type: integer, max_null_share: 2}\n")
    with pytest.raises(InputError, match="max_null_share must be a share between 0 and 1"):
        load_schema(path)
    with pytest.raises(InputError, match="cannot read schema file"):
        load_schema(tmp_path / "nope.yaml")


def _failures(result):  # type: ignore[no-untyped-def]
    return {(f.check, f.column): f for f in result.failures}


def test_each_check_reports_counts_shares_and_sample_rows() -> None:
    ref = _reference()
    cur = _reference(3_000, seed=1)
    cur["income"] = cur["income"].clip(ref.income.min(), ref.income.max())  # only age is off
    cur.loc[[5, 17, 40], "age"] = [150, -3, 200]
    cur.loc[[2, 9], "plan"] = ["enterprise", "enterprise"]
    cur.loc[[1, 3, 8], "income"] = np.nan
    cur["extra"] = 1
    cur = cur.drop(columns=["score"])
    cur = pd.concat([cur, cur.iloc[[4, 6]]], ignore_index=True)  # rows 3000, 3001 duplicate
    inferred = infer_schema(profile(ref), duplicate_share=0.0)
    strict = {
        "age": dataclasses.replace(inferred.column("age"), max_out_of_range_share=0.0),
        "plan": dataclasses.replace(inferred.column("plan"), max_unknown_share=0.0),
    }
    schema = dataclasses.replace(
        inferred,
        columns=tuple(strict.get(c.name, c) for c in inferred.columns),
        max_rows=2_500,
        max_duplicate_share=0.0,
    )
    result = check(cur, reference=ref, schema=schema)
    assert not result.passed
    f = _failures(result)
    assert set(f) == {
        ("rows", None),
        ("missing_column", "score"),
        ("extra_column", "extra"),
        ("range", "age"),
        ("categories", "plan"),
        ("nulls", "income"),
        ("duplicates", None),
    }
    age = f[("range", "age")]
    assert age.count == 3 and age.observed == pytest.approx(3 / 3_002)
    assert [(s.row, s.value) for s in age.samples] == [(5, 150.0), (17, -3.0), (40, 200.0)]
    plan = f[("categories", "plan")]
    assert plan.count == 2 and [(s.row, s.value) for s in plan.samples] == [
        (2, "enterprise"),
        (9, "enterprise"),
    ]
    nulls = f[("nulls", "income")]
    assert nulls.count == 3 and [s.row for s in nulls.samples] == [1, 3, 8]
    dup = f[("duplicates", None)]
    assert dup.count == 2 and [(s.row, s.value) for s in dup.samples] == [(3000, 4), (3001, 6)]
    assert f[("rows", None)].observed == 3_002


def test_wrong_type_fails_and_integers_pass_as_floats() -> None:
    ref = pd.DataFrame({"a": [1.5, 2.5, 3.5] * 20, "b": [1, 2, 3] * 20})
    ok = check(pd.DataFrame({"a": [1, 2, 3] * 20, "b": [1, 2, 3] * 20}), reference=ref)
    assert not [f for f in ok.failures if f.check == "type"]
    bad = check(pd.DataFrame({"a": [1.5, 2.5, 3.5] * 20, "b": ["x", "y", "z"] * 20}), reference=ref)
    (t,) = [f for f in bad.failures if f.check == "type"]
    assert t.column == "b" and t.observed == "string" and t.limit == "integer"


def test_nan_and_inf_fail_in_current_data_and_are_refused_in_a_reference() -> None:
    ref = pa.table({"x": [1.0, 2.0, 3.0] * 10})
    cur = pa.table({"x": [1.0, float("nan"), 2.0, float("inf")] * 5})
    (f,) = [f for f in check(cur, reference=ref).failures if f.check == "non_finite"]
    assert f.count == 10 and [(s.row, s.value) for s in f.samples][:2] == [(1, "nan"), (3, "inf")]
    with pytest.raises(InputError, match="reference column 'x' has 5 NaN and 5 infinite"):
        check(ref, reference=cur)


def test_all_null_reference_column_is_a_clear_error() -> None:
    ref = pa.table({"x": [1.0, 2.0], "gone": pa.array([None, None], type=pa.float64())})
    with pytest.raises(InputError, match="column 'gone' has no values in the reference"):
        check(ref, reference=ref)


def test_all_null_current_column_fails_the_null_check_and_skips_drift() -> None:
    ref = pa.table({"x": np.arange(30.0)})
    cur = pa.table({"x": pa.array([None] * 30, type=pa.float64())})
    # (30 nulls are also 29 duplicate rows: allow them, to look at the null check alone)
    schema = infer_schema(profile(ref))  # no duplicate limit without a duplicate count
    result = check(cur, reference=ref, schema=schema)
    assert [f.check for f in result.failures] == ["nulls"]
    d = result.drift.column("x")
    assert d.skipped and d.note == "no values in the current data"


def test_columns_absent_from_the_reference_fail_as_extra_columns() -> None:
    ref = pa.table({"x": [1.0, 2.0] * 10})
    cur = pa.table({"x": [1.0, 2.0] * 10, "new": ["a", "b"] * 10})
    result = check(cur, reference=ref)
    assert [(f.check, f.column) for f in result.failures] == [("extra_column", "new")]
    assert [c.column for c in result.drift.columns] == ["x"]


def test_check_against_a_saved_profile_and_files(tmp_path: Path) -> None:
    ref = _reference()
    pq.write_table(pa.Table.from_pandas(ref, preserve_index=False), tmp_path / "ref.parquet")
    (tmp_path / "ref.json").write_text(profile(tmp_path / "ref.parquet").to_json())
    cur = _reference(2_000, seed=3)
    cur["income"] *= 1.6
    cur.to_csv(tmp_path / "cur.csv", index=False)
    from_data = check(tmp_path / "cur.csv", reference=tmp_path / "ref.parquet")
    from_profile = check(tmp_path / "cur.csv", reference=str(tmp_path / "ref.json"))
    for result in (from_data, from_profile):
        assert [c.column for c in result.drift.drifted] == ["income"]
    assert from_data.drift.column("income").route == "raw"
    assert from_profile.drift.column("income").route == "profile"
    doc = json.loads(from_profile.to_json())
    assert doc["format"] == "mlvitals.check" and doc["version"] == 1
    assert doc["drift"]["drifted_columns"] == ["income"]
    assert doc["profile"]["format"] == "mlvitals.profile"


def test_raw_limit_switches_file_inputs_to_the_profile_route(tmp_path: Path) -> None:
    ref = _reference()
    pq.write_table(pa.Table.from_pandas(ref, preserve_index=False), tmp_path / "ref.parquet")
    policy = DriftPolicy(columns={"income": ColumnRule("psi")})
    result = check(ref, reference=tmp_path / "ref.parquet", raw_limit_bytes=1_000, policy=policy)
    assert result.drift.column("age").route == "profile"
    assert result.drift.column("income").effect_size == pytest.approx(0.0, abs=1e-12)
    hist = result.reference.column("income").histogram  # counted by a second read
    assert hist is not None
    expected = np.bincount(
        np.searchsorted(np.array(hist.edges), ref.income.to_numpy(), side="right"),
        minlength=len(hist.edges) + 1,
    )
    assert list(hist.counts) == expected.tolist()
    assert any("profile route" in n for n in result.notes)


def test_integers_with_missing_values_keep_their_logical_type(tmp_path: Path) -> None:
    rng = np.random.default_rng(31)
    n = 2_000
    ints = pd.Series(rng.integers(0, 40, n)).astype("Int64")
    ints[rng.random(n) < 0.03] = pd.NA
    nullable = pd.DataFrame({"k": ints})  # pandas' nullable integer: Arrow int64 with nulls
    as_float = pd.DataFrame({"k": ints.astype("float64")})  # pandas' default: NaN floats
    as_float.to_csv(tmp_path / "k.csv", index=False)
    # The reader's representation of a missing value does not change the logical type.
    assert infer_schema(profile(nullable)).column("k").type == "integer"
    assert infer_schema(profile(as_float)).column("k").type == "integer"
    for reference in (nullable, as_float):
        for current in (nullable, as_float, tmp_path / "k.csv"):
            result = check(current, reference=reference)
            assert result.passed, (result.summary(), type(current))
    # Fractions are still not integers: the type check names them.
    row = int(np.flatnonzero(ints.notna())[0])
    fractions = as_float.assign(k=as_float.k + np.where(np.arange(n) == row, 0.5, 0.0))
    result = check(fractions, reference=nullable)
    failure = _failures(result)[("type", "k")]
    assert failure.count == 1 and [(s.row, s.value) for s in failure.samples] == [
        (row, float(as_float.k[row]) + 0.5)
    ]
