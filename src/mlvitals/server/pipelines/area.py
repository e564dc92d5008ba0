"""The pipelines area: runs, steps, datasets and environments, OpenLineage in, pages, signals."""

from mlvitals.server.area import Area
from mlvitals.server.pipelines import api, exports, lineage, pages, records
from mlvitals.server.pipelines.environment_signal import environment_signal
from mlvitals.server.pipelines.migrations import MIGRATIONS
from mlvitals.server.pipelines.signals import pipeline_signal

AREA = Area(
    name="pipelines",
    record_kinds=records.KINDS,
    migrations=tuple(MIGRATIONS),
    api=(lineage.router, api.router),
    pages=(pages.router,),
    signals={"pipeline": pipeline_signal, "environment_changed": environment_signal},
    exports=(exports.export,),
)
