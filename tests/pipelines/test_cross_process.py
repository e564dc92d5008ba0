"""A step in another process joins the run through MLVITALS_RUN_ID."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from mlvitals.pipelines import RunTracker

CHILD = """
import json, sys
from mlvitals.pipelines import RunTracker

tracker = RunTracker(lambda r: print(json.dumps(r), flush=True), environment=False)
with tracker.run("etl") as run:
    with run.step("child-work") as step:
        step.output("warehouse.features")
        if sys.argv[1] == "fail":
            raise RuntimeError("child broke")
"""


def run_child(env: dict[str, str], mode: str) -> tuple[int, list[dict[str, Any]]]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLVITALS_")}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()]


def test_child_process_steps_join_the_parent_run() -> None:
    records: list[dict[str, Any]] = []
    tracker = RunTracker(records.append, environment=False)
    with tracker.run("etl") as run, run.step("spawn") as spawn:
        code, child = run_child(run.child_env(), "ok")
    assert code == 0
    assert [(r["kind"], r.get("event")) for r in child] == [
        ("step", "start"),
        ("dataset", "other"),
        ("step", "complete"),
    ]
    assert {r["run_id"] for r in child} == {run.id}
    child_step = child[0]
    assert child_step["parent_step_id"] == spawn.id
    assert child_step["pid"] != os.getpid()
    assert child[1]["step_id"] == child_step["step_id"]
    # The parent alone starts and ends the run.
    assert [r["event"] for r in records if r["kind"] == "run"] == ["start", "complete"]


def test_a_failing_child_step_reports_its_error() -> None:
    tracker = RunTracker([].append, environment=False)
    with tracker.run("etl") as run:
        code, child = run_child(run.child_env(), "fail")
    assert code == 1
    end = child[-1]
    assert (end["event"], end["error"]["type"], end["error"]["message"]) == (
        "fail",
        "RuntimeError",
        "child broke",
    )
    assert end.get("parent_step_id") is None and end["run_id"] == run.id
