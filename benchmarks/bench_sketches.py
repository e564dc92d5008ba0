"""QuantileSketch against the ``ddsketch`` package: speed of add and merge, and accuracy.

Both sketches use relative accuracy 0.01 on the same lognormal "latencies". Timings are
interleaved in one process, ours then theirs, round after round on the same values, so load
on a shared machine hits both alike; the table gives medians over rounds, and the ratio is
the median of the per-round ratios. Accuracy is the largest relative error against NumPy's
exact order statistics (``method="lower"``).

    python -m benchmarks.bench_sketches [--values 100000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from ddsketch import DDSketch

from mlvitals.sketches import QuantileSketch

ALPHA = 0.01
QS = [0.5, 0.9, 0.95, 0.99, 0.999]


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def add_loop(make: Callable[[], Any], values: list[float]) -> Callable[[], Any]:
    def run() -> None:
        s = make()
        add = s.add
        for v in values:
            add(v)

    return run


def merge_parts(make: Callable[[], Any], parts: list[list[float]]) -> Callable[[], Any]:
    sketches = []
    for p in parts:
        s = make()
        for v in p:
            s.add(v)
        sketches.append(s)

    def run() -> None:
        total = make()
        for s in sketches:
            total.merge(s)

    return run


def max_relative_error(estimate: Callable[[float], float], data: np.ndarray) -> float:
    worst = 0.0
    for q in QS:
        true = float(np.quantile(data, q, method="lower"))
        worst = max(worst, abs(estimate(q) - true) / true)
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--values", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(7)
    data = rng.lognormal(mean=-4.0, sigma=1.0, size=args.values)
    values = data.tolist()
    chunk = values[:10_000]  # one round of adds: short, so both see the same machine load
    parts = [values[i : i + 1000] for i in range(0, min(len(values), 100_000), 1000)]

    def ours() -> QuantileSketch:
        return QuantileSketch(ALPHA)

    def theirs() -> DDSketch:
        return DDSketch(relative_accuracy=ALPHA)

    def add_many() -> None:
        ours().add_many(data)

    cases = {
        "add": (add_loop(ours, chunk), add_loop(theirs, chunk)),
        "merge": (merge_parts(ours, parts), merge_parts(theirs, parts)),
    }
    results: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in cases}
    batch: list[float] = []
    for _ in range(args.rounds):
        for name, (a, b) in cases.items():
            results[name][0].append(timed(a))
            results[name][1].append(timed(b))
        batch.append(timed(add_many))

    def row(name: str, scale: float, unit: str) -> None:
        a, b = results[name]
        ratio = statistics.median(y / x for x, y in zip(a, b, strict=True))
        print(
            f"| {label[name]} | {statistics.median(a) * scale:.0f} {unit} | "
            f"{statistics.median(b) * scale:.0f} {unit} | {ratio:.2f}x |"
        )

    n = len(values)
    label = {
        "add": "add, one value at a time",
        "merge": f"merge {len(parts)} sketches of 1,000 values",
    }
    print(f"{n:,} lognormal values, alpha={ALPHA}, {args.rounds} interleaved rounds, medians")
    print()
    print("| operation | mlvitals | ddsketch | ddsketch / mlvitals |")
    print("|---|---:|---:|---:|")
    row("add", 1e9 / len(chunk), "ns/value")
    row("merge", 1e6, "us")
    add_theirs = statistics.median(results["add"][1]) / len(chunk)
    per_value = statistics.median(batch) / n
    print(
        f"| add_many (NumPy batch of {n:,}) | {per_value * 1e9:.1f} ns/value | - | "
        f"{add_theirs / per_value:.1f}x vs ddsketch add |"
    )

    s_ours, s_theirs = ours(), theirs()
    s_ours.add_many(data)
    for v in values:
        s_theirs.add(v)
    err_ours = max_relative_error(s_ours.quantile, data)
    err_theirs = max_relative_error(lambda q: float(s_theirs.get_quantile_value(q)), data)
    d = s_ours.to_dict()
    print()
    print(f"largest relative error over q in {QS}:")
    print(f"  mlvitals {err_ours:.4%}   ddsketch {err_theirs:.4%}   (bound {ALPHA:.0%})")
    print(
        f"mlvitals sketch size: {len(d['bins'])} buckets, "
        f"{len(json.dumps(d, separators=(',', ':')))} bytes as JSON, "
        f"{len(s_ours.to_bytes())} bytes as to_bytes()"
    )


if __name__ == "__main__":
    main()
