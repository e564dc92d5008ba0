"""Bounded cardinality: how many services, and series per service, the server accepts.

Every service and every ``(operation, version, instance)`` of a service is a series that
``/metrics``, the services list and the alert rules carry from then on, so a client that puts
a request id in an instance name could otherwise grow them without bound. The guard admits a
serving record while its service and series are known or there is room for them, and rejects
it with a reason otherwise; the ingest reply lists the reason and the rest of the batch is
stored.

The guard learns the stored series from the store on first use and again every
``refresh_seconds``, so series that retention deleted free their slots. Each server process
keeps its own view: with several workers the limits are approximate.

>>> from mlvitals.server.database import open_database
>>> guard = CardinalityGuard(open_database(":memory:"), max_services=1, max_series=2)
>>> sample = {"service": "fraud", "version": "", "instance": "a"}
>>> guard.admit("instance_sample", sample)
>>> field, reason = guard.admit("instance_sample", {**sample, "service": "spam"})
>>> reason
"a new service 'spam' would be the 2nd; this server takes at most 1 services (--max-services)"
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from mlvitals.errors import StoreError
from mlvitals.server.serving.queries import stored_series
from mlvitals.store import Store

log = logging.getLogger("mlvitals.server")

REFRESH_SECONDS = 600.0
"""How often the guard re-reads the stored series (retention frees slots meanwhile)."""

Series = tuple[str, str, str]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class CardinalityGuard:
    """Admits serving records within ``max_services`` and ``max_series`` per service.

    Thread-safe: ingest validates batches on several threads at once.
    """

    def __init__(
        self,
        store: Store,
        *,
        max_services: int,
        max_series: int,
        clock: Callable[[], float] = time.monotonic,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self.max_services = max_services
        self.max_series = max_series
        self._store = store
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._lock = threading.Lock()  # guards the view; held for set operations only
        self._load_lock = threading.Lock()  # one reader of the store at a time
        self._series: dict[str, set[Series]] | None = None
        self._loaded_at = -math.inf
        self._pending: list[tuple[str, Series | None]] | None = None
        self.refused = {"services": 0, "series_per_service": 0}

    def admit(self, kind: str, row: Mapping[str, Any]) -> tuple[str, str] | None:
        """``None`` to admit the record, else ``(field, reason)``; other kinds pass."""
        if kind == "serving_window":
            key: Series | None = (row["operation"], row["version"], row["instance"])
        elif kind == "instance_sample":
            key = None  # samples add no series, but a new service counts
        else:
            return None
        self._refresh_if_due()
        service = row["service"]
        with self._lock:
            view = self._series
            assert view is not None
            known = view.get(service)
            if known is None:
                if len(view) >= self.max_services:
                    self.refused["services"] += 1
                    return (
                        "service",
                        f"a new service {service!r} would be the {_ordinal(len(view) + 1)};"
                        f" this server takes at most {self.max_services} services"
                        " (--max-services)",
                    )
                known = view[service] = set()
                self._note(service, None)
            if key is None or key in known:
                return None
            if len(known) >= self.max_series:
                self.refused["series_per_service"] += 1
                operation, version, instance = key
                return (
                    "service",
                    f"service {service!r} has {len(known)} series, its limit"
                    " (--max-series-per-service); this record would start another"
                    f" (operation {operation!r}, version {version!r}, instance {instance!r}):"
                    " use fewer distinct operations, versions or instance names",
                )
            known.add(key)
            self._note(service, key)
            return None

    def usage(self) -> list[dict[str, Any]]:
        """Each limit with what is used of it and the records it rejected (this process)."""
        self._refresh_if_due()
        with self._lock:
            view = self._series or {}
            biggest = max((len(s) for s in view.values()), default=0)
            return [
                {
                    "limit": "services",
                    "used": len(view),
                    "max": self.max_services,
                    "rejected": self.refused["services"],
                },
                {
                    "limit": "series_per_service",
                    "used": biggest,
                    "max": self.max_series,
                    "rejected": self.refused["series_per_service"],
                },
            ]

    def _note(self, service: str, key: Series | None) -> None:
        # Admitted while a reload reads the store: kept, since the read may miss it.
        if self._pending is not None:
            self._pending.append((service, key))

    def _refresh_if_due(self) -> None:
        if self._series is not None and self._clock() - self._loaded_at < self._refresh_seconds:
            return
        first = self._series is None
        # The first load is awaited; a refresh runs on one thread while others use the view.
        if not self._load_lock.acquire(blocking=first):
            return
        try:
            started = self._clock()
            if self._series is not None and started - self._loaded_at < self._refresh_seconds:
                return
            with self._lock:
                self._pending = []
            try:
                loaded = stored_series(self._store)
            except StoreError:
                if first:
                    with self._lock:
                        self._pending = None
                    raise
                log.warning("cardinality limits: could not re-read the stored series; kept")
                loaded = None
            with self._lock:
                if loaded is not None:
                    for service, key in self._pending:
                        known = loaded.setdefault(service, set())
                        if key is not None:
                            known.add(key)
                    self._series = loaded
                self._pending = None
                self._loaded_at = started
        finally:
            self._load_lock.release()
