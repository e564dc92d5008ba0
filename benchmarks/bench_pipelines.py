"""Pipeline tracking overhead: the cost of a step, and of capturing the environment.

- A step with no inputs, tracked into an in-memory sink, against two baselines in the
  same process: a bare context manager appending a dict (the floor) and
  prometheus-client's ``Histogram.time()`` (what instrumenting a block usually costs).
- Environment capture (``capture_environment``) against reading the same distributions
  with ``importlib.metadata``, on this interpreter's ``sys.path`` and on a generated
  folder of 300 installed distributions.

    python -m benchmarks.bench_pipelines [--steps 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Histogram

from mlvitals.pipelines import RunTracker, capture_environment
from mlvitals.pipelines.environment import installed_distributions


def best_of(repeat: int, fn: Callable[[], Any]) -> float:
    """The median of ``repeat`` timings, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_steps(n: int, repeat: int) -> None:
    sink: list[dict[str, Any]] = []
    tracker = RunTracker(sink.append, environment=False)
    histogram = Histogram("bench_block_seconds", "block", registry=CollectorRegistry())

    def floor() -> None:
        for _ in range(n):
            with contextlib.nullcontext():
                sink.append({"kind": "step", "time": time.time()})
        sink.clear()

    def prometheus() -> None:
        for _ in range(n):
            with histogram.time():
                pass

    def steps() -> None:
        with tracker.run("bench") as run:
            for _ in range(n):
                with run.step("noop"):
                    pass
        sink.clear()

    results = {
        "bare context manager + dict": best_of(repeat, floor),
        "prometheus Histogram.time()": best_of(repeat, prometheus),
        "mlvitals step (no inputs)": best_of(repeat, steps),
    }
    step = results["mlvitals step (no inputs)"]
    print(f"\nstep overhead, {n} steps per timing, median of {repeat}")
    print(f"{'what':<32}{'µs/step':>10}{'step ÷ this':>14}")
    for name, seconds in results.items():
        print(f"{name:<32}{seconds / n * 1e6:>10.1f}{step / seconds:>14.1f}")
    verdict = "under" if step / n < 1e-3 else "OVER"
    print(f"a step costs {step / n * 1e6:.0f} µs: {verdict} the 1 ms budget")


def fake_site(folder: Path, count: int) -> None:
    for i in range(count):
        dist = folder / f"package_{i:03d}-1.{i}.0.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: package-{i:03d}\nVersion: 1.{i}.0\n"
            "Summary: generated for the benchmark\n" + "Classifier: Topic :: Utilities\n" * 20
        )
        (dist / "RECORD").write_text("")


def by_importlib(paths: list[str] | None = None) -> dict[str, str]:
    dists = (
        importlib.metadata.distributions()
        if paths is None
        else importlib.metadata.distributions(path=paths)
    )
    found: dict[str, str] = {}
    for d in dists:
        found.setdefault(d.metadata["Name"], d.version)
    return found


def bench_environment(repeat: int) -> None:
    print(f"\nenvironment capture, median of {repeat}")
    print(f"{'where':<28}{'distributions':>14}{'mlvitals ms':>13}{'importlib ms':>14}{'ratio':>8}")
    env = capture_environment()
    ours = best_of(repeat, capture_environment)
    theirs = best_of(repeat, by_importlib)
    print(
        f"{'this sys.path':<28}{len(env.packages):>14}{ours * 1e3:>13.1f}{theirs * 1e3:>14.1f}"
        f"{theirs / ours:>8.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        fake_site(Path(tmp), 300)
        paths = [tmp]
        count = len(installed_distributions(paths))
        ours = best_of(repeat, lambda: installed_distributions(paths))
        theirs = best_of(repeat, lambda: by_importlib(paths))
        print(
            f"{'generated, 300 dists':<28}{count:>14}{ours * 1e3:>13.1f}"
            f"{theirs * 1e3:>14.1f}{theirs / ours:>8.1f}"
        )
        full = best_of(repeat, lambda: capture_environment([*sys.path, tmp]))
        total = len(capture_environment([*sys.path, tmp]).packages)
        verdict = "under" if full < 0.2 else "OVER"
        print(f"full capture with {total} distributions: {full * 1e3:.1f} ms ({verdict} 200 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bench_steps(args.steps, args.repeat)
    bench_environment(args.repeat)


if __name__ == "__main__":
    main()
