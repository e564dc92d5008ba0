"""The server's ``/metrics`` exports every area: pipelines, data checks, cost and alerts, with
values stated from the seeded inputs, read with prometheus-client's own text parser."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from mlvitals.alerts.config import load_rules
from mlvitals.server import create_app
from mlvitals.server.alerts.evaluator import Evaluator
from mlvitals.settings import Settings
from mlvitals.store import Store
from tests.sdk.test_prometheus_interop import tool
from tests.server import exports_seed as seed_data
from tests.server.exports_seed import BUDGET_LIMIT, CALLS, DELAY, ETL, FAILED_CALLS, SERVICE, TRAIN

DASHBOARD = Path(__file__).resolve().parents[2] / "contrib" / "grafana" / "mlvitals.json"
NOW = 1718452800.0  # 2024-06-15 12:00 UTC: the month run (12 days ago) is this month
DAY_START = 1718409600.0
MONTH_START = 1717200000.0

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def scraped(store: Store, tmp_path: Path) -> Iterator[tuple[str, Samples, seed_data.Seeded]]:
    files = seed_data.write_config(tmp_path)
    client = TestClient(create_app(Settings().replace(**files), store, clock=lambda: NOW))
    seeded = seed_data.seed(NOW, tmp_path)
    for batch in seed_data.batches(seeded.records):
        assert client.post("/api/v1/ingest", json=batch).status_code == 200
    Evaluator(store, load_rules(files["rules_file"]), clock=lambda: NOW).run_once(NOW)
    text = client.get("/metrics").text
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    yield text, samples, seeded
    client.close()


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def total(samples: Samples, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def test_pipeline_series(scraped: tuple[str, Samples, seed_data.Seeded]) -> None:
    _, samples, seeded = scraped
    state = "mlvitals_pipeline_last_run_state"
    assert value(samples, state, pipeline=ETL, state="succeeded") == 1
    assert value(samples, state, pipeline=ETL, state="failed") == 0
    assert value(samples, state, pipeline=TRAIN, state="failed") == 1
    assert value(samples, "mlvitals_pipeline_health", pipeline=TRAIN, health="failed") == 1
    assert value(samples, "mlvitals_pipeline_last_run_duration_seconds", pipeline=ETL) == 1800
    assert value(samples, "mlvitals_pipeline_last_run_start_delay_seconds", pipeline=ETL) == DELAY
    end = NOW - 3600 + DELAY + 1800
    assert value(samples, "mlvitals_pipeline_last_run_end_timestamp_seconds", pipeline=ETL) == end
    assert value(samples, "mlvitals_pipeline_last_run_output_rows", pipeline=ETL) == 1250
    assert (
        value(samples, "mlvitals_pipeline_last_run_output_bytes", pipeline=ETL)
        == seeded.output_bytes
    )
    # Bounded cardinality: no run id in any label.
    assert not any("run_id" in dict(labels) for _, labels in samples)


def test_data_check_series(scraped: tuple[str, Samples, seed_data.Seeded]) -> None:
    _, samples, _ = scraped
    assert value(samples, "mlvitals_data_check_passed", dataset="users") == 1
    assert value(samples, "mlvitals_data_check_passed", dataset="orders") == 0
    # Of orders' two columns, amount was shifted far past the reference and qty was not.
    assert value(samples, "mlvitals_data_check_drifted_columns_ratio", dataset="orders") == 0.5
    assert value(samples, "mlvitals_data_check_drifted_columns_ratio", dataset="users") == 0
    # amount's values all lie above the reference's range: one failed range check.
    assert value(samples, "mlvitals_data_check_failures", dataset="orders") == 1
    assert value(samples, "mlvitals_data_check_failures", dataset="users") == 0
    checks = "mlvitals_data_checks_total"
    assert value(samples, checks, dataset="orders", verdict="failed") == 1
    assert value(samples, checks, dataset="users", verdict="passed") == 1


def test_cost_series(scraped: tuple[str, Samples, seed_data.Seeded]) -> None:
    _, samples, seeded = scraped
    for period, start in (("day", DAY_START), ("month", MONTH_START)):
        for pipeline, expected in ((ETL, seeded.run_cost(ETL, start)), (TRAIN, 1.0)):
            got = total(samples, "mlvitals_cost", period=period, pipeline=pipeline)
            assert got == pytest.approx(expected, rel=1e-6), (period, pipeline)
        serving = total(samples, "mlvitals_cost", period=period, service=SERVICE)
        assert serving == pytest.approx(seeded.serving_cost(start), rel=1e-6)
    # Two ETL runs today (0.5 each), one more earlier this month (1.0).
    assert total(samples, "mlvitals_cost", period="day", pipeline=ETL) == pytest.approx(1.0)
    assert total(samples, "mlvitals_cost", period="month", pipeline=ETL) == pytest.approx(2.0)
    budget = {"budget": "etl-daily", "period": "daily", "scope": "pipeline", "subject": ETL}
    labels = {**budget, "currency": "EUR"}
    assert value(samples, "mlvitals_budget_spent", **labels) == pytest.approx(1.0)
    # Half the day gone: the forecast doubles what was spent.
    assert value(samples, "mlvitals_budget_forecast", **labels) == pytest.approx(2.0)
    assert value(samples, "mlvitals_budget_limit", **labels) == BUDGET_LIMIT


def test_alert_series_in_prometheus_style(scraped: tuple[str, Samples, seed_data.Seeded]) -> None:
    _, samples, _ = scraped
    alerts = {
        (dict(labels)["alertname"], dict(labels)["alertstate"]): v
        for (name, labels), v in samples.items()
        if name == "ALERTS"
    }
    assert alerts == {("PipelineFailed", "firing"): 1.0, ("DataCheckFailing", "pending"): 1.0}
    fired = {"alertname": "PipelineFailed", "pipeline": TRAIN, "severity": "critical"}
    assert value(samples, "ALERTS_FOR_STATE", **fired) == NOW


def test_serving_series_still_exported(scraped: tuple[str, Samples, seed_data.Seeded]) -> None:
    _, samples, _ = scraped
    calls = "mlvitals_calls_total"
    assert total(samples, calls, service=SERVICE, outcome="error") == FAILED_CALLS
    assert total(samples, calls, service=SERVICE) == CALLS


def test_promtool_accepts_the_server_exposition(
    scraped: tuple[str, Samples, seed_data.Seeded],
) -> None:
    text, _, _ = scraped
    check = subprocess.run(
        [tool("promtool"), "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


_PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and"}
_PROMQL_WORDS |= {"or", "unless", "offset", "time"}


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression reads: identifiers that are not functions,
    aggregation clauses, label matchers or keywords.

    >>> sorted(metric_names('sum by (le) (rate(a_bucket{x="y"}[5m])) / b'))
    ['a_bucket', 'b']
    """
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # strings
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", expr)  # matchers, ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        followed = expr[m.end() :].lstrip()[:1]
        if followed != "(" and m.group() not in _PROMQL_WORDS:
            names.add(m.group())
    return names


def test_grafana_dashboard_reads_only_exported_metrics(
    scraped: tuple[str, Samples, seed_data.Seeded],
) -> None:
    _, samples, _ = scraped
    exported = {name for name, _ in samples}
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    variables = dashboard["templating"]["list"]
    used = set().union(*(metric_names(e) for e in exprs))
    for v in variables:  # label_values(METRIC, LABEL)
        if v["type"] == "query":
            found = re.fullmatch(r"label_values\((\w+), *\w+\)", v["definition"])
            assert found is not None, v["definition"]
            used.add(found[1])
    # Every area has panels: serving, pipelines, data checks, cost, alerts.
    for prefix in ("mlvitals_call", "mlvitals_pipeline_", "mlvitals_data_check", "mlvitals_cost"):
        assert any(n.startswith(prefix) for n in used), prefix
    assert "ALERTS" in used
    assert used - exported == set()
