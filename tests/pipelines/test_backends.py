"""The query layer on both backends: SQLite and PostgreSQL (a fresh schema per test)."""

from __future__ import annotations

import time
import uuid

from mlvitals.pipelines import PipelineConfig, RunTracker
from mlvitals.pipelines.lineage import event_key, map_run_event
from mlvitals.server.ingest import validate_envelope
from mlvitals.server.pipelines import queries
from mlvitals.store import Store


def write(store: Store, records: list[dict[str, object]], batch_id: str | None = None) -> int:
    validated = validate_envelope(
        {"batch_id": batch_id or str(uuid.uuid4()), "records": records}, time.time()
    )
    assert validated.errors == []
    return store.write_batch(validated.batch).inserted


def test_runs_steps_and_lineage_on_each_backend(store: Store) -> None:
    records: list[dict[str, object]] = []
    tracker = RunTracker(records.append)
    with tracker.run("etl", trigger="manual") as run, run.step("a") as a, run.step("b"):
        a.output("warehouse.t")
    write(store, records)
    write(store, [PipelineConfig("etl", schedule="*/5 * * * *").to_wire(time.time())])
    assert write(store, records[::-1]) == 0  # repeated records are no-ops

    airflow_run = str(uuid.uuid4())
    task_run = str(uuid.uuid4())
    events = [
        {
            "eventType": "COMPLETE",
            "eventTime": "2024-06-01T02:10:00+00:00",
            "run": {
                "runId": task_run,
                "facets": {
                    "parent": {
                        "run": {"runId": airflow_run},
                        "job": {"namespace": "airflow", "name": "dag"},
                    }
                },
            },
            "job": {"namespace": "airflow", "name": "dag.task"},
        },
        {
            "eventType": "START",
            "eventTime": "2024-06-01T02:00:00+00:00",
            "run": {"runId": airflow_run},
            "job": {"namespace": "airflow", "name": "dag"},
        },
    ]
    for e in events:
        write(store, map_run_event(e), event_key(e))

    detail = queries.run_detail(store, run.id, time.time())
    assert detail is not None
    assert detail["run"]["state"] == "succeeded" and detail["run"]["trigger"] == "manual"
    assert [(s["name"], s["depth"]) for s in detail["steps"]] == [("a", 0), ("b", 1)]
    assert detail["steps"][0]["outputs"][0]["name"] == "warehouse.t"
    assert detail["environment"]["hash"] == detail["run"]["environment_hash"]

    dag = queries.run_detail(store, airflow_run, time.time())
    assert dag is not None
    assert (dag["run"]["pipeline"], dag["run"]["state"]) == ("dag", "running")
    assert [(s["name"], s["state"]) for s in dag["steps"]] == [("dag.task", "succeeded")]

    names = [p["pipeline"] for p in queries.list_pipelines(store, time.time())]
    assert names == ["dag", "etl"]
    assert queries.pipeline_status(store, "etl", time.time())["config"]["schedule"] == "*/5 * * * *"
