"""The cost API through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlvitals.store import Store
from tests.cost.conftest import T, seed_instance, seed_windows

CPU, RAM = 0.031611, 0.004237
H, DAY = 3600.0, 86400.0
READ = {"Authorization": "Bearer reader-token"}
ADMIN = {"Authorization": "Bearer admin-token"}
MakeClient = Callable[..., TestClient]
TOKENS = "reader-token:read;admin-token:admin"


@pytest.fixture
def seeded(store: Store) -> Store:
    # Two services for 2 h: iris (2 cores, 4 GiB) and fraud (1 core, 4 GiB, from 1 h on).
    seed_instance(store, T, T + 2 * H)
    seed_windows(store, T, T + 2 * H, operation="predict", cpu_seconds=1.0)
    seed_instance(store, T + H, T + 2 * H, service="fraud", instance="f-1", cores=1.0)
    return store


def test_cost_grouped_by_service_operation_and_day(seeded: Store, make_client: MakeClient) -> None:
    client = make_client(T + 5 * H, tokens=TOKENS)
    params = {"start": "2026-11-02", "end": "2026-11-03T00:00:00Z", "group_by": "service"}
    assert client.get("/api/v1/cost", params=params).status_code == 401
    reply = client.get("/api/v1/cost", params=params, headers=READ)
    assert reply.status_code == 200, reply.text
    data = reply.json()
    iris, fraud = 4 * CPU + 8 * RAM, 1 * CPU + 4 * RAM
    assert data["currency"] == "USD"
    assert data["total"] == pytest.approx(iris + fraud)
    assert [(g["service"], g["amount"]) for g in data["groups"]] == [
        ("iris", pytest.approx(iris)),
        ("fraud", pytest.approx(fraud)),
    ]
    assert [(g["calls"], g["per_1k_calls"]) for g in data["groups"]] == [
        (36000, pytest.approx(1000 * iris / 36000)),
        (0, 0.0),
    ]
    (predict,) = data["per_call"]
    assert predict["calls"] == 720 * 50
    assert predict["per_1k_calls"] == pytest.approx(1000 * iris / 36000)

    by_day = client.get("/api/v1/cost", params={**params, "group_by": "day"}, headers=READ)
    assert [g["day"] for g in by_day.json()["groups"]] == ["2026-11-02"]
    only = client.get("/api/v1/cost", params={**params, "service": "fraud"}, headers=READ)
    assert only.json()["total"] == pytest.approx(fraud)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"group_by": "colour"}, "cannot group by 'colour'"),
        ({"start": "yesterday"}, "'start': expected Unix seconds"),
        ({"start": "2026-11-03", "end": "2026-11-02"}, "'end' must be after 'start'"),
    ],
)
def test_bad_parameters_are_400(
    store: Store, make_client: MakeClient, params: dict[str, str], message: str
) -> None:
    reply = make_client(T).get("/api/v1/cost", params=params)
    assert reply.status_code == 400
    assert message in reply.json()["error"]


def test_focus_csv_export_parses_back(seeded: Store, make_client: MakeClient) -> None:
    client = make_client(T + 5 * H)
    params = {"start": str(T), "end": str(T + DAY)}
    total = client.get("/api/v1/cost", params=params).json()["total"]
    reply = client.get("/api/v1/cost/export.csv", params=params)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert "attachment" in reply.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert sum(float(r["BilledCost"]) for r in rows) == pytest.approx(total)
    for r in rows:
        assert float(r["BilledCost"]) == pytest.approx(
            float(r["PricingQuantity"]) * float(r["ListUnitPrice"])
        )
        assert r["BillingCurrency"] == "USD"
        assert r["ChargePeriodStart"].startswith("2026-11-02T") and r["ChargePeriodEnd"]
        assert json.loads(r["Tags"])["service"] == r["ServiceName"]
    cpu = [r for r in rows if r["SkuId"] == "cpu"]
    assert {r["ConsumedUnit"] for r in cpu} == {"Core-Hours"}
    assert sum(float(r["ConsumedQuantity"]) for r in cpu) == pytest.approx(5.0)
    assert {r["ResourceId"] for r in rows} == {"pod-1", "f-1"}


def test_budgets_through_the_api(seeded: Store, make_client: MakeClient, tmp_path: Path) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_text("budgets:\n  - {name: all, limit: 0.01, period: daily}\n")
    now = T + 6 * H
    client = make_client(now, tokens=TOKENS, budgets_file=str(path))
    body = {"limit": 1.0, "period": "daily", "scope": "service", "subject": "iris"}
    assert client.put("/api/v1/cost/budgets/iris", json=body, headers=READ).status_code == 403
    reply = client.put("/api/v1/cost/budgets/iris", json=body, headers=ADMIN)
    assert reply.status_code == 200, reply.text
    conflict = client.put("/api/v1/cost/budgets/all", json={"limit": 5.0}, headers=ADMIN)
    assert conflict.status_code == 409
    bad = client.put("/api/v1/cost/budgets/x", json={"limit": 5, "scope": "service"}, headers=ADMIN)
    assert bad.status_code == 400 and "subject" in bad.json()["error"]

    listed = client.get("/api/v1/cost/budgets", headers=READ).json()
    statuses = {b["name"]: b for b in listed["budgets"]}
    iris_spent = 4 * CPU + 8 * RAM
    total_spent = iris_spent + 1 * CPU + 4 * RAM
    assert statuses["iris"]["spent"] == pytest.approx(iris_spent)
    assert statuses["iris"]["forecast"] == pytest.approx(iris_spent * 24 / 6)
    assert statuses["iris"]["source"] == "api" and statuses["all"]["source"] == "file"
    assert statuses["all"]["spent"] == pytest.approx(total_spent)
    assert statuses["all"]["breached"] and statuses["all"]["forecast_breached"]
    assert not statuses["iris"]["breached"] and not statuses["iris"]["forecast_breached"]

    assert client.delete("/api/v1/cost/budgets/iris", headers=ADMIN).status_code == 200
    assert client.delete("/api/v1/cost/budgets/iris", headers=ADMIN).status_code == 404


def test_rates_and_overview(seeded: Store, make_client: MakeClient, tmp_path: Path) -> None:
    card = tmp_path / "cost.yaml"
    card.write_text(
        "currency: EUR\nrates:\n  - {effective_from: 2026-11-02T01:00:00Z, cpu_core_hour: 0.1}\n"
    )
    client = make_client(T + 5 * H, rate_card=str(card))
    rates = client.get("/api/v1/cost/rates").json()
    assert rates["currency"] == "EUR"
    assert [p["cpu_core_hour"] for p in rates["periods"]] == [CPU, 0.1]
    page = client.get("/api/v1/cost/overview", params={"days": 7}).json()
    iris = 2 * CPU + 2 * 0.1 + 8 * RAM
    fraud = 1 * 0.1 + 4 * RAM
    assert page["total"] == pytest.approx(iris + fraud)
    assert page["daily"][-1]["day"] == "2026-11-02"
    assert {a["service"] for a in page["allocations"]} == {"iris", "fraud"}
    assert {"by_resource", "by_pipeline", "idle_share", "budgets", "per_call"} <= set(page)

    card.write_text("rates: [{cpu_core_hour: free}]\n")
    broken = client.get("/api/v1/cost/rates")
    assert broken.status_code == 500
    assert "rates[0].cpu_core_hour" in broken.json()["error"]
