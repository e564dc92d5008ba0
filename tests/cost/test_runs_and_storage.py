"""Run cost (max of requested and used) and dataset storage cost, against hand computation."""

from __future__ import annotations

import pytest

from mlvitals.cost.config import DEFAULT_CONFIG, Allocation, parse_config
from mlvitals.cost.runs import RunUsage, run_lines
from mlvitals.cost.storage import (
    DatasetStorage,
    EgressUsage,
    dataset_versions,
    egress_lines,
    storage_lines,
)
from tests.cost.conftest import GIB, T

CPU, RAM, A100, GPU_DEFAULT = 0.031611, 0.004237, 1.7555, 0.95
H, DAY = 3600.0, 86400.0


def test_a_run_whose_request_exceeds_its_use_pays_the_request() -> None:
    # 3 h, 8 cores and 32 GiB and 2 A100 requested; used 6 core-hours, 10 GiB peak, 1 GPU-hour.
    run = RunUsage(
        "r1",
        "train",
        T,
        T + 3 * H,
        cpu_seconds=6 * H,
        peak_rss_bytes=10 * GIB,
        gpu_seconds=1 * H,
        requested=Allocation(cpu_cores=8, memory_bytes=32 * GIB, gpus=("A100", "A100")),
    )
    result = run_lines([run], DEFAULT_CONFIG)
    assert result.amount == pytest.approx(24 * CPU + 96 * RAM + 6 * A100)
    idle = sum(x.amount for x in result.lines if x.idle)
    assert idle == pytest.approx(18 * CPU + 66 * RAM + 5 * A100)
    assert {(x.pipeline, x.run, x.category) for x in result.lines} == {("train", "r1", "run")}


def test_a_run_using_more_than_it_requested_pays_its_use() -> None:
    # Nothing requested: 2 h wall, 3 core-hours of CPU, 4 GiB peak, 30 GPU-minutes (no model).
    run = RunUsage(
        "r2", "etl", T, T + 2 * H, cpu_seconds=3 * H, peak_rss_bytes=4 * GIB, gpu_seconds=0.5 * H
    )
    result = run_lines([run], DEFAULT_CONFIG)
    assert result.amount == pytest.approx(3 * CPU + 8 * RAM + 0.5 * GPU_DEFAULT)
    assert not any(x.idle for x in result.lines)


def test_pipeline_requests_come_from_the_rate_card() -> None:
    cfg = parse_config({"allocations": [{"pipeline": "etl", "cpu_cores": 4}]}, "x")
    run = RunUsage("r3", "etl", T, T + H, cpu_seconds=H)
    cpu = [(x.quantity, x.idle) for x in run_lines([run], cfg).lines if x.resource == "cpu"]
    assert cpu == [(pytest.approx(1.0), False), (pytest.approx(3.0), True)]


def test_a_run_across_a_rate_change_is_split_at_it() -> None:
    cfg = parse_config(
        {"rates": [{"effective_from": "2026-11-02T01:00:00Z", "cpu_core_hour": 0.1}]}, "x"
    )
    run = RunUsage("r4", "etl", T, T + 4 * H, requested=Allocation(cpu_cores=1))
    result = run_lines([run], cfg)
    assert [(x.start - T, x.end - T, x.rate) for x in result.lines] == [
        (0.0, H, CPU),
        (H, 4 * H, 0.1),
    ]
    assert result.amount == pytest.approx(1 * CPU + 3 * 0.1)
    # The same run cut to a query period counts only what falls inside it.
    part = run_lines([run], cfg, start=T + 3 * H, end=T + 10 * H)
    assert part.amount == pytest.approx(0.1)


def test_dataset_versions_are_stored_until_replaced_or_retention_ends() -> None:
    cfg = parse_config(
        {"storage": [{"dataset": "warm.*", "class": "block", "retention_days": 10}]}, "x"
    )
    writes = [
        DatasetStorage("lake.events", 730 * GIB, T),
        DatasetStorage("lake.events", 2 * 730 * GIB, T + 5 * DAY),
        DatasetStorage("warm.features", 73 * GIB, T),
    ]
    versions = dataset_versions(writes)
    assert [(v.dataset, v.start - T, None if v.end is None else v.end - T) for v in versions] == [
        ("lake.events", 0.0, 5 * DAY),
        ("lake.events", 5 * DAY, None),
        ("warm.features", 0.0, None),
    ]
    result = storage_lines(versions, cfg, start=T, end=T + 20 * DAY)
    month_h = 730.0
    lake = 730 * 5 * 24 / month_h + 2 * 730 * 15 * 24 / month_h  # GiB-months
    warm = 73 * 10 * 24 / month_h  # block, kept 10 days
    by = {(x.dataset, x.resource) for x in result.lines}
    assert by == {("lake.events", "object_storage"), ("warm.features", "block_storage")}
    assert result.amount == pytest.approx(lake * 0.023 + warm * 0.08)


def test_egress_is_priced_per_gib() -> None:
    result = egress_lines([EgressUsage(50 * GIB, T, T + H, service="iris")], DEFAULT_CONFIG)
    assert result.amount == pytest.approx(50 * 0.12)
