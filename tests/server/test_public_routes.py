"""What is open without a token: exactly what docs/api.md lists as public, and nothing
that holds data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from starlette.routing import Mount

from mlvitals.server import create_app
from mlvitals.settings import Settings
from mlvitals.store import Store

DOCS = Path(__file__).parents[2] / "docs" / "api.md"


def documented_public() -> set[str]:
    """The paths listed under "Public, without a token" in docs/api.md."""
    text = DOCS.read_text()
    assert "Public, without a token" in text, "docs/api.md does not list the public routes"
    section = text.split("Public, without a token", 1)[1].split("\n\n", 2)[1]
    return {m.group(1) for m in re.finditer(r"`(?:GET |POST )?(/[^`\s]*)`", section)}


def all_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every route of the app with its full path, through included routers."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from all_routes(included.routes, prefix + route.include_context.prefix)
        else:
            yield prefix + getattr(route, "path", ""), route


def test_only_the_documented_routes_answer_without_a_token(store: Store) -> None:
    app = create_app(Settings(tokens="s3cret-token-1:admin"), store)
    client = TestClient(app, follow_redirects=False)
    public: set[str] = set()
    checked = 0
    for path, route in all_routes(app.routes):
        if isinstance(route, Mount):
            # A mount serves files: ask for one that exists and one that does not.
            first = next(p for p in sorted(Path(route.app.directory).iterdir()) if p.is_file())  # type: ignore[attr-defined]
            r = client.get(f"{path}/{first.name}")
            if r.status_code == 200:
                public.add(f"{path}/...")
            continue
        methods = getattr(route, "methods", None) or {"GET"}
        url = re.sub(r"\{[^}]+\}", "x", path)
        for method in sorted(methods & {"GET", "POST", "PUT", "DELETE"}):
            r = client.request(method, url)
            checked += 1
            if r.status_code in (401, 403):
                continue
            if r.status_code == 303 and r.headers["location"].startswith("/login"):
                continue
            public.add(path)
    assert checked > 30  # the walk saw the whole app
    documented = documented_public()
    assert public == documented


def test_public_assets_are_served_without_a_token_and_hold_no_data(store: Store) -> None:
    client = TestClient(create_app(Settings(tokens="s3cret-token-1:admin"), store))
    for path in (
        "/static/style.css",
        "/static/charts.js",
        "/static/swagger/swagger-ui-bundle.js",
        "/static/vendor/plotly.min.js",
    ):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].split(";")[0] in {"text/css", "text/javascript"}, path
    for path in ("/api/v1/openapi.json", "/api/v1/docs", "/metrics", "/api/v1/services"):
        assert client.get(path).status_code == 401, path


def test_every_documented_public_path_exists(store: Store) -> None:
    client = TestClient(create_app(Settings(tokens="s3cret-token-1:admin"), store))
    for path in documented_public():
        if path.endswith("/..."):
            continue
        r = client.get(path)
        assert r.status_code < 400, path
