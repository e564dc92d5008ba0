"""The base install (``pip install mlvitals``, no extras) in a fresh virtual environment:
it imports, tracks calls with ``Monitor`` and ships them to a server run from the full
environment; commands that need an extra say which one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
# The base environment's processes must not see the repository's sources.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
HEAVY = {"pyarrow", "scipy", "datasketches", "pydantic", "fastapi", "starlette", "uvicorn"}

SHIP = """
import sys
import mlvitals
from mlvitals import Monitor

monitor = Monitor("base-install", version="1.0", server=sys.argv[1])

@monitor.track("predict")
def predict(x):
    if x % 5 == 0:
        raise ValueError("bad input")
    return x * 2

for x in range(1, 41):
    try:
        predict(x)
    except ValueError:
        pass
assert monitor.close(timeout=60.0), "not everything was shipped"
print(sorted(m.split(".")[0] for m in sys.modules if m.split(".")[0] in {heavy}))
"""


def _base_venv(where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    python = where / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-c",
            str(ROOT / "constraints.txt"),
            str(ROOT),
        ],
        check=True,
        timeout=900,
        env=ENV,
    )
    return python


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_base_install_ships_calls_to_a_full_server(
    server_factory: type[ServerProcess], tmp_path: Path
) -> None:
    python = _base_venv(tmp_path / "venv")
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {p["name"].lower().replace("-", "_") for p in json.loads(listed.stdout)}
    assert not installed & HEAVY, installed & HEAVY

    server = server_factory(str(tmp_path / "m.db"))
    script = SHIP.replace("{heavy}", repr(sorted(HEAVY)))
    shipped = subprocess.run(
        [str(python), "-c", textwrap.dedent(script), server.url],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # not the repository: the installed package, not src/
        env=ENV,
    )
    assert shipped.returncode == 0, shipped.stderr
    assert shipped.stdout.strip() == "[]"  # no heavy module was imported

    deadline = time.monotonic() + 60
    total: dict[str, object] = {}
    while time.monotonic() < deadline:
        reply = httpx.get(
            f"{server.url}/api/v1/services/base-install/series", params={"start": "0"}
        )
        if reply.status_code == 200:
            total = reply.json()["total"]
            if total["calls"] == 40:
                break
        time.sleep(0.2)
    assert total.get("calls") == 40, total
    assert total["errors"] == 8

    serve = subprocess.run(
        [str(python.parent / "mlvitals"), "serve"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=ENV,
    )
    assert serve.returncode != 0
    assert "pip install 'mlvitals[server]'" in serve.stderr, serve.stderr
    assert "Traceback" not in serve.stderr
    check = subprocess.run(
        [str(python.parent / "mlvitals"), "check", "a.csv", "--reference", "b.json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=ENV,
    )
    assert "pip install 'mlvitals[quality]'" in check.stderr, check.stderr
