"""Usage to seed a server with for the Cost page, and the cost it must come to by hand.

Two model-service instances report an instance sample every 10 seconds for the last 80
minutes (allocated cores and memory, a steady RSS) and a serving window for every 10
seconds between; a training run made by the real SDK ran for an hour. With the round rates
of :data:`RATE_CARD`, what each costs is arithmetic:

- an instance is up from its first to its last sample (consecutive samples are 10 s apart,
  under the 30 s gap that would mean downtime), and is billed for what it was allocated:
  up hours × (cores × CPU rate + GiB × memory rate); idle is what its calls and its RSS
  did not use of that;
- the run is billed for what it used (no request is configured for it): CPU-seconds / 3600
  × CPU rate + peak RSS in GiB × hours × memory rate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from mlvitals.pipelines import HttpSink, RunTracker
from mlvitals.sketches import QuantileSketch

from .pipelines_seed import CPU_SHARE, PEAK_RSS, SeedClock, SeedMeter

CPU_RATE = 0.05  # per core-hour
RAM_RATE = 0.01  # per GiB-hour
RATE_CARD = f"""\
currency: USD
rates:
  - cpu_core_hour: {CPU_RATE}
    ram_gib_hour: {RAM_RATE}
"""
GIB = 1024**3
STEP = 10.0
SPAN = 80 * 60.0
TRAIN = "nightly-train"
TRAIN_SECONDS = 3600.0


@dataclass(frozen=True)
class Instance:
    service: str
    version: str
    operation: str
    instance: str
    cores: float
    memory_gib: float
    rss_gib: float
    calls: int  # per window
    cpu_seconds: float  # per window


INSTANCES = (
    Instance("fraud-api", "v1", "predict", "pod-1", 2.0, 4.0, 1.0, 20, 0.4),
    Instance("recommender", "v3", "rank", "rec-a", 1.0, 2.0, 0.5, 10, 0.3),
)


@dataclass
class SeededCost:
    """What was sent and what it costs, computed here by hand."""

    first: float
    samples: int  # per instance
    run_id: str

    @property
    def up_hours(self) -> float:
        return (self.samples - 1) * STEP / 3600.0

    def instance_amount(self, i: Instance) -> float:
        return self.up_hours * (i.cores * CPU_RATE + i.memory_gib * RAM_RATE)

    def instance_idle(self, i: Instance) -> float:
        windows = self.samples - 1
        cpu_idle_hours = i.cores * self.up_hours - windows * i.cpu_seconds / 3600.0
        ram_idle = (i.memory_gib - i.rss_gib) * self.up_hours
        return cpu_idle_hours * CPU_RATE + ram_idle * RAM_RATE

    def calls(self, i: Instance) -> int:
        return (self.samples - 1) * i.calls

    @property
    def run_amount(self) -> float:
        hours = TRAIN_SECONDS / 3600.0
        return CPU_SHARE * hours * CPU_RATE + PEAK_RSS / GIB * hours * RAM_RATE

    @property
    def total(self) -> float:
        return sum(self.instance_amount(i) for i in INSTANCES) + self.run_amount

    @property
    def idle(self) -> float:
        return sum(self.instance_idle(i) for i in INSTANCES)


def _records(i: Instance, first: float, samples: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for k in range(samples):
        t = first + k * STEP
        out.append(
            {
                "kind": "instance_sample",
                "service": i.service,
                "version": i.version,
                "instance": i.instance,
                "time": t,
                "cpu_percent": 5.0,
                "rss_bytes": int(i.rss_gib * GIB),
                "cpu_cores_allocated": i.cores,
                "memory_allocated_bytes": int(i.memory_gib * GIB),
            }
        )
        if k == samples - 1:
            break
        latency, cpu = QuantileSketch(), QuantileSketch()
        latency.add_many([0.02] * i.calls)
        cpu.add_many([i.cpu_seconds / i.calls] * i.calls)
        out.append(
            {
                "kind": "serving_window",
                "service": i.service,
                "version": i.version,
                "operation": i.operation,
                "instance": i.instance,
                "start": t,
                "length": STEP,
                "calls": i.calls,
                "failures": {},
                "latency": latency.to_dict(),
                "cpu": cpu.to_dict(),
                "cpu_seconds": i.cpu_seconds,
            }
        )
    return out


def _training_run(url: str, start: float) -> str:
    records: list[dict[str, Any]] = []
    clock = SeedClock(start)
    tracker = RunTracker(records.append, clock=clock, environment=False, meter=SeedMeter(clock))
    with tracker.run(TRAIN, kind="training", trigger="schedule") as run:
        with run.step("fit"):
            clock.advance(TRAIN_SECONDS)
        run.set_model_version("7.0.1")
    assert HttpSink(url, retries=0).send(records)
    return run.id


def seed_cost(url: str, now: float) -> SeededCost:
    """Send the usage above; the last sample is at least 10 s before ``now``."""
    samples = int(SPAN // STEP) + 1
    first = (now // STEP) * STEP - STEP - (samples - 1) * STEP
    records = [r for i in INSTANCES for r in _records(i, first, samples)]
    for k in range(0, len(records), 1000):
        batch = {"batch_id": str(uuid.uuid4()), "records": records[k : k + 1000]}
        reply = httpx.post(f"{url}/api/v1/ingest", json=batch, timeout=30)
        reply.raise_for_status()
        assert reply.json()["stored"] == len(batch["records"]), reply.text
    run_id = _training_run(url, now - TRAIN_SECONDS - 600.0)
    return SeededCost(first, samples, run_id)


def put_budget(url: str, name: str, **body: Any) -> None:
    reply = httpx.put(f"{url}/api/v1/cost/budgets/{name}", json=body, timeout=10)
    reply.raise_for_status()


def budget(url: str, name: str) -> dict[str, Any]:
    """One budget as ``GET /api/v1/cost/budgets`` reports it."""
    reply = httpx.get(f"{url}/api/v1/cost/budgets", timeout=10)
    reply.raise_for_status()
    (found,) = [b for b in reply.json()["budgets"] if b["name"] == name]
    return dict(found)
