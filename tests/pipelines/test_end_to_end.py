"""A real server process fed by the real OpenLineage client, by HttpSink, read by the CLI."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    error_message_run,
    nominal_time_run,
    output_statistics_output_dataset,
    parent_run,
    schema_dataset,
)
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

from mlvitals.cli.main import main
from mlvitals.pipelines import HttpSink
from mlvitals.pipelines import run as script_run
from tests.conftest import ServerProcess

TOKEN = "e2e-token-123"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    db = tmp_path_factory.mktemp("e2e") / "mlvitals.db"
    proc = ServerProcess(str(db), "--tokens", f"{TOKEN}:admin")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def ol_client(server: ServerProcess) -> OpenLineageClient:
    config = HttpConfig(
        url=server.url, auth=ApiKeyTokenProvider({"apiKey": TOKEN}), compression=None
    )
    return OpenLineageClient(transport=HttpTransport(config))


def get(server: ServerProcess, path: str) -> dict:  # type: ignore[type-arg]
    answer = httpx.get(server.url + path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    result: dict = answer.json()  # type: ignore[type-arg]
    return result


T = datetime(2024, 6, 1, 2, 0, tzinfo=UTC)


def iso(delta_s: float) -> str:
    return (T + timedelta(seconds=delta_s)).isoformat()


def test_openlineage_client_events_repeated_and_out_of_order(
    server: ServerProcess, ol_client: OpenLineageClient
) -> None:
    dag_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
    dag_job = Job(namespace="airflow", name="orders_dag")
    task_job = Job(namespace="airflow", name="orders_dag.transform")
    nominal = nominal_time_run.NominalTimeRunFacet(nominalStartTime=iso(0))
    parent = parent_run.ParentRunFacet(
        run=parent_run.Run(runId=dag_id), job=parent_run.Job(namespace="airflow", name="orders_dag")
    )
    out = OutputDataset(
        namespace="s3://lake",
        name="clean/orders",
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[schema_dataset.SchemaDatasetFacetFields(name="id", type="BIGINT")]
            )
        },
        outputFacets={
            "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=990, size=4096, fileCount=2
            )
        },
    )
    events = {
        "dag_start": RunEvent(
            eventType=RunState.START,
            eventTime=iso(12),
            run=Run(runId=dag_id, facets={"nominalTime": nominal}),
            job=dag_job,
        ),
        "task_start": RunEvent(
            eventType=RunState.START,
            eventTime=iso(20),
            run=Run(runId=task_id, facets={"parent": parent}),
            job=task_job,
            inputs=[InputDataset(namespace="s3://lake", name="raw/orders")],
        ),
        "task_fail": RunEvent(
            eventType=RunState.FAIL,
            eventTime=iso(50),
            run=Run(
                runId=task_id,
                facets={
                    "parent": parent,
                    "errorMessage": error_message_run.ErrorMessageRunFacet(
                        message="ValueError: negative amount", programmingLanguage="PYTHON"
                    ),
                },
            ),
            job=task_job,
            outputs=[out],
        ),
        "dag_fail": RunEvent(
            eventType=RunState.FAIL, eventTime=iso(60), run=Run(runId=dag_id), job=dag_job
        ),
    }
    # Out of order, with repeats: the ends before the starts, each end twice.
    for name in ("dag_fail", "task_fail", "task_fail", "task_start", "dag_start", "dag_fail"):
        ol_client.emit(events[name])

    detail = get(server, f"/api/v1/runs/{dag_id}")
    run = detail["run"]
    assert (run["pipeline"], run["state"], run["started_at"], run["ended_at"]) == (
        "orders_dag",
        "failed",
        T.timestamp() + 12,
        T.timestamp() + 60,
    )
    assert run["scheduled_at"] == T.timestamp() and run["start_delay_seconds"] == 12.0
    (step,) = detail["steps"]
    assert (step["name"], step["state"], step["duration_seconds"]) == (
        "orders_dag.transform",
        "failed",
        30.0,
    )
    assert step["error"]["type"] == "ValueError"
    assert step["error"]["message"] == "ValueError: negative amount"
    assert [d["name"] for d in step["inputs"]] == ["raw/orders"]
    (written,) = step["outputs"]
    assert (written["rows"], written["bytes"], written["file_count"]) == (990, 4096, 2)
    assert written["schema"] == [{"name": "id", "type": "BIGINT"}]
    stored = get(server, "/api/v1/summary")
    kinds = {k["kind"]: k["records"] for k in stored["kinds"]}
    assert kinds["step"] == 2  # the repeated FAIL was stored once


def test_http_sink_script_run_and_the_cli(server: ServerProcess, tmp_path: Path) -> None:
    data = tmp_path / "out.csv"
    data.write_text("a,b\n1,2\n3,4\n5,6\n")
    with script_run("nightly", server=server.url, token=TOKEN, trigger="schedule") as run:
        with run.step("export") as s:
            s.output(data)
        run.set_model_version("2.0.1")
    sink = HttpSink(server.url, token="wrong-token", retries=0)
    sink({"kind": "run"})  # refused: dropped and counted, never raised
    assert sink.dropped == 1 and sink.sent == 0

    detail = get(server, f"/api/v1/runs/{run.id}")
    assert detail["run"]["state"] == "succeeded" and detail["run"]["model_version"] == "2.0.1"
    assert detail["steps"][0]["outputs"][0]["rows"] == 3

    cli = CliRunner()
    listed = cli.invoke(
        main, ["runs", "--pipeline", "nightly", "--json", "--server", server.url, "--token", TOKEN]
    )
    assert listed.exit_code == 0, listed.output
    assert [r["run_id"] for r in json.loads(listed.output)] == [run.id]
    shown = cli.invoke(main, ["runs", "show", run.id, "--server", server.url, "--token", TOKEN])
    assert shown.exit_code == 0, shown.output
    assert "export  succeeded" in shown.output and "rows 3" in shown.output
    snap = tmp_path / "now.json"
    assert cli.invoke(main, ["env", "snapshot", "-o", str(snap)]).exit_code == 0
    same = cli.invoke(
        main, ["env", "diff", str(snap), run.id, "--server", server.url, "--token", TOKEN]
    )
    assert same.exit_code == 0 and same.output.strip() == "no differences"
    denied = cli.invoke(main, ["runs", "--server", server.url])
    assert denied.exit_code == 4 and "answered HTTP 401" in denied.output
