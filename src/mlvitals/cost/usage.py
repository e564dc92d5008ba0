"""Usage values from plain database rows (dicts), so the store side stays a thin SQL layer.

Each function takes one row as the store returns it and the period ``[start, end)`` that row
covers; ``None`` columns count as zero.

>>> gpu_names('[{"index": 0, "name": "NVIDIA A10G"}, {"index": 1}]')
('NVIDIA A10G', '')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mlvitals.cost.config import Allocation
from mlvitals.cost.runs import RunUsage
from mlvitals.cost.serving import InstanceUsage, OperationUsage
from mlvitals.cost.storage import DatasetStorage

Row = Mapping[str, Any]


def _f(row: Row, name: str) -> float:
    value = row.get(name)
    return 0.0 if value is None else float(value)


def gpu_names(text: str | None) -> tuple[str, ...]:
    """Device names from the ``gpus`` JSON of an instance sample, one per GPU ('' if
    unnamed); malformed JSON counts as no GPUs."""
    try:
        readings = json.loads(text or "[]")
    except ValueError:
        return ()
    if not isinstance(readings, list):
        return ()
    return tuple(str(r.get("name", "")) if isinstance(r, dict) else "" for r in readings)


def instance_usage(row: Row, start: float, end: float) -> InstanceUsage:
    """From a row with service, version, instance, the ``*_seconds`` integrals and ``gpus``
    (a JSON list of device names)."""
    names = json.loads(row.get("gpus") or "[]")
    return InstanceUsage(
        service=str(row["service"]),
        version=str(row["version"]),
        instance=str(row["instance"]),
        start=start,
        end=end,
        up_seconds=_f(row, "up_seconds"),
        core_seconds=_f(row, "core_seconds"),
        cores_unknown_seconds=_f(row, "cores_unknown_seconds"),
        memory_byte_seconds=_f(row, "memory_byte_seconds"),
        memory_unknown_seconds=_f(row, "memory_unknown_seconds"),
        rss_byte_seconds=_f(row, "rss_byte_seconds"),
        gpus=tuple(str(n) for n in names),
    )


def operation_usage(row: Row, start: float, end: float) -> OperationUsage:
    """From a row with service, version, operation, instance, calls, cpu_seconds and
    gpu_busy_seconds."""
    return OperationUsage(
        service=str(row["service"]),
        version=str(row["version"]),
        operation=str(row["operation"]),
        instance=str(row["instance"]),
        start=start,
        end=end,
        calls=int(_f(row, "calls")),
        cpu_seconds=_f(row, "cpu_seconds"),
        gpu_busy_seconds=_f(row, "gpu_busy_seconds"),
    )


def run_usage(row: Row, requested: Allocation | None = None) -> RunUsage | None:
    """From a folded run row (run_id, pipeline, started, ended, cpu_seconds, peak_rss_bytes,
    gpu_seconds, wall_seconds); ``None`` when its period is unknown. Without a start event
    the run is taken to have begun ``wall_seconds`` before it ended."""
    ended = row.get("ended")
    if ended is None:
        return None
    started = row.get("started")
    wall = row.get("wall_seconds")
    if started is None:
        if wall is None:
            return None
        started = float(ended) - float(wall)
    return RunUsage(
        run=str(row["run_id"]),
        pipeline=str(row["pipeline"]),
        start=float(started),
        end=float(ended),
        cpu_seconds=_f(row, "cpu_seconds"),
        peak_rss_bytes=_f(row, "peak_rss_bytes"),
        gpu_seconds=_f(row, "gpu_seconds"),
        requested=requested,
    )


def dataset_write(row: Row) -> DatasetStorage:
    """A dataset write from a row with namespace, name, time, bytes, pipeline and run_id;
    the dataset is named ``namespace/name`` (just ``name`` without a namespace)."""
    namespace, name = str(row.get("namespace") or ""), str(row["name"])
    return DatasetStorage(
        dataset=f"{namespace.rstrip('/')}/{name}" if namespace else name,
        bytes=_f(row, "bytes"),
        start=float(row["time"]),
        pipeline=str(row.get("pipeline") or ""),
        run=str(row.get("run_id") or ""),
    )
