"""Pipeline runs to seed a server with, made by the real SDK and sent through its HTTP sink.

``RunTracker`` takes its clock and its resource meter as arguments: a :class:`SeedClock`
places runs of the past hours on the timeline, and a :class:`SeedMeter` reports the CPU
time and memory a run "used" from that clock, so every duration, CPU-second and byte on
the pages is known here. Everything else is the real thing: the tracker makes the wire
records, ``describe()`` reads real CSV files written to a temporary folder (files, types,
bytes, rows, header), and ``HttpSink`` posts the records to the live server.

Seeded:

- ``orders-etl``, a data pipeline declared hourly (grace 5 min): ten hourly slots, one run
  started 20 minutes late, one slot missed, and one run whose extract step wrote 40 rows
  where every other run wrote 1,000 (a step anomaly). Steps: extract, transform (with a
  nested clean step) and load.
- ``fraud-retrain``, a training pipeline: a run that produced model 1.4.0, then a run that
  failed in its fit step after scikit-learn went from 1.4.2 to 1.5.0 between their
  environments.
- ``fraud-deploy``, a deployment run that put 1.4.0 on ``fraud-api`` as ``2024-06-01.1``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlvitals.pipelines import Environment, HttpSink, PipelineConfig, RunTracker
from mlvitals.pipelines.resources import ResourceMeter, Usage

HOUR = 3600.0
GIB = 1024**3
ETL = "orders-etl"
TRAIN = "fraud-retrain"
DEPLOY = "fraud-deploy"
GRACE = 300.0
NORMAL_ROWS = 1000
FEW_ROWS = 40
LATE_BY = 1200.0  # the late run started 20 minutes after its slot
CPU_SHARE = 0.5  # cores the seeded runs keep busy: CPU-seconds = 0.5 x wall seconds
PEAK_RSS = 768 * 1024**2

# Slots of the ETL, in hours before the current hour, and what happened in each.
NORMAL, LATE, MISSED, FEW = "normal", "late", "missed", "few"
ETL_PLAN = {
    9: NORMAL,
    8: NORMAL,
    7: NORMAL,
    6: NORMAL,
    5: NORMAL,
    4: NORMAL,
    3: LATE,
    2: MISSED,
    1: FEW,
    0: NORMAL,
}
STEP_SECONDS = {"extract": 60.0, "clean": 30.0, "transform": 90.0, "load": 20.0}

PACKAGES = {"numpy": "1.26.4", "pandas": "2.2.2", "scikit-learn": "1.4.2", "scipy": "1.13.0"}
GOOD_ENV = Environment("3.11.9", "cpython", "Linux-6.1-x86_64", PACKAGES)
BROKEN_ENV = Environment(
    "3.11.9", "cpython", "Linux-6.1-x86_64", {**PACKAGES, "scikit-learn": "1.5.0"}
)
FIT_ERROR = "Input X contains NaN: HistGradientBoostingClassifier got 312 rows with missing values"
MODEL_VERSION = "1.4.0"
SERVICE, SERVING_VERSION = "fraud-api", "2024-06-01.1"


class SeedClock:
    """A clock the seeder moves: ``now`` is set, ``advance`` adds seconds."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _Window:
    def __init__(self, clock: SeedClock) -> None:
        self._clock = clock
        self._t0 = clock()

    def close(self) -> Usage:
        wall = self._clock() - self._t0
        return Usage(CPU_SHARE * wall, PEAK_RSS, None, wall)


class SeedMeter(ResourceMeter):
    """Reports ``CPU_SHARE`` cores and ``PEAK_RSS`` bytes over the seed clock's time."""

    def __init__(self, clock: SeedClock) -> None:
        super().__init__(gpu=False)
        self._clock = clock

    def open(self) -> Any:  # a window with the real one's close() -> Usage
        return _Window(self._clock)


@dataclass
class SeededRun:
    run_id: str
    pipeline: str
    slot: float | None
    started: float
    state: str
    rows: int | None = None  # rows each step of an ETL run wrote
    folder: Path | None = None  # where an ETL run's files are
    plan: str = ""


@dataclass
class Seeded:
    """What was sent, for the tests to compare the pages with."""

    now: float
    runs: list[SeededRun] = field(default_factory=list)

    slots: list[float] = field(default_factory=list)  # every nominal time of the ETL

    def of(self, pipeline: str) -> list[SeededRun]:
        return [r for r in self.runs if r.pipeline == pipeline]

    def only(self, pipeline: str, state: str) -> SeededRun:
        (found,) = [r for r in self.runs if r.pipeline == pipeline and r.state == state]
        return found

    def etl(self, plan: str) -> list[SeededRun]:
        return [r for r in self.runs if r.pipeline == ETL and r.plan == plan]

    def slot_of(self, plan: str) -> float:
        """The nominal time of the one slot with that plan (e.g. the missed one)."""
        (k,) = [k for k, what in ETL_PLAN.items() if what == plan]
        return self.slots[0] + (max(ETL_PLAN) - k) * HOUR


def _write_csv(path: Path, rows: int, start: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["order_id", "customer", "amount"])
        for i in range(start, start + rows):
            writer.writerow([i, f"c{i % 97}", f"{(i * 7) % 500 / 10:.2f}"])


def _etl_run(
    sink: HttpSink, clock: SeedClock, folder: Path, slot: float, start: float, rows: int
) -> SeededRun:
    records: list[dict[str, Any]] = []
    tracker = RunTracker(
        records.append, clock=clock, environment=lambda: GOOD_ENV, meter=SeedMeter(clock)
    )
    clock.now = start
    raw = folder / "raw"
    # Two part files, as a Spark job would write them.
    _write_csv(raw / "part-00000.csv", rows // 2)
    _write_csv(raw / "part-00001.csv", rows - rows // 2, start=rows // 2)
    features = folder / "features.csv"
    _write_csv(features, rows)
    with tracker.run(ETL, kind="data", trigger="schedule", scheduled_at=slot) as run:
        with run.step("extract") as s:
            s.input("warehouse.orders")
            s.output(raw, name="orders/raw")
            clock.advance(STEP_SECONDS["extract"])
        with run.step("transform") as s:
            s.input(raw, name="orders/raw")
            with run.step("clean"):
                clock.advance(STEP_SECONDS["clean"])
            clock.advance(STEP_SECONDS["transform"] - STEP_SECONDS["clean"])
            s.output(features, name="orders/features.csv")
        with run.step("load") as s:
            s.input(features, name="orders/features.csv")
            s.output("warehouse.order_features", rows=rows)
            clock.advance(STEP_SECONDS["load"])
    assert sink.send(records), "the server did not accept the run's records"
    return SeededRun(run.id, ETL, slot, start, run.state, rows, folder)


def _training_run(
    sink: HttpSink, clock: SeedClock, start: float, env: Environment, fail: bool
) -> SeededRun:
    records: list[dict[str, Any]] = []
    tracker = RunTracker(
        records.append, clock=clock, environment=lambda: env, meter=SeedMeter(clock)
    )
    clock.now = start
    spec = tracker.run(TRAIN, kind="training", trigger="drift_alert", scheduled_at=start - 40)
    try:
        with spec as run:
            with run.step("load-data") as s:
                s.input("warehouse.order_features", rows=NORMAL_ROWS)
                clock.advance(45.0)
            with run.step("fit"):
                clock.advance(600.0)
                if fail:
                    raise ValueError(FIT_ERROR)
            run.set_model_version(MODEL_VERSION)
    except ValueError:
        pass
    assert sink.send(records), "the server did not accept the run's records"
    return SeededRun(run.id, TRAIN, None, start, run.state)


def _deploy_run(sink: HttpSink, clock: SeedClock, start: float) -> SeededRun:
    records: list[dict[str, Any]] = []
    tracker = RunTracker(records.append, clock=clock, environment=False, meter=SeedMeter(clock))
    clock.now = start
    with tracker.run(DEPLOY, kind="deployment", trigger="upstream") as run:
        run.set_model_version(MODEL_VERSION)
        run.set_deployment(SERVICE, SERVING_VERSION)
        with run.step("roll-out"):
            clock.advance(120.0)
    assert sink.send(records), "the server did not accept the run's records"
    return SeededRun(run.id, DEPLOY, None, start, run.state)


def schedule_for(now: float) -> tuple[str, float]:
    """An hourly cron whose latest time is 20 to 21 minutes before ``now``, and that time:
    the latest slot's run has ended by ``now`` and the next slot is 40 minutes away, at
    whatever minute the tests run."""
    minute = int(((now - 1200.0) % HOUR) // 60)
    last = math.floor((now - minute * 60.0) / HOUR) * HOUR + minute * 60.0
    return f"{minute} * * * *", last


def seed_pipelines(url: str, folder: Path, now: float) -> Seeded:
    """Send every run above to the server at ``url``; files go under ``folder``."""
    sink = HttpSink(url, retries=0)
    cron, hour = schedule_for(now)
    config = PipelineConfig(ETL, schedule=cron, grace_seconds=GRACE)
    # Declared a minute before its first slot (``declare()`` would date it now; the wire
    # record it sends carries the time): every slot from the first one on is judged.
    first_slot = hour - max(ETL_PLAN) * HOUR
    assert sink.send([config.to_wire(first_slot - 60.0)])
    clock = SeedClock(now)
    seeded = Seeded(now, slots=[hour - k * HOUR for k in sorted(ETL_PLAN, reverse=True)])
    for k, what in ETL_PLAN.items():
        slot = hour - k * HOUR
        if what == MISSED:
            continue
        start = slot + (LATE_BY if what == LATE else 30.0 + k)
        rows = FEW_ROWS if what == FEW else NORMAL_ROWS
        run = _etl_run(sink, clock, folder / f"etl-{k}", slot, start, rows)
        run.plan = what
        seeded.runs.append(run)
    seeded.runs.append(_training_run(sink, clock, hour - 5 * HOUR + 600, GOOD_ENV, fail=False))
    seeded.runs.append(_deploy_run(sink, clock, hour - 5 * HOUR + 1500))
    seeded.runs.append(_training_run(sink, clock, hour - 2 * HOUR + 900, BROKEN_ENV, fail=True))
    return seeded
