"""Uptime probes: HTTP GETs and TCP connects on a schedule, and availability over a range.

``probes.yaml``::

    probes:
      - name: fraud-api
        url: http://fraud.internal:8080/healthz
        interval: 15s         # a duration (15, 15s, 1m), default 30s
        timeout: 500ms        # a duration, default 5s
        expect_status: 200    # default: any 2xx or 3xx
      - name: feature-store-network
        url: tcp://features.internal:6379
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from mlvitals.durations import parse_duration
from mlvitals.errors import ConfigError, DurationError
from mlvitals.store import Store


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    name: str
    url: str
    interval: float = 30.0
    timeout: float = 5.0
    expect_status: int | None = None


@dataclass(frozen=True, slots=True)
class ProbeResult:
    target: str
    time: float
    ok: bool
    status: int | None
    latency_seconds: float | None
    error: str | None


def parse_probes(data: Any, where: str) -> list[ProbeTarget]:
    items = data.get("probes") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"{where}: expected a top-level list 'probes'")
    targets: list[ProbeTarget] = []
    for i, item in enumerate(items):
        at = f"{where}, probe {i + 1}"
        if not isinstance(item, dict):
            raise ConfigError(f"{at}: expected a mapping with 'name' and 'url'")
        unknown = sorted(set(item) - {"name", "url", "interval", "timeout", "expect_status"})
        if unknown:
            raise ConfigError(f"{at}: unknown field(s) {', '.join(unknown)}")
        name, url = item.get("name"), item.get("url")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{at}: 'name' is required")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https", "tcp"):
            raise ConfigError(f"{at} ({name}): 'url' must be http://, https:// or tcp://host:port")
        if urlsplit(url).scheme == "tcp" and urlsplit(url).port is None:
            raise ConfigError(f"{at} ({name}): a tcp:// url needs a port")
        interval = _duration(item, "interval", 30.0, f"{at} ({name})")
        timeout = _duration(item, "timeout", 5.0, f"{at} ({name})")
        if interval < 1 or timeout <= 0 or timeout > interval:
            raise ConfigError(f"{at} ({name}): need interval >= 1 and 0 < timeout <= interval")
        expect = item.get("expect_status")
        if expect is not None and not (isinstance(expect, int) and 100 <= expect <= 599):
            raise ConfigError(f"{at} ({name}): expect_status must be an HTTP status code")
        if any(t.name == name for t in targets):
            raise ConfigError(f"{at}: the name {name!r} is used twice")
        targets.append(ProbeTarget(name, url, interval, timeout, expect))
    return targets


def _duration(item: dict[str, Any], key: str, default: float, at: str) -> float:
    try:
        return parse_duration(item.get(key, default), positive=True)
    except DurationError as exc:
        raise ConfigError(f"{at}: {key!r}: {exc}") from None


def load_probes(path: str) -> list[ProbeTarget]:
    """Read the probes file named by ``--probes-file``; an empty path means no probes."""
    if not path:
        return []
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read probes file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"probes file {path} is not valid YAML: {exc}") from None
    return parse_probes(data, f"probes file {path}")


async def probe_once(
    target: ProbeTarget, client: httpx.AsyncClient, clock: Callable[[], float] = time.time
) -> ProbeResult:
    """One check; never raises: failures become results with ``ok`` false and the error."""
    at = clock()
    started = time.perf_counter()
    parts = urlsplit(target.url)
    try:
        if parts.scheme == "tcp":
            conn = asyncio.open_connection(parts.hostname, parts.port)
            _, writer = await asyncio.wait_for(conn, target.timeout)
            writer.close()
            await writer.wait_closed()
            return ProbeResult(target.name, at, True, None, time.perf_counter() - started, None)
        response = await client.get(target.url, timeout=target.timeout)
        latency = time.perf_counter() - started
        status = response.status_code
        ok = status == target.expect_status if target.expect_status else 200 <= status < 400
        error = None if ok else f"unexpected status {status}"
        return ProbeResult(target.name, at, ok, status, latency, error)
    except (TimeoutError, httpx.TimeoutException):
        return ProbeResult(target.name, at, False, None, None, f"timeout after {target.timeout}s")
    except (OSError, httpx.HTTPError) as exc:
        reason = str(exc) or type(exc).__name__
        return ProbeResult(target.name, at, False, None, None, reason[:500])


def save_result(store: Store, r: ProbeResult) -> None:
    store.insert(
        "probe_results",
        [
            {
                "target": r.target,
                "time": r.time,
                "ok": int(r.ok),
                "status": r.status,
                "latency_seconds": r.latency_seconds,
                "error": r.error,
            }
        ],
    )


async def run_prober(
    store: Store,
    targets: list[ProbeTarget],
    stop: asyncio.Event,
    clock: Callable[[], float] = time.time,
) -> None:
    """Probe every target on its own interval until ``stop`` is set."""
    if not targets:
        return
    async with httpx.AsyncClient(follow_redirects=False) as client:

        async def loop(target: ProbeTarget) -> None:
            while not stop.is_set():
                result = await probe_once(target, client, clock)
                await asyncio.to_thread(save_result, store, result)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), target.interval)

        await asyncio.gather(*(loop(t) for t in targets))


def availability(store: Store, start: float, end: float) -> list[dict[str, Any]]:
    """Per target: checks, successes, availability share, mean latency and the latest result."""
    rows = store.fetch(
        "SELECT target, COUNT(*) AS checks, SUM(ok) AS ok, AVG(latency_seconds) AS latency,"
        " MAX(time) AS last FROM probe_results WHERE time >= ? AND time < ?"
        " GROUP BY target ORDER BY target",
        (start, end),
    )
    out = []
    for r in rows:
        latest = store.fetch(
            "SELECT ok, status, error FROM probe_results WHERE target = ? AND time = ?",
            (r["target"], r["last"]),
        )[0]
        out.append(
            {
                "target": r["target"],
                "checks": int(r["checks"]),
                "ok": int(r["ok"]),
                "availability": int(r["ok"]) / int(r["checks"]),
                "mean_latency_seconds": r["latency"],
                "last_check": float(r["last"]),
                "last_ok": bool(latest["ok"]),
                "last_status": latest["status"],
                "last_error": latest["error"],
            }
        )
    return out
