"""The server's own Prometheus metrics, on a registry per app (injectable in tests)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass(frozen=True, slots=True)
class ServerMetrics:
    registry: CollectorRegistry
    records: Counter
    batches: Counter
    ingest_seconds: Histogram
    store_errors: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> ServerMetrics:
        reg = registry if registry is not None else CollectorRegistry()
        return cls(
            registry=reg,
            records=Counter(
                "mlvitals_server_records",
                "Ingested records by kind and result (accepted, rejected, over_limit).",
                ["kind", "result"],
                registry=reg,
            ),
            batches=Counter(
                "mlvitals_server_batches",
                "Ingest batches by result (stored, duplicate, invalid, failed).",
                ["result"],
                registry=reg,
            ),
            ingest_seconds=Histogram(
                "mlvitals_server_ingest_duration_seconds",
                "Time to validate and durably store one ingest batch.",
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
                registry=reg,
            ),
            store_errors=Counter(
                "mlvitals_server_store_errors",
                "Store operations that failed.",
                registry=reg,
            ),
        )
