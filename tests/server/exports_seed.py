"""Data of every area, made by the real SDK, for the tests of the server's ``/metrics``.

Every number the tests expect is stated here from the inputs (rows written to real files,
their sizes on disk, wall times × the seed meter's CPU share × the rate card's price), never
read back from the server.

Seeded, relative to ``now``:

- ``orders-etl`` (hourly, scheduled): a run 2h to 1h30 ago, then the last run, scheduled
  1h ago, started 5 minutes late and ran 30 minutes; it wrote two CSV files (1,000 and 250
  rows). A run 12 days ago (this month or last, as the calendar falls).
- ``fraud-retrain``: one run, 3h to 2h ago, failed.
- ``fraud-model``: one instance reporting 2 allocated cores for the hour before ``now - 10
  min``, and 30 calls of ``predict`` (3 of them failing).
- datasets: ``users`` checked against itself (passes), ``orders`` with ``amount`` shifted
  far past the reference (fails: drift in one of its two columns).
- a rules file: ``PipelineFailed`` (fires at once) and ``DataCheckFailing`` (``for: 1h``, so
  pending).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mlvitals import Monitor
from mlvitals.pipelines import RunTracker
from tests.browser.pipelines_seed import CPU_SHARE, SeedClock, SeedMeter
from tests.records import instance_sample

HOUR = 3600.0
CPU_RATE = 2.0  # per core-hour; every other rate is 0
CORES = 2.0  # allocated to the fraud-model instance
ETL, TRAIN, SERVICE = "orders-etl", "fraud-retrain", "fraud-model"
DELAY = 300.0
CALLS, FAILED_CALLS = 30, 3
BUDGET_LIMIT = 4.0

RATE_CARD = f"""
currency: EUR
rates:
  - cpu_core_hour: {CPU_RATE}
    ram_gib_hour: 0
    gpu_hour: {{default: 0}}
    block_storage_gib_month: 0
    object_storage_gib_month: 0
    egress_gib: 0
"""
BUDGETS = f"""
budgets:
  - {{name: etl-daily, limit: {BUDGET_LIMIT}, period: daily, scope: pipeline, subject: {ETL}}}
"""
RULES = """
rules:
  - name: PipelineFailed
    kind: pipeline
    condition: failed
    severity: critical
  - name: DataCheckFailing
    kind: check_failed
    for: 1h
    severity: warning
"""


@dataclass(frozen=True, slots=True)
class SeededRun:
    pipeline: str
    start: float
    end: float

    @property
    def cost(self) -> float:
        return CPU_SHARE * (self.end - self.start) / HOUR * CPU_RATE


@dataclass
class Seeded:
    now: float
    records: list[dict[str, Any]] = field(default_factory=list)
    runs: list[SeededRun] = field(default_factory=list)
    output_rows: int = 0
    output_bytes: int = 0
    uptime: tuple[float, float] = (0.0, 0.0)

    def run_cost(self, pipeline: str, start: float) -> float:
        """Cost of ``pipeline``'s runs over ``[start, now)``, in proportion to time."""
        total = 0.0
        for run in self.runs:
            if run.pipeline == pipeline:
                inside = max(0.0, min(run.end, self.now) - max(run.start, start))
                total += run.cost * inside / (run.end - run.start)
        return total

    def serving_cost(self, start: float) -> float:
        a, b = self.uptime
        return CORES * CPU_RATE * max(0.0, b - max(a, start)) / HOUR


def write_config(folder: Path) -> dict[str, str]:
    """The rate card, budgets and rules files; returns them as settings."""
    files = {"rate_card": RATE_CARD, "budgets_file": BUDGETS, "rules_file": RULES}
    out = {}
    for name, text in files.items():
        path = folder / f"{name}.yaml"
        path.write_text(text)
        out[name] = str(path)
    return out


def _csv(path: Path, rows: int) -> int:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["order_id", "amount"])
        writer.writerows([i, i * 1.5] for i in range(rows))
    return path.stat().st_size


def seed(now: float, folder: Path) -> Seeded:
    seeded = Seeded(now)
    clock = SeedClock(now)
    tracker = RunTracker(
        seeded.records.append, clock=clock, environment=False, meter=SeedMeter(clock)
    )

    def run(
        pipeline: str, start: float, end: float, body: Callable[[Any], None] | None = None
    ) -> None:
        clock.now = start
        scheduled = start - DELAY if body is not None else None
        try:
            with tracker.run(pipeline, scheduled_at=scheduled, trigger="schedule") as r:
                clock.now = end
                if body is not None:
                    body(r)
                if pipeline == TRAIN:
                    raise RuntimeError("fit failed")
        except RuntimeError:
            pass
        seeded.runs.append(SeededRun(pipeline, start, end))

    def write_outputs(r: Any) -> None:
        for name, rows in (("a.csv", 1000), ("b.csv", 250)):
            path = folder / name
            seeded.output_bytes += _csv(path, rows)
            seeded.output_rows += rows
            r.output(path)

    run(ETL, now - 12 * 24 * HOUR, now - 12 * 24 * HOUR + HOUR)
    run(TRAIN, now - 3 * HOUR, now - 2 * HOUR)
    run(ETL, now - 2 * HOUR, now - 1.5 * HOUR)
    run(ETL, now - HOUR + DELAY, now - HOUR + DELAY + 1800, write_outputs)

    start = now - 70 * 60
    t = start
    while t <= start + HOUR:
        sample = instance_sample(SERVICE, "pod-1", t)
        sample["cpu_cores_allocated"] = CORES
        seeded.records.append(sample)
        t += 10.0
    seeded.uptime = (start, start + HOUR)

    monitor = Monitor(
        SERVICE,
        "1.0",
        transport=_Keep(seeded.records),
        background=False,
        nvml=False,
        clock=lambda: now - 15 * 60,
    )
    for i in range(CALLS):
        try:
            with monitor.track("predict"):
                if i % 10 == 0:
                    raise ValueError("bad row")
        except ValueError:
            pass
    monitor.close()

    checker = Monitor(
        "etl", transport=_Keep(seeded.records), background=False, nvml=False, clock=lambda: now
    )
    users = pd.DataFrame({"age": [20, 30, 40, 50] * 50, "score": [0.1, 0.2, 0.3, 0.4] * 50})
    orders = pd.DataFrame({"amount": [10.0, 20.0, 30.0, 40.0] * 50, "qty": [1, 2, 3, 4] * 50})
    checker.check(users, reference=users, dataset="users")
    checker.check(orders.assign(amount=orders.amount + 1000), reference=orders, dataset="orders")
    checker.close()
    return seeded


class _Keep:
    def __init__(self, into: list[dict[str, Any]]) -> None:
        self.into = into

    def send(self, batch: list[dict[str, Any]]) -> None:
        self.into.extend(batch)

    def flush(self, timeout: float) -> bool:
        return True

    def close(self, timeout: float) -> bool:
        return True

    def after_fork(self) -> None:
        pass


def batches(records: list[dict[str, Any]], size: int = 200) -> list[dict[str, Any]]:
    import uuid

    return [
        {"batch_id": str(uuid.uuid4()), "records": records[i : i + size]}
        for i in range(0, len(records), size)
    ]


def floor_day(t: float) -> float:
    return math.floor(t / 86400) * 86400
