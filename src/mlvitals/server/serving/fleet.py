"""Fleet-wide serving series on the server's ``/metrics``, under the SDK's metric names.

Counters must only grow, and a scrape must stay cheap however long the history and however
many series: hours the rollup has made final are merged into a per-process cache once; each
render adds only the recent tail (hourly rollups not yet final, then raw windows past the last
rollup pass) and writes the text exposition directly (histogram buckets computed with NumPy
from the merged sketches). A render that took long is reused for a while
(:attr:`FleetExport.reuse_factor` times its own duration, at least ``min_reuse`` seconds),
so a big fleet costs the server a bounded share of its time however often it is scraped,
while a small one is always current.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mlvitals.server.serving.aggregate import WindowAggregate
from mlvitals.server.serving.rollup import rollup_state
from mlvitals.sketches import COARSE_BOUNDS
from mlvitals.store import Store

Key = tuple[str, str, str]
_LABELS = ("service", "version", "operation")
FLEET_BOUNDS = np.asarray(COARSE_BOUNDS, dtype=np.float64)
"""Bucket bounds of the fleet's histograms: sixteen, so that ``/metrics`` stays small with
thousands of series (the API and the dashboard give exact-to-1 % percentiles)."""
_LE = [repr(float(b)) for b in COARSE_BOUNDS] + ["+Inf"]


def _num(value: float) -> str:
    """A sample value as the exposition format writes it."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class FleetExport:
    """The text exposition of every stored serving series, merged per (service, version,
    operation), and the latest resources of each live instance."""

    min_reuse = 5.0
    reuse_factor = 10.0
    slow_render = 0.1

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._final: dict[Key, WindowAggregate] = {}
        self._final_until = float("-inf")
        self._lock = threading.Lock()
        self._render_lock = threading.Lock()
        self._cached: tuple[float, float, bytes] | None = None  # (rendered at, took, text)

    def text(self) -> bytes:
        """The exposition text; one render at a time, a slow render reused for a while."""
        with self._render_lock:
            now = time.monotonic()
            if self._cached is not None:
                at, took, body = self._cached
                if took > self.slow_render and now - at < max(
                    self.min_reuse, self.reuse_factor * took
                ):
                    return body
            body = self.render()
            self._cached = (time.monotonic(), time.monotonic() - now, body)
            return body

    def totals(self) -> dict[Key, WindowAggregate]:
        """Every stored call, merged per (service, version, operation)."""
        with self._lock:
            state = rollup_state(self._store).get(3600)
            if state is not None and state.final_until > self._final_until:
                rows = self._store.fetch(
                    "SELECT * FROM serving_rollups WHERE resolution = 3600"
                    " AND start >= ? AND start < ?",
                    (max(self._final_until, -1e300), state.final_until),
                )
                _merge_rows(self._final, rows)
                self._final_until = state.final_until
            totals = {k: _copy(v) for k, v in self._final.items()}
        tail: list[dict[str, Any]] = []
        if state is not None:
            tail += self._store.fetch(
                "SELECT * FROM serving_rollups WHERE resolution = 3600"
                " AND start >= ? AND start < ?",
                (state.final_until, state.rolled_until),
            )
            tail += self._store.fetch(
                "SELECT * FROM serving_windows WHERE start >= ?", (state.rolled_until,)
            )
        else:
            tail += self._store.fetch("SELECT * FROM serving_windows")
        _merge_rows(totals, tail)
        return totals

    def render(self) -> bytes:
        totals = self.totals()
        calls = [
            "# HELP mlvitals_calls_total Calls by outcome (ok, error, client_error).",
            "# TYPE mlvitals_calls_total counter",
        ]
        failures = [
            "# HELP mlvitals_call_failures_total Failed calls by error type.",
            "# TYPE mlvitals_call_failures_total counter",
        ]
        duration = [
            "# HELP mlvitals_call_duration_seconds Call latency.",
            "# TYPE mlvitals_call_duration_seconds histogram",
        ]
        cpu = [
            "# HELP mlvitals_call_cpu_seconds CPU time per call.",
            "# TYPE mlvitals_call_cpu_seconds histogram",
        ]
        for key, agg in sorted(totals.items()):
            labels = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(_LABELS, key, strict=True))
            ok = max(agg.calls - agg.errors - agg.client_errors, 0)
            for outcome, n in (
                ("ok", ok),
                ("error", agg.errors),
                ("client_error", agg.client_errors),
            ):
                calls.append(f'mlvitals_calls_total{{{labels},outcome="{outcome}"}} {float(n)!r}')
            for error_type, n in sorted(agg.failures.items()):
                failures.append(
                    f'mlvitals_call_failures_total{{{labels},error_type="{_escape(error_type)}"}}'
                    f" {float(n)!r}"
                )
            for lines, name, dense in (
                (duration, "mlvitals_call_duration_seconds", agg.latency),
                (cpu, "mlvitals_call_cpu_seconds", agg.cpu),
            ):
                counts = dense.cumulative(FLEET_BOUNDS).tolist()
                lines.extend(
                    f'{name}_bucket{{{labels},le="{le}"}} {float(n)!r}'
                    for le, n in zip(_LE, counts, strict=True)
                )
                lines.append(f"{name}_count{{{labels}}} {float(counts[-1])!r}")
                lines.append(f"{name}_sum{{{labels}}} {_num(dense.sum)}")
        lines = [*calls, *failures, *duration, *cpu, *self._resources()]
        return ("\n".join(lines) + "\n").encode()

    def _resources(self) -> list[str]:
        """The latest sample of each instance seen in the last ten minutes, unless that
        sample says the instance stopped."""
        since = self._clock() - 600
        rows = self._store.fetch(
            "SELECT s.service, s.instance, s.rss_bytes, s.gpus FROM instance_samples s"
            " JOIN (SELECT service, instance, MAX(time) AS t FROM instance_samples"
            " WHERE time >= ? GROUP BY service, instance) m"
            " ON s.service = m.service AND s.instance = m.instance AND s.time = m.t"
            " WHERE s.stopped = 0",
            (since,),
        )
        rss = [
            "# HELP mlvitals_process_resident_memory_bytes Resident memory of each instance"
            " (latest sample).",
            "# TYPE mlvitals_process_resident_memory_bytes gauge",
        ]
        util = [
            "# HELP mlvitals_gpu_utilization_ratio GPU busy fraction (latest sample).",
            "# TYPE mlvitals_gpu_utilization_ratio gauge",
        ]
        mem = [
            "# HELP mlvitals_gpu_memory_used_bytes GPU memory in use (latest sample).",
            "# TYPE mlvitals_gpu_memory_used_bytes gauge",
        ]
        for r in rows:
            instance = f'instance="{_escape(r["instance"])}",service="{_escape(r["service"])}"'
            if r["rss_bytes"] is not None:
                rss.append(
                    f"mlvitals_process_resident_memory_bytes{{{instance}}}"
                    f" {_num(float(r['rss_bytes']))}"
                )
            for g in json.loads(r["gpus"]):
                labels = f'gpu="{int(g["index"])}",{instance}'
                if g.get("utilization") is not None:
                    util.append(
                        f"mlvitals_gpu_utilization_ratio{{{labels}}}"
                        f" {_num(float(g['utilization']))}"
                    )
                if g.get("memory_used_bytes") is not None:
                    mem.append(
                        f"mlvitals_gpu_memory_used_bytes{{{labels}}}"
                        f" {_num(float(g['memory_used_bytes']))}"
                    )
        return [*rss, *util, *mem]


def _copy(agg: WindowAggregate) -> WindowAggregate:
    out = WindowAggregate()
    out.merge(agg)
    return out


def _merge_rows(into: dict[Key, WindowAggregate], rows: list[dict[str, Any]]) -> None:
    for row in rows:
        key = (row["service"], row["version"], row["operation"])
        agg = into.get(key)
        if agg is None:
            agg = into[key] = WindowAggregate()
        agg.add_row(row)
