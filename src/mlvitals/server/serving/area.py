"""The serving area: model-service windows and instance samples, their API, pages and signals."""

from mlvitals.server.area import Area
from mlvitals.server.serving import api, otlp, pages, records
from mlvitals.server.serving.cardinality import CardinalityGuard
from mlvitals.server.serving.fleet import FleetExport
from mlvitals.server.serving.liveness import absence_signal, availability_signal
from mlvitals.server.serving.migrations import MIGRATIONS
from mlvitals.server.serving.signals import burn_rate_signal, serving_signal

AREA = Area(
    name="serving",
    record_kinds=records.KINDS,
    migrations=tuple(MIGRATIONS),
    api=(api.router, otlp.router),
    pages=(pages.router,),
    signals={
        "serving": serving_signal,
        "absence": absence_signal,
        "availability": availability_signal,
        "burn_rate": burn_rate_signal,
    },
    expositions=(lambda store, settings, clock: FleetExport(store, clock).text,),
    admissions=(
        lambda store, settings, clock: CardinalityGuard(
            store,
            max_services=settings.max_services,
            max_series=settings.max_series_per_service,
            clock=clock,
        ),
    ),
)
