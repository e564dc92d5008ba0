"""Page timings of the dashboard with the demo's data and incidents: for every page, the
server's time to answer (the median of several requests over HTTP) and the browser's load
event (headless Chromium, median of several loads).

The data is the browser tests' incident seed (the demo's serving backfill with its incidents,
pipeline runs, data checks and a budget), sent to a real ``mlvitals serve``. Timings depend
on the machine: compare runs made one after the other on the same machine.

    python -m benchmarks.bench_pages [--repeat 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, stop_server
from tests.browser.incident_seed import (
    DATASET,
    FEATURES,
    RETRAIN,
    SERVICE,
    seed_incidents,
    start_incident_server,
    wait_for_alerts,
)


def pages(failed_run: str) -> list[str]:
    return [
        "/",
        "/server",
        "/services",
        f"/services/{SERVICE}",
        "/pipelines",
        f"/pipelines/{FEATURES}",
        f"/pipelines/{RETRAIN}",
        f"/runs/{failed_run}",
        "/datasets",
        f"/datasets/{DATASET}",
        "/cost",
        "/alerts",
    ]


def server_time(url: str, repeat: int) -> float | None:
    with httpx.Client(timeout=60) as client:
        if client.get(url).status_code != 200:
            return None  # the page does not exist in this version
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            client.get(url).raise_for_status()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def load_times(base: str, paths: list[str], repeat: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    out: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        for path in paths:
            samples = []
            for _ in range(repeat):
                page.goto(base + path, wait_until="load")
                ms = page.evaluate(
                    "() => { const n = performance.getEntriesByType('navigation')[0];"
                    " return n.loadEventEnd - n.startTime; }"
                )
                samples.append(float(ms) / 1000.0)
            out[path] = statistics.median(samples)
        browser.close()
    return out


def run(repeat: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_incident_server(Path(tmp))
        try:
            seeded = seed_incidents(server.url, time.time())
            wait_for_alerts(server.url, {"HighErrorRate", "PipelineRunFailed", "DatasetDrift"})
            rows = []
            found = []
            for path in pages(seeded.failed_run):
                seconds = server_time(server.url + path, repeat)
                if seconds is not None:
                    found.append(path)
                    rows.append({"page": path, "server_s": seconds})
            loads = load_times(server.url, found, repeat)
            for row in rows:
                row["load_s"] = loads[row["page"]]
            return rows
        finally:
            stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    rows = run(args.repeat)
    print(f"{'page':<40} {'server ms':>10} {'load ms':>10}")
    for row in rows:
        print(f"{row['page']:<40} {row['server_s'] * 1000:>10.1f} {row['load_s'] * 1000:>10.1f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
