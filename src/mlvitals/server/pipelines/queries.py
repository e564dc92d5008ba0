"""Pipeline queries over a store: pipelines with their health, runs, one run in detail.

Each function takes anything with the store's ``fetch(sql, params)`` and returns plain
dataclasses or dicts, so the HTTP API, the CLI and dashboard pages share them. ``now`` is
passed in: schedule checks never read a clock.

>>> from mlvitals.server.database import open_database
>>> store = open_database(":memory:")
>>> list_pipelines(store, now=0.0)
[]
>>> store.close()
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import quote

from mlvitals.pipelines.baselines import step_anomalies
from mlvitals.pipelines.config import PipelineConfig
from mlvitals.pipelines.envdiff import diff_environments
from mlvitals.pipelines.environment import Environment
from mlvitals.pipelines.fold import RunState, StepState, fold_datasets, fold_run, fold_step
from mlvitals.pipelines.schedule import RunTiming, adherence, overdue


class Fetcher(Protocol):
    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...


def _marks(n: int) -> str:
    return ", ".join("?" for _ in range(n))


def run_states(store: Fetcher, run_ids: Sequence[str]) -> dict[str, RunState]:
    """Folded states of the given runs (those with no events are left out)."""
    if not run_ids:
        return {}
    rows = store.fetch(
        f"SELECT * FROM run_events WHERE run_id IN ({_marks(len(run_ids))})", list(run_ids)
    )
    by_run: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_run[row["run_id"]].append(row)
    return {rid: fold_run(rid, events) for rid, events in by_run.items()}


def list_runs(
    store: Fetcher, *, pipeline: str | None = None, limit: int = 50, state: str | None = None
) -> list[RunState]:
    """Runs, newest first (by their first event), optionally of one pipeline or state."""
    where, params = ("WHERE pipeline = ?", [pipeline]) if pipeline is not None else ("", [])
    # A state filter is applied after folding, so fetch more to still fill the page.
    fetch_n = limit if state is None else limit * 5
    ids = store.fetch(
        f"SELECT run_id, MIN(time) AS first FROM run_events {where}"
        " GROUP BY run_id ORDER BY first DESC LIMIT ?",
        [*params, fetch_n],
    )
    states = run_states(store, [r["run_id"] for r in ids])
    runs = [states[r["run_id"]] for r in ids if r["run_id"] in states]
    if state is not None:
        runs = [r for r in runs if r.state == state]
    return sorted(runs, key=lambda r: r.started_at or 0.0, reverse=True)[:limit]


def good_runs(
    store: Fetcher, pipeline: str, *, limit: int = 20, before: float | None = None
) -> list[RunState]:
    """The last ``limit`` succeeded runs of ``pipeline`` (ended before ``before``)."""
    sql = "SELECT run_id, MAX(time) AS t FROM run_events WHERE pipeline = ? AND event = ?"
    params: list[Any] = [pipeline, "complete"]
    if before is not None:
        sql += " AND time < ?"
        params.append(before)
    rows = store.fetch(sql + " GROUP BY run_id ORDER BY t DESC LIMIT ?", [*params, limit * 2])
    states = run_states(store, [r["run_id"] for r in rows])
    good = [s for s in states.values() if s.state == "succeeded"]
    return sorted(good, key=lambda r: r.ended_at or 0.0, reverse=True)[:limit]


def pipeline_config(store: Fetcher, pipeline: str) -> tuple[PipelineConfig, float] | None:
    """The latest declared configuration and when ``pipeline`` first declared one."""
    rows = store.fetch(
        "SELECT * FROM pipeline_configs WHERE pipeline = ? ORDER BY time DESC", [pipeline]
    )
    if not rows:
        return None
    return PipelineConfig.from_row(rows[0]), float(rows[-1]["time"])


def environment(store: Fetcher, env_hash: str) -> Environment | None:
    import json

    rows = store.fetch("SELECT * FROM environments WHERE hash = ?", [env_hash])
    if not rows:
        return None
    row = rows[0]
    return Environment(
        python=row["python"],
        implementation=row["implementation"],
        platform=row["platform"],
        packages=json.loads(row["packages"]),
        captured_at=row["captured_at"],
    )


def _timing(r: RunState) -> RunTiming:
    return RunTiming(r.run_id, r.scheduled_at, r.started_at, r.ended_at, r.state, r.trigger)


def _health(runs: list[RunState], adh: dict[str, Any] | None, is_overdue: bool) -> str:
    if is_overdue:
        return "overdue"
    finished = [r for r in runs if r.state != "running"]
    if finished and finished[0].state in ("failed", "aborted"):
        return "failed"
    if adh is not None:
        judged = [s for s in adh["slots"] if s["status"] != "pending"]
        if judged and judged[-1]["status"] in ("missed", "late"):
            return str(judged[-1]["status"])
    if runs and runs[0].state == "running":
        return "running"
    return "ok" if runs else "unknown"


def pipeline_status(
    store: Fetcher, pipeline: str, now: float, *, slots: int = 20
) -> dict[str, Any]:
    """One pipeline: health, last run, schedule adherence and overdue check."""
    declared = pipeline_config(store, pipeline)
    config = declared[0] if declared else None
    runs = list_runs(store, pipeline=pipeline, limit=slots + 10)
    adh = None
    if config is not None and config.schedule is not None:
        first = store.fetch("SELECT MIN(time) AS t FROM run_events WHERE pipeline = ?", [pipeline])
        starts = [t for t in (first[0]["t"], declared[1] if declared else None) if t is not None]
        since = min(starts) if starts else None
        adh = adherence(config, [_timing(r) for r in runs], now, slots=slots, since=since).to_dict()
    late_run = None
    last = runs[0] if runs else None
    if last is not None and last.state == "running" and last.started_at is not None:
        history = good_runs(store, pipeline, limit=config.history if config else 20)
        durations = [r.duration_seconds for r in history if r.duration_seconds is not None]
        found = overdue(last.started_at, now, config, durations)
        if found is not None:
            late_run = {
                "run_id": last.run_id,
                "elapsed_seconds": found.elapsed_seconds,
                "limit_seconds": found.limit_seconds,
                "reason": found.reason,
            }
    return {
        "pipeline": pipeline,
        "health": _health(runs, adh, late_run is not None),
        "run_kind": last.run_kind if last else None,
        "last_run": last.to_dict() if last else None,
        "runs": len(runs),
        "config": None
        if config is None
        else {
            "schedule": config.schedule,
            "timezone": config.timezone,
            "grace_seconds": config.grace_seconds,
            "max_duration_seconds": config.max_duration_seconds,
            "history": config.history,
        },
        "schedule": adh,
        "overdue": late_run,
    }


def list_pipelines(store: Fetcher, now: float) -> list[dict[str, Any]]:
    """Every pipeline that ran or declared a configuration, by name."""
    rows = store.fetch(
        "SELECT pipeline FROM run_events UNION SELECT pipeline FROM pipeline_configs"
    )
    names = sorted({r["pipeline"] for r in rows})
    return [pipeline_status(store, name, now) for name in names]


def steps_of_runs(
    store: Fetcher, run_ids: Sequence[str]
) -> dict[str, tuple[list[StepState], list[dict[str, Any]]]]:
    """For each run: its steps (timeline order, with their datasets) and its run-level
    datasets, in two queries whatever the number of runs."""
    if not run_ids:
        return {}
    marks = _marks(len(run_ids))
    events: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in store.fetch(f"SELECT * FROM step_events WHERE run_id IN ({marks})", run_ids):
        events[(row["run_id"], row["step_id"])].append(row)
    rows = store.fetch(f"SELECT * FROM dataset_refs WHERE run_id IN ({marks})", run_ids)
    by_step: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for d in fold_datasets(rows):
        by_step[(d["run_id"], d["step_id"])].append(d)
    out: dict[str, tuple[list[StepState], list[dict[str, Any]]]] = {
        rid: ([], by_step.get((rid, ""), [])) for rid in run_ids
    }
    for (rid, step_id), evs in events.items():
        s = fold_step(step_id, evs)
        refs = by_step.get((rid, step_id), [])
        s.inputs.extend(d for d in refs if d["direction"] == "input")
        s.outputs.extend(d for d in refs if d["direction"] == "output")
        out[rid][0].append(s)
    for steps, _ in out.values():
        steps.sort(key=lambda s: (s.started_at or 0.0, s.name))
    return out


def run_steps(store: Fetcher, run_id: str) -> tuple[list[StepState], list[dict[str, Any]]]:
    """The run's steps (timeline order, with their datasets) and its run-level datasets."""
    return steps_of_runs(store, [run_id])[run_id]


def _depths(steps: list[StepState]) -> dict[str, int]:
    parent = {s.step_id: s.parent_step_id for s in steps}
    depths: dict[str, int] = {}
    for s in steps:
        depth, node, seen = 0, s.parent_step_id, {s.step_id}
        while node is not None and node in parent and node not in seen:
            seen.add(node)
            depth += 1
            node = parent[node]
        depths[s.step_id] = depth
    return depths


def env_diff_to_last_good(store: Fetcher, run: RunState) -> dict[str, Any] | None:
    """The environment diff from the last succeeded run of the pipeline to ``run``."""
    if run.environment_hash is None:
        return None
    before = run.started_at
    for good in good_runs(store, run.pipeline, limit=20, before=before):
        if good.environment_hash is None or good.run_id == run.run_id:
            continue
        old = environment(store, good.environment_hash)
        new = environment(store, run.environment_hash)
        if old is None or new is None:
            return None
        return {"last_good_run_id": good.run_id, **diff_environments(old, new).to_dict()}
    return None


def run_detail(store: Fetcher, run_id: str, now: float) -> dict[str, Any] | None:
    """Everything about one run; ``None`` when the store knows nothing of it."""
    states = run_states(store, [run_id])
    steps, run_datasets = run_steps(store, run_id)
    if run_id not in states and not steps:
        return None
    run = states.get(run_id) or RunState(run_id, "", "running", None, None, None)
    declared = pipeline_config(store, run.pipeline) if run.pipeline else None
    config = declared[0] if declared else None
    history = good_runs(store, run.pipeline, limit=config.history if config else 20)
    history = [h for h in history if h.run_id != run_id]
    past_steps = steps_of_runs(store, [h.run_id for h in history])
    past = [{s.name: s.metrics() for s in steps} for steps, _ in past_steps.values()]
    anomalies = step_anomalies({s.name: s.metrics() for s in steps}, past)
    depths = _depths(steps)
    late: dict[str, Any] | None = None
    if run.state == "running" and run.started_at is not None:
        durations = [h.duration_seconds for h in history if h.duration_seconds is not None]
        found = overdue(run.started_at, now, config, durations)
        if found is not None:
            late = {
                "elapsed_seconds": found.elapsed_seconds,
                "limit_seconds": found.limit_seconds,
                "reason": found.reason,
            }
    env = environment(store, run.environment_hash) if run.environment_hash else None
    children = store.fetch(
        "SELECT DISTINCT run_id FROM run_events WHERE parent_run_id = ?", [run_id]
    )
    return {
        "run": run.to_dict(),
        "steps": [s.to_dict() | {"depth": depths[s.step_id]} for s in steps],
        "inputs": [d for d in run_datasets if d["direction"] == "input"],
        "outputs": [d for d in run_datasets if d["direction"] == "output"],
        "environment": None if env is None else env.to_dict(),
        "environment_diff": env_diff_to_last_good(store, run) if run.state == "failed" else None,
        "anomalies": [a.to_dict() for a in anomalies],
        "overdue": late,
        "child_runs": sorted(r["run_id"] for r in children),
    }


CHANGE_RUNS = 500
"""Most runs a change timeline reads."""


def run_changes(
    store: Fetcher,
    start: float,
    end: float,
    *,
    pipeline: str | None = None,
    service: str | None = None,
) -> list[dict[str, Any]]:
    """Runs that started in ``[start, end)`` and changed something or went wrong:
    deployments (of ``service``'s versions, with ``service``), retraining runs, failed runs,
    late starts, and runs whose dependency versions differ from their pipeline's run before.
    With ``service`` only the deployments to it."""
    where, params = ("pipeline = ? AND ", [pipeline]) if pipeline is not None else ("", [])
    ids = store.fetch(
        "SELECT run_id FROM run_events"
        f" WHERE {where}time >= ? AND time < ? GROUP BY run_id ORDER BY MIN(time) LIMIT ?",
        [*params, start, end, CHANGE_RUNS],
    )
    runs = sorted(
        (r for r in run_states(store, [i["run_id"] for i in ids]).values() if r.started_at),
        key=lambda r: (r.started_at or 0.0, r.run_id),
    )
    out: list[dict[str, Any]] = []
    last_hash: dict[str, str] = {}
    for r in runs:
        at = float(r.started_at or 0.0)
        found = []
        if r.run_kind == "deployment" and r.service:
            where_to = f"{r.serving_version or r.model_version or 'a version'} on {r.service}"
            found.append(("deployment", f"deployment run: {where_to}"))
        elif service is not None:
            continue
        elif r.run_kind == "training":
            found.append(
                (
                    "training",
                    "retraining run" + (f" (model {r.model_version})" if r.model_version else ""),
                )
            )
        if service is None:
            if r.state == "failed":
                found.append(("run_failed", "run failed"))
            delay = r.start_delay_seconds
            if delay is not None and delay > 300.0:
                found.append(("run_late", f"run started {delay / 60:.0f} min late"))
            previous = last_hash.get(r.pipeline)
            if r.environment_hash and previous and previous != r.environment_hash:
                found.append(("environment", "dependency versions changed"))
        if r.environment_hash:
            last_hash[r.pipeline] = r.environment_hash
        for kind, text in found:
            out.append(
                {
                    "time": at,
                    "area": "pipelines",
                    "kind": kind,
                    "subject": r.pipeline,
                    "text": f"{r.pipeline}: {text}",
                    "url": "/runs/" + quote(r.run_id, safe=""),
                }
            )
    return out
