"""Three real SDK processes ship to a real server: the percentiles the server merges equal,
within the sketch's bound, the percentiles of all their calls taken together."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np

from tests.conftest import ServerProcess

CHILD = """
import json, sys, time
import numpy as np
from mlvitals import Monitor

url, seed, low, high = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rng = np.random.default_rng(seed)
monitor = Monitor("merge-test", "1", server=url, window=1.0, instance=f"proc-{seed}")
seen = []
for latency in rng.uniform(low, high, 150):
    t0 = time.perf_counter()
    with monitor.track("predict"):
        time.sleep(latency)
    seen.append(time.perf_counter() - t0)
assert monitor.close(timeout=20)
print(json.dumps(seen))
"""


def test_three_processes_merge_to_the_percentiles_of_all_calls(
    tmp_path: Path, server_factory: type[ServerProcess]
) -> None:
    server = server_factory(str(tmp_path / "merge.db"))
    ranges = [(1, 0.002, 0.006), (2, 0.010, 0.030), (3, 0.004, 0.050)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, server.url, str(seed), str(low), str(high)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for seed, low, high in ranges
    ]
    seen: list[float] = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        seen += json.loads(out)
    values = np.array(seen)
    body = httpx.get(
        server.url + "/api/v1/services/merge-test/series",
        params={"start": "now-10m", "end": "now", "step": "10m", "group_by": "instance"},
    ).json()
    assert len(body["series"]) == 3
    total = body["total"]
    assert total["calls"] == 450
    for q in (0.5, 0.9, 0.95, 0.99):
        ordered = np.sort(values)
        rank = q * (len(ordered) - 1)
        lo, hi = ordered[int(np.floor(rank))], ordered[int(np.ceil(rank))]
        got = total[f"latency_p{round(q * 100)}"]
        # 1% is the sketch's bound; the children time a little more than the SDK does
        # (the context manager's own overhead, microseconds on calls of milliseconds).
        assert lo * 0.99 * 0.995 <= got <= hi * 1.01, (q, got, lo, hi)
