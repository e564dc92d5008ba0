"""Record kinds accepted by ``POST /api/v1/ingest``: one Pydantic model per kind.

Each kind names its table; its ``to_row`` maps a validated record to that table's columns.
A new kind is one module here plus ``register()``; its table comes with a migration.
"""

from mlvitals.server.records import pipelines as _pipelines  # noqa: F401  (registers kinds)
from mlvitals.server.records import quality as _quality  # noqa: F401  (registers kinds)
from mlvitals.server.records.registry import RECORD_KINDS, RecordKind, register
from mlvitals.server.records.serving import InstanceSample, ServingWindow

__all__ = ["RECORD_KINDS", "InstanceSample", "RecordKind", "ServingWindow", "register"]
