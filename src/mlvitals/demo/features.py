"""The demo's scheduled feature pipeline, ``tumour-features``: one run, and its history.

A run has three steps that do real file work in the demo folder (see
:mod:`mlvitals.demo.files`): ``extract`` writes two CSV parts, ``validate`` keeps the
complete rows in one CSV, ``featurize`` writes the feature table as Parquet. Each step
describes what it read and wrote, so the server learns the usual rows, bytes and files of
every step, and flags a run that writes far fewer rows.

The same function makes the backfilled history (a :class:`~mlvitals.demo.sim.SimClock`
moved by the steps) and the live runs (the wall clock, the steps really wait).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlvitals.demo import files
from mlvitals.demo.sim import SimClock, SimMeter
from mlvitals.pipelines import Environment, PipelineConfig, Run, RunTracker
from mlvitals.pipelines.schedule import previous_nominal

PIPELINE = "tumour-features"
NORMAL_ROWS = 400
FEW_ROWS = 24  # what the short extract writes: far below the usual 400
STEP_SHARES = (("extract", 0.45), ("validate", 0.2), ("featurize", 0.35))
CPU_CORES = 0.8  # what a feature run keeps busy
RSS_BYTES = 350 * 1024**2


def normal_rows(rng: np.random.Generator) -> int:
    """A usual extract: 400 rows, give or take 4 %."""
    return int(NORMAL_ROWS + rng.integers(-16, 17))


def run_folder(parent: Path, slot: float) -> Path:
    return parent / f"{slot:.0f}"


def feature_run(
    tracker: RunTracker,
    folder: Path,
    slot: float,
    rows: int,
    run_seconds: float,
    wait: Callable[[float], object],
    rng: np.random.Generator,
    *,
    scale: Mapping[str, float] | None = None,
    checker: Callable[[Path, str, str], object] | None = None,
) -> Run:
    """One run for the nominal time ``slot``, writing under ``folder``; ``wait(seconds)``
    lets the step's time pass (the simulated clock's ``advance``, or a real wait).

    ``scale`` multiplies measurements of the extract (a drifted batch); ``checker(batch,
    run_id, step_id)`` checks the validated batch in the ``validate`` step."""
    folder.mkdir(parents=True, exist_ok=True)
    share = dict(STEP_SHARES)
    with tracker.run(PIPELINE, kind="data", trigger="schedule", scheduled_at=slot) as run:
        with run.step("extract") as s:
            s.input("warehouse.biopsies")
            raw = files.write_raw(folder, rows, rng, scale)
            wait(share["extract"] * run_seconds)
            s.output(raw, name="biopsies/raw")
        with run.step("validate") as s:
            s.input(raw, name="biopsies/raw")
            clean = files.validate(raw, folder / "clean.csv")
            if checker is not None:
                checker(clean, run.id, s.id)
            wait(share["validate"] * run_seconds)
            s.output(clean, name="biopsies/clean.csv")
        with run.step("featurize") as s:
            s.input(clean, name="biopsies/clean.csv")
            table = files.featurize(clean, folder / "features.parquet")
            wait(share["featurize"] * run_seconds)
            s.output(table, name="biopsies/features.parquet")
    return run


def config(cron: str, grace: float) -> PipelineConfig:
    return PipelineConfig(PIPELINE, schedule=cron, grace_seconds=grace, history=20)


def history_slots(cron: str, run_seconds: float, count: int, until: float) -> list[float]:
    """The last ``count`` slots whose runs had ended by ``until``."""
    return previous_nominal(cron, "UTC", until - run_seconds, count)


def history(
    parent: Path,
    slots: Sequence[float],
    cron: str,
    grace: float,
    run_seconds: float,
    environment: Environment,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """Records of a good run at each of ``slots``, after the pipeline's declaration."""
    # Declared just before its first slot, so every slot from there on is judged.
    records: list[dict[str, Any]] = [config(cron, grace).to_wire(slots[0] - 1.0)]
    for slot in slots:
        clock = SimClock(slot + float(rng.uniform(0.05, 0.4)))
        meter = SimMeter(clock, cpu_cores=CPU_CORES, rss_bytes=RSS_BYTES)
        tracker = RunTracker(
            records.append, clock=clock, environment=lambda: environment, meter=meter
        )
        seconds = run_seconds * float(rng.uniform(0.97, 1.08))
        folder = run_folder(parent, slot)
        feature_run(tracker, folder, slot, normal_rows(rng), seconds, clock.advance, rng)
    return records
