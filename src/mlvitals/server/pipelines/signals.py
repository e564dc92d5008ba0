"""Signals of pipeline health: failed runs, late starts, missed runs, overdue runs and step
anomalies, read through the pipelines engine's queries (:mod:`mlvitals.server.pipelines.queries`).

- ``failed``: the last finished run failed or was aborted (1), until a later run finishes;
- ``late``: the scheduled run has not started within the grace period (seconds since the
  nominal time); resolves when it starts, or turns into a missed run;
- ``missed``: scheduled runs missed since the last slot that got a run (their number);
- ``overdue``: a running run is past its declared maximum or its usual duration (seconds);
- ``step_anomaly``: metrics of the last finished run's steps outside their learned bands.
"""

from __future__ import annotations

from typing import Any

from mlvitals.alerts.rules import PipelineSpec, Rule
from mlvitals.alerts.state import Sample
from mlvitals.server.pipelines.queries import list_runs, pipeline_status, run_detail
from mlvitals.store import Store

_BAD = ("failed", "aborted")


def pipeline_names(store: Store, only: str | None) -> list[str]:
    if only is not None:
        return [only]
    rows = store.fetch(
        "SELECT pipeline FROM run_events UNION SELECT pipeline FROM pipeline_configs"
    )
    return sorted({r["pipeline"] for r in rows})


def _failed(store: Store, pipeline: str) -> Sample | None:
    finished = [r for r in list_runs(store, pipeline=pipeline, limit=20) if r.state != "running"]
    if not finished or finished[0].state not in _BAD:
        return None
    run = finished[0]
    error = run.error or {}
    message = f"{error.get('type', '')}: {error.get('message', '')}".strip(": ") or "no error given"
    info = {"run_id": run.run_id, "state": run.state, "error": message}
    return Sample({"pipeline": pipeline}, 1.0, info=info)


def _judged(status: dict[str, Any]) -> list[dict[str, Any]]:
    schedule = status.get("schedule") or {}
    return [s for s in schedule.get("slots", []) if s["status"] != "pending"]


def _late(status: dict[str, Any], pipeline: str, now: float) -> Sample | None:
    judged = _judged(status)
    if not judged or judged[-1]["status"] != "late" or judged[-1]["run_id"] is not None:
        return None
    nominal = float(judged[-1]["nominal"])
    return Sample({"pipeline": pipeline}, now - nominal, info={"nominal": nominal})


def _missed(status: dict[str, Any], pipeline: str) -> Sample | None:
    count = 0
    for slot in reversed(_judged(status)):
        if slot["run_id"] is not None:
            break
        count += slot["status"] == "missed"
    if not count:
        return None
    return Sample({"pipeline": pipeline}, float(count))


def _overdue(status: dict[str, Any], pipeline: str) -> Sample | None:
    late = status.get("overdue")
    if not late:
        return None
    info = {
        "run_id": late["run_id"],
        "reason": late["reason"],
        "limit_seconds": late["limit_seconds"],
    }
    return Sample({"pipeline": pipeline}, float(late["elapsed_seconds"]), info=info)


def _step_anomaly(store: Store, pipeline: str, now: float) -> Sample | None:
    finished = [r for r in list_runs(store, pipeline=pipeline, limit=20) if r.state != "running"]
    if not finished:
        return None
    detail = run_detail(store, finished[0].run_id, now)
    anomalies = (detail or {}).get("anomalies") or []
    if not anomalies:
        return None
    details = "; ".join(
        f"{a['step']} {a['metric']} {a['value']:g} is {a['direction']}"
        f" (usual {a['low']:g}..{a['high']:g})"
        for a in anomalies
    )
    info = {"run_id": finished[0].run_id, "details": details}
    return Sample({"pipeline": pipeline}, float(len(anomalies)), info=info)


def pipeline_signal(store: Store, rule: Rule, now: float) -> list[Sample]:
    spec = rule.spec
    assert isinstance(spec, PipelineSpec)
    samples = []
    for pipeline in pipeline_names(store, spec.pipeline):
        found: Sample | None
        if spec.condition_name == "failed":
            found = _failed(store, pipeline)
        elif spec.condition_name == "step_anomaly":
            found = _step_anomaly(store, pipeline, now)
        else:
            status = pipeline_status(store, pipeline, now)
            if spec.condition_name == "late":
                found = _late(status, pipeline, now)
            elif spec.condition_name == "missed":
                found = _missed(status, pipeline)
            else:
                found = _overdue(status, pipeline)
        if found is not None:
            samples.append(found)
    return samples
