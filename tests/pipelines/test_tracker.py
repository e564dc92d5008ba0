"""Run and step tracking: every state and transition, nesting, decorators, signals."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlvitals.pipelines import Environment, RunTracker, Terminated, current_run
from mlvitals.pipelines import run as script_run
from mlvitals.pipelines import step as script_step

Records = list[dict[str, Any]]


@pytest.fixture
def records() -> Records:
    return []


@pytest.fixture
def tracker(records: Records) -> RunTracker:
    ticks = count(1000)
    return RunTracker(records.append, clock=lambda: float(next(ticks)), environment=False)


def kinds(records: Records, kind: str) -> Records:
    return [r for r in records if r["kind"] == kind]


def test_succeeded_run_with_nested_steps(tracker: RunTracker, records: Records) -> None:
    with tracker.run("etl", trigger="schedule", scheduled_at=990.0, params={"day": 1}) as run:
        assert run.state == "running" and current_run() is run
        with run.step("extract") as extract:
            with run.step("download") as download:
                pass
            with run.step("unpack") as unpack, run.step("verify") as verify:
                pass
        with run.step("load") as load:
            pass
    assert run.state == extract.state == verify.state == "succeeded"
    assert current_run() is None
    start, end = kinds(records, "run")
    assert (start["event"], end["event"]) == ("start", "complete")
    assert start["run_id"] == end["run_id"] == run.id
    assert (start["trigger"], start["scheduled_at"], start["params"]) == (
        "schedule",
        990.0,
        {"day": 1},
    )
    assert start["run_kind"] == "data" and start["pid"] == os.getpid()
    parents = {r["name"]: r.get("parent_step_id") for r in kinds(records, "step")}
    assert parents == {
        "extract": None,
        "download": extract.id,
        "unpack": extract.id,
        "verify": unpack.id,
        "load": None,
    }
    assert {download.parent_id, load.parent_id} == {extract.id, None}
    # Injected clock: events in order, the run spans all of its steps.
    times = [r["time"] for r in records]
    assert times == sorted(times) and start["time"] < end["time"]
    assert "error" not in end and end["resources"]["wall_seconds"] >= 0


def test_failed_step_fails_the_run_with_error_and_traceback(
    tracker: RunTracker, records: Records
) -> None:
    def inner() -> None:
        raise ValueError("column 'amount' has 12 nulls")

    with pytest.raises(ValueError), tracker.run("etl") as run, run.step("validate"):
        inner()
    step_end = kinds(records, "step")[-1]
    run_end = kinds(records, "run")[-1]
    for rec in (step_end, run_end):
        assert rec["event"] == "fail"
        assert rec["error"]["type"] == "ValueError"
        assert rec["error"]["message"] == "column 'amount' has 12 nulls"
        assert "in inner" in rec["error"]["traceback"]
        assert rec["error"]["traceback"].rstrip().endswith("column 'amount' has 12 nulls")
    assert run.state == "failed"


def test_caught_step_failure_leaves_the_run_succeeded(
    tracker: RunTracker, records: Records
) -> None:
    with tracker.run("etl") as run, pytest.raises(KeyError), run.step("optional"):
        raise KeyError("x")
    assert [r["event"] for r in kinds(records, "step")] == ["start", "fail"]
    assert run.state == "succeeded"


def test_long_errors_are_trimmed(tracker: RunTracker, records: Records) -> None:
    def fail(depth: int) -> None:
        if depth == 0:
            raise RuntimeError("bottom " + "x" * 20_000 + " end")
        fail(depth - 1)

    with pytest.raises(RuntimeError), tracker.run("etl"):
        fail(5)
    error = kinds(records, "run")[-1]["error"]
    assert len(error["message"]) == 2000 and error["message"].startswith("bottom xxx")
    tb = error["traceback"]
    assert tb.startswith("…") and len(tb) <= 8002 and tb.rstrip().endswith("x end")


def test_keyboard_interrupt_aborts(tracker: RunTracker, records: Records) -> None:
    with pytest.raises(KeyboardInterrupt), tracker.run("etl") as run, run.step("s"):
        raise KeyboardInterrupt
    assert [r["event"] for r in records if r["kind"] != "dataset"] == [
        "start",
        "start",
        "abort",
        "abort",
    ]
    assert kinds(records, "run")[-1]["error"]["type"] == "KeyboardInterrupt"


def test_sigterm_aborts_and_the_handler_is_restored(tracker: RunTracker, records: Records) -> None:
    seen: list[int] = []

    def previous(signum: int, frame: object) -> None:
        seen.append(signum)

    old = signal.signal(signal.SIGTERM, previous)
    try:
        with pytest.raises(Terminated) as info, tracker.run("etl") as run:
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0)  # let the handler run here, inside the run
        assert info.value.code == 128 + signal.SIGTERM
        assert run.state == "aborted" and kinds(records, "run")[-1]["event"] == "abort"
        assert signal.getsignal(signal.SIGTERM) is previous
        os.kill(os.getpid(), signal.SIGTERM)
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, old)


def test_no_handler_is_installed_outside_the_main_thread(tracker: RunTracker) -> None:
    before = signal.getsignal(signal.SIGTERM)
    during: list[object] = []

    def work() -> None:
        with tracker.run("etl"):
            during.append(signal.getsignal(signal.SIGTERM))

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert during == [before] and signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize(("code", "event"), [(0, "complete"), (None, "complete"), (3, "fail")])
def test_system_exit(tracker: RunTracker, records: Records, code: int | None, event: str) -> None:
    with pytest.raises(SystemExit), tracker.run("etl"):
        raise SystemExit(code)
    assert kinds(records, "run")[-1]["event"] == event


def test_decorators_make_one_run_per_call(tracker: RunTracker, records: Records) -> None:
    @tracker.run("etl")
    def job(x: int) -> int:
        return step_twice(x)

    @tracker.step("double")
    def step_twice(x: int) -> int:
        return 2 * x

    assert job(2) == 4 and job(3) == 6
    runs = kinds(records, "run")
    assert len({r["run_id"] for r in runs}) == 2
    steps = kinds(records, "step")
    assert [s["run_id"] for s in steps] == [runs[0]["run_id"]] * 2 + [runs[2]["run_id"]] * 2


def test_async_decorator(tracker: RunTracker, records: Records) -> None:
    @tracker.run("async-etl")
    async def job() -> str:
        async with asyncio.timeout(1):
            with tracker.step("fetch"):
                await asyncio.sleep(0)
        return "ok"

    assert asyncio.run(job()) == "ok"
    assert [(r["kind"], r["event"]) for r in records] == [
        ("run", "start"),
        ("step", "start"),
        ("step", "complete"),
        ("run", "complete"),
    ]


def test_cancelled_task_aborts(tracker: RunTracker, records: Records) -> None:
    async def main() -> None:
        async def job() -> None:
            with tracker.run("etl"):
                await asyncio.sleep(10)

        task = asyncio.create_task(job())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert kinds(records, "run")[-1]["event"] == "abort"


def test_nested_run_records_its_parent(tracker: RunTracker, records: Records) -> None:
    with tracker.run("train", kind="training") as outer, tracker.run("features") as inner:
        pass
    starts = [r for r in kinds(records, "run") if r["event"] == "start"]
    assert starts[0].get("parent_run_id") is None
    assert starts[1]["parent_run_id"] == outer.id != inner.id


def test_step_outside_any_run_records_nothing(tracker: RunTracker, records: Records) -> None:
    with tracker.step("lonely") as s:
        assert s.output("x") is None
    assert records == []


def test_training_and_deployment_runs(tracker: RunTracker, records: Records) -> None:
    with tracker.run("fraud", kind="training", trigger="drift_alert") as run:
        run.set_model_version("1.4.0")
    with tracker.run("fraud-deploy", kind="deployment", trigger="upstream") as dep:
        dep.set_model_version("1.4.0")
        dep.set_deployment("fraud-api", "2024-06-01.1")
    train_end, deploy_end = (r for r in kinds(records, "run") if r["event"] == "complete")
    assert (train_end["run_kind"], train_end["model_version"]) == ("training", "1.4.0")
    assert deploy_end["service"] == "fraud-api" and deploy_end["serving_version"] == "2024-06-01.1"


def test_bad_arguments(tracker: RunTracker) -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        tracker.run("x", kind="batch")
    with pytest.raises(ValueError, match="1-200"):
        tracker.run("")
    from datetime import datetime

    with pytest.raises(ValueError, match="timezone-aware"):
        tracker.run("x", scheduled_at=datetime(2024, 1, 1))


def test_a_failing_sink_never_breaks_the_pipeline(caplog: pytest.LogCaptureFixture) -> None:
    def broken(record: dict[str, Any]) -> None:
        raise ConnectionError("server down")

    tracker = RunTracker(broken, environment=False)
    with tracker.run("etl") as run, run.step("s"):
        pass
    assert run.state == "succeeded"
    assert "server down" in caplog.text


def test_environment_is_sent_once_per_content(records: Records) -> None:
    envs = iter(
        [
            Environment("3.11.7", "cpython", "L", {"a": "1"}),
            Environment("3.11.7", "cpython", "L", {"a": "1"}),
            Environment("3.11.7", "cpython", "L", {"a": "2"}),
        ]
    )
    tracker = RunTracker(records.append, environment=lambda: next(envs))
    for _ in range(3):
        with tracker.run("etl"):
            pass
    sent = kinds(records, "environment")
    hashes = [r["environment_hash"] for r in kinds(records, "run") if r["event"] == "start"]
    assert [e["packages"] for e in sent] == [{"a": "1"}, {"a": "2"}]
    assert hashes[0] == hashes[1] == sent[0]["hash"] != hashes[2] == sent[1]["hash"]


def test_datasets_are_recorded_per_step(
    tracker: RunTracker, records: Records, tmp_path: Path
) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3]})
    frame.to_csv(tmp_path / "in.csv", index=False)
    with tracker.run("etl") as run:
        run.input("warehouse.raw")
        with run.step("transform") as s:
            s.input(tmp_path / "in.csv")
            s.output(frame)
            s.output(frame)
    refs = kinds(records, "dataset")
    assert [(r["step_id"] == "", r["direction"], r["name"]) for r in refs] == [
        (True, "input", "warehouse.raw"),
        (False, "input", str(tmp_path / "in.csv")),
        (False, "output", "pandas.DataFrame"),
        (False, "output", "pandas.DataFrame#2"),
    ]
    assert refs[1]["rows"] == 3 and refs[1]["file_types"] == {"csv": 1}
    assert refs[2]["schema"] == [{"name": "a", "type": "int64"}]


def test_child_env_names_the_run_and_the_open_step(tracker: RunTracker) -> None:
    with tracker.run("etl") as run:
        assert run.child_env() == {"MLVITALS_RUN_ID": run.id}
        with run.step("spawn") as s:
            assert run.child_env() == {"MLVITALS_RUN_ID": run.id, "MLVITALS_PARENT_STEP_ID": s.id}


def test_joining_tracker_adds_steps_without_owning_the_run(records: Records) -> None:
    tracker = RunTracker(
        records.append, environment=False, join_run_id="parent-run", join_parent_step_id="p-step"
    )
    with tracker.run("etl") as run:
        assert run.joined and run.id == "parent-run"
        with run.step("child") as s:
            pass
    with tracker.step("module-level"):
        pass
    assert [r["kind"] for r in records] == ["step"] * 4
    assert {r["run_id"] for r in records} == {"parent-run"}
    assert {r["parent_step_id"] for r in records} == {"p-step"}
    assert s.state == "succeeded"


@pytest.fixture
def no_join(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("MLVITALS_RUN_ID", raising=False)
    yield


def test_module_level_run_and_step(records: Records, no_join: None) -> None:
    @script_step("work")
    def work() -> None:
        run = current_run()
        assert run is not None
        run.set_model_version("7")

    with script_run("etl", emit=records.append, trigger="manual"):
        work()
    assert [(r["kind"], r["event"]) for r in records if r["kind"] != "environment"] == [
        ("run", "start"),
        ("step", "start"),
        ("step", "complete"),
        ("run", "complete"),
    ]
    assert records[-1]["model_version"] == "7"
    assert kinds(records, "environment")[0]["hash"] == records[1]["environment_hash"]
