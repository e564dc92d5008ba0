"""``dataset_profile`` and ``check_result`` records: validated, stored on both backends,
idempotent, and stored with the numbers the engine computed."""

from __future__ import annotations

import json

import pytest

from mlvitals.quality import profile
from mlvitals.sdk.quality import MAX_RECORD_BYTES, profile_record
from mlvitals.store import Store
from tests.quality_server.helpers import T0, frames, ingest, record, results, validate


def test_a_check_is_stored_as_one_row_and_one_drift_row_per_column(store: Store) -> None:
    rec = record("drift")
    answer = ingest(store, [rec])
    result = results()["drift"]
    columns = result.drift.columns
    assert (answer.inserted, answer.already_stored) == (1 + len(columns), 0)
    (row,) = store.fetch("SELECT * FROM check_results")
    assert (row["dataset"], row["time"], row["check_id"]) == ("features", T0, rec["id"])
    assert row["passed"] == 0 and row["dataset_drift"] == int(result.drift.dataset_drift)
    assert row["drifted_share"] == pytest.approx(result.drift.drifted_share)
    assert row["columns_drifted"] == len(result.drift.drifted) == 1
    assert row["failure_count"] == len(result.failures)
    assert (row["rows"], row["reference_rows"], row["column_count"]) == (1500, 1500, 3)
    # The document is stored whole.
    assert json.loads(row["result"]) == rec["result"]
    failures = json.loads(row["failures"])
    assert [(f["check"], f["column"]) for f in failures] == [
        (f.check, f.column) for f in result.failures
    ]
    stored = {
        r["column_name"]: r for r in store.fetch("SELECT * FROM check_drift ORDER BY column_name")
    }
    assert sorted(stored) == sorted(c.column for c in columns)
    for c in columns:
        r = stored[c.column]
        assert (r["method"], r["test"], r["effect"]) == (c.method, c.test, c.effect)
        assert r["statistic"] == c.statistic and r["p_value"] == c.p_value
        assert r["p_adjusted"] == c.p_adjusted and r["effect_size"] == c.effect_size
        assert r["threshold"] == c.threshold and bool(r["drifted"]) == c.drifted
        assert (r["n_reference"], r["n_current"]) == (c.n_reference, c.n_current)


def test_resending_a_record_never_double_counts(store: Store) -> None:
    rec = record("good")
    first = ingest(store, [rec])
    again = ingest(store, [rec])  # a new batch id: the natural keys catch it
    assert first.inserted == 4 and again.inserted == 0 and again.already_stored == 4
    assert store.fetch("SELECT COUNT(*) AS n FROM check_results")[0]["n"] == 1
    assert store.fetch("SELECT COUNT(*) AS n FROM check_drift")[0]["n"] == 3
    other = record("good")  # same dataset and time, another check
    assert ingest(store, [other]).inserted == 4


def test_a_profile_record_is_stored_with_rows_columns_and_bytes(store: Store) -> None:
    current, _ = frames()
    prof = profile(current)
    rec = profile_record(prof, dataset="features", time=T0, source="x.parquet", data_bytes=1234)
    assert ingest(store, [rec]).inserted == 1
    assert ingest(store, [rec]).inserted == 0
    (row,) = store.fetch("SELECT * FROM dataset_profiles")
    assert (row["rows"], row["column_count"], row["bytes"]) == (1500, 3, 1234)
    assert row["source"] == "x.parquet" and row["profile_id"] == rec["id"]
    assert json.loads(row["profile"]) == rec["profile"]


def _errors(rec: dict[str, object]) -> list[tuple[str, str]]:
    v = validate([rec])
    assert not v.accepted_by_kind
    return [(e.field, e.reason) for e in v.errors]


def test_invalid_records_are_refused_with_the_field_and_reason() -> None:
    rec = record("good")
    rec["result"]["version"] = 2
    ((field, reason),) = _errors(rec)
    assert field == "result.version" and "version 1" in reason and "upgrade" in reason

    rec = record("good")
    rec["result"]["format"] = "something.else"
    assert _errors(rec)[0][0] == "result.format"

    rec = record("good")
    rec["result"]["drift"]["columns"].append(dict(rec["result"]["drift"]["columns"][0]))
    ((field, reason),) = _errors(rec)
    assert field == "result.drift.columns" and "twice" in reason

    rec = record("good")
    rec["result"]["profile"]["columns"][0]["sketches"]["kll"] = "not base64!"
    ((field, reason),) = _errors(rec)
    assert field == "result.profile" and "damaged profile" in reason

    rec = record("good")
    rec["dataset"] = ""
    assert _errors(rec)[0][0] == "dataset"

    rec = record("good")
    del rec["id"]
    assert _errors(rec)[0][0] == "id"

    prof = profile_record(profile(frames()[0]), dataset="d", time=T0)
    prof["profile"]["version"] = 9
    ((field, reason),) = _errors(prof)
    assert field == "profile" and "version 9" in reason


def test_a_record_over_the_size_limit_is_refused_with_what_to_do() -> None:
    prof = profile_record(profile(frames()[0]), dataset="d", time=T0)
    column = prof["profile"]["columns"][0]
    # A readable profile made big by a long readable field the reader ignores.
    column["padding"] = "x" * (MAX_RECORD_BYTES + 1)
    ((field, reason),) = _errors(prof)
    assert field == "profile" and "over the limit of 8 MiB per record" in reason
    assert "without its sketches" in reason


def test_non_finite_statistics_are_stored_as_null_on_both_backends(store: Store) -> None:
    rec = record("good")
    rec["result"]["drift"]["columns"][0]["statistic"] = "NaN"
    ingest(store, [rec])
    (row,) = store.fetch(
        "SELECT statistic FROM check_drift WHERE column_name = ?",
        (rec["result"]["drift"]["columns"][0]["column"],),
    )
    assert row["statistic"] is None
    # The document keeps what was sent.
    (doc,) = store.fetch("SELECT result FROM check_results")
    assert json.loads(doc["result"])["drift"]["columns"][0]["statistic"] == "NaN"
