"""The OpenAPI document describes the answers: every JSON route declares its response
schema, the real answers (seeded data in every area) validate against it, non-JSON routes
declare their media types, and docs/api.md names every route."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from mlvitals.server.areas import RECORD_KINDS
from mlvitals.server.database import open_database
from tests.server.api_seed import NOW, Seeded, seed

ROOT = Path(__file__).resolve().parents[2]
API_DOC = ROOT / "docs" / "api.md"
METHODS = ("get", "post", "put", "delete")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    folder = tmp_path_factory.mktemp("openapi")
    store = open_database(str(folder / "mlvitals.db"))
    try:
        yielded = seed(store, folder)
        yield yielded
        yielded.client.close()
    finally:
        store.close()


@pytest.fixture(scope="module")
def document(seeded: Seeded) -> dict[str, Any]:
    answer = seeded.client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    doc: dict[str, Any] = answer.json()
    return doc


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = doc["components"]["schemas"][name]
    return schema


def violations(doc: dict[str, Any], schema: dict[str, Any], value: Any, at: str) -> list[str]:
    """Where ``value`` breaks ``schema`` (the JSON Schema subset Pydantic writes)."""
    schema = resolve(doc, schema)
    if "anyOf" in schema:
        tries = [violations(doc, s, value, at) for s in schema["anyOf"]]
        return [] if any(not t for t in tries) else [f"{at}: matches no anyOf: {tries}"]
    kind = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    if kind is not None and not checks[kind](value):
        return [f"{at}: expected {kind}, got {value!r:.60}"]
    found: list[str] = []
    if isinstance(value, dict):
        props = schema.get("properties", {})
        found += [f"{at}: missing {k!r}" for k in schema.get("required", []) if k not in value]
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                found += violations(doc, props[key], item, f"{at}.{key}")
            elif extra is False:
                found.append(f"{at}: undeclared key {key!r}")
            elif isinstance(extra, dict):
                found += violations(doc, extra, item, f"{at}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += violations(doc, schema["items"], item, f"{at}[{i}]")
    return found


def declared(doc: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    responses = doc["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} does not declare {status}"
    schema: dict[str, Any] = responses[str(status)]["content"]["application/json"]["schema"]
    return schema


def test_every_json_operation_declares_a_described_answer(document: dict[str, Any]) -> None:
    undescribed = []
    operations = 0
    for path, item in document["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            operations += 1
            ok = {c: r for c, r in item[method]["responses"].items() if c.startswith("2")}
            assert ok, f"{method.upper()} {path} declares no 2xx answer"
            for code, response in ok.items():
                content = response.get("content", {})
                if "application/json" not in content:
                    continue
                schema = resolve(document, content["application/json"]["schema"])
                if schema.get("type") == "array":
                    schema = resolve(document, schema["items"])
                if not schema.get("properties"):
                    undescribed.append(f"{method.upper()} {path} {code}")
    assert operations >= 30
    assert undescribed == []


def test_errors_are_declared_as_the_error_object(document: dict[str, Any]) -> None:
    error = {"error": "x"}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method not in item or path == "/healthz":
                continue
            codes = item[method]["responses"]
            assert {"401", "403"} <= set(codes), f"{method.upper()} {path}: no 401/403"
            for code in codes:
                if code.startswith(("4", "5")) and code != "422":
                    schema = declared(document, path, method, int(code))
                    assert violations(document, schema, error, code) == []
                    assert violations(document, schema, {"detail": "x"}, code) != []


def test_non_json_routes_declare_their_media_types(
    seeded: Seeded, document: dict[str, Any]
) -> None:
    paths = document["paths"]
    for path, url in (
        ("/metrics", "/metrics"),
        ("/api/v1/cost/export.csv", "/api/v1/cost/export.csv"),
    ):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert "application/json" not in content
        (media_type,) = content
        served = seeded.client.get(url)
        assert served.status_code == 200
        assert served.headers["content-type"] == media_type
    assert next(iter(paths["/metrics"]["get"]["responses"]["200"]["content"])).startswith(
        "text/plain"
    )


def _calls(s: Seeded) -> list[tuple[str, str, str, dict[str, Any] | None, int]]:
    """(method, documented path, url, JSON body, expected status) over every area."""
    rng = f"start={NOW - 600}&end={NOW}&step=60"
    return [
        ("get", "/healthz", "/healthz", None, 200),
        ("get", "/api/v1/summary", "/api/v1/summary", None, 200),
        ("get", "/api/v1/services", "/api/v1/services", None, 200),
        (
            "get",
            "/api/v1/services/{service}/series",
            f"/api/v1/services/{s.service}/series?{rng}&group_by=version,instance",
            None,
            200,
        ),
        ("get", "/api/v1/services/{service}/series", "/api/v1/services/x/series", None, 404),
        (
            "get",
            "/api/v1/services/{service}/series",
            f"/api/v1/services/{s.service}/series?step=soon",
            None,
            400,
        ),
        (
            "get",
            "/api/v1/services/{service}/instances",
            f"/api/v1/services/{s.service}/instances",
            None,
            200,
        ),
        ("get", "/api/v1/probes", "/api/v1/probes", None, 200),
        ("get", "/api/v1/datasets", "/api/v1/datasets", None, 200),
        ("get", "/api/v1/datasets/{name}", f"/api/v1/datasets/{s.dataset}", None, 200),
        ("get", "/api/v1/datasets/{name}/drift", f"/api/v1/datasets/{s.dataset}/drift", None, 200),
        (
            "get",
            "/api/v1/datasets/{name}/histograms",
            f"/api/v1/datasets/{s.dataset}/histograms",
            None,
            200,
        ),
        (
            "get",
            "/api/v1/datasets/{name}/histograms",
            f"/api/v1/datasets/{s.dataset}/histograms?profile={s.profile_id}",
            None,
            200,
        ),
        ("get", "/api/v1/pipelines", "/api/v1/pipelines", None, 200),
        (
            "get",
            "/api/v1/pipelines/{name}/runs",
            f"/api/v1/pipelines/{s.pipeline}/runs",
            None,
            200,
        ),
        ("get", "/api/v1/runs/{run_id}", f"/api/v1/runs/{s.run_id}", None, 200),
        ("get", "/api/v1/runs/{run_id}", f"/api/v1/runs/{s.failed_run_id}", None, 200),
        ("get", "/api/v1/runs/{run_id}", "/api/v1/runs/run-stuck", None, 200),
        ("get", "/api/v1/runs/{run_id}", "/api/v1/runs/nope", None, 404),
        (
            "get",
            "/api/v1/environments/{env_hash}",
            f"/api/v1/environments/{s.environment_hash}",
            None,
            200,
        ),
        ("get", "/api/v1/cost", "/api/v1/cost?start=now-1d", None, 200),
        ("get", "/api/v1/cost", "/api/v1/cost?start=now-1d&group_by=day", None, 200),
        ("get", "/api/v1/cost", "/api/v1/cost?group_by=planet", None, 400),
        ("get", "/api/v1/cost/overview", "/api/v1/cost/overview", None, 200),
        ("get", "/api/v1/cost/budgets", "/api/v1/cost/budgets", None, 200),
        (
            "put",
            "/api/v1/cost/budgets/{name}",
            "/api/v1/cost/budgets/fraud",
            {"limit": 3, "scope": "service", "subject": "fraud"},
            200,
        ),
        ("delete", "/api/v1/cost/budgets/{name}", "/api/v1/cost/budgets/fraud", None, 200),
        ("get", "/api/v1/cost/rates", "/api/v1/cost/rates", None, 200),
        ("get", "/api/v1/alerts", "/api/v1/alerts", None, 200),
        ("get", "/api/v1/alerts/{alert_id}", f"/api/v1/alerts/{s.alert_id}", None, 200),
        ("get", "/api/v1/alerts/history", "/api/v1/alerts/history", None, 200),
        ("get", "/api/v1/alerts/deliveries", "/api/v1/alerts/deliveries", None, 200),
        ("post", "/api/v1/alerts/{alert_id}/ack", f"/api/v1/alerts/{s.alert_id}/ack", {}, 200),
        ("get", "/api/v1/rules", "/api/v1/rules", None, 200),
        ("get", "/api/v1/silences", "/api/v1/silences?expired=true", None, 200),
        (
            "post",
            "/api/v1/silences",
            "/api/v1/silences",
            {"matchers": ["service=x"], "duration": "10m"},
            201,
        ),
        ("delete", "/api/v1/silences/{silence_id}", f"/api/v1/silences/{s.silence_id}", None, 200),
        (
            "post",
            "/api/v1/ingest",
            "/api/v1/ingest",
            {
                "batch_id": "7a0e3c43-8d5e-4d1c-9a3e-2c4f1d1b0a11",
                "records": [{"kind": "nope"}, {"kind": "serving_window"}],
            },
            200,
        ),
        ("post", "/api/v1/ingest", "/api/v1/ingest", {"records": []}, 400),
        (
            "post",
            "/api/v1/lineage",
            "/api/v1/lineage",
            {
                "eventType": "START",
                "eventTime": "2027-01-15T08:00:00Z",
                "run": {"runId": "0190e8f0-0000-7000-8000-000000000001"},
                "job": {"namespace": "ns", "name": "train"},
                "producer": "tests",
            },
            201,
        ),
        ("post", "/api/v1/lineage", "/api/v1/lineage", {"job": {"name": "x"}}, 200),
        ("post", "/v1/metrics", "/v1/metrics", {"resourceMetrics": []}, 200),
    ]


def test_real_answers_validate_against_the_declared_schemas(
    seeded: Seeded, document: dict[str, Any]
) -> None:
    calls = _calls(seeded)
    seen: set[tuple[str, str]] = set()
    for method, path, url, body, status in calls:
        answer = seeded.client.request(method.upper(), url, json=body)
        assert answer.status_code == status, f"{method.upper()} {url}: {answer.text[:300]}"
        assert answer.headers["content-type"] == "application/json"
        found = violations(document, declared(document, path, method, status), answer.json(), "")
        assert found == [], f"{method.upper()} {url}: {found[:5]}"
        seen.add((method, path))
    json_operations = {
        (m, p)
        for p, item in document["paths"].items()
        for m in METHODS
        if m in item
        and any(
            "application/json" in r.get("content", {})
            for code, r in item[m]["responses"].items()
            if code.startswith("2")
        )
    }
    assert json_operations - seen == set(), "add a call for these operations"


def test_answers_with_an_undeclared_key_fail_the_check(document: dict[str, Any]) -> None:
    health = declared(document, "/healthz", "get", 200)
    answer = {"status": "ok", "store": "sqlite", "schema_version": 500}
    assert violations(document, health, answer, "") == []
    assert violations(document, health, answer | {"uptime": 1}, "") == [": undeclared key 'uptime'"]
    assert violations(document, health, answer | {"schema_version": "500"}, "") != []


def _normalised(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_docs_name_every_api_route(seeded: Seeded) -> None:
    text = API_DOC.read_text()
    documented = {_normalised(p.rstrip(".,")) for p in re.findall(r"/api/v1[\w/{}.\-]*", text)}
    routes = {
        r.path
        for r in iter_route_contexts(seeded.client.app.routes)  # type: ignore[attr-defined]
        if r.path is not None and r.path.startswith("/api/v1")
    }
    assert len(routes) >= 30
    assert sorted(p for p in routes if _normalised(p) not in documented) == []


def test_docs_list_every_record_kind() -> None:
    text = API_DOC.read_text().split("### Record kinds", 1)[1].split("\n#", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE))
    assert listed == set(RECORD_KINDS)


def test_docs_healthz_example_is_what_the_server_answers(seeded: Seeded) -> None:
    text = API_DOC.read_text()
    (example,) = re.findall(r"`GET /healthz` \| none \| `(\{[^`]*\})`", text)
    answer = seeded.client.get("/healthz").json()
    documented = json.loads(example)
    # The schema version grows with every migration; the shape and the other values must match.
    assert documented.keys() == answer.keys()
    assert {**documented, "schema_version": 0} == {**answer, "schema_version": 0}
    assert isinstance(documented["schema_version"], int)
