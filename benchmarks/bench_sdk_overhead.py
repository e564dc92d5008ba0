"""Per-call overhead of ``@monitor.track`` against the instrumentation users would pick instead.

All variants wrap the same empty function and run in one process, interleaved round by
round, so machine noise hits them alike. Each round times N calls of each variant; the
number reported is the median over rounds of the mean time per call, minus the bare call's.

- mlvitals: ``@monitor.track`` (latency, outcome and count per call; CPU time on a time-based
  sample, the default), and with ``cpu_sample_interval=0`` (CPU time of every call too).
- prometheus-client: ``Histogram.time()`` for latency, a second ``Histogram`` for CPU time
  (``time.thread_time``) and ``Counter.inc()``, on pre-bound label children (its fastest use).
- a floor: the four clock reads alone (``perf_counter`` and ``thread_time``, twice each) that
  any recording of latency and CPU time needs.
- OpenTelemetry: a span (SDK tracer, batch processor, an exporter that drops spans) and a
  latency histogram record (SDK meter, in-memory reader). It records no CPU time.

mlvitals moves the sketching off the call path: its background collector folds the buffered
calls with NumPy. That cost, per call, is reported on its own line.

    python -m benchmarks.bench_sdk_overhead [--rounds 25] [--calls 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from typing import Any


def empty() -> None:
    pass


async def aempty() -> None:
    pass


def mlvitals_variant(cpu_sample_interval: float | None = None) -> tuple[Callable[[], Any], Any]:
    from mlvitals import Monitor

    monitor = Monitor(
        "bench", background=False, nvml=False, cpu_sample_interval=cpu_sample_interval
    )
    return monitor.track("predict")(empty), monitor


def prometheus_variant() -> Callable[[], Any]:
    from prometheus_client import CollectorRegistry, Counter, Histogram

    registry = CollectorRegistry()
    latency = Histogram("latency_seconds", "", ["operation"], registry=registry)
    cpu = Histogram("cpu_seconds", "", ["operation"], registry=registry)
    calls = Counter("calls", "", ["operation"], registry=registry)
    lat_child, cpu_child, calls_child = (m.labels("predict") for m in (latency, cpu, calls))
    thread_time = time.thread_time

    def tracked() -> None:
        c0 = thread_time()
        with lat_child.time():
            empty()
        cpu_child.observe(thread_time() - c0)
        calls_child.inc()

    return tracked


def opentelemetry_variant() -> Callable[[], Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class Drop(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Drop()))
    tracer = tracer_provider.get_tracer("bench")
    meter = MeterProvider(metric_readers=[InMemoryMetricReader()]).get_meter("bench")
    histogram = meter.create_histogram("latency", unit="s")
    attributes = {"operation": "predict"}
    perf = time.perf_counter

    def tracked() -> None:
        t0 = perf()
        with tracer.start_as_current_span("predict"):
            empty()
        histogram.record(perf() - t0, attributes)

    return tracked


def clocks_only() -> Callable[[], Any]:
    """The four clock reads every tracked call needs: the floor of any such recording."""
    perf, thread_time = time.perf_counter, time.thread_time

    def read() -> None:
        perf()
        thread_time()
        empty()
        thread_time()
        perf()

    return read


def per_call_ns(fn: Callable[[], Any], calls: int) -> float:
    return timeit.timeit(fn, number=calls) / calls * 1e9


def async_per_call_ns(fn: Callable[[], Any], calls: int) -> float:
    async def loop() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            await fn()
        return time.perf_counter() - start

    return asyncio.run(loop()) / calls * 1e9


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args(argv)
    # OpenTelemetry's batch processor logs each span it drops when its queue is full.
    logging.getLogger("opentelemetry").setLevel(logging.CRITICAL)

    tracked, monitor = mlvitals_variant()
    every, every_monitor = mlvitals_variant(cpu_sample_interval=0)
    variants: dict[str, Callable[[], Any]] = {
        "bare call": empty,
        "4 clock reads only (floor)": clocks_only(),
        "mlvitals @monitor.track": tracked,
        "mlvitals, CPU of every call": every,
        "prometheus-client 2 Histograms + Counter": prometheus_variant(),
        "OpenTelemetry span + Histogram": opentelemetry_variant(),
    }
    atracked = monitor.track("apredict")(aempty)

    times: dict[str, list[float]] = {name: [] for name in variants}
    async_times: dict[str, list[float]] = {"bare": [], "mlvitals": []}
    collector: list[float] = []
    for _ in range(args.rounds):
        for name, fn in variants.items():
            times[name].append(per_call_ns(fn, args.calls))
        async_times["bare"].append(async_per_call_ns(aempty, args.calls // 4))
        async_times["mlvitals"].append(async_per_call_ns(atracked, args.calls // 4))
        # The collector's work for this round's calls, timed on its own.
        start = time.perf_counter()
        monitor.collect()
        collector.append((time.perf_counter() - start) / (args.calls + args.calls // 4) * 1e9)
        every_monitor.collect()
    monitor.close()
    every_monitor.close()

    bare = times["bare call"]
    overhead = {
        name: statistics.median(t - b for t, b in zip(ts, bare, strict=True))
        for name, ts in times.items()
    }
    ours = overhead["mlvitals @monitor.track"]
    print(
        f"Python {sys.version.split()[0]}; {args.rounds} rounds x {args.calls} calls; "
        "median over rounds of the mean per call"
    )
    print()
    print(f"| {'variant':<42} | {'ns/call':>8} | {'added ns/call':>13} | {'vs mlvitals':>11} |")
    print(f"|{'-' * 44}|{'-' * 9}:|{'-' * 14}:|{'-' * 12}:|")
    for name, ts in times.items():
        ratio = "" if name == "bare call" else f"{overhead[name] / ours:.2f}x"
        added = "" if name == "bare call" else f"{overhead[name]:.0f}"
        print(f"| {name:<42} | {statistics.median(ts):>8.0f} | {added:>13} | {ratio:>11} |")
    a_over = statistics.median(
        m - b for m, b in zip(async_times["mlvitals"], async_times["bare"], strict=True)
    )
    print(
        f"| {'async def: mlvitals @monitor.track':<42} | "
        f"{statistics.median(async_times['mlvitals']):>8.0f} | {a_over:>13.0f} | {'':>11} |"
    )
    print()
    print(
        f"mlvitals background collector (off the call path): "
        f"{statistics.median(collector):.0f} ns per call folded"
    )


if __name__ == "__main__":
    main()
