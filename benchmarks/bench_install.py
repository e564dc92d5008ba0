"""What the base install costs a model service, against prometheus-client's in the same run.

Three fresh virtual environments from this interpreter: an empty one (the baseline), one
with ``pip install mlvitals`` (no extras, pinned by constraints.txt) and one with only
prometheus-client. Printed for both: the packages installed, the installed size beyond
the empty environment, and the median time of ``import mlvitals`` (resp.
``import prometheus_client``) in fresh processes; the clock starts just before the import,
so the interpreter's own start-up is not counted. Targets: at most 40 MB, at most 100 ms.

    python -m benchmarks.bench_install [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
TIMED = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def venv(where: Path, *packages: str) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, env=ENV)
    python = where / "bin" / "python"
    if packages:
        constraints = ["-c", str(ROOT / "constraints.txt")]
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *constraints, *packages],
            check=True,
            env=ENV,
        )
    return python


def size(where: Path) -> int:
    return sum(p.lstat().st_size for p in where.rglob("*") if p.is_file() or p.is_symlink())


def packages(python: Path, empty: set[str]) -> list[str]:
    out = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    ).stdout
    return [f"{p['name']} {p['version']}" for p in json.loads(out) if p["name"] not in empty]


def import_seconds(python: Path, module: str, rounds: int, cwd: Path) -> float:
    times = []
    for _ in range(rounds):
        out = subprocess.run(
            [str(python), "-c", TIMED.format(module=module)],
            capture_output=True,
            text=True,
            check=True,
            cwd=cwd,
            env=ENV,
        ).stdout
        times.append(float(out))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="fresh processes per import")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-install-") as tmp:
        base = Path(tmp)
        empty = venv(base / "empty")
        empty_names = {p.split()[0] for p in packages(empty, set())}
        empty_size = size(base / "empty")
        rows = []
        for name, module, spec in [
            ("mlvitals (base)", "mlvitals", str(ROOT)),
            ("prometheus-client", "prometheus_client", "prometheus-client"),
        ]:
            folder = base / module
            python = venv(folder, spec)
            rows.append(
                (
                    name,
                    (size(folder) - empty_size) / 1e6,
                    import_seconds(python, module, args.rounds, base) * 1e3,
                    packages(python, empty_names),
                )
            )
    for name, megabytes, millis, listed in rows:
        print(f"{name}: {megabytes:.1f} MB installed, import {millis:.1f} ms (median)")
        print(f"  packages: {', '.join(listed)}")
    (_, mb, ms, _), (_, pmb, pms, _) = rows
    print(f"ratio mlvitals / prometheus-client: size {mb / pmb:.0f}x, import {ms / pms:.1f}x")
    print(f"targets: size <= 40 MB: {'met' if mb <= 40 else 'missed'}; ", end="")
    print(f"import <= 100 ms: {'met' if ms <= 100 else 'missed'}")


if __name__ == "__main__":
    main()
