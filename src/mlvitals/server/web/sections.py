"""The dashboard's sections and what each page says while it has no data yet: what the
section shows, which record kinds feed it and how to start sending them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Section:
    path: str
    title: str
    shows: str
    kinds: tuple[str, ...]
    how_to: tuple[str, ...]
    ingest_example: bool = False


def ingest_example(base_url: str, tokens_enabled: bool) -> str:
    """A runnable Python snippet that sends one ``instance_sample`` record to this server."""
    auth = ', "Authorization": "Bearer YOUR_INGEST_TOKEN"' if tokens_enabled else ""
    return f"""\
import json, time, urllib.request, uuid

batch = {{"batch_id": str(uuid.uuid4()), "records": [
    {{"kind": "instance_sample", "service": "recommender", "instance": "host-1",
     "time": time.time(), "cpu_percent": 42.5, "rss_bytes": 512_000_000}},
]}}
request = urllib.request.Request(
    "{base_url}api/v1/ingest",
    data=json.dumps(batch).encode(),
    headers={{"Content-Type": "application/json"{auth}}},
)
print(urllib.request.urlopen(request).read().decode())"""


SECTIONS: tuple[Section, ...] = (
    Section(
        "/services",
        "Services",
        "Calls, failures by error type, latency percentiles, CPU and memory per call, GPU use "
        "and uptime of every model service.",
        ("serving_window", "instance_sample", "probe_result"),
        (
            "Instrument the model service with the mlvitals SDK; it aggregates each window "
            "in the process and ships the windows in batches.",
            "Or send `serving_window` and `instance_sample` records yourself to "
            "`POST /api/v1/ingest`, as in this example.",
        ),
        ingest_example=True,
    ),
    Section(
        "/datasets",
        "Datasets",
        "Schema, completeness, quality statistics and drift against a reference for the data "
        "going into and coming out of your pipelines.",
        ("dataset", "profile", "check_result"),
        (
            "Profile a data file with `mlvitals profile DATA` and compare it to a reference "
            "with `mlvitals check DATA --reference REF`.",
            "Inside a pipeline, record inputs and outputs of each step with the SDK so their "
            "profiles and checks are sent here.",
        ),
    ),
    Section(
        "/pipelines",
        "Pipelines",
        "Data and training pipeline runs: scheduled and actual start, duration, state, resources, "
        "and the dependency versions of each run.",
        ("pipeline", "run", "step", "environment"),
        (
            "Wrap a pipeline run with the SDK's `run()` and each task with `step()`.",
            "Or point any OpenLineage producer (Airflow, Dagster, Spark) at "
            "`POST /api/v1/lineage` on this server.",
        ),
    ),
    Section(
        "/cost",
        "Cost",
        "Hosting, per-call, pipeline and storage cost from allocated resources and your rate "
        "card, against budgets.",
        ("cost_line",),
        (
            "Cost is computed from the resources recorded for services and pipeline runs: "
            "send those first (see Services and Pipelines).",
        ),
    ),
    Section(
        "/alerts",
        "Alerts",
        "Alert rules and their pending, firing and resolved alerts, with notifications.",
        ("alert",),
        (
            "Alerts are evaluated on the server from rules over the recorded data; send "
            "service or pipeline data first, then configure rules.",
        ),
    ),
)
