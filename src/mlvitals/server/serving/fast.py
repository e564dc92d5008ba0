"""Fast paths for the two record kinds that make up most of ingest: serving windows and
instance samples.

Each takes a record as parsed from JSON and returns its table row, or ``None`` when the
record is anything but plainly well formed: then the kind's Pydantic model validates it and
names what is wrong. A fast path accepts only records its model accepts, and gives the same
row (a property test holds the two to that), but it checks exact JSON types instead of
coercing: ``5.0`` for an integer or ``true`` for a number goes to the model, which decides.

>>> from tests.records import instance_sample
>>> instance_row(instance_sample())["rss_bytes"]
536870912
>>> instance_row({**instance_sample(), "rss_bytes": "lots"}) is None
True
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from mlvitals.server.record_values import INT64_MAX, is_plain_name
from mlvitals.sketches import QuantileSketch

_MAX_NAME = 200
_MISSING: Any = object()

_WINDOW_FIELDS = frozenset(
    {
        "kind",
        "service",
        "version",
        "operation",
        "instance",
        "start",
        "length",
        "calls",
        "failures",
        "client_errors",
        "latency",
        "cpu",
        "cpu_seconds",
        "peak_rss_bytes",
        "gpu_busy_seconds",
        "gpu_peak_memory_bytes",
        "peak_in_flight",
    }
)
_SAMPLE_FIELDS = frozenset(
    {
        "kind",
        "service",
        "version",
        "instance",
        "time",
        "process_start",
        "cpu_percent",
        "rss_bytes",
        "host_memory_used_bytes",
        "host_memory_total_bytes",
        "open_fds",
        "cpu_cores_allocated",
        "memory_allocated_bytes",
        "gpus",
        "stopped",
    }
)
_GPU_FIELDS = (
    ("name", str),
    ("utilization", float),
    ("memory_used_bytes", int),
    ("memory_total_bytes", int),
    ("process_utilization", float),
    ("process_memory_bytes", int),
)
_GPU_KEYS = frozenset({"index", *(name for name, _ in _GPU_FIELDS)})


class _Slow(Exception):
    """The record is not plainly well formed: leave it to the model."""


def _name(value: Any, *, empty: bool = False) -> str:
    if type(value) is not str or len(value) > _MAX_NAME or (not value and not empty):
        raise _Slow
    if not is_plain_name(value):  # to be trimmed, or refused: the model says which
        raise _Slow
    return value


def _number(value: Any, low: float = 0.0, *, above: bool = False, high: float = math.inf) -> float:
    """A float ``>= low`` (``> low`` with ``above``) and ``<= high``."""
    kind = type(value)
    if kind is not float and kind is not int:
        raise _Slow
    number = float(value)
    if not math.isfinite(number) or number < low or (above and number == low) or number > high:
        raise _Slow
    return number


def _count(value: Any, *, above: bool = False) -> int:
    if type(value) is not int or value < 0 or (above and value == 0) or value > INT64_MAX:
        raise _Slow
    return value


def _optional_number(value: Any, *, above: bool = False, high: float = math.inf) -> float | None:
    return None if value is None else _number(value, above=above, high=high)


def _optional_count(value: Any, *, above: bool = False) -> int | None:
    return None if value is None else _count(value, above=above)


def _sketch(value: Any) -> str:
    """The sketch's JSON, once it is a well-formed sketch (:meth:`QuantileSketch.check_dict`)."""
    if not QuantileSketch.is_plain_packed(value):
        if type(value) is not dict:
            raise _Slow
        try:
            QuantileSketch.check_dict(value)
        except ValueError:
            raise _Slow from None
    return orjson.dumps(value).decode()


def window_row(record: dict[str, Any]) -> dict[str, Any] | None:
    """The ``serving_windows`` row of a plainly well-formed ``serving_window``, else None."""
    if not record.keys() <= _WINDOW_FIELDS:
        return None
    get = record.get
    try:
        failures = get("failures", _MISSING)
        if failures is _MISSING:
            failures = {}
        elif type(failures) is not dict:
            raise _Slow
        errors = 0
        for error_type, n in failures.items():
            _name(error_type)
            errors += _count(n)
        if errors > INT64_MAX:
            raise _Slow
        return {
            "service": _name(record["service"]),
            "version": _name(get("version", ""), empty=True),
            "operation": _name(record["operation"]),
            "instance": _name(record["instance"]),
            "start": _number(record["start"]),
            "length": _number(record["length"], above=True, high=86400.0),
            "calls": _count(record["calls"]),
            "errors": errors,
            "client_errors": _count(get("client_errors", 0)),
            "failures": orjson.dumps(failures).decode(),
            "latency": _sketch(record["latency"]),
            "cpu": _sketch(record["cpu"]),
            "cpu_seconds": _number(get("cpu_seconds", 0.0)),
            "peak_rss_bytes": _optional_count(get("peak_rss_bytes")),
            "gpu_busy_seconds": _optional_number(get("gpu_busy_seconds")),
            "gpu_peak_memory_bytes": _optional_count(get("gpu_peak_memory_bytes")),
            "peak_in_flight": _count(get("peak_in_flight", 0)),
        }
    except (_Slow, KeyError, OverflowError, TypeError):  # TypeError: orjson's, for huge ints
        return None


def _gpu(value: Any) -> dict[str, Any]:
    """One ``gpus`` entry as the model dumps it: its fields in order, nulls left out."""
    if type(value) is not dict or not value.keys() <= _GPU_KEYS:
        raise _Slow
    out: dict[str, Any] = {"index": _count(value["index"]), "name": ""}
    for key, kind in _GPU_FIELDS:
        item = value.get(key)
        if kind is str:
            if item is not None:  # a null name is an error: the model says so
                out[key] = _name(item, empty=True)
            elif key in value:
                raise _Slow
        elif item is None:
            continue
        elif kind is int:
            out[key] = _count(item)
        else:
            out[key] = _number(item, high=1.0)
    return out


def instance_row(record: dict[str, Any]) -> dict[str, Any] | None:
    """The ``instance_samples`` row of a plainly well-formed ``instance_sample``, else None."""
    if not record.keys() <= _SAMPLE_FIELDS:
        return None
    get = record.get
    try:
        gpus = get("gpus", _MISSING)
        if gpus is _MISSING:
            gpus = []
        elif type(gpus) is not list or len(gpus) > 64:
            raise _Slow
        stopped = get("stopped", False)
        if type(stopped) is not bool:
            raise _Slow
        return {
            "service": _name(record["service"]),
            "version": _name(get("version", ""), empty=True),
            "instance": _name(record["instance"]),
            "time": _number(record["time"]),
            "process_start": _optional_number(get("process_start")),
            "cpu_percent": _optional_number(get("cpu_percent")),
            "rss_bytes": _optional_count(get("rss_bytes")),
            "host_memory_used_bytes": _optional_count(get("host_memory_used_bytes")),
            "host_memory_total_bytes": _optional_count(get("host_memory_total_bytes")),
            "open_fds": _optional_count(get("open_fds")),
            "cpu_cores_allocated": _optional_number(get("cpu_cores_allocated"), above=True),
            "memory_allocated_bytes": _optional_count(get("memory_allocated_bytes"), above=True),
            "gpus": orjson.dumps([_gpu(g) for g in gpus]).decode(),
            "stopped": int(stopped),
        }
    except (_Slow, KeyError, OverflowError, TypeError):  # TypeError: orjson's, for huge ints
        return None
