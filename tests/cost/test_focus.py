"""The FOCUS-style CSV, parsed back."""

from __future__ import annotations

import csv
import io
import json

import pytest

from mlvitals.cost.config import DEFAULT_CONFIG, parse_config
from mlvitals.cost.focus import FOCUS_COLUMNS, write_focus_csv
from mlvitals.cost.runs import RunUsage, run_lines
from mlvitals.cost.serving import OperationUsage, serving_lines
from tests.cost.conftest import T


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_calls_runs_and_idle_round_trip() -> None:
    cfg = parse_config({"rates": [{"per_1k_calls": {"llm": 0.5}}]}, "x")
    calls = serving_lines([], [OperationUsage("llm", "", "chat", "api", T, T + 60, 1500)], cfg)
    run = run_lines(
        [RunUsage("r-7", "etl", T, T + 3600, cpu_seconds=1800.0, gpu_seconds=900.0)],
        DEFAULT_CONFIG,
    )
    lines = [*calls.lines, *run.lines]
    out = io.StringIO()
    assert write_focus_csv(lines, out) == len(lines)
    rows = parse(out.getvalue())
    assert tuple(rows[0]) == FOCUS_COLUMNS

    call = rows[0]
    assert (call["ConsumedQuantity"], call["ConsumedUnit"]) == ("1500.0", "Requests")
    assert (call["PricingQuantity"], call["PricingUnit"]) == ("1.5", "1000 Requests")
    assert float(call["BilledCost"]) == pytest.approx(0.75)
    assert call["ChargePeriodStart"] == "2026-11-02T00:00:00Z"
    assert call["ChargePeriodEnd"] == "2026-11-02T00:01:00Z"
    assert json.loads(call["Tags"]) == {
        "service": "llm",
        "operation": "chat",
        "instance": "api",
        "idle": "false",
    }

    gpu = next(r for r in rows if r["SkuId"] == "gpu/default")
    assert (gpu["ServiceName"], gpu["ResourceId"], gpu["ServiceCategory"]) == (
        "etl",
        "r-7",
        "Compute",
    )
    assert float(gpu["BilledCost"]) == pytest.approx(0.25 * 0.95)
    assert sum(float(r["BilledCost"]) for r in rows) == pytest.approx(calls.amount + run.amount)
