"""Check the SDK's GPU readings against a real CUDA workload (needs a GPU, PyTorch and pynvml).

Runs a tracked operation that multiplies matrices on the GPU, with idle phases before and
after, and a phase where a *child* process keeps the GPU busy while this process is idle.
The monitor's records are compared with an independent reference: ``nvidia-smi`` sampled in
the background (device utilization and memory) and PyTorch's own allocator figures.

    python scripts/gpu_check.py --out gpu-check.json

Prints a summary and writes every record and reference reading to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from mlvitals.sdk import GpuSampler, Monitor

WINDOW = 2.0


class Capture:
    """A transport that keeps what the monitor ships."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def send(self, records: list[dict[str, Any]]) -> None:
        self.records.extend(records)

    def flush(self, timeout: float) -> bool:
        return True

    def close(self, timeout: float) -> bool:
        return True

    def after_fork(self) -> None:
        pass


def busy_child(seconds: float) -> None:
    import torch

    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    end = time.time() + seconds
    while time.time() < end:
        for _ in range(20):
            a @ a
        torch.cuda.synchronize()


def start_smi(path: Path) -> subprocess.Popen[bytes]:
    query = "timestamp,utilization.gpu,memory.used"
    return subprocess.Popen(
        ["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader,nounits", "-lms", "200"],
        stdout=path.open("wb"),
        stderr=subprocess.DEVNULL,
    )


def read_smi(path: Path) -> list[tuple[float, float, float]]:
    out = []
    for line in path.read_text().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 3:
            continue
        try:
            stamp = time.mktime(time.strptime(parts[0].split(".")[0], "%Y/%m/%d %H:%M:%S"))
            frac = float("0." + parts[0].split(".")[1]) if "." in parts[0] else 0.0
            out.append((stamp + frac, float(parts[1]) / 100.0, float(parts[2]) * 2**20))
        except ValueError:
            continue
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("gpu-check.json"))
    parser.add_argument("--busy", type=float, default=10.0, help="seconds of tracked GPU work")
    args = parser.parse_args()

    import pynvml
    import torch

    report: dict[str, Any] = {"torch": torch.__version__, "pynvml": pynvml.__name__}
    t0 = time.perf_counter()
    sampler = GpuSampler()
    first = sampler.read()
    report["sampler_first_read_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(20):
        sampler.read()
    report["sampler_read_s"] = (time.perf_counter() - t0) / 20
    report["devices"] = [g.to_wire() for g in first]
    sampler.close()
    print("devices:", report["devices"], flush=True)

    smi_path = args.out.with_suffix(".smi.csv")
    smi = start_smi(smi_path)
    capture = Capture()
    monitor = Monitor("gpu-check", "1", window=WINDOW, tick=0.25, transport=capture)
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    torch.cuda.synchronize()

    @monitor.track("matmul")
    def infer(n: int) -> None:
        for _ in range(n):
            a @ a
        torch.cuda.synchronize()

    phases: list[dict[str, Any]] = []

    def phase(name: str, fn: Any) -> None:
        start = time.time()
        fn()
        phases.append({"name": name, "start": start, "end": time.time()})
        print(f"phase {name}: {phases[-1]['end'] - start:.1f} s", flush=True)

    phase("idle-before", lambda: time.sleep(3 * WINDOW))

    def busy() -> None:
        end = time.time() + args.busy
        while time.time() < end:
            infer(20)

    phase("busy-tracked", busy)
    report["torch_memory_reserved_bytes"] = torch.cuda.memory_reserved()
    report["torch_memory_allocated_bytes"] = torch.cuda.memory_allocated()
    phase("idle-after", lambda: time.sleep(3 * WINDOW))

    def child() -> None:
        ctx = mp.get_context("spawn")
        p = ctx.Process(target=busy_child, args=(3 * WINDOW,))
        p.start()
        p.join()

    phase("busy-other-process", child)
    phase("idle-end", lambda: time.sleep(WINDOW))
    text = monitor.prometheus_registry  # metrics as a scraper sees them
    from prometheus_client import generate_latest

    report["prometheus"] = [
        line
        for line in generate_latest(text).decode().splitlines()
        if line.startswith(("mlvitals_gpu", "mlvitals_calls_total"))
    ]
    monitor.close()
    smi.terminate()
    smi.wait()
    reference = read_smi(smi_path)

    windows = []
    for r in capture.records:
        if r.get("kind") != "serving_window":
            continue
        start, length = float(r["start"]), float(r["length"])
        ref = [u for t, u, _ in reference if start <= t < start + length]
        ref_mem = [m for t, _, m in reference if start <= t < start + length]
        windows.append(
            {
                "start": start,
                "length": length,
                "calls": r.get("calls"),
                "gpu_busy_seconds": r.get("gpu_busy_seconds"),
                "monitor_busy_fraction": (r.get("gpu_busy_seconds") or 0.0) / length,
                "smi_mean_utilization": sum(ref) / len(ref) if ref else None,
                "gpu_peak_memory_bytes": r.get("gpu_peak_memory_bytes"),
                "smi_peak_memory_bytes": max(ref_mem) if ref_mem else None,
            }
        )
    samples = [
        {"time": r["time"], "gpus": r.get("gpus")}
        for r in capture.records
        if r.get("kind") == "instance_sample"
    ]
    report.update(phases=phases, windows=windows, samples=samples, records=capture.records)
    report["smi_samples"] = len(reference)
    args.out.write_text(json.dumps(report, indent=1, default=str))

    print(f"pid {os.getpid()}; NVML read {report['sampler_read_s'] * 1e3:.2f} ms per call")
    print("window start | calls | monitor busy | nvidia-smi util | peak mem (monitor / smi MiB)")
    for w in windows:
        smi_u = w["smi_mean_utilization"]
        mem = w["gpu_peak_memory_bytes"]
        smi_m = w["smi_peak_memory_bytes"]
        print(
            f"{time.strftime('%H:%M:%S', time.gmtime(w['start']))} | {w['calls']:>5} | "
            f"{w['monitor_busy_fraction']:.2f} | "
            f"{'-' if smi_u is None else f'{smi_u:.2f}'} | "
            f"{'-' if mem is None else mem / 2**20:.0f} / "
            f"{'-' if smi_m is None else f'{smi_m / 2**20:.0f}'}"
        )
    print("instance samples (gpus):")
    for s in samples:
        print(" ", time.strftime("%H:%M:%S", time.gmtime(s["time"])), s["gpus"])
    print("\n".join(report["prometheus"]))
    print(
        "torch reserved MiB:",
        report["torch_memory_reserved_bytes"] / 2**20,
        "phases:",
        [(p["name"], time.strftime("%H:%M:%S", time.gmtime(p["start"]))) for p in phases],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
