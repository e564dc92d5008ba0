"""Data quality and drift: a full ``mlvitals.quality.check`` against the tools users would use.

Reference and current data: N rows x (20 numeric + 5 categorical) columns each, the current
with five shifted numeric columns, one rescaled and one categorical column whose mix changed.
Each contender runs in a fresh subprocess (so memory peaks are its own), on the same data:

- ``mlvitals``: ``check(current, reference=reference)``: schema inference and validation, both
  profiles (moments, KLL quantiles, histograms, distinct counts, top values, correlations, duplicate
  rows) and drift on every column (KS + normalised Wasserstein, chi-squared + PSI, corrected
  for 25 tests);
- ``numpy``: the numeric baseline: mean, std, 7 quantiles and a 10-bin histogram of every
  numeric column of both frames, and counts of every categorical one;
- ``scipy``: ``ks_2samp`` and ``wasserstein_distance`` per numeric column, ``chi2_contingency``
  per categorical column;
- ``evidently``: ``Report([DataDriftPreset()])`` in another interpreter (``--evidently-python``;
  Evidently cannot be installed next to this project's pinned pandas and plotly).

Memory is measured two ways, each reported as (data + extra) / data: the peak RSS during the
run (sampled every 2 ms) above the RSS once the data is built, and the peak of the bytes the
run allocates (tracemalloc, which numpy reports to, plus Arrow's memory pool) in one more run.
With ``--big-rows`` a Parquet file of that many rows is written and profiled in a subprocess,
whose peak RSS is read from ``getrusage``.

    python -m benchmarks.bench_quality                     # 100k rows, a quick smoke run
    python -m benchmarks.bench_quality --full              # 1M rows, and a 10M-row Parquet file
    python -m benchmarks.bench_quality --rows 1000000 --evidently-python /path/to/venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parent.parent
NUMERIC, CATEGORICAL = 20, 5
CATEGORIES = [f"level_{i}" for i in range(12)]


def make_frame(rows: int, seed: int, current: bool) -> pd.DataFrame:
    """Deterministic data; ``current`` shifts columns 0-4, rescales 5 and remixes cat_0."""
    rng = np.random.default_rng(seed + (1 if current else 0))
    cols: dict[str, Any] = {}
    for i in range(NUMERIC):
        shift = 0.25 if current and i < 5 else 0.0
        scale = 1.3 if current and i == 5 else 1.0
        kind = i % 4
        if kind == 0:
            x = rng.normal(shift, scale, rows)
        elif kind == 1:
            x = rng.lognormal(shift, 0.5 * scale, rows)
        elif kind == 2:
            x = rng.uniform(0, 10 * scale, rows) + 10 * shift
        else:
            x = rng.poisson(4 * scale + 4 * shift, rows).astype(np.float64)
        if i in (7, 13):  # some missing values
            x[rng.random(rows) < 0.01] = np.nan
        cols[f"num_{i}"] = x
    for i in range(CATEGORICAL):
        p = np.linspace(1, 2, len(CATEGORIES))
        if current and i == 0:
            p = p[::-1] ** 2
        codes = rng.choice(len(CATEGORIES), rows, p=p / p.sum())
        cols[f"cat_{i}"] = pd.Categorical.from_codes(codes, CATEGORIES)
    return pd.DataFrame(cols)


class PeakRss:
    """Samples this process's RSS in a thread; ``peak`` is the largest value seen."""

    def __init__(self, interval: float = 0.002) -> None:
        self.proc = psutil.Process()
        self.interval = interval
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def run_mlvitals(ref: pd.DataFrame, cur: pd.DataFrame) -> str:
    from mlvitals.quality import check

    result = check(cur, reference=ref)
    tested = len(result.drift.tested)
    return f"{len(result.drift.drifted)}/{tested} columns drifted, {len(result.failures)} failures"


def run_numpy(ref: pd.DataFrame, cur: pd.DataFrame) -> str:
    qs = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
    for df in (ref, cur):
        for name in df.columns:
            col = df[name]
            if isinstance(col.dtype, pd.CategoricalDtype):
                np.bincount(col.cat.codes.to_numpy(), minlength=len(CATEGORIES))
                continue
            x = col.to_numpy(dtype=np.float64)
            x = x[np.isfinite(x)]
            x.mean(), x.std(), np.quantile(x, qs), np.histogram(x, bins=10)
    return "stats of every column"


def run_scipy(ref: pd.DataFrame, cur: pd.DataFrame) -> str:
    from scipy import stats

    significant = 0
    for name in ref.columns:
        if isinstance(ref[name].dtype, pd.CategoricalDtype):
            table = np.vstack(
                [
                    np.bincount(df[name].cat.codes.to_numpy(), minlength=len(CATEGORIES))
                    for df in (ref, cur)
                ]
            )
            p = stats.chi2_contingency(table[:, table.sum(axis=0) > 0]).pvalue
        else:
            a = ref[name].dropna().to_numpy()
            b = cur[name].dropna().to_numpy()
            p = stats.ks_2samp(a, b).pvalue
            stats.wasserstein_distance(a, b)
        significant += p < 0.05
    return f"{significant}/{ref.shape[1]} columns significant (uncorrected)"


TASKS: dict[str, Callable[[pd.DataFrame, pd.DataFrame], str]] = {
    "mlvitals": run_mlvitals,
    "numpy": run_numpy,
    "scipy": run_scipy,
}


def child(task: str, rows: int, seed: int, repeat: int) -> dict[str, Any]:
    """Runs in the subprocess: build the data, run the task ``repeat`` times."""
    ref = make_frame(rows, seed, current=False)
    cur = make_frame(rows, seed, current=True)
    data_bytes = int(ref.memory_usage(deep=True).sum() + cur.memory_usage(deep=True).sum())
    fn = TASKS[task]
    fn(ref.head(1_000), cur.head(1_000))  # imports and first-call costs out of the timing
    rss_data = psutil.Process().memory_info().rss
    times, peak, outcome = [], rss_data, ""
    for _ in range(repeat):
        with PeakRss() as sampler:
            start = time.perf_counter()
            outcome = fn(ref, cur)
            times.append(time.perf_counter() - start)
        peak = max(peak, sampler.peak)
    # Once more under tracemalloc (numpy reports its buffers to it) for the bytes the run
    # itself allocates at its peak, whatever the allocator keeps around; plus Arrow's pool.
    import pyarrow as pa

    arrow_before = pa.default_memory_pool().max_memory()
    tracemalloc.start()
    fn(ref, cur)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    arrow_peak = max(pa.default_memory_pool().max_memory() - arrow_before, 0)
    return {
        "task": task,
        "seconds": min(times),
        "data_bytes": data_bytes,
        "extra_bytes": peak - rss_data,
        "traced_bytes": traced_peak + arrow_peak,
        "outcome": outcome,
    }


def spawn(args: list[str], python: str = sys.executable) -> dict[str, Any]:
    out = subprocess.run(
        [python, *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=3600
    )
    if out.returncode != 0:
        raise RuntimeError(f"{args[:3]} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


_EVIDENTLY = """
import json, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref = pd.read_parquet(sys.argv[1]); cur = pd.read_parquet(sys.argv[2])
Report([DataDriftPreset()]).run(reference_data=ref.head(1000), current_data=cur.head(1000))
start = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(reference_data=ref, current_data=cur)
seconds = time.perf_counter() - start
share = snapshot.dict()["metrics"][0]["value"]
print(json.dumps({"task": "evidently", "seconds": seconds, "outcome": str(share)}))
"""


def run_evidently(python: str, rows: int, seed: int, tmp: Path) -> dict[str, Any]:
    ref_path, cur_path = tmp / "ref.parquet", tmp / "cur.parquet"
    make_frame(rows, seed, current=False).to_parquet(ref_path)
    make_frame(rows, seed, current=True).to_parquet(cur_path)
    return spawn(["-c", _EVIDENTLY, str(ref_path), str(cur_path)], python=python)


def write_big_parquet(path: Path, rows: int, seed: int) -> int:
    """Write ``rows`` rows in 1M-row row groups without holding them all in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    step = 1_000_000
    for start in range(0, rows, step):
        frame = make_frame(min(step, rows - start), seed + start, current=False)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    return path.stat().st_size


def child_profile_file(path: str) -> dict[str, Any]:
    from mlvitals.quality import profile

    start = time.perf_counter()
    p = profile(path)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"task": "profile-parquet", "seconds": seconds, "rows": p.rows, "peak": peak_kib * 1024}


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000, help="rows per frame (default 100k)")
    ap.add_argument("--full", action="store_true", help="1M rows and a 10M-row Parquet file")
    ap.add_argument("--big-rows", type=int, default=0, help="rows of the Parquet file to profile")
    ap.add_argument("--repeat", type=int, default=1, help="runs per contender (best is kept)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--evidently-python", help="a Python interpreter with evidently installed")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--profile-file", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.seed, args.repeat)))
        return
    if args.profile_file:
        print(json.dumps(child_profile_file(args.profile_file)))
        return
    if args.full:
        args.rows = max(args.rows, 1_000_000)
        args.big_rows = args.big_rows or 10_000_000

    me = ["-m", "benchmarks.bench_quality"]
    common = ["--rows", str(args.rows), "--seed", str(args.seed), "--repeat", str(args.repeat)]
    print(
        f"reference and current: {args.rows:,} rows x ({NUMERIC} numeric + {CATEGORICAL} "
        "categorical) columns each"
    )
    results = {name: spawn([*me, "--child", name, *common]) for name in TASKS}
    with tempfile.TemporaryDirectory() as tmp:
        if args.evidently_python:
            results["evidently"] = run_evidently(
                args.evidently_python, args.rows, args.seed, Path(tmp)
            )
        ours = results["mlvitals"]
        data = ours["data_bytes"]
        print(f"\n{'contender':<11}{'seconds':>9}{'vs mlvitals':>13}  outcome")
        for name, r in results.items():
            ratio = r["seconds"] / ours["seconds"]
            print(f"{name:<11}{r['seconds']:>9.2f}{ratio:>12.2f}x  {r['outcome']}")
        print(
            f"\nmlvitals vs numpy baseline: {ours['seconds'] / results['numpy']['seconds']:.2f}x "
            "the time (target <= 2x)"
        )
        if "evidently" in results:
            print(
                f"mlvitals vs Evidently: {results['evidently']['seconds'] / ours['seconds']:.1f}x "
                "faster (target >= 20x)"
            )
        else:
            print("Evidently: not run (give --evidently-python)")
        ratio = (data + ours["extra_bytes"]) / data
        traced = (data + ours["traced_bytes"]) / data
        print(
            f"memory: data {_mib(data)}; during the check, peak RSS over the data's "
            f"{_mib(ours['extra_bytes'])} ({ratio:.2f}x the data) and peak traced allocations "
            f"{_mib(ours['traced_bytes'])} ({traced:.2f}x) (target <= 1.5x)"
        )
        if args.big_rows:
            path = Path(tmp) / "big.parquet"
            size = write_big_parquet(path, args.big_rows, args.seed)
            big = spawn([*me, "--profile-file", str(path)])
            print(
                f"\nprofile of a {args.big_rows:,}-row Parquet file ({_mib(size)} on disk): "
                f"{big['seconds']:.1f} s, peak RSS {_mib(big['peak'])} (target <= 1,024 MiB)"
            )


if __name__ == "__main__":
    main()
