"""The cost area: cost lines and budgets, their API, page and signal."""

from mlvitals.server.area import Area
from mlvitals.server.cost import api, exports, pages
from mlvitals.server.cost.migrations import MIGRATIONS
from mlvitals.server.cost.signals import budget_signal

AREA = Area(
    name="cost",
    migrations=tuple(MIGRATIONS),
    api=(api.router,),
    pages=(pages.router,),
    signals={"budget": budget_signal},
    exports=(exports.export,),
)
