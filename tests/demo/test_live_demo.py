"""The whole demo, compressed: ``mlvitals demo --pace 6`` in a real process, checked through
the HTTP API while it runs.

The demo writes what it staged to ``timeline.jsonl`` (when each incident began, from when
its alert's condition holds, which alert with which labels). Every expectation here comes
from that file, from the files the pipeline wrote on disk, from the installed
scikit-learn's version, or from the published rates; the alerts, runs and costs come from
the server's API.
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from scipy.stats import ks_2samp

from tests.conftest import free_port

# Starting the demo (the model, an hour of history) can take minutes on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

PACE = 6
STARTUP_DEADLINE = 600.0  # seconds for the whole timeline, on a slow shared machine
SERVICE = "tumour-classifier"
# Built-in rates (docs/cost.md), USD: per vCPU-hour, per GiB-hour, per A10G GPU-hour.
CPU_RATE, RAM_RATE, A10G_RATE = 0.031611, 0.004237, 0.8118


@dataclass
class LiveDemo:
    url: str
    folder: Path
    output: Path
    entries: list[dict[str, Any]]
    proc: subprocess.Popen[str]

    def get(self, path: str, **params: Any) -> Any:
        reply = httpx.get(self.url + path, params=params, timeout=30)
        assert reply.status_code == 200, (path, reply.text)
        return reply.json()

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["kind"] == kind]

    @property
    def ready(self) -> dict[str, Any]:
        (entry,) = self.of_kind("ready")
        return entry

    @property
    def interval(self) -> float:
        return float(self.ready["timing"]["alert_interval"])

    def staged(self, incident: str) -> dict[str, Any]:
        (entry,) = [e for e in self.of_kind("staged") if e["incident"] == incident]
        return entry


def _read_entries(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDemo]:
    folder = tmp_path_factory.mktemp("demo")
    output = folder.parent / f"{folder.name}-output.txt"
    port = free_port()
    with output.open("w") as out:
        args = ["demo", "--pace", str(PACE), "--port", str(port), "--dir", str(folder)]
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlvitals.cli", *args, "--duration", "300"],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    timeline = folder / "timeline.jsonl"
    deadline = time.monotonic() + STARTUP_DEADLINE
    try:
        while not any(e["kind"] == "end" for e in _read_entries(timeline)):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the demo did not finish its timeline:\n{output.read_text()}")
            time.sleep(0.5)
        yield LiveDemo(f"http://127.0.0.1:{port}", folder, output, _read_entries(timeline), proc)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _matches(change: dict[str, Any], rule: str, labels: dict[str, str]) -> bool:
    return change["rule"] == rule and all(change["labels"].get(k) == v for k, v in labels.items())


def _firings(live: LiveDemo) -> list[dict[str, Any]]:
    history = live.get("/api/v1/alerts/history", limit=5000)["history"]
    return sorted((c for c in history if c["to"] == "firing"), key=lambda c: c["time"])


def test_each_incident_raises_its_alert_within_two_evaluation_intervals(live: LiveDemo) -> None:
    firings = _firings(live)
    staged = live.of_kind("staged")
    assert {s["incident"] for s in staged} == {
        "error-burst",
        "late-run",
        "latency-regression",
        "few-rows",
        "drifted-batch",
        "instance-stopped",
        "dependency-change",
        "retraining-failed",
        "budget-near-limit",
    }
    for item in staged:
        for expect in item["expect"]:
            fired = [
                c["time"]
                for c in firings
                if _matches(c, expect["alert"], expect["labels"]) and c["time"] >= item["at"]
            ]
            assert fired, (item["incident"], expect, firings)
            delay = fired[0] - item["holds_from"]
            assert delay <= 2 * live.interval, (item["incident"], expect["alert"], delay)


def test_the_clean_period_raises_nothing_and_no_alert_goes_unexplained(live: LiveDemo) -> None:
    history = live.get("/api/v1/alerts/history", limit=5000)["history"]
    first = live.ready["first"]
    assert [c for c in history if c["time"] < first] == []
    burst = live.staged("error-burst")
    stopped = live.staged("instance-stopped")
    timing = live.ready["timing"]
    # The burn rate's long window (three rule windows) holds the burst for that long.
    burst_ends = burst["at"] + timing["incident_seconds"] + 3 * timing["rule_window"] + 3.0
    for change in _firings(live):
        expected = any(
            _matches(change, e["alert"], e["labels"]) and change["time"] >= s["at"]
            for s in live.of_kind("staged")
            for e in s["expect"]
        )
        # Two rules follow from the incidents without being what they stage: the error
        # burst also burns the error budget, and a stopped replica fails its uptime probe.
        burn = change["rule"] == "ErrorBudgetBurn" and burst["at"] <= change["time"] <= burst_ends
        probe = (
            change["rule"] == "ProbeFailing"
            and change["labels"].get("target") == f"{SERVICE}/replica-a"
            and change["time"] >= stopped["at"]
        )
        assert expected or burn or probe, change


def test_the_feature_pipeline_shows_the_late_run_and_the_short_extract(live: LiveDemo) -> None:
    runs = live.get("/api/v1/pipelines/tumour-features/runs", limit=200)
    slots = runs["schedule"]["slots"]
    late = [s for s in slots if s["status"] == "late"]
    assert len(late) == 1 and late[0]["run_id"] is not None
    assert late[0]["delay_seconds"] > live.ready["timing"]["grace"]
    assert [s for s in slots if s["status"] == "missed"] == []
    assert live.get(f"/api/v1/runs/{late[0]['run_id']}")["run"]["state"] == "succeeded"

    few_id = live.staged("few-rows")["page"].removeprefix("/runs/")
    detail = live.get(f"/api/v1/runs/{few_id}")
    (extract,) = [s for s in detail["steps"] if s["name"] == "extract"]
    slot = detail["run"]["scheduled_at"]
    parts = sorted((live.folder / "features" / f"{slot:.0f}" / "raw").glob("part-*.csv"))
    on_disk = sum(len(list(csv.reader(p.open()))) - 1 for p in parts)  # less the headers
    assert on_disk == 24
    assert [o["rows"] for o in extract["outputs"]] == [on_disk]
    flagged = {(a["step"], a["metric"]) for a in detail["anomalies"] if a["direction"] == "low"}
    assert ("extract", "output_rows") in flagged and ("featurize", "output_rows") in flagged


def test_the_drifted_batch_fails_its_check_and_every_other_batch_passes(live: LiveDemo) -> None:
    checks = live.get("/api/v1/datasets/biopsies")["checks"]
    assert len(checks) >= 5
    (failed,) = [c for c in checks if not c["passed"]]
    assert failed["dataset_drift"] and failed["columns_drifted"] >= 6
    detail = live.get("/api/v1/datasets/biopsies", check=failed["id"])["check"]
    drifted = {d["column"] for d in detail["drift"] if d["drifted"]}
    scaled = {"radius", "perimeter", "area", "texture", "compactness", "concave_points"}
    # Every scaled measurement drifted (another may drift by chance, at the tests' 5 %).
    assert scaled <= drifted and len(drifted) <= 7
    # The batch on disk against the training data, with scipy: the scaled columns moved.
    run = live.get(f"/api/v1/runs/{failed['run_id']}")["run"]
    assert run["pipeline"] == "tumour-features"
    folder = live.folder / "features" / f"{run['scheduled_at']:.0f}"
    batch = np.genfromtxt(folder / "clean.csv", delimiter=",", names=True)
    reference = np.genfromtxt(live.folder / "reference" / "training.csv", delimiter=",", names=True)
    assert batch["radius"].mean() / reference["radius"].mean() == pytest.approx(1.3, rel=0.05)
    for column in scaled:
        assert ks_2samp(batch[column], reference[column]).pvalue < 1e-3, column


def test_the_broken_retraining_shows_the_dependency_that_changed(live: LiveDemo) -> None:
    runs = live.get("/api/v1/pipelines/tumour-retrain/runs")["runs"]
    assert [r["state"] for r in runs] == ["succeeded", "failed", "succeeded", "succeeded"]
    detail = live.get(f"/api/v1/runs/{runs[1]['run_id']}")
    assert detail["run"]["error"]["type"] == "TypeError"
    diff = detail["environment_diff"]
    installed = version("scikit-learn")
    major, minor = (int(p) for p in installed.split(".")[:2])
    assert diff["upgraded"] == {
        "scikit-learn": {"before": installed, "after": f"{major}.{minor + 1}.0"}
    }
    assert diff["added"] == diff["removed"] == diff["downgraded"] == diff["changed"] == {}
    assert diff["last_good_run_id"] == runs[2]["run_id"]
    # The model serving now (1.4.0 on two replicas) came from a training run and a
    # deployment run that links it to the service's version.
    deployed = live.get("/api/v1/pipelines/tumour-deploy/runs")["runs"]
    linked = {(r["model_version"], r["service"], r["serving_version"]) for r in deployed}
    assert ("1.4.0", SERVICE, "1.4.0") in linked
    assert "1.4.0" in {r["model_version"] for r in runs}
    series = live.get(f"/api/v1/services/{SERVICE}/series", start="now-30s", group_by="version")
    assert "1.4.0" in {s["labels"]["version"] for s in series["series"]}


def test_cost_gives_per_1000_calls_and_each_retraining_run(live: LiveDemo) -> None:
    by_service = live.get("/api/v1/cost", group_by="service")
    (group,) = [g for g in by_service["groups"] if g["service"] == SERVICE]
    assert group["calls"] > 0 and group["amount"] > 0
    assert group["per_1k_calls"] == pytest.approx(group["amount"] / group["calls"] * 1000)

    runs = live.get("/api/v1/pipelines/tumour-retrain/runs")["runs"]
    cost = live.get("/api/v1/cost", group_by="run", pipeline="tumour-retrain", start="now-4d")
    amounts = {g["run"]: g["amount"] for g in cost["groups"]}
    assert set(amounts) >= {r["run_id"] for r in runs}
    for run in runs:
        # Billed the larger of what the rate card requests (8 cores, 32 GiB, 4 A10G) and
        # what the run used (6 cores, 12 GiB, 3.2 GPUs busy), over its wall time.
        hours = (run["ended_at"] - run["started_at"]) / 3600
        by_hand = hours * (8 * CPU_RATE + 32 * RAM_RATE + 4 * A10G_RATE)
        assert amounts[run["run_id"]] == pytest.approx(by_hand, rel=1e-6), run


def test_the_retraining_budget_is_near_its_limit_and_serving_within(live: LiveDemo) -> None:
    budgets = {b["name"]: b for b in live.get("/api/v1/cost/budgets")["budgets"]}
    retraining = budgets["retraining-daily"]
    assert retraining["source"] == "api" and retraining["subject"] == "tumour-retrain"
    assert 0.9 < retraining["forecast"] / retraining["limit"] < 1.1
    serving = budgets["serving-monthly"]
    assert serving["source"] == "file" and serving["subject"] == SERVICE
    assert serving["forecast"] < 0.9 * serving["limit"] and not serving["breached"]


def test_the_output_is_the_url_then_the_timeline_and_ctrl_c_stops_it(live: LiveDemo) -> None:
    lines = live.output.read_text().splitlines()
    assert lines[0] == f"mlvitals demo: dashboard at {live.url}/"
    for item in live.of_kind("staged"):
        assert any(item["text"] in line for line in lines), item["text"]
    live.proc.send_signal(signal.SIGINT)
    assert live.proc.wait(30) == 0
    assert "Traceback" not in live.output.read_text()
