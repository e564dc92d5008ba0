"""Runs through ingest, folded by the query layer, served by the HTTP API (SQLite)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

from mlvitals.pipelines import Environment, PipelineConfig, RunTracker, capture_environment
from mlvitals.pipelines.wire import dataset_record, run_record, step_record
from mlvitals.server import create_app
from mlvitals.settings import Settings
from mlvitals.store import Store
from tests.pipelines.conftest import Clock, ingest_into, post

T0 = 1_717_200_000.0


def rid() -> str:
    return str(uuid.uuid4())


def test_a_tracked_run_round_trips_through_the_api(api: TestClient, tmp_path: Path) -> None:
    out = tmp_path / "features"
    out.mkdir()
    frame = pd.DataFrame({"x": range(250), "y": 1.5})
    frame.to_parquet(out / "part-0.parquet")
    frame.to_csv(out / "part-1.csv", index=False)
    tracker = RunTracker(ingest_into(api))
    with tracker.run("features", trigger="schedule", params={"day": "2024-06-01"}) as run:
        with run.step("extract") as s:
            s.input("warehouse.orders")
            with run.step("clean"):
                pass
        with run.step("write") as s:
            s.output(out)
    detail = api.get(f"/api/v1/runs/{run.id}").json()
    r = detail["run"]
    assert (r["pipeline"], r["state"], r["trigger"], r["params"]) == (
        "features",
        "succeeded",
        "schedule",
        {"day": "2024-06-01"},
    )
    assert r["resources"]["cpu_seconds"] >= 0 and r["resources"]["peak_rss_bytes"] > 0
    assert [(s["name"], s["depth"], s["state"]) for s in detail["steps"]] == [
        ("extract", 0, "succeeded"),
        ("clean", 1, "succeeded"),
        ("write", 0, "succeeded"),
    ]
    written = detail["steps"][2]["outputs"][0]
    assert written["file_count"] == 2 and written["rows"] == 500
    assert written["file_types"] == {"csv": 1, "parquet": 1}
    assert written["bytes"] == sum(p.stat().st_size for p in out.iterdir())
    assert detail["steps"][0]["inputs"][0]["name"] == "warehouse.orders"
    env = detail["environment"]
    assert env["hash"] == r["environment_hash"] == capture_environment().hash
    assert env["packages"] == dict(capture_environment().packages)
    assert detail["environment_diff"] is None  # only failed runs get one


def test_events_out_of_order_and_repeated_fold_to_one_state(api: TestClient) -> None:
    run_id = rid()
    end = run_record(run_id, "complete", T0 + 60, "etl", resources={"wall_seconds": 60.0})
    start = run_record(run_id, "start", T0, "etl", trigger="schedule", scheduled_at=T0 - 5)
    assert post(api, end)["stored"] == 1
    assert post(api, start)["stored"] == 1
    assert post(api, start, end)["already_stored"] == 2
    r = api.get(f"/api/v1/runs/{run_id}").json()["run"]
    assert (r["state"], r["started_at"], r["ended_at"]) == ("succeeded", T0, T0 + 60)
    assert (r["duration_seconds"], r["start_delay_seconds"]) == (60.0, 5.0)


def test_failed_run_gets_the_environment_diff_to_the_last_good_run(api: TestClient) -> None:
    good_env = capture_environment()
    name = sorted(good_env.packages)[0]
    packages = dict(good_env.packages) | {name: good_env.packages[name] + ".post1"}
    bad_env = Environment(good_env.python, good_env.implementation, good_env.platform, packages)
    good, bad = rid(), rid()
    post(
        api,
        {"kind": "environment", **good_env.to_dict()},
        {"kind": "environment", **bad_env.to_dict()},
        run_record(good, "start", T0, "train", environment_hash=good_env.hash),
        run_record(good, "complete", T0 + 10, "train"),
        run_record(bad, "start", T0 + 100, "train", environment_hash=bad_env.hash),
        run_record(
            bad,
            "fail",
            T0 + 110,
            "train",
            error={"type": "ImportError", "message": "cannot import name 'x'", "traceback": ""},
        ),
    )
    detail = api.get(f"/api/v1/runs/{bad}").json()
    assert detail["run"]["error"]["type"] == "ImportError"
    diff = detail["environment_diff"]
    assert diff["last_good_run_id"] == good
    assert diff["upgraded"] == {
        name: {"before": good_env.packages[name], "after": good_env.packages[name] + ".post1"}
    }
    assert diff["added"] == diff["removed"] == diff["downgraded"] == {}


def test_pipelines_health_schedule_and_overdue(api: TestClient, clock: Clock) -> None:
    hour = 3600.0
    base = 1_717_200_000.0 - (1_717_200_000.0 % hour)  # on the hour
    cfg = PipelineConfig("hourly", schedule="0 * * * *", grace_seconds=300)
    records: list[dict[str, Any]] = [cfg.to_wire(base - 10)]
    for h in range(6):
        r = rid()
        records.append(run_record(r, "start", base + h * hour + 20, "hourly"))
        records.append(run_record(r, "complete", base + h * hour + 80, "hourly"))
    stuck = rid()
    records.append(run_record(stuck, "start", base + 7 * hour + 30, "hourly"))  # hour 6 missed
    post(api, *records)
    clock.now = base + 7 * hour + 30 + 600  # 10 minutes into a run that usually takes 1
    (status,) = api.get("/api/v1/pipelines").json()["pipelines"]
    assert status["pipeline"] == "hourly"
    assert status["health"] == "overdue"
    assert status["overdue"]["run_id"] == stuck
    assert status["overdue"]["limit_seconds"] == 120.0  # 2 × p95 of six 60 s runs
    slots = status["schedule"]["slots"]
    assert [s["status"] for s in slots] == ["on_time"] * 6 + ["missed", "on_time"]
    assert status["schedule"]["missed"] == 1
    assert status["last_run"]["run_id"] == stuck and status["last_run"]["state"] == "running"
    runs = api.get("/api/v1/pipelines/hourly/runs?limit=3").json()["runs"]
    assert [r["state"] for r in runs] == ["running", "succeeded", "succeeded"]
    failed = api.get("/api/v1/pipelines/hourly/runs?state=failed").json()["runs"]
    assert failed == []
    detail = api.get(f"/api/v1/runs/{stuck}").json()
    assert detail["overdue"]["limit_seconds"] == 120.0


def test_step_anomalies_against_recent_good_runs(api: TestClient) -> None:
    records: list[dict[str, Any]] = []
    run_ids = []
    for i, rows in enumerate([1000, 1010, 990, 1005, 995, 1000, 12]):
        r, s = rid(), rid()
        t = T0 + i * 1000
        run_ids.append(r)
        records += [
            run_record(r, "start", t, "daily"),
            step_record(r, s, "start", t + 1, "load"),
            dataset_record(r, s, "output", "other", t + 2, {"name": "out", "rows": rows}),
            step_record(r, s, "complete", t + 31, "load"),
            run_record(r, "complete", t + 32, "daily"),
        ]
    post(api, *records)
    anomalies = api.get(f"/api/v1/runs/{run_ids[-1]}").json()["anomalies"]
    assert [(a["step"], a["metric"], a["direction"]) for a in anomalies] == [
        ("load", "output_rows", "low")
    ]
    assert api.get(f"/api/v1/runs/{run_ids[-2]}").json()["anomalies"] == []


def test_deployment_links_model_and_serving_versions(api: TestClient) -> None:
    tracker = RunTracker(ingest_into(api), environment=False)
    with tracker.run("fraud-deploy", kind="deployment", trigger="upstream") as run:
        run.set_model_version("1.4.0")
        run.set_deployment("fraud-api", "v7")
    r = api.get(f"/api/v1/runs/{run.id}").json()["run"]
    assert (r["run_kind"], r["model_version"], r["service"], r["serving_version"]) == (
        "deployment",
        "1.4.0",
        "fraud-api",
        "v7",
    )


def test_not_found_and_invalid_records(api: TestClient) -> None:
    assert api.get("/api/v1/runs/nope").status_code == 404
    assert api.get("/api/v1/pipelines/nope/runs").status_code == 404
    assert api.get("/api/v1/environments/" + "0" * 64).status_code == 404
    bad = {"kind": "run", "run_id": "r", "event": "finish", "time": 1.0, "pipeline": "p"}
    cfg = {"kind": "pipeline", "pipeline": "p", "time": 1.0, "schedule": "every hour"}
    body = {"batch_id": str(uuid.uuid4()), "records": [bad, cfg]}
    errors = api.post("/api/v1/ingest", json=body).json()["errors"]
    assert [(e["kind"], e["field"]) for e in errors] == [("run", "event"), ("pipeline", "")]
    assert "not a valid cron" in errors[1]["reason"]


def test_read_and_ingest_scopes(sqlite_store: Store) -> None:
    settings = Settings(tokens="reader-token:read;writer-token:ingest")
    with TestClient(create_app(settings, sqlite_store, background=False)) as client:
        assert client.get("/api/v1/pipelines").status_code == 401
        writer = {"Authorization": "Bearer writer-token"}
        reader = {"Authorization": "Bearer reader-token"}
        assert client.get("/api/v1/pipelines", headers=writer).status_code == 403
        assert client.get("/api/v1/pipelines", headers=reader).status_code == 200
        assert client.post("/api/v1/lineage", json={}, headers=reader).status_code == 403
        assert client.post("/api/v1/lineage", json={}, headers=writer).status_code == 400
