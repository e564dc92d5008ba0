"""The Services pages: every service's health, and one page per service with its charts.

``GET /services`` lists every service with its figures over the last five minutes
(:func:`services_health`) and the uptime probes. ``GET /services/{service}`` shows one
service over a chosen range::

    /services/recommender?range=6h&split=version&instance=pod-1

``range`` is one of :data:`mlvitals.server.timerange.RANGES` (default ``1h``), ``split``
one of ``none``, ``version``, ``instance``, ``operation``, and ``version`` / ``instance``
filter the windows. The page reads the service's windows of the range once and computes
every chart and table from them (:func:`service_view.collect`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mlvitals.errors import NotFound
from mlvitals.server.alerts.queries import alerts_about
from mlvitals.server.deps import AppState
from mlvitals.server.serving import charts
from mlvitals.server.serving.prober import availability
from mlvitals.server.serving.queries import (
    SeriesQuery,
    fetch_rows,
    instance_series,
    instances,
)
from mlvitals.server.serving.queries import services_page as health_page
from mlvitals.server.serving.view import SPLITS, Filters, collect, operations_table
from mlvitals.server.timerange import RANGES, time_range
from mlvitals.server.web import units
from mlvitals.server.web.render import ENV, page, render
from mlvitals.server.web.sections import SECTIONS, ingest_example
from mlvitals.server.web.timeline import what_changed

router: APIRouter = APIRouter(include_in_schema=False)
ENV.filters.update(units.FILTERS)

HEALTH_HORIZON = 300.0
"""The list page's figures cover the last five minutes."""

PROBES_HORIZON = 86400.0
"""The list page's probe availability covers the last day."""

PAGE_SIZE = 100
"""Services per page of the list."""

DEFAULT_RANGE = "1h"
SPLIT_LABELS = {
    "none": "None",
    "version": "Version",
    "instance": "Instance",
    "operation": "Operation",
}
RANGE_LABELS = {
    "15m": "last 15 minutes",
    "1h": "last hour",
    "6h": "last 6 hours",
    "24h": "last 24 hours",
    "7d": "last 7 days",
    "30d": "last 30 days",
}
_PROBE_SEPARATORS = ("-", "_", ".", ":", "/", " ")
_SECTION = next(s for s in SECTIONS if s.path == "/services")


def service_path(service: str) -> str:
    """The page of ``service``; any character is allowed in a service name.

    >>> service_path("fraud/eu west")
    '/services/fraud%2Feu%20west'
    """
    return "/services/" + quote(service, safe="")


def probes_of(service: str, probes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The probes named after ``service``: its name, or its name then ``-_.:/`` or a space.

    >>> names = [{"target": t} for t in ("fraud", "fraud-api", "fraudster", "db")]
    >>> [p["target"] for p in probes_of("fraud", names)]
    ['fraud', 'fraud-api']
    """
    prefixes = tuple(service + sep for sep in _PROBE_SEPARATORS)
    return [p for p in probes if p["target"] == service or p["target"].startswith(prefixes)]


@dataclass(frozen=True, slots=True)
class PageQuery:
    """The query parameters of a service page; unknown values fall back to the defaults."""

    range: str = DEFAULT_RANGE
    split: str = "none"
    filters: Filters = field(default_factory=Filters)

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> PageQuery:
        """Read ``range``, ``split``, ``version`` and ``instance``; an empty value is "all".

        >>> PageQuery.parse({"range": "6h", "split": "version", "version": "", "instance": "a"})
        PageQuery(range='6h', split='version', filters=Filters(version=None, instance='a'))
        """
        chosen = params.get("range", DEFAULT_RANGE)
        split = params.get("split", "none")
        return cls(
            range=chosen if chosen in RANGES else DEFAULT_RANGE,
            split=split if split in SPLITS else "none",
            filters=Filters(params.get("version") or None, params.get("instance") or None),
        )

    def url(self, service: str, **changes: Any) -> str:
        """This page's URL with ``changes`` (``range``, ``split``, ``filters``) applied."""
        q = replace(self, **changes)
        params = {"range": q.range}
        if q.split != "none":
            params["split"] = q.split
        if q.filters.version is not None:
            params["version"] = q.filters.version
        if q.filters.instance is not None:
            params["instance"] = q.filters.instance
        return f"{service_path(service)}?{urlencode(params)}"


def load_services(
    app: AppState, base_url: str, probe: str | None = None, number: str | None = None
) -> dict[str, Any]:
    """The list page: a page of services' health and every probe's availability over a day,
    with the alerts about probes; ``probe`` is highlighted.

    ``number`` counts pages from 1; one that is not a number is the first, one past the end
    the last.
    """
    now = app.clock()
    wanted = int(number) if number is not None and number.isdigit() and int(number) > 0 else 1
    total, health = health_page(
        app.store,
        now,
        limit=PAGE_SIZE,
        offset=(wanted - 1) * PAGE_SIZE,
        horizon=HEALTH_HORIZON,
        down_after=app.settings.down_after,
    )
    pages = max(1, -(-total // PAGE_SIZE))
    if wanted > pages:
        wanted = pages
        total, health = health_page(
            app.store,
            now,
            limit=PAGE_SIZE,
            offset=(wanted - 1) * PAGE_SIZE,
            horizon=HEALTH_HORIZON,
            down_after=app.settings.down_after,
        )
    for entry in health:
        entry["url"] = service_path(entry["service"])
    return {
        "title": "Services",
        "section": _SECTION,
        "services": health,
        "total": total,
        "page": wanted,
        "pages": pages,
        "first": (wanted - 1) * PAGE_SIZE + 1,
        "probes": availability(app.store, now - PROBES_HORIZON, now),
        "example": ingest_example(base_url, app.tokens.enabled) if not health else "",
        "down_after": app.settings.down_after,
        "alerts": alerts_about(app.store, now, has="target"),
        "chosen_probe": probe,
        "now": now,
    }


def load_service(app: AppState, service: str, query: PageQuery) -> dict[str, Any]:
    """One service's page; raises :class:`NotFound` when nothing of it was ever stored."""
    now = app.clock()
    listed = instances(app.store, service, now, down_after=app.settings.down_after)
    if not listed:
        raise NotFound(f"no data recorded for service {service!r}")
    tr = time_range(f"now-{query.range}", None, None, now)
    rows = fetch_rows(app.store, SeriesQuery(service, tr.start, tr.end, tr.step))
    view = collect(
        rows,
        start=tr.start,
        end=tr.end,
        step=tr.step,
        filters=query.filters,
        split=query.split,
    )
    resources = instance_series(app.store, service, tr.start, tr.end, tr.step)
    probes = probes_of(service, availability(app.store, tr.start, tr.end))

    def shown(instance: str) -> bool:
        # A version filter keeps the instances that served that version in the range.
        f = query.filters
        if f.instance is not None and instance != f.instance:
            return False
        return f.version is None or instance in view.instances

    memory = charts.sample_series(resources, view, "rss_bytes", 1 / charts.MIB, shown)
    memory_source = "instance samples"
    if not memory:
        memory, memory_source = charts.window_memory(view), "serving windows"
    versions = sorted(view.versions_seen | {i["version"] for i in listed})
    instance_names = sorted(view.instances_seen | {i["instance"] for i in listed})
    return {
        "title": service,
        "service": service,
        "page_path": service_path(service),
        "query": query,
        "ranges": [
            {"key": key, "url": query.url(service, range=key), "current": key == query.range}
            for key in RANGES
        ],
        "splits": [
            {
                "key": key,
                "label": SPLIT_LABELS[key],
                "url": query.url(service, split=key),
                "current": key == query.split,
            }
            for key in SPLITS
        ],
        "versions": [v for v in versions if v],
        "instance_names": instance_names,
        "clear_url": query.url(service, filters=Filters()),
        "range_label": RANGE_LABELS.get(query.range, query.range),
        "start": tr.start,
        "end": tr.end,
        "step": tr.step,
        "total": view.total.summary(tr.end - tr.start),
        "instances": listed,
        "instances_up": sum(1 for i in listed if i["up"]),
        "instances_running": sum(1 for i in listed if not i["stopped"]),
        "operations": operations_table(view),
        "charts": {
            "calls": charts.calls_per_second(view),
            "errors": charts.error_rate(view),
            "failures": charts.failures_by_type(view),
            "latency": charts.latency(view),
            "cpu": charts.cpu_per_call(view),
            "memory": memory,
            "process_cpu": charts.sample_series(resources, view, "cpu_percent", 1.0, shown),
            "gpu_utilization": charts.gpu_utilization(view),
            "gpu_memory": charts.gpu_memory(view),
        },
        "memory_source": memory_source,
        "probes": probes,
        "alerts": alerts_about(app.store, now, labels={"service": service}),
        "changes": what_changed(app.store, tr.start, tr.end, service=service),
        "now": now,
    }


@router.get("/services", name="services")
async def services_page(request: Request) -> Response:
    base = str(request.base_url)
    probe = request.query_params.get("probe") or None
    wanted = request.query_params.get("page")
    return await page(request, "services.html", lambda app: load_services(app, base, probe, wanted))


@router.get("/services/{service:path}", name="service")
async def service_page(request: Request, service: str) -> Response:
    query = PageQuery.parse(request.query_params)
    try:
        return await page(
            request, "services_detail.html", lambda app: load_service(app, service, query)
        )
    except NotFound:
        return render(
            request,
            "services_missing.html",
            {"title": "Service not found", "service": service},
            status=404,
        )
