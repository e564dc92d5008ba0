"""No alarm from a deploy, a restart or a batch job; an alarm from a crash.

Real processes against a real server: ``mlvitals serve`` (evaluating the default rules every
second), model services run by uvicorn, and the documented batch examples. Waiting past the
absence windows is then done by evaluating the default rules over the server's database at
later times, minute after minute, as the server's own loop would.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlvitals import Monitor
from mlvitals.alerts.config import default_rules
from mlvitals.server.alerts.evaluator import Evaluator
from mlvitals.server.alerts.persistence import load_history
from mlvitals.server.database import open_database
from tests.conftest import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0  # seconds to wait for something a process does; far above what it takes


def wait_for(what: str, check: Any, timeout: float = DEADLINE) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class ModelService:
    """``tests.alerts.model_service`` in a process of its own, taking a few calls."""

    def __init__(self, server: str, version: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        paths = [os.environ.get("PYTHONPATH", ""), str(ROOT)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
        env.pop("MLVITALS_INSTANCE", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.alerts.model_service", server, str(self.port), version],
            cwd=ROOT,
            env=env,
        )
        wait_for(f"the model service on {self.url}", self._ready)

    def _ready(self) -> bool:
        assert self.proc.poll() is None, f"the model service exited with {self.proc.returncode}"
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def serve(self, calls: int) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            for i in range(calls):
                assert client.post("/predict", json=[i, 1.0]).status_code == 200

    def end(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(DEADLINE)


def instances(server: ServerProcess) -> dict[str, dict[str, Any]]:
    reply = httpx.get(f"{server.url}/api/v1/services/model-api/instances", timeout=5)
    if reply.status_code != 200:
        return {}
    return {i["instance"]: i for i in reply.json()["instances"]}


def fired_later(db: str, start: float, minutes: float) -> list[tuple[str, dict[str, str]]]:
    """Every alert that fired, by the server or by the default rules evaluated every 15 s
    from ``start`` for ``minutes`` more, with its labels."""
    store = open_database(db)
    try:
        evaluator = Evaluator(store, default_rules(), holder="later")
        t = start
        while t <= start + minutes * 60:
            evaluator.run_once(t)  # skipped while the stopped server's lease runs out
            t += 15.0
        evaluator.close()
        history = load_history(store, limit=100_000)
        return [
            (
                h["rule"],
                {k: v for k, v in h["labels"].items() if k not in ("alertname", "severity")},
            )
            for h in history
            if h["to"] == "firing"
        ]
    finally:
        store.close()


def test_restarts_and_upgrades_raise_no_alert(tmp_path: Path, server_factory: Any) -> None:
    db = str(tmp_path / "mlvitals.db")
    server = server_factory(db, "--alert-interval", "1")
    names = []
    for version in ("1.0", "1.0", "1.1"):  # a restart, then an upgrade: a new pid each time
        service = ModelService(server.url, version)
        service.serve(30)
        new = wait_for(
            "the new instance's first window",
            lambda: [n for n in instances(server) if n not in names],
        )
        names.append(new[0])
        service.end(signal.SIGTERM)  # uvicorn shuts down: a clean stop
    listed = wait_for(
        "three stopped instances",
        lambda: (
            (found := instances(server))
            and all(i["stopped"] for i in found.values())
            and len(found) == 3
            and found
        ),
    )
    assert sorted(listed) == sorted(names)
    assert not any(i["up"] for i in listed.values())
    services = httpx.get(f"{server.url}/api/v1/services", timeout=5).json()
    assert [(s["service"], s["instances"], s["stopped"]) for s in services] == [
        ("model-api", 0, True)
    ]
    server.stop()
    assert fired_later(db, time.time(), minutes=15) == []


def test_a_killed_instance_raises_instance_down(tmp_path: Path, server_factory: Any) -> None:
    db = str(tmp_path / "mlvitals.db")
    server = server_factory(db, "--alert-interval", "1")
    service = ModelService(server.url, "1.0")
    service.serve(30)
    (name,) = wait_for("the instance's first window", lambda: instances(server))
    service.end(signal.SIGKILL)  # dies without a word
    server.stop()
    fired = fired_later(db, time.time(), minutes=5)
    assert ("InstanceDown", {"service": "model-api", "instance": name}) in fired
    assert ("ServiceDown", {"service": "model-api"}) in fired  # its only instance is gone


def python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "docs" / page).read_text(), flags=re.S)


def batch_examples() -> list[str]:
    """The documented examples that run jobs with a monitor or a run shipping to a server."""
    quality = [b for b in python_blocks("quality.md") if "Monitor(" in b]
    sdk = [b for b in python_blocks("sdk.md") if "monitor.run(" in b]
    pipelines = [b for b in python_blocks("pipelines.md") if "run(" in b and "8765" in b]
    found = [*sdk, *pipelines, *quality]
    assert len(found) == 3, "the batch examples of the docs moved"
    return found


def test_documented_batch_jobs_raise_no_liveness_alert(
    tmp_path: Path, server_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "mlvitals.db")
    server = server_factory(db, "--alert-interval", "1")
    monkeypatch.chdir(tmp_path)  # the pipeline example names output folders
    monkeypatch.delenv("MLVITALS_RUN_ID", raising=False)
    for block in batch_examples():
        code = block.replace("http://127.0.0.1:8765", server.url).replace(
            'Monitor("nightly-etl")', f'Monitor("nightly-etl", server="{server.url}")'
        )
        namespace: dict[str, Any] = {"__name__": "docs_example"}
        exec(compile(code, "docs example", "exec"), namespace)
        for value in namespace.values():
            if isinstance(value, Monitor):
                assert value.close(10)

    def pipelines() -> set[str]:
        reply = httpx.get(f"{server.url}/api/v1/pipelines", timeout=5).json()
        return {p["pipeline"] for p in reply["pipelines"]}

    wait_for("the examples' runs", lambda: pipelines() >= {"retrain-fraud", "nightly-etl"})
    assert httpx.get(f"{server.url}/api/v1/services", timeout=5).json() == []
    server.stop()
    fired = fired_later(db, time.time(), minutes=15)
    # The quality example checks drifted data on purpose: only those data alerts may fire.
    assert [(rule, labels) for rule, labels in fired if "dataset" not in labels] == []
    assert {rule for rule, _ in fired} <= {"DataCheckFailed", "DatasetDrift"}
