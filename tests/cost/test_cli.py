"""``mlvitals cost`` run as a user runs it, on a seeded SQLite database."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlvitals.server.database import open_database
from tests.cost.conftest import T, seed_instance, seed_windows

CPU, RAM = 0.031611, 0.004237
H = 3600.0


def mlvitals(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlvitals.cli", "cost", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "m.db")
    store = open_database(path)
    try:
        seed_instance(store, T, T + 2 * H)
        seed_windows(store, T, T + 2 * H, operation="predict")
    finally:
        store.close()
    return path


def test_json_table_and_csv(db: str, tmp_path: Path) -> None:
    span = ("--start", "2026-11-02", "--end", "2026-11-03")
    out = mlvitals("--db", db, *span, "--by", "operation", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["total"] == pytest.approx(4 * CPU + 8 * RAM)
    assert data["groups"][0]["operation"] == "predict"

    table = mlvitals("--db", db, *span)
    assert table.returncode == 0, table.stderr
    assert "iris" in table.stdout and "total 0.1603 USD" in table.stdout

    path = tmp_path / "cost.csv"
    written = mlvitals("--db", db, *span, "--csv", str(path))
    assert written.returncode == 0, written.stderr
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert sum(float(r["BilledCost"]) for r in rows) == pytest.approx(data["total"])


def test_budgets_and_errors(db: str, tmp_path: Path) -> None:
    budgets = tmp_path / "b.yaml"
    budgets.write_text("budgets:\n  - {name: all, limit: 100}\n")
    out = mlvitals("--db", db, "--budgets-file", str(budgets), "--budgets", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["budgets"][0]["name"] == "all"
    bad = mlvitals("--db", db, "--by", "colour")
    assert bad.returncode == 2 and "--by: choose from" in bad.stderr
    card = tmp_path / "cost.yaml"
    card.write_text("currency: usd\n")
    broken = mlvitals("--db", db, "--rate-card", str(card))
    assert broken.returncode == 2 and "cost.yaml: currency" in broken.stderr
