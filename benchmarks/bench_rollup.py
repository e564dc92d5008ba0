"""Rollup CPU per record as history grows: does a pass cost what arrived, or what is stored?

N series (5 operations per service, one instance each) ship a 10 s window every 10 s of
simulated time through the ingest path (validation and ``write_batch``, as
``POST /api/v1/ingest`` does, one batch per 10 s for the whole fleet); one window in 100
arrives five minutes late. The clock is compressed: windows are stamped as fast as they can
be stored. Every ``--interval`` simulated seconds (the server's ``--rollup-interval``) a
rollup pass runs, and its CPU time (``time.process_time``, which includes the store's
writer thread) is divided by the records ingested since the last pass.

Reported: the mean rollup CPU per record over the passes of the hours ending at simulated
hours 1, 6 and 24 (or ``--hours``). Flat means a pass costs what arrived since the last one.

    python -m benchmarks.bench_rollup [--series 20] [--interval 300] [--hours 1,6,24]
        [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.databases import database
from mlvitals.server.database import open_database
from mlvitals.server.ingest import validate_envelope
from mlvitals.server.serving.rollup import roll_up
from mlvitals.sketches import QuantileSketch

T0 = 1_767_225_600.0  # on an hour boundary
LATE_EVERY = 100
LATE_BY = 300.0


def sketches(count: int, rng: random.Random) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Latency and CPU sketches of a few hundred calls each, as the SDK ships them."""
    out = []
    for _ in range(count):
        lat, cpu = QuantileSketch(), QuantileSketch()
        for _ in range(300):
            x = rng.lognormvariate(-3.5, 0.7)
            lat.add(x)
            cpu.add(x / 3)
        out.append((lat.to_dict(packed=True), cpu.to_dict(packed=True)))
    return out


def window(i: int, start: float, sketch: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    lat, cpu = sketch
    return {
        "kind": "serving_window",
        "service": f"svc-{i // 5}",
        "version": "1.0",
        "operation": f"op-{i % 5}",
        "instance": f"pod-{i}",
        "start": start,
        "length": 10.0,
        "calls": 300,
        "failures": {},
        "client_errors": 0,
        "latency": lat,
        "cpu": cpu,
        "cpu_seconds": 1.5,
        "peak_in_flight": 3,
    }


def run(url: str, series: int, interval: float, hours: list[int]) -> dict[int, float]:
    rng = random.Random(1)
    pool = sketches(16, rng)
    store = open_database(url)
    per_record: dict[int, list[float]] = {h: [] for h in hours}
    held: list[tuple[float, dict[str, Any]]] = []
    since_pass = 0
    sent = 0
    steps = int(max(hours) * 3600 / 10)
    per_pass = int(interval / 10)
    for step in range(1, steps + 1):
        now = T0 + 10 * step
        records = []
        for i in range(series):
            record = window(i, now - 10, pool[(step + i) % len(pool)])
            sent += 1
            if sent % LATE_EVERY == 0:
                held.append((now + LATE_BY, record))
            else:
                records.append(record)
        records += [r for due, r in held if due <= now]
        held = [(due, r) for due, r in held if due > now]
        validated = validate_envelope({"batch_id": str(uuid.uuid4()), "records": records}, now)
        store.write_batch(validated.batch)
        since_pass += len(records)
        if step % per_pass == 0:
            c0 = time.process_time()
            roll_up(store, now + 1)
            cpu = time.process_time() - c0
            hour = int((now - T0 - 1) // 3600) + 1  # the simulated hour this pass is in
            if hour in per_record:
                per_record[hour].append(cpu / max(since_pass, 1))
            since_pass = 0
    store.close()
    return {h: statistics.mean(v) for h, v in per_record.items() if v}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=20)
    parser.add_argument("--interval", type=float, default=300.0, help="simulated seconds")
    parser.add_argument("--hours", default="1,6,24")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args(argv)
    hours = sorted(int(h) for h in args.hours.split(","))
    started = time.perf_counter()
    with database(args.backend) as url:
        result = run(url, args.series, args.interval, hours)
    print(
        f"{args.backend}; {args.series} series of 10 s windows; a pass every "
        f"{args.interval:.0f} simulated s; {time.perf_counter() - started:.0f} s wall"
    )
    print()
    print("| simulated hour | rollup CPU per record (us) |")
    print("|---:|---:|")
    for hour, cpu in result.items():
        print(f"| {hour} | {cpu * 1e6:.1f} |")


if __name__ == "__main__":
    main()
