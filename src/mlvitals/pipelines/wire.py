"""The wire records of pipeline monitoring, as plain dicts with a ``kind``.

Runs and steps are append-only *events* (``start``, ``running``, ``complete``, ``fail``,
``abort``, ``other``, the OpenLineage vocabulary); the server folds a run's events into
its current state at query time, so events may arrive repeated or out of order.

==============  ===========================================================  =============
kind            carries                                                      natural key
==============  ===========================================================  =============
``run``         pipeline, run kind, trigger, schedule, params, environment,  run, event,
                error, resources, model version, deployment                  time
``step``        name, parent step, error, resources                          run, step,
                                                                             event, time
``dataset``     a dataset read (``input``) or written (``output``) and its   run, step,
                files, types, bytes, rows, schema                            direction,
                                                                             name, event
``environment`` Python, platform, packages (stored once per content hash)   hash
``pipeline``    declared schedule, grace period, maximum duration           pipeline, time
==============  ===========================================================  =============
"""

from __future__ import annotations

import traceback
from typing import Any

# "seen" is mlvitals' own: a run known only from a step that names it as its parent.
EVENTS = ("start", "running", "complete", "fail", "abort", "other", "seen")
STATE_OF_EVENT = {
    "start": "running",
    "running": "running",
    "other": None,
    "seen": None,
    "complete": "succeeded",
    "fail": "failed",
    "abort": "aborted",
}
TERMINAL_EVENTS = frozenset({"complete", "fail", "abort"})
RUN_KINDS = ("data", "training", "deployment", "other")
TRIGGERS = ("schedule", "manual", "drift_alert", "upstream")

MAX_MESSAGE = 2000
MAX_TRACEBACK = 8000


def error_info(exc: BaseException) -> dict[str, str]:
    """Type, message and a traceback trimmed to its last ``MAX_TRACEBACK`` characters."""
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"
    text = "".join(traceback.format_exception(exc))
    if len(text) > MAX_TRACEBACK:
        # The innermost frames and the exception line matter most: keep the tail.
        text = "…\n" + text[-MAX_TRACEBACK:]
    return {"type": name, "message": str(exc)[:MAX_MESSAGE], "traceback": text}


def run_record(
    run_id: str, event: str, time: float, pipeline: str, **fields: Any
) -> dict[str, Any]:
    return {"kind": "run", "run_id": run_id, "event": event, "time": time, "pipeline": pipeline} | {
        k: v for k, v in fields.items() if v is not None
    }


def step_record(
    run_id: str, step_id: str, event: str, time: float, name: str, **fields: Any
) -> dict[str, Any]:
    return {
        "kind": "step",
        "run_id": run_id,
        "step_id": step_id,
        "event": event,
        "time": time,
        "name": name,
    } | {k: v for k, v in fields.items() if v is not None}


def dataset_record(
    run_id: str,
    step_id: str,
    direction: str,
    event: str,
    time: float,
    ref: dict[str, Any],
    **fields: Any,
) -> dict[str, Any]:
    return (
        {
            "kind": "dataset",
            "run_id": run_id,
            "step_id": step_id,
            "direction": direction,
            "event": event,
            "time": time,
        }
        | {k: v for k, v in ref.items() if v is not None}
        | {k: v for k, v in fields.items() if v is not None}
    )
