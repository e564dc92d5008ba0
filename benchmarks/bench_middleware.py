"""A FastAPI app's throughput with and without the mlvitals middleware.

The same app runs under uvicorn in a subprocess, with ``Monitor.asgi`` around it or not;
``wrk`` (Debian package ``wrk``) loads it over loopback with a bounded number of connections
for a fixed time. Rounds alternate between the two so drift in the machine's load hits both.

    python -m benchmarks.bench_middleware [--rounds 4] [--seconds 5] [--connections 8]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def measure(middleware: bool, seconds: int, connections: int) -> float:
    port = free_port()
    env = {**os.environ, "MIDDLEWARE": "1" if middleware else "0"}
    cmd = [sys.executable, "-m", "uvicorn", "benchmarks.middleware_app:app", "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(cmd, env=env)
    url = f"http://127.0.0.1:{port}/predict/42"
    try:
        for _ in range(200):
            try:
                httpx.get(url, timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        wrk = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.terminate()
        server.wait(10)
    match = re.search(r"Requests/sec:\s+([\d.]+)", wrk.stdout)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{wrk.stdout}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    bare: list[float] = []
    instrumented: list[float] = []
    for _ in range(args.rounds):
        bare.append(measure(False, args.seconds, args.connections))
        instrumented.append(measure(True, args.seconds, args.connections))
    b, m = statistics.median(bare), statistics.median(instrumented)
    print(f"{'variant':<16}{'median req/s':>14}   rounds")
    print(f"{'bare FastAPI':<16}{b:>14,.0f}   {', '.join(f'{x:,.0f}' for x in bare)}")
    print(f"{'with middleware':<16}{m:>14,.0f}   {', '.join(f'{x:,.0f}' for x in instrumented)}")
    print(f"throughput loss: {100 * (1 - m / b):.1f}%")


if __name__ == "__main__":
    main()
