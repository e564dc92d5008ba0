"""A FastAPI app's throughput with and without the mlvitals middleware.

The app runs under uvicorn in a subprocess that serves it both ways (see
``benchmarks/middleware_app.py``): through ``Monitor.asgi`` for ``?tracked=1`` and bare for
``?tracked=0``. ``wrk`` (Debian package ``wrk``) loads it over loopback with a bounded number
of connections for a fixed time, alternating between the two in the same process (the order
rotates each round), so the process's memory layout and CPU are the same for both and slow
drift in the machine's load cancels out. Each round also loads the bare path a second time
under another query string: that A/A control shows how much the direct comparison moves
when nothing differs. Several processes are started one after another. Where
``taskset`` is there and the machine has two or more CPUs, the server is pinned to one CPU
and ``wrk`` to another.

Each round gives one loss (1 - tracked/bare requests/s), reported as the median with
its quartiles. On a shared virtual machine whose speed swings by 10 % or more from one
two-second run to the next, those quartiles are wide; so the benchmark also measures the
loss a second way, which such swings barely touch:

- in this process, the FastAPI app is driven directly over ASGI (no sockets), bare and
  tracked in alternating rounds of 2,000 requests: the difference of the two fastest rounds
  (as ``timeit`` takes the best: interference only ever adds time) is the time the
  middleware adds to a request;
- during the bare ``wrk`` runs, the server's CPU time (user + system, from ``/proc``) divided
  by the requests it answered is what one request costs the whole server, HTTP included
  (again the lowest of the runs);
- for a server that is CPU-bound, as this one is under ``wrk``, the throughput loss is
  added / (cost + added).

    python -m benchmarks.bench_middleware [--processes 3] [--rounds 6] [--seconds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psutil


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def pinned(cpu: int | None, cmd: list[str]) -> list[str]:
    return cmd if cpu is None else ["taskset", "-c", str(cpu), *cmd]


@contextmanager
def server(pin: bool) -> Iterator[tuple[str, psutil.Process]]:
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "benchmarks.middleware_app:app", "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(pinned(1 if pin else None, cmd))
    url = f"http://127.0.0.1:{port}/predict/42"
    try:
        for _ in range(200):
            try:
                httpx.get(url, timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url, psutil.Process(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


def load(
    url: str, seconds: int, connections: int, pin: bool, proc: psutil.Process
) -> tuple[float, float]:
    """Requests/s, and the server's CPU microseconds per request."""
    cmd = pinned(0 if pin else None, ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url])
    before = proc.cpu_times()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    after = proc.cpu_times()
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    if rate is None or count is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    cpu = (after.user + after.system) - (before.user + before.system)
    return float(rate.group(1)), cpu / int(count.group(1)) * 1e6


def added_in_process(rounds: int = 40, requests: int = 2000) -> float:
    """Microseconds the middleware adds to one request, over ASGI in this process."""
    from benchmarks.middleware_app import api, tracked

    scope: dict[str, object] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": "/predict/42",
        "raw_path": b"/predict/42",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk")],
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: object) -> None:
        pass

    async def run(app: object, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            await app(dict(scope), receive, send)  # type: ignore[operator]
        return (time.perf_counter() - start) / n * 1e6

    async def rounds_of_both() -> float:
        await run(api, requests)
        await run(tracked, requests)
        bare, instrumented = [], []
        for k in range(rounds):
            if k % 2 == 0:
                bare.append(await run(api, requests))
                instrumented.append(await run(tracked, requests))
            else:
                instrumented.append(await run(tracked, requests))
                bare.append(await run(api, requests))
        return min(instrumented) - min(bare)

    try:
        import uvloop

        return uvloop.run(rounds_of_both())
    except ImportError:
        return asyncio.run(rounds_of_both())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=6, help="rounds of runs per process")
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    pin = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    # Three variants per round: bare, tracked, and bare again under another query string (an
    # A/A control: the "loss" it shows is the noise of the direct comparison on this machine).
    runs: dict[str, list[float]] = {"0": [], "1": [], "control": []}
    cost: list[float] = []
    orders = (("0", "1", "control"), ("1", "control", "0"), ("control", "0", "1"))
    for p in range(args.processes):
        with server(pin) as (url, proc):
            for variant in ("0", "1"):  # warm both paths up
                load(f"{url}?tracked={variant}", 1, args.connections, pin, proc)
            for k in range(args.rounds):
                for variant in orders[(p * args.rounds + k) % 3]:
                    rate, cpu = load(
                        f"{url}?tracked={variant}", args.seconds, args.connections, pin, proc
                    )
                    runs[variant].append(rate)
                    if variant == "0":
                        cost.append(cpu)
                print(
                    f"process {p + 1}, round {k + 1}: {runs['0'][-1]:,.0f} bare,"
                    f" {runs['1'][-1]:,.0f} tracked, {runs['control'][-1]:,.0f} bare again req/s",
                    file=sys.stderr,
                )
    bare, tracked = runs["0"], runs["1"]
    added = added_in_process()
    losses = [1 - t / b for b, t in zip(bare, tracked, strict=True)]
    q1, _, q3 = statistics.quantiles(losses, n=4)
    control = [1 - c / b for b, c in zip(bare, runs["control"], strict=True)]
    c1, _, c3 = statistics.quantiles(control, n=4)
    per_request = min(cost)
    print(f"server pinned to CPU 1, wrk to CPU 0: {'yes' if pin else 'no'}")
    print(f"bare FastAPI:    {statistics.median(bare):>8,.0f} req/s (median of {len(bare)} runs)")
    print(f"with middleware: {statistics.median(tracked):>8,.0f} req/s")
    print(
        f"throughput loss under wrk: {100 * statistics.median(losses):.1f}% (median of"
        f" {len(losses)} paired runs; quartiles {100 * q1:.1f}% to {100 * q3:.1f}%)"
    )
    print(
        f"A/A control, bare vs bare again: {100 * statistics.median(control):.1f}%"
        f" (quartiles {100 * c1:.1f}% to {100 * c3:.1f}%): the noise of the line above"
    )
    print(f"server CPU per bare request under wrk (lowest run): {per_request:.1f} us")
    print(f"time the middleware adds per request (in process, best rounds): {added:.2f} us")
    print(f"throughput loss from those two: {100 * added / (per_request + added):.1f}%")


if __name__ == "__main__":
    main()
