"""``mlvitals profile | check | schema infer``, run as a user runs them (a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mlvitals.quality import Profile


def mlvitals(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlvitals.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    n = 3_000
    ref = pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "income": rng.normal(50_000, 8_000, n),
            "plan": rng.choice(["free", "pro"], n),
        }
    )
    ref.to_parquet(d / "ref.parquet")
    ref.sample(frac=1.0, random_state=1).to_csv(d / "same.csv", index=False)
    bad = ref.copy()
    bad["income"] = bad["income"] * 1.5
    bad["plan"] = rng.choice(["free", "pro", "gold"], n, p=[0.2, 0.2, 0.6])
    bad.to_csv(d / "bad.csv", index=False)
    return {"dir": d, "ref": d / "ref.parquet", "same": d / "same.csv", "bad": d / "bad.csv"}


def test_profile_writes_versioned_json(files: dict[str, Path]) -> None:
    out = files["dir"] / "ref.json"
    run = mlvitals("profile", files["ref"], "-o", out)
    assert run.returncode == 0, run.stderr
    p = Profile.from_json(out.read_text())
    assert p.rows == 3_000 and p.names == ("age", "income", "plan")


def test_check_exits_0_when_everything_passes(files: dict[str, Path]) -> None:
    run = mlvitals("check", files["same"], "--reference", files["ref"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("PASSED")


def test_check_exits_1_on_failures_and_drift_and_writes_reports(files: dict[str, Path]) -> None:
    html = files["dir"] / "report.html"
    profile_json = files["dir"] / "ref2.json"
    assert mlvitals("profile", files["ref"], "-o", profile_json).returncode == 0
    run = mlvitals("check", files["bad"], "-r", profile_json, "--json", "--html", html)
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    assert doc["passed"] is False
    assert {(f["check"], f["column"]) for f in doc["failures"]} == {
        ("categories", "plan"),
        ("range", "income"),
    }
    assert set(doc["drift"]["drifted_columns"]) == {"income", "plan"}
    assert doc["drift"]["dataset_drift"] is True
    assert html.read_text().startswith("<!doctype html>")


def test_check_exits_2_on_input_errors_naming_the_file(files: dict[str, Path]) -> None:
    missing = files["dir"] / "missing.csv"
    run = mlvitals("check", missing, "--reference", files["ref"])
    assert run.returncode == 2
    assert "no such file or folder" in run.stderr and "missing.csv" in run.stderr
    odd = files["dir"] / "data.xlsx"
    odd.write_text("x")
    run = mlvitals("profile", odd)
    assert run.returncode == 2 and "unknown format '.xlsx'" in run.stderr
    run = mlvitals("check", files["same"])  # no --reference: a usage error
    assert run.returncode == 2 and "--reference" in run.stderr


def test_check_with_a_schema_and_a_drift_config(files: dict[str, Path]) -> None:
    schema = files["dir"] / "schema.yaml"
    run = mlvitals("schema", "infer", files["ref"], "-o", schema)
    assert run.returncode == 0, run.stderr
    rules = yaml.safe_load(schema.read_text())
    rules["columns"]["plan"]["categories"].append("gold")
    rules["columns"]["income"]["max_out_of_range_share"] = 1.0
    schema.write_text(yaml.safe_dump(rules))
    policy = files["dir"] / "drift.yaml"
    policy.write_text("dataset_share: 1.0\ncolumns:\n  plan: {skip: true}\n")
    run = mlvitals(
        "check", files["bad"], "-r", files["ref"], "--schema", schema, "--drift-config", policy
    )
    # gold is now a known category and only one of two tested columns drifts: passes
    assert run.returncode == 0, run.stdout + run.stderr
    assert "drift income" in run.stdout


def test_progress_bar_goes_to_stderr(files: dict[str, Path]) -> None:
    run = mlvitals("profile", files["same"], "--progress", "-o", files["dir"] / "p.json")
    assert run.returncode == 0
    assert "profiling" in run.stderr and run.stdout == ""


def test_fail_on_decides_what_drift_exits_1(files: dict[str, Path]) -> None:
    ref = pd.read_parquet(files["ref"])
    loose = yaml.safe_load(mlvitals("schema", "infer", files["ref"]).stdout)
    for name in ("age", "income"):  # values may leave the reference range: drift only
        loose["columns"][name]["max_out_of_range_share"] = 1.0
    schema = files["dir"] / "loose.yaml"
    schema.write_text(yaml.safe_dump(loose))
    one = files["dir"] / "one_drifted.parquet"  # 1 of 3 columns drifts: below the share
    ref.assign(income=ref.income * 1.5).to_parquet(one)
    two = files["dir"] / "two_drifted.parquet"  # 2 of 3: dataset drift
    ref.assign(income=ref.income * 1.5, age=ref.age + 20).to_parquet(two)

    default = mlvitals("check", one, "-r", files["ref"], "--schema", schema)
    assert default.returncode == 0, default.stdout + default.stderr
    head = default.stdout.splitlines()[0]
    assert head.startswith("PASSED") and "income" in head  # the summary line names it
    column = mlvitals(
        "check", one, "-r", files["ref"], "--schema", schema, "--fail-on", "column-drift"
    )
    assert column.returncode == 1, column.stdout + column.stderr
    assert column.stdout.startswith("FAILED") and "income" in column.stdout.splitlines()[0]
    dataset = mlvitals("check", two, "-r", files["ref"], "--schema", schema)
    assert dataset.returncode == 1, dataset.stdout + dataset.stderr
    never = mlvitals("check", two, "-r", files["ref"], "--schema", schema, "--fail-on", "never")
    assert never.returncode == 0, never.stdout + never.stderr
    assert "age" in never.stdout.splitlines()[0] and "income" in never.stdout.splitlines()[0]
    wrong = mlvitals("check", one, "-r", files["ref"], "--fail-on", "sometimes")
    assert wrong.returncode == 2 and "--fail-on" in wrong.stderr
