"""Hosting and inference cost of model services, checked against hand computation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlvitals.cost.config import DEFAULT_CONFIG, parse_config
from mlvitals.cost.report import allocations, breakdown, idle_share
from mlvitals.cost.serving import InstanceUsage, OperationUsage, per_call, serving_lines
from tests.cost.conftest import GIB, T

CPU, RAM, A10G = 0.031611, 0.004237, 0.8118
H = 3600.0


def instance(hours: float = 2.0, **kw: object) -> InstanceUsage:
    up = hours * H
    fields: dict[str, object] = {
        "up_seconds": up,
        "core_seconds": 2 * up,
        "memory_byte_seconds": 4 * GIB * up,
        "rss_byte_seconds": 1 * GIB * up,
        "gpus": ("NVIDIA A10G",),
    }
    fields.update(kw)
    return InstanceUsage("iris", "1", "pod-1", T, T + up, **fields)  # type: ignore[arg-type]


def op(name: str, calls: int, cpu: float, gpu: float = 0.0, hours: float = 2.0) -> OperationUsage:
    return OperationUsage("iris", "1", name, "pod-1", T, T + hours * H, calls, cpu, gpu)


def test_hosting_is_allocation_times_uptime_and_idle_is_the_unused_rest() -> None:
    ops = [op("predict", 36000, cpu=720.0, gpu=1440.0), op("explain", 7200, cpu=360.0)]
    result = serving_lines([instance()], ops, DEFAULT_CONFIG)
    # Allocated over 2 h: 4 core-h, 8 GiB-h, 2 A10G-h; used: 0.3 core-h, 2 GiB-h, 0.4 GPU-h.
    assert result.amount == pytest.approx(4 * CPU + 8 * RAM + 2 * A10G)
    idle = 3.7 * CPU + 6 * RAM + 1.6 * A10G
    assert sum(x.amount for x in result.lines if x.idle) == pytest.approx(idle)
    assert idle_share(result.lines) == pytest.approx(idle / (4 * CPU + 8 * RAM + 2 * A10G))
    assert result.warnings == ()

    by_resource = {g["resource"]: g for g in breakdown(result.lines, "resource")}
    assert by_resource["cpu"]["quantity"] == pytest.approx(4.0)
    assert by_resource["ram"]["quantity"] == pytest.approx(8.0)
    assert by_resource["gpu"]["quantity"] == pytest.approx(2.0)
    assert {x.sku for x in result.lines if x.resource == "gpu"} == {"A10G"}

    (alloc,) = allocations(result.lines)
    assert alloc["cpuCoreHours"] == pytest.approx(4.0)
    assert alloc["ramByteHours"] == pytest.approx(8.0 * GIB)
    assert alloc["gpuHours"] == pytest.approx(2.0)
    assert alloc["cpuEfficiency"] == pytest.approx(0.3 / 4)
    assert alloc["gpuEfficiency"] == pytest.approx(0.4 / 2)


def test_operations_share_hosting_by_cpu_seconds() -> None:
    ops = [op("predict", 36000, cpu=720.0, gpu=1440.0), op("explain", 7200, cpu=360.0)]
    result = serving_lines([instance()], ops, DEFAULT_CONFIG)
    rows = {r["operation"]: r for r in per_call(result.lines, ops)}
    # predict: its own CPU and GPU time, 2/3 of memory and of idle CPU and GPU.
    predict = 0.2 * CPU + 3.7 * 2 / 3 * CPU + 8 * 2 / 3 * RAM + 0.4 * A10G + 1.6 * 2 / 3 * A10G
    explain = 0.1 * CPU + 3.7 / 3 * CPU + 8 / 3 * RAM + 1.6 / 3 * A10G
    assert rows["predict"]["amount"] == pytest.approx(predict)
    assert rows["explain"]["amount"] == pytest.approx(explain)
    assert rows["predict"]["per_call"] == pytest.approx(predict / 36000)
    assert rows["explain"]["per_1k_calls"] == pytest.approx(1000 * explain / 7200)
    assert predict + explain == pytest.approx(result.amount)


def test_without_cpu_time_calls_decide_the_shares() -> None:
    ops = [op("a", 300, cpu=0.0), op("b", 100, cpu=0.0)]
    result = serving_lines([instance(gpus=())], ops, DEFAULT_CONFIG)
    rows = {r["operation"]: r["amount"] for r in per_call(result.lines, ops)}
    total = 4 * CPU + 8 * RAM
    assert rows == pytest.approx({"a": 0.75 * total, "b": 0.25 * total})


def test_an_instance_without_calls_is_all_idle_and_unattributed() -> None:
    result = serving_lines([instance(gpus=())], [], DEFAULT_CONFIG)
    assert {(x.operation, x.version) for x in result.lines} == {("", "1")}
    assert result.amount == pytest.approx(4 * CPU + 8 * RAM)
    # Memory in use (RSS) is not idle even with no calls.
    assert idle_share(result.lines) == pytest.approx((4 * CPU + 6 * RAM) / (4 * CPU + 8 * RAM))


def test_use_above_the_allocation_is_billed_as_used() -> None:
    # 2 cores for 2 h, but 5 core-hours of CPU time measured (allocation reported too low).
    result = serving_lines([instance(gpus=())], [op("p", 10, cpu=5 * H)], DEFAULT_CONFIG)
    cpu = [x for x in result.lines if x.resource == "cpu"]
    assert [(x.quantity, x.idle) for x in cpu] == [(pytest.approx(5.0), False)]


def test_a_day_boundary_and_a_rate_change_split_the_lines() -> None:
    cfg = parse_config(
        {"rates": [{"effective_from": "2026-11-02T06:00:00Z", "cpu_core_hour": 0.05}]}, "x"
    )
    # 12 h of one core from 2026-11-01 18:00 to 2026-11-02 06:00 and 6 h after the change.
    start, up = T - 6 * H, 18 * H
    inst = InstanceUsage("iris", "1", "pod-1", start, start + up, up, core_seconds=up)
    result = serving_lines([inst], [], cfg)
    periods = [(x.start - T, x.end - T, x.rate, x.quantity) for x in result.lines]
    assert periods == [
        (-6 * H, 0.0, CPU, pytest.approx(6.0)),
        (0.0, 6 * H, CPU, pytest.approx(6.0)),
        (6 * H, 12 * H, 0.05, pytest.approx(6.0)),
    ]
    assert result.amount == pytest.approx(12 * CPU + 6 * 0.05)


def test_overrides_replace_reported_allocations() -> None:
    cfg = parse_config(
        {"allocations": [{"service": "iris", "cpu_cores": 8, "memory_gib": 1, "gpus": []}]}, "x"
    )
    result = serving_lines([instance()], [], cfg)
    assert result.amount == pytest.approx(16 * CPU + 2 * RAM)


def test_unknown_allocations_and_missing_samples_are_warned_about() -> None:
    inst = instance(gpus=(), core_seconds=0.0, cores_unknown_seconds=2 * H)
    ops = [op("p", 10, cpu=H), OperationUsage("iris", "1", "p", "pod-2", T, T + H, 5, 0.5 * H)]
    result = serving_lines([inst], ops, DEFAULT_CONFIG)
    cpu = sum(x.quantity for x in result.lines if x.resource == "cpu")
    assert cpu == pytest.approx(1.5)  # measured use only, where the allocation is unknown
    assert any("CPU allocation of instance 'pod-1'" in w for w in result.warnings)
    assert any("'pod-2' of service 'iris' sent no instance samples" in w for w in result.warnings)


def test_managed_endpoints_are_billed_per_thousand_calls() -> None:
    cfg = parse_config({"rates": [{"per_1k_calls": {"iris": 0.4}}]}, "x")
    ops = [op("p", 2500, cpu=0.0)]
    calls = [x for x in serving_lines([], ops, cfg).lines if x.resource == "calls"]
    assert [(x.quantity, x.amount) for x in calls] == [(2.5, pytest.approx(1.0))]


@settings(max_examples=60, deadline=None)
@given(
    cores=st.floats(0.1, 64),
    up_h=st.floats(0.01, 72),
    cpu_shares=st.lists(st.floats(0, 1e5), min_size=1, max_size=5),
    offset_h=st.floats(-48, 48),
)
def test_total_is_billed_allocation_whatever_the_split(
    cores: float, up_h: float, cpu_shares: list[float], offset_h: float
) -> None:
    """However usage is spread over operations and days, the lines sum to the billed
    allocation, max(allocated, used), per resource."""
    start = T + offset_h * H
    inst = InstanceUsage("s", "v", "i", start, start + up_h * H, up_h * H, cores * up_h * H)
    ops = [
        OperationUsage("s", "v", f"op{k}", "i", start, start + up_h * H, 1, c)
        for k, c in enumerate(cpu_shares)
    ]
    result = serving_lines([inst], ops, DEFAULT_CONFIG)
    billed = max(cores * up_h, sum(cpu_shares) / H)
    assert result.amount == pytest.approx(billed * CPU, rel=1e-9)
    assert all(x.amount >= 0 and x.end > x.start for x in result.lines)
