"""Monitor.run: pipeline and training runs shipped in the monitor's batches to a real server."""

from __future__ import annotations

from pathlib import Path

import httpx

from mlvitals import Monitor
from tests.conftest import ServerProcess


def test_training_run_ships_with_the_monitor_and_shows_in_the_api(
    tmp_path: Path, server_factory: type[ServerProcess]
) -> None:
    server = server_factory(str(tmp_path / "runs.db"))
    monitor = Monitor("trainer", server=server.url, window=1.0)
    data = tmp_path / "features.csv"
    data.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(250)))
    with monitor.run("retrain-fraud", kind="training", trigger="manual") as run:
        with monitor.step("load") as step:
            step.input(str(data))
        with run.step("fit"):
            run.set_model_version("2.0.0")
    assert monitor.flush(10)
    monitor.close()
    listed = httpx.get(server.url + "/api/v1/pipelines/retrain-fraud/runs").json()
    runs = listed["runs"] if isinstance(listed, dict) else listed
    assert len(runs) == 1
    detail = httpx.get(server.url + f"/api/v1/runs/{run.id}").json()
    assert detail["run"]["state"] == "succeeded"
    assert detail["run"]["run_kind"] == "training"
    assert detail["run"]["model_version"] == "2.0.0"
    steps = {s["name"]: s for s in detail["steps"]}
    assert set(steps) == {"load", "fit"}
    assert steps["load"]["inputs"][0]["rows"] == 250
