"""Data-quality results as ingest records: ``dataset_profile`` and ``check_result``.

:meth:`Monitor.profile <mlvitals.sdk.Monitor.profile>`, :meth:`Monitor.check
<mlvitals.sdk.Monitor.check>` and ``mlvitals check --server`` run the engine
(:mod:`mlvitals.quality`) and send what it returned as one record each:

==================  =====================================================  ====================
kind                carries                                                natural key
==================  =====================================================  ====================
``dataset_profile`` the profile's versioned JSON, the data's size in bytes  dataset, time, id
``check_result``    the check's versioned JSON (failures, drift per         dataset, time, id
                    column, both profiles), the data's size in bytes
==================  =====================================================  ====================

A record is at most :data:`MAX_RECORD_BYTES` of JSON. Wide data makes large profiles (about
20 KB per column, and the correlation matrices grow with the square of the columns), so a
record over the limit is lightened first: the correlation co-moments go, then the sketches
(the readable statistics, histograms and top values stay); ``trimmed`` names what went.

>>> import pyarrow as pa
>>> from mlvitals.quality import profile
>>> record = profile_record(profile(pa.table({"x": [1.0, 2.0]})), dataset="features", time=1.0)
>>> record["kind"], record["dataset"], record["profile"]["rows"], record["trimmed"]
('dataset_profile', 'features', 2, [])
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlvitals.errors import ConfigError

if TYPE_CHECKING:
    from mlvitals.quality import CheckResult, Profile
    from mlvitals.sdk.transport import Transport

log = logging.getLogger("mlvitals.sdk")

MAX_RECORD_BYTES = 8 << 20
"""Largest ``profile`` or ``result`` JSON a record may carry (half the server's default body
limit, so that one such record always fits in a request)."""

MAX_DATASET_NAME = 500

# What a too-large record sheds, in order: the co-moments grow with columns², sketches with
# columns; both are only needed to merge or re-test profiles, not to show or alert on them.
_TRIM_STEPS = ("correlation", "sketches")


def check_dataset_name(dataset: str) -> str:
    """A dataset name is 1-500 characters (it names the dataset's page and API paths)."""
    if not isinstance(dataset, str) or not 0 < len(dataset) <= MAX_DATASET_NAME:
        raise ConfigError(
            f"dataset must be a name of 1-{MAX_DATASET_NAME} characters, got {dataset!r}"
        )
    return dataset


def _ids(run_id: str | None, step_id: str | None) -> tuple[str | None, str | None]:
    """The given run and step, else the pipeline run (and step) active here, if any."""
    if run_id is not None:
        return run_id, step_id
    from mlvitals.pipelines.tracker import current_run, current_step_id

    run = current_run()
    if run is None:
        return None, None
    return run.id, current_step_id()


def _base(
    kind: str,
    dataset: str,
    time: float,
    run_id: str | None,
    step_id: str | None,
    data_bytes: int | None,
) -> dict[str, Any]:
    run_id, step_id = _ids(run_id, step_id)
    return {
        "kind": kind,
        "id": str(uuid.uuid4()),
        "dataset": check_dataset_name(dataset),
        "time": float(time),
        "run_id": run_id,
        "step_id": step_id,
        "bytes": data_bytes,
        "trimmed": [],
    }


def profile_record(
    profile: Profile,
    *,
    dataset: str,
    time: float,
    source: str | None = None,
    run_id: str | None = None,
    step_id: str | None = None,
    data_bytes: int | None = None,
) -> dict[str, Any]:
    """The ``dataset_profile`` record of ``profile`` (``source``: what was profiled)."""
    from mlvitals.quality.profile_json import to_dict

    record = _base("dataset_profile", dataset, time, run_id, step_id, data_bytes)
    record["source"] = None if source is None else str(source)[:4096]
    # A JSON round trip: the record must be plain JSON whatever the profile holds.
    record["profile"] = json.loads(json.dumps(to_dict(profile), default=str))
    return record


def check_record(
    result: CheckResult,
    *,
    dataset: str,
    time: float,
    run_id: str | None = None,
    step_id: str | None = None,
    data_bytes: int | None = None,
) -> dict[str, Any]:
    """The ``check_result`` record of ``result``."""
    record = _base("check_result", dataset, time, run_id, step_id, data_bytes)
    # to_json turns failure samples of any type (dates, decimals) into JSON.
    record["result"] = json.loads(result.to_json())
    return record


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def _shed(profile: dict[str, Any], what: str) -> dict[str, Any]:
    if what == "correlation":
        return {k: v for k, v in profile.items() if k != "correlation"}
    columns = [{k: v for k, v in c.items() if k != "sketches"} for c in profile["columns"]]
    return {**profile, "columns": columns}


def _payload(record: dict[str, Any]) -> Any:
    return record["profile"] if record["kind"] == "dataset_profile" else record["result"]


def fit(record: dict[str, Any], limit: int = MAX_RECORD_BYTES) -> dict[str, Any] | None:
    """``record`` lightened until its profile or result JSON is at most ``limit`` bytes, or
    ``None`` when even the readable statistics are over it.

    >>> big = {"kind": "dataset_profile", "trimmed": [], "profile": {"rows": 1, "columns": [
    ...     {"name": "x", "sketches": {"kll": "A" * 500}}], "correlation": {"pearson": []}}}
    >>> fit(big, limit=100)["trimmed"], fit(big, limit=10)
    (['correlation', 'sketches'], None)
    """
    if _json_size(_payload(record)) <= limit:
        return record
    out = dict(record)
    out["trimmed"] = list(record.get("trimmed", []))
    for step in _TRIM_STEPS:
        if out["kind"] == "dataset_profile":
            out["profile"] = _shed(out["profile"], step)
        else:
            result = dict(out["result"])
            for key in ("profile", "reference_profile"):
                if result.get(key):
                    result[key] = _shed(result[key], step)
            out["result"] = result
        out["trimmed"].append(step)
        if _json_size(_payload(out)) <= limit:
            return out
    return None


def data_bytes(data: Any) -> int | None:
    """The size of ``data``: bytes on disk for a file or folder (its data files), bytes in
    memory for a pyarrow Table or RecordBatch, a pandas or polars DataFrame; else ``None``.

    >>> import pyarrow as pa
    >>> data_bytes(pa.table({"x": [1.0, 2.0]}))
    16
    """
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if path.is_file():
            return path.stat().st_size
        if path.is_dir():
            # As the readers do: hidden files and _-markers (_SUCCESS) are not data.
            return sum(
                p.stat().st_size
                for p in path.rglob("*")
                if p.is_file() and not p.name.startswith((".", "_"))
            )
        return None
    module = type(data).__module__.split(".", 1)[0]
    try:
        if module == "pyarrow" and hasattr(data, "nbytes"):
            return int(data.nbytes)
        if module == "pandas" and hasattr(data, "memory_usage"):
            return int(data.memory_usage(index=False, deep=True).sum())
        if module == "polars" and hasattr(data, "estimated_size"):
            return int(data.estimated_size())
    except Exception:  # a size is nice to have; never fail a check over it
        return None
    return None


def source_name(data: Any) -> str:
    """What was profiled, for people: a path, or the type of an in-memory table."""
    if isinstance(data, str | os.PathLike):
        return os.fspath(data)
    return f"{type(data).__module__.split('.', 1)[0]}.{type(data).__name__}"


# -- running the engine and sending what it returned --------------------------------------------

Ship = Callable[[Callable[[], dict[str, Any]]], None]
"""Builds a record (only when it will be sent) and sends it; never raises."""


def send(transport: Transport | None, build: Callable[[], dict[str, Any]]) -> None:
    """Build a record, fit it under :data:`MAX_RECORD_BYTES` and hand it to ``transport``.

    Monitoring must not break the pipeline it watches: problems are logged, never raised.
    """
    if transport is None:
        return
    try:
        built = build()
        record = fit(built)
    except Exception:
        log.exception("mlvitals: could not build a data-quality record; not sent")
        return
    if record is None:
        log.error(
            "mlvitals: the %s record of dataset %r is over %d MiB of JSON even without "
            "sketches and correlations; not sent (check fewer columns at a time)",
            built["kind"],
            built["dataset"],
            MAX_RECORD_BYTES >> 20,
        )
        return
    transport.send([record])


def profile_and_send(
    ship: Ship,
    data: Any,
    *,
    dataset: str,
    reference: Any,
    clock: Callable[[], float],
    options: Mapping[str, Any],
) -> Profile:
    """Profile ``data`` (``reference``: a Profile or a saved profile's path) and ship it."""
    from mlvitals.quality import load_profile, profile

    check_dataset_name(dataset)
    if isinstance(reference, str | os.PathLike):
        reference = load_profile(os.fspath(reference))
    result = profile(data, reference=reference, **options)
    ship(
        lambda: profile_record(
            result,
            dataset=dataset,
            time=clock(),
            source=source_name(data),
            data_bytes=data_bytes(data),
        )
    )
    return result


def check_and_send(
    ship: Ship,
    data: Any,
    reference: Any,
    *,
    dataset: str,
    schema: Any,
    clock: Callable[[], float],
    options: Mapping[str, Any],
) -> CheckResult:
    """Check ``data`` against ``reference`` and ship the result."""
    from mlvitals.quality import check

    check_dataset_name(dataset)
    result = check(data, reference=reference, schema=schema, **options)
    ship(lambda: check_record(result, dataset=dataset, time=clock(), data_bytes=data_bytes(data)))
    return result


def post_records(
    server: str, token: str | None, records: list[dict[str, Any]], *, timeout: float = 60.0
) -> dict[str, Any]:
    """POST ``records`` (fitted under the size limit) to ``{server}/api/v1/ingest`` in one
    gzip'd batch, now; return the server's answer. For command-line tools, which must say
    whether the result arrived: raises ``ConfigError`` when a record is too large or the
    server refuses a record (its reason is in the message), ``RequestError`` when the
    server cannot be reached or answers with an error status (after the retries of
    :mod:`mlvitals.http`).
    """
    import gzip

    from mlvitals.http import Client

    fitted = []
    for record in records:
        small = fit(record)
        if small is None:
            raise ConfigError(
                f"the {record['kind']} of dataset {record['dataset']!r} is over "
                f"{MAX_RECORD_BYTES >> 20} MiB of JSON even without sketches and correlations; "
                "check fewer columns at a time"
            )
        fitted.append(small)
    body = json.dumps({"batch_id": str(uuid.uuid4()), "records": fitted}, separators=(",", ":"))
    reply = Client(server, token, timeout=timeout).request(
        "POST",
        "/api/v1/ingest",
        body=gzip.compress(body.encode(), compresslevel=6),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        idempotent=True,  # the batch id makes a repeat a no-op
    )
    answer: dict[str, Any] = json.loads(reply.body)
    if answer.get("errors"):
        e = answer["errors"][0]
        raise ConfigError(f"the server refused the {e['kind']} record: {e['field']}: {e['reason']}")
    return answer
