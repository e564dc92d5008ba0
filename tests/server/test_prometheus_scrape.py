"""A real Prometheus scrapes a real ``mlvitals serve`` and PromQL answers for every area."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from mlvitals.cost.timegrid import day_start, month_start
from tests.conftest import ServerProcess, free_port
from tests.sdk.test_prometheus_interop import tool
from tests.server import exports_seed as seed_data
from tests.server.exports_seed import CALLS, ETL, SERVICE, TRAIN

Result = dict[tuple[tuple[str, str], ...], float]


@contextmanager
def prometheus(target: str, folder: Path) -> Iterator[str]:
    """A Prometheus scraping ``target`` every second; yields its query URL."""
    port = free_port()
    config = folder / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: mlvitals\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n"
    )
    proc = subprocess.Popen(
        [
            tool("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}/api/v1/query"
    finally:
        proc.terminate()
        proc.wait(30)


def query(url: str, promql: str) -> Result:
    data = httpx.get(url, params={"query": promql}, timeout=5).json()["data"]["result"]
    return {
        tuple(
            sorted(
                (k, v) for k, v in r["metric"].items() if k not in ("job", "instance", "__name__")
            )
        ): (float(r["value"][1]))
        for r in data
    }


@pytest.mark.slow
def test_promql_answers_for_every_area(tmp_path: Path, server_factory: type[ServerProcess]) -> None:
    files = seed_data.write_config(tmp_path)
    args = [f"--{k.replace('_', '-')}={v}" for k, v in files.items()]
    server = server_factory(str(tmp_path / "m.db"), *args, "--alert-interval=1s")
    now = time.time()
    seeded = seed_data.seed(now, tmp_path)
    for batch in seed_data.batches(seeded.records):
        assert httpx.post(server.url + "/api/v1/ingest", json=batch, timeout=30).status_code == 200
    today, month = day_start(now), month_start(now)
    expected: dict[str, Result] = {
        # pipelines
        f'mlvitals_pipeline_last_run_output_rows{{pipeline="{ETL}"}}': {
            (("pipeline", ETL),): 1250.0
        },
        'mlvitals_pipeline_last_run_state{state="failed"} == 1': {
            (("pipeline", TRAIN), ("state", "failed")): 1.0
        },
        # data checks
        'mlvitals_data_check_drifted_columns_ratio{dataset="orders"}': {
            (("dataset", "orders"),): 0.5
        },
        "sum by (verdict) (mlvitals_data_checks_total)": {
            (("verdict", "failed"),): 1.0,
            (("verdict", "passed"),): 1.0,
        },
        # cost
        'sum by (pipeline) (mlvitals_cost{period="month", category="run"})': {
            (("pipeline", ETL),): round(seeded.run_cost(ETL, month), 6),
            (("pipeline", TRAIN),): round(seeded.run_cost(TRAIN, month), 6),
        },
        'sum(mlvitals_budget_spent{budget="etl-daily"})': {
            (): round(seeded.run_cost(ETL, today), 6)
        },
        # alerts
        "count by (alertname, alertstate) (ALERTS)": {
            (("alertname", "DataCheckFailing"), ("alertstate", "pending")): 1.0,
            (("alertname", "PipelineFailed"), ("alertstate", "firing")): 1.0,
        },
        # serving
        f'sum(mlvitals_calls_total{{service="{SERVICE}"}})': {(): float(CALLS)},
    }
    got: dict[str, Result] = {}
    with prometheus(server.url.removeprefix("http://"), tmp_path) as url:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with suppress(httpx.HTTPError, KeyError, ValueError):
                got = {q: {k: round(v, 6) for k, v in query(url, q).items()} for q in expected}
            if got == expected:
                break
            time.sleep(0.5)
    for q in expected:
        print(f"{q}  ->  {got.get(q)}")
    assert got == expected
