"""The alerts area: alert states, history, silences and notifications; API and page."""

from mlvitals.server.alerts import api, exports, pages
from mlvitals.server.alerts.migrations import MIGRATIONS
from mlvitals.server.area import Area

AREA = Area(
    name="alerts",
    migrations=tuple(MIGRATIONS),
    api=(api.router,),
    pages=(pages.router,),
    exports=(exports.export,),
)
