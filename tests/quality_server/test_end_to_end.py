"""The SDK and the CLI against the real server process: what the API returns is what the
engine computed, and the engine's KS statistic is scipy's on the same arrays."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from scipy import stats

from mlvitals import Monitor
from mlvitals.cli.main import main
from tests.conftest import ServerProcess

TOKENS = "reader-token-01:read;ingest-token-01:ingest"
READ = {"Authorization": "Bearer reader-token-01"}


def _frames(n: int = 2000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``income`` and ``plan`` drift (2 of 3 columns: the dataset drifts), ``score`` barely."""
    rng = np.random.default_rng(11)
    reference = pd.DataFrame(
        {
            "income": rng.lognormal(10, 0.5, n),
            "score": rng.normal(0, 1, n),
            "plan": rng.choice(["a", "b"], n, p=[0.5, 0.5]),
        }
    )
    current = pd.DataFrame(
        {
            "income": rng.lognormal(10.3, 0.5, n),
            "score": rng.normal(0.05, 1, n),
            "plan": rng.choice(["a", "b"], n, p=[0.7, 0.3]),
        }
    )
    return current, reference


def test_sdk_to_server_the_api_returns_the_engines_statistics(
    server_factory: type[ServerProcess], tmp_path: Path
) -> None:
    server = server_factory(str(tmp_path / "m.db"), "--tokens", TOKENS)
    current, reference = _frames()
    monitor = Monitor("etl", server=server.url, token="ingest-token-01", background=False)
    result = monitor.check(current, reference=reference, dataset="features")
    assert monitor.flush(timeout=10.0)
    monitor.close()

    # The engine's KS is scipy's two-sample KS on the same arrays (an independent reference).
    for name in ("income", "score"):
        ks = stats.ks_2samp(reference[name].to_numpy(), current[name].to_numpy())
        assert result.drift.column(name).statistic == pytest.approx(ks.statistic, abs=1e-12)
    score = stats.ks_2samp(reference["score"].to_numpy(), current["score"].to_numpy())
    assert 0.001 < score.pvalue < 0.9
    assert result.drift.column("score").p_value == pytest.approx(score.pvalue, rel=1e-6)
    assert [c.column for c in result.drift.drifted] == ["income", "plan"]

    body = httpx.get(f"{server.url}/api/v1/datasets/features", headers=READ).json()
    stored = {d["column"]: d for d in body["check"]["drift"]}
    assert sorted(stored) == ["income", "plan", "score"]
    for c in result.drift.columns:
        got = stored[c.column]
        assert (got["method"], got["drifted"]) == (c.method, c.drifted)
        assert got["statistic"] == c.statistic and got["p_value"] == c.p_value
        assert got["p_adjusted"] == c.p_adjusted and got["effect_size"] == c.effect_size
        assert got["threshold"] == c.threshold
    assert body["check"]["passed"] is result.passed
    assert body["check"]["drifted_share"] == pytest.approx(result.drift.drifted_share)
    series = httpx.get(
        f"{server.url}/api/v1/datasets/features/drift",
        params={"column": "income"},
        headers=READ,
    ).json()["columns"][0]["points"]
    assert [p["statistic"] for p in series] == [result.drift.column("income").statistic]
    listed = httpx.get(f"{server.url}/api/v1/datasets", headers=READ).json()["datasets"]
    assert [(d["dataset"], d["rows"]) for d in listed] == [("features", 2000)]


def _mlvitals(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_cli_check_sends_the_result_and_keeps_its_exit_codes(
    server_factory: type[ServerProcess], tmp_path: Path
) -> None:
    server = server_factory(str(tmp_path / "m.db"), "--tokens", TOKENS)
    current, reference = _frames()
    ref, cur = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    reference.to_parquet(ref)
    current.to_parquet(cur)
    send = ["--server", server.url, "--token", "ingest-token-01", "--dataset", "features"]

    drifted = _mlvitals("check", str(cur), "--reference", str(ref), *send)
    assert drifted.exit_code == 1, drifted.output  # drift: exit 1, as without --server
    assert "sent the check_result of dataset 'features'" in drifted.output
    same = _mlvitals("check", str(ref), "--reference", str(ref), *send)
    assert same.exit_code == 0, same.output
    profiled = _mlvitals("profile", str(cur), "-o", str(tmp_path / "p.json"), *send)
    assert profiled.exit_code == 0, profiled.output

    body = httpx.get(f"{server.url}/api/v1/datasets/features", headers=READ).json()
    assert [c["passed"] for c in body["checks"]] == [True, False]  # newest first
    assert [h["source"] for h in body["history"]] == ["check", "check", "profile"]
    assert body["history"][0]["bytes"] == cur.stat().st_size
    assert body["check"]["data_name"] == str(ref)

    # A token without the ingest scope or a dead server: exit 4; a missing --dataset: exit 2.
    refused = _mlvitals(
        "check",
        str(cur),
        "-r",
        str(ref),
        "--server",
        server.url,
        "--token",
        "reader-token-01",
        "--dataset",
        "features",
    )
    assert refused.exit_code == 4 and "HTTP 403" in refused.output
    dead = _mlvitals(
        "check", str(cur), "-r", str(ref), "--server", "http://127.0.0.1:9", "--dataset", "features"
    )
    assert dead.exit_code == 4 and "cannot reach the server at http://127.0.0.1:9" in dead.output
    unnamed = _mlvitals("check", str(cur), "-r", str(ref), "--server", server.url)
    assert unnamed.exit_code == 2 and "--server needs --dataset NAME" in unnamed.output
