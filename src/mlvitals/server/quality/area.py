"""The quality area: dataset profiles and checks, their API, pages and signals."""

from mlvitals.server.area import Area
from mlvitals.server.quality import api, exports, pages, records
from mlvitals.server.quality.migrations import MIGRATIONS
from mlvitals.server.quality.signals import check_signal, drift_signal

AREA = Area(
    name="quality",
    record_kinds=records.KINDS,
    migrations=tuple(MIGRATIONS),
    api=(api.router,),
    pages=(pages.router,),
    signals={"check_failed": check_signal, "drift": drift_signal},
    exports=(exports.export,),
)
