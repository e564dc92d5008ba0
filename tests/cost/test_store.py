"""Cost from the store, on SQLite and PostgreSQL: seeded windows and samples against hand
computation, rollups against raw rows, downtime, rate changes, runs and datasets."""

from __future__ import annotations

import pytest

from mlvitals.cost.budgets import Budget
from mlvitals.cost.config import DEFAULT_CONFIG, parse_config
from mlvitals.cost.report import breakdown, idle_share
from mlvitals.cost.serving import serving_lines
from mlvitals.server.cost.queries import (
    all_budgets,
    cost_report,
    delete_budget,
    report_dict,
    save_budget,
    stored_budgets,
)
from mlvitals.server.cost.usage import roll_up_cost, rollup_state, serving_usage
from mlvitals.store import Store
from tests.cost.conftest import GIB, T, seed_instance, seed_windows

CPU, RAM, A10G = 0.031611, 0.004237, 0.8118
H, DAY = 3600.0, 86400.0


def seed_two_hours(store: Store) -> None:
    """One A10G instance with 2 cores and 4 GiB, up from T to T + 2 h, serving two
    operations every 10 s."""
    seed_instance(store, T, T + 2 * H, gpus=("NVIDIA A10G",))
    seed_windows(
        store, T, T + 2 * H, operation="predict", calls=50, cpu_seconds=1.0, gpu_busy_seconds=2.0
    )
    seed_windows(store, T, T + 2 * H, operation="explain", calls=10, cpu_seconds=0.5)


def test_service_cost_matches_hand_computation(store: Store) -> None:
    seed_two_hours(store)
    report = cost_report(store, DEFAULT_CONFIG, T, T + DAY, now=T + 6 * H)
    # Allocated: 4 core-h, 8 GiB-h, 2 A10G-h. Used: 0.3 core-h, 2 GiB-h (RSS 1 GiB), 0.4 GPU-h.
    total = 4 * CPU + 8 * RAM + 2 * A10G
    idle = 3.7 * CPU + 6 * RAM + 1.6 * A10G
    assert report.total == pytest.approx(total)
    assert idle_share(report.lines) == pytest.approx(idle / total)
    data = report_dict(report, "operation")
    per_call = {p["operation"]: p for p in data["per_call"]}
    assert per_call["predict"]["calls"] == 720 * 50
    predict = 0.2 * CPU + 3.7 * 2 / 3 * CPU + 8 * 2 / 3 * RAM + 0.4 * A10G + 1.6 * 2 / 3 * A10G
    assert per_call["predict"]["per_1k_calls"] == pytest.approx(1000 * predict / 36000)
    assert data["warnings"] == []
    assert rollup_state(store) is not None  # the query rolled up first


def test_rollups_and_raw_rows_give_the_same_cost(store: Store) -> None:
    seed_two_hours(store)
    seed_instance(store, T + DAY - H, T + DAY + H, instance="pod-2", cores=1.0)
    start, end = T - H, T + 2 * DAY

    def lines() -> list[dict[str, object]]:
        instances, operations = serving_usage(store, start, end)
        result = serving_lines(instances, operations, DEFAULT_CONFIG, start=start, end=end)
        return breakdown(result.lines, "day") + breakdown(result.lines, "operation")

    raw = lines()
    assert roll_up_cost(store, T + 3 * DAY) > 0
    state = rollup_state(store)
    assert state is not None and state.rolled_until == T + 3 * DAY
    rolled = lines()
    assert [r.keys() for r in rolled] == [r.keys() for r in raw]
    for a, b in zip(rolled, raw, strict=True):
        assert a == {k: pytest.approx(v) if isinstance(v, float) else v for k, v in b.items()}
    # pod-2 crosses midnight: one hour on each day.
    days = {r["day"]: r["amount"] for r in rolled if "day" in r}
    assert days["2026-11-03"] == pytest.approx(1 * CPU + 4 * RAM)


def test_a_gap_longer_than_the_limit_is_downtime(store: Store) -> None:
    seed_instance(store, T, T + H)
    seed_instance(store, T + H + 600, T + 2 * H)  # 10 minutes without samples
    seed_instance(store, T + 2 * H + 30, T + 3 * H)  # 30 s: within the default gap
    report = cost_report(store, DEFAULT_CONFIG, T, T + DAY, now=T + DAY)
    cpu = breakdown(report.lines, "resource")[0]
    assert cpu["resource"] == "cpu"
    assert cpu["quantity"] == pytest.approx(2 * (3 * H - 600) / H)


def test_a_rate_change_splits_cost_and_never_rewrites_the_past(store: Store) -> None:
    seed_instance(store, T, T + 2 * H, memory=None, host_memory=None, rss=None)
    changed = parse_config(
        {"rates": [{"effective_from": "2026-11-02T01:00:00Z", "cpu_core_hour": 0.1}]}, "x"
    )
    report = cost_report(store, changed, T, T + DAY, now=T + 5 * H)
    cpu = sorted((x.start - T, x.end - T, x.rate, x.quantity) for x in report.lines)
    assert cpu == [(0.0, H, CPU, pytest.approx(2.0)), (H, 2 * H, 0.1, pytest.approx(2.0))]
    assert report.total == pytest.approx(2 * CPU + 2 * 0.1)
    # The first hour costs the same under either card.
    before = cost_report(store, DEFAULT_CONFIG, T, T + H, now=T + 5 * H).total
    after = cost_report(store, changed, T, T + H, now=T + 5 * H).total
    assert before == after == pytest.approx(2 * CPU)
    # Host memory is the fallback, and with neither the memory is unknown and warned about.
    assert any("memory allocation" in w for w in report.warnings)


def test_samples_later_than_the_tolerance_are_not_counted(store: Store) -> None:
    seed_instance(store, T, T + H)
    roll_up_cost(store, T + 5 * H, late_seconds=2 * H)  # hours before T + 3 h are final
    seed_instance(store, T + 3 * H, T + 4 * H, instance="late-ok")
    seed_instance(store, T + H, T + 2 * H, instance="too-late")
    report = cost_report(store, DEFAULT_CONFIG, T, T + 5 * H, now=T + 5 * H + 120)
    assert {x.instance for x in report.lines} == {"pod-1", "late-ok"}


def test_runs_and_dataset_storage_are_read_from_the_pipeline_tables(store: Store) -> None:
    def run_event(run: str, event: str, t: float, **resources: float) -> dict[str, object]:
        row: dict[str, object] = {
            "run_id": run,
            "event": event,
            "time": t,
            "pipeline": "train",
            "namespace": "",
            "source": "sdk",
            "batch_id": "seed",
            "cpu_seconds": None,
            "peak_rss_bytes": None,
            "gpu_seconds": None,
            "wall_seconds": None,
        }
        row.update(resources)
        return row

    store.insert(
        "run_events",
        [
            run_event("r1", "start", T),
            run_event(
                "r1",
                "complete",
                T + 2 * H,
                cpu_seconds=3 * H,
                peak_rss_bytes=2 * GIB,
                gpu_seconds=0.0,
                wall_seconds=2 * H,
            ),
        ],
    )
    store.insert(
        "run_events",
        [run_event("r0", "complete", T - 10 * DAY, cpu_seconds=1.0, wall_seconds=60.0)],
    )
    store.insert(
        "dataset_refs",
        [
            {
                "run_id": "r1",
                "step_id": "s1",
                "direction": "output",
                "event": "complete",
                "time": T + 2 * H,
                "namespace": "s3://lake",
                "name": "features",
                "bytes": 73 * GIB,
                "files_truncated": 0,
                "batch_id": "seed",
            }
        ],
    )
    report = cost_report(store, DEFAULT_CONFIG, T, T + DAY, now=T + DAY)
    runs = [x for x in report.lines if x.category == "run"]
    assert {x.run for x in runs} == {"r1"}
    assert sum(x.amount for x in runs) == pytest.approx(3 * CPU + 2 * 2 * RAM)
    stored = [x for x in report.lines if x.category == "storage"]
    assert {(x.dataset, x.pipeline) for x in stored} == {("s3://lake/features", "train")}
    assert sum(x.amount for x in stored) == pytest.approx(73 * 22 / 730 * 0.023)
    by_pipeline = report_dict(report, "pipeline")["groups"]
    assert by_pipeline[0]["pipeline"] == "train"
    only = cost_report(store, DEFAULT_CONFIG, T, T + DAY, now=T + DAY, pipeline="other")
    assert only.lines == ()


def test_budgets_set_through_the_api_are_stored(store: Store) -> None:
    save_budget(store, Budget("iris", 10.0, "daily", "service", "iris"), T)
    save_budget(store, Budget("iris", 20.0, "monthly", "service", "iris"), T + 1)
    save_budget(store, Budget("all", 99.0), T)
    assert stored_budgets(store) == [
        Budget("all", 99.0),
        Budget("iris", 20.0, "monthly", "service", "iris"),
    ]
    from_file = [Budget("all", 5.0, "daily")]
    assert [b.limit for b in all_budgets(store, from_file)] == [5.0, 20.0]
    assert delete_budget(store, "all") and not delete_budget(store, "all")
