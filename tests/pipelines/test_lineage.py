"""POST /api/v1/lineage: mapping, validation, repeats and out-of-order events."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mlvitals.pipelines.lineage import map_run_event

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/client/python"


def event(event_type: str, time: str, run_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": time,
        "run": {"runId": run_id, "facets": extra.pop("facets", {})},
        "job": {"namespace": "spark", "name": extra.pop("job", "orders_daily")},
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        **extra,
    }


def test_facets_map_onto_runs_and_datasets(api: TestClient) -> None:
    run_id = str(uuid.uuid4())
    start = event(
        "START",
        "2024-06-01T02:00:07.5Z",
        run_id,
        facets={
            "nominalTime": {"nominalStartTime": "2024-06-01T02:00:00Z"},
            "spark_version": {"version": "3.5.1"},
        },
        inputs=[
            {
                "namespace": "s3://lake",
                "name": "raw/orders",
                "facets": {
                    "schema": {"fields": [{"name": "id", "type": "BIGINT"}]},
                    "storage": {"storageLayer": "delta", "fileFormat": "parquet"},
                },
                "inputFacets": {
                    "dataQualityMetrics": {
                        "rowCount": 1000,
                        "columnMetrics": {"id": {"nullCount": 0, "distinctCount": 1000}},
                    }
                },
            }
        ],
    )
    complete = event(
        "COMPLETE",
        "2024-06-01T02:05:07.5Z",
        run_id,
        outputs=[
            {
                "namespace": "s3://lake",
                "name": "clean/orders",
                "outputFacets": {
                    "outputStatistics": {"rowCount": 990, "size": 123456, "fileCount": 4}
                },
            }
        ],
    )
    for e in (start, complete):
        assert api.post("/api/v1/lineage", json=e).status_code == 201
    detail = api.get(f"/api/v1/runs/{run_id}").json()
    run = detail["run"]
    assert (run["pipeline"], run["namespace"], run["state"], run["source"]) == (
        "orders_daily",
        "spark",
        "succeeded",
        "openlineage",
    )
    assert run["scheduled_at"] == 1717207200.0 and run["start_delay_seconds"] == 7.5
    assert run["duration_seconds"] == 300.0
    assert run["facets"] == {"spark_version": {"version": "3.5.1"}}
    (inp,) = detail["inputs"]
    assert (inp["namespace"], inp["name"], inp["format"], inp["rows"]) == (
        "s3://lake",
        "raw/orders",
        "parquet",
        1000,
    )
    assert inp["schema"] == [{"name": "id", "type": "BIGINT"}]
    assert inp["quality"]["columnMetrics"]["id"]["distinctCount"] == 1000
    (out,) = detail["outputs"]
    assert (out["rows"], out["bytes"], out["file_count"]) == (990, 123456, 4)


def test_repeated_and_out_of_order_events(api: TestClient) -> None:
    run_id = str(uuid.uuid4())
    start = event("START", "2024-06-01T02:00:00Z", run_id)
    running = event("RUNNING", "2024-06-01T02:01:00Z", run_id)
    complete = event("COMPLETE", "2024-06-01T02:02:00Z", run_id)
    first = api.post("/api/v1/lineage", json=complete).json()
    assert first["duplicate"] is False and first["stored"] == 1
    assert api.get(f"/api/v1/runs/{run_id}").json()["run"]["state"] == "succeeded"
    for e in (running, start, start, complete):
        assert api.post("/api/v1/lineage", json=e).status_code == 201
    assert api.post("/api/v1/lineage", json=start).json()["duplicate"] is True
    run = api.get(f"/api/v1/runs/{run_id}").json()["run"]
    assert (run["state"], run["duration_seconds"]) == ("succeeded", 120.0)


def test_fail_and_abort(api: TestClient) -> None:
    failed, aborted = str(uuid.uuid4()), str(uuid.uuid4())
    trace = "Traceback...\nAnalysisException: Table or view not found: orders"
    api.post(
        "/api/v1/lineage",
        json=event(
            "FAIL",
            "2024-06-01T02:02:00Z",
            failed,
            facets={
                "errorMessage": {
                    "message": "org.apache.spark.sql.AnalysisException: Table or view not found",
                    "programmingLanguage": "JAVA",
                    "stackTrace": trace,
                }
            },
        ),
    )
    api.post("/api/v1/lineage", json=event("START", "2024-06-01T02:00:00Z", failed))
    api.post("/api/v1/lineage", json=event("ABORT", "2024-06-01T02:00:00Z", aborted))
    api.post("/api/v1/lineage", json=event("OTHER", "2024-06-01T02:09:00Z", aborted))
    f = api.get(f"/api/v1/runs/{failed}").json()["run"]
    assert f["state"] == "failed"
    assert f["error"] == {
        "type": "org.apache.spark.sql.AnalysisException",
        "message": "org.apache.spark.sql.AnalysisException: Table or view not found",
        "traceback": trace,
    }
    assert api.get(f"/api/v1/runs/{aborted}").json()["run"]["state"] == "aborted"


def test_parent_and_root_facets_make_nested_steps(api: TestClient) -> None:
    dag, task, sub = (str(uuid.uuid4()) for _ in range(3))
    parent = {"run": {"runId": dag}, "job": {"namespace": "airflow", "name": "etl_dag"}}
    task_start = event(
        "START", "2024-06-01T02:00:01Z", task, job="etl_dag.load", facets={"parent": parent}
    )
    sub_parent = {
        "run": {"runId": task},
        "job": {"namespace": "airflow", "name": "etl_dag.load"},
        "root": parent,
    }
    sub_done = event(
        "COMPLETE",
        "2024-06-01T02:00:30Z",
        sub,
        job="spark.load_orders",
        facets={"parent": sub_parent},
    )
    task_done = event(
        "COMPLETE", "2024-06-01T02:01:00Z", task, job="etl_dag.load", facets={"parent": parent}
    )
    for e in (task_start, sub_done, task_done):
        assert api.post("/api/v1/lineage", json=e).status_code == 201, e
    detail = api.get(f"/api/v1/runs/{dag}").json()
    assert detail["run"]["pipeline"] == "etl_dag" and detail["run"]["state"] == "running"
    steps = {s["name"]: s for s in detail["steps"]}
    assert steps["etl_dag.load"]["state"] == "succeeded" and steps["etl_dag.load"]["depth"] == 0
    assert steps["spark.load_orders"]["parent_step_id"] == task
    assert steps["spark.load_orders"]["depth"] == 1
    assert api.get(f"/api/v1/runs/{task}").status_code == 404  # a step, not a run
    api.post("/api/v1/lineage", json=event("COMPLETE", "2024-06-01T02:02:00Z", dag, job="etl_dag"))
    assert api.get(f"/api/v1/runs/{dag}").json()["run"]["state"] == "succeeded"


GOOD = event("START", "2024-06-01T02:00:00Z", "3f2504e0-4f89-41d3-9a0c-0305e82c3301")


def broken(path: str, value: Any) -> dict[str, Any]:
    e = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    target = e
    for p in parents:
        target = target[p]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return e


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (broken("run.runId", ...), "run.runId is required"),
        (broken("run.runId", "run-1"), "run.runId must be a UUID"),
        (broken("eventTime", "soon"), "eventTime must be an ISO-8601"),
        (broken("eventTime", "2024-13-01T00:00:00Z"), "eventTime is not an ISO-8601"),
        (broken("eventTime", ...), "eventTime is required"),
        (broken("eventType", "DONE"), "eventType must be one of"),
        (broken("job", ...), "job must be an object"),
        (broken("job.name", ""), "job.name is required"),
        (broken("run", ...), "run must be an object"),
        (broken("run.facets", {"parent": {"run": {}, "job": {}}}), "parent.run.runId is required"),
        (broken("run.facets", {"nominalTime": {"nominalStartTime": "x"}}), "nominalStartTime"),
        (broken("inputs", {"a": 1}), "inputs must be a list"),
        (broken("inputs", [{"namespace": "n"}]), "inputs[0].name is required"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_malformed_events_are_400_naming_the_problem(
    api: TestClient, body: Any, message: str
) -> None:
    answer = api.post("/api/v1/lineage", json=body)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_static_dataset_events_are_accepted_and_ignored(api: TestClient) -> None:
    body = {
        "eventTime": "2024-06-01T02:00:00Z",
        "dataset": {"namespace": "s3://lake", "name": "x"},
        "producer": PRODUCER,
    }
    answer = api.post("/api/v1/lineage", json=body)
    assert answer.status_code == 200 and answer.json()["stored"] == 0


def test_mapping_keeps_unknown_facets_verbatim() -> None:
    e = event(
        "START",
        "2024-06-01T02:00:00",  # no offset: taken as UTC
        str(uuid.uuid4()),
        facets={"custom": {"a": [1, {"b": None}]}},
        outputs=[{"namespace": "n", "name": "t", "facets": {"owner": {"x": 1}}}],
    )
    run, out = map_run_event(e)
    assert run["facets"] == {"custom": {"a": [1, {"b": None}]}}
    assert run["time"] == 1717207200.0
    assert out["facets"] == {"owner": {"x": 1}}
