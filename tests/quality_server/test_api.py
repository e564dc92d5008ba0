"""The datasets API through the real ASGI app, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from mlvitals.quality import profile
from mlvitals.sdk.quality import profile_record
from mlvitals.server.app import create_app
from mlvitals.settings import Settings
from mlvitals.store import Store
from tests.quality_server.helpers import T0, frames, ingest, record, results

NOW = T0 + 3600.0


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = create_app(Settings(), store, clock=lambda: NOW, background=False)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def seeded(store: Store, client: TestClient) -> dict[str, dict[str, object]]:
    current, _ = frames()
    recs = {
        "old": record("good", time=T0, data_bytes=100),
        "drift": record("drift", time=T0 + 600, data_bytes=200),
        "bad": record("bad", dataset="orders", time=T0 + 60),
        "profile": profile_record(
            profile(current), dataset="features", time=T0 + 300, data_bytes=150
        ),
        "lonely": profile_record(profile(current), dataset="raw", time=T0 + 10),
    }
    ingest(store, list(recs.values()))
    return recs


def test_list_gives_each_datasets_latest_verdict(
    client: TestClient, seeded: dict[str, dict[str, object]]
) -> None:
    body = client.get("/api/v1/datasets").json()
    by_name = {d["dataset"]: d for d in body["datasets"]}
    assert sorted(by_name) == ["features", "orders", "raw"]
    features = by_name["features"]
    assert features["status"] == "failed" and features["checks"] == 2
    assert features["profiles"] == 1 and features["last_profile_at"] == T0 + 300
    assert features["last_check_at"] == T0 + 600
    assert features["last_check"]["id"] == seeded["drift"]["id"]
    assert features["last_check"]["drifted_share"] == pytest.approx(1 / 3)
    assert (features["rows"], features["columns"], features["bytes"]) == (1500, 3, 200)
    orders = by_name["orders"]
    assert orders["status"] == "failed" and orders["last_check"]["failure_count"] == 2
    assert by_name["raw"]["status"] == "unchecked" and by_name["raw"]["last_check"] is None


def test_one_dataset_shows_its_latest_check_and_its_size_over_time(
    client: TestClient, seeded: dict[str, dict[str, object]]
) -> None:
    body = client.get("/api/v1/datasets/features", params={"start": str(T0 - 1)}).json()
    check = body["check"]
    assert check["id"] == seeded["drift"]["id"] and check["passed"] is False
    engine = results()["drift"]
    assert [(f["check"], f["column"]) for f in check["failures"]] == [
        (f.check, f.column) for f in engine.failures
    ]
    assert check["failures"][0]["samples"] == [
        {"row": s.row, "value": s.value} for s in engine.failures[0].samples
    ]
    drift = {d["column"]: d for d in check["drift"]}
    for c in engine.drift.columns:
        assert drift[c.column]["statistic"] == c.statistic
        assert drift[c.column]["p_adjusted"] == c.p_adjusted
        assert drift[c.column]["effect_size"] == c.effect_size
        assert drift[c.column]["drifted"] == c.drifted
    assert [c["id"] for c in body["checks"]] == [seeded["drift"]["id"], seeded["old"]["id"]]
    assert [(h["source"], h["time"], h["bytes"]) for h in body["history"]] == [
        ("check", T0, 100),
        ("profile", T0 + 300, 150),
        ("check", T0 + 600, 200),
    ]
    older = client.get("/api/v1/datasets/features", params={"check": seeded["old"]["id"]})
    assert older.json()["check"]["passed"] is True


def test_drift_of_each_column_over_time(
    client: TestClient, seeded: dict[str, dict[str, object]]
) -> None:
    body = client.get(
        "/api/v1/datasets/features/drift", params={"column": "income", "start": str(T0 - 1)}
    ).json()
    ((series),) = body["columns"]
    assert series["column"] == "income"
    good, drifted = (results()[k].drift.column("income") for k in ("good", "drift"))
    assert [p["time"] for p in series["points"]] == [T0, T0 + 600]
    assert [p["effect_size"] for p in series["points"]] == [good.effect_size, drifted.effect_size]
    assert [p["statistic"] for p in series["points"]] == [good.statistic, drifted.statistic]
    assert [p["value"] for p in series["points"]] == [good.effect_size, drifted.effect_size]
    assert [p["drifted"] for p in series["points"]] == [False, True]
    every = client.get("/api/v1/datasets/features/drift", params={"start": str(T0 - 1)}).json()
    assert [s["column"] for s in every["columns"]] == ["age", "income", "plan"]
    later = client.get("/api/v1/datasets/features/drift", params={"start": str(T0 + 1)}).json()
    assert all(len(s["points"]) == 1 for s in later["columns"])


def test_histograms_pair_reference_and_current_counts(
    client: TestClient, seeded: dict[str, dict[str, object]]
) -> None:
    body = client.get(
        "/api/v1/datasets/features/histograms", params={"check": seeded["drift"]["id"]}
    ).json()
    cols = {c["column"]: c for c in body["columns"]}
    current, reference = frames(shift=1.0)
    income = cols["income"]
    assert income["type"] == "bins"
    edges = [b["high"] for b in income["bins"][:-1]]
    # Bins [e_i, e_i+1): numpy counts on the same edges.
    for side, frame in (("reference", reference), ("current", current)):
        idx = np.searchsorted(np.array(edges), frame["income"].to_numpy(), side="right")
        expected = np.bincount(idx, minlength=len(edges) + 1).tolist()
        assert [b[side] for b in income["bins"]] == expected
        assert sum(b[f"{side}_share"] for b in income["bins"]) == pytest.approx(1.0)
    plan = cols["plan"]
    assert plan["type"] == "categories" and plan["exact"] is True
    for side, frame in (("reference", reference), ("current", current)):
        counts = frame["plan"].value_counts().to_dict()
        assert {b["label"]: b[side] for b in plan["bins"]} == counts
    # A profile alone: its own distributions, no reference.
    only = client.get("/api/v1/datasets/raw/histograms").json()
    assert only["profile"] == seeded["lonely"]["id"]
    assert all(b["reference"] is None for c in only["columns"] for b in c["bins"])


def test_unknown_names_are_404_and_bad_parameters_400(client: TestClient) -> None:
    assert client.get("/api/v1/datasets/nope").status_code == 404
    assert client.get("/api/v1/datasets/nope/drift").status_code == 404
    assert client.get("/api/v1/datasets/nope/histograms").status_code == 404
    ingest_ok = client.post(
        "/api/v1/ingest",
        json={"batch_id": "6f1c8a7e-8f5e-4d58-9a43-6f3c3b0a5e11", "records": [record("good")]},
    )
    assert ingest_ok.json()["stored"] == 4
    missing = client.get("/api/v1/datasets/features", params={"check": "no-such-id"})
    assert missing.status_code == 404 and "no-such-id" in missing.json()["error"]
    both = client.get("/api/v1/datasets/features/histograms?check=a&profile=b")
    assert both.status_code == 400
    assert client.get("/api/v1/datasets/features?start=yesterday").status_code == 400


def test_reading_needs_the_read_scope(store: Store) -> None:
    settings = Settings(tokens="reader-01:read;ingest-01:ingest")
    app = create_app(settings, store, clock=lambda: NOW, background=False)
    with TestClient(app) as c:
        assert c.get("/api/v1/datasets").status_code == 401
        assert (
            c.get("/api/v1/datasets", headers={"Authorization": "Bearer ingest-01"}).status_code
            == 403
        )
        assert (
            c.get("/api/v1/datasets", headers={"Authorization": "Bearer reader-01"}).status_code
            == 200
        )
