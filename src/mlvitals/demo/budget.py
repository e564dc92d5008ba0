"""The demo's budgets: the serving budget, comfortably above its forecast, and the
retraining budget, set so that the day's planned retraining brings its forecast to 95 % of
the limit, just under a breach.

The demo knows what its two retraining runs of today will use (how long they run, what the
rate card says they request), so it prices them with the cost engine, adds what the
pipeline has spent today already (from the cost API), and turns that into the forecast the
server will make when the second run ends: spent × day length / time elapsed. Before that
run ends the forecast is well below 90 % of the limit; after it, at about 95 %.

>>> round(limit_for(spent=1.0, planned=2.0, day_fraction=0.5, share=0.95), 4)
6.3158
>>> serving_limit(now=1_795_000_000.0, history_hours=6.0, hourly=0.24)  # 17.5 days in
5.0
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence

from mlvitals.cost import CostConfig, RunUsage, run_lines
from mlvitals.cost.budgets import period_bounds
from mlvitals.errors import RequestError
from mlvitals.http import Client

NAME = "retraining-daily"
# Of the limit that the forecast reaches once the day's retraining is done: over the demo
# rules' 90 % warning, with room below the limit (the pack's over-budget rule).
SHARE = 0.95


def serving_limit(now: float, history_hours: float, hourly: float, headroom: float = 2.0) -> float:
    """A monthly limit ``headroom`` times the forecast of a service that costs ``hourly``
    and has run for the last ``history_hours`` (rounded up to two significant digits)."""
    start, end = period_bounds("monthly", now)
    spent = hourly * max(now - max(start, now - history_hours * 3600.0), 0.0) / 3600.0
    forecast = spent * (end - start) / max(now - start, 1.0)
    wanted = max(headroom * forecast, 1.0)
    scale = 10.0 ** (math.floor(math.log10(wanted)) - 1)
    return math.ceil(wanted / scale) * scale


def limit_for(spent: float, planned: float, day_fraction: float, share: float = SHARE) -> float:
    """The limit at which ``spent + planned``, forecast from ``day_fraction`` of the day
    elapsed, is ``share`` of the limit."""
    return (spent + planned) / day_fraction / share


def set_retraining_budget(
    client: Client,
    pipeline: str,
    planned: Sequence[RunUsage],
    config: CostConfig,
    judged_at: float,
) -> float:
    """PUT the daily budget of ``pipeline`` (see the module docstring); returns its limit."""
    start, end = period_bounds("daily", judged_at)
    spent = 0.0  # also when the day has not begun yet (the runs end after midnight)
    with contextlib.suppress(RequestError):
        query = {"start": str(start), "pipeline": pipeline, "group_by": "pipeline"}
        spent = float(client.get("/api/v1/cost", query)["total"])
    planned_cost = run_lines(planned, config, start=start, end=end).amount
    limit = limit_for(spent, planned_cost, (judged_at - start) / (end - start))
    body = {"limit": round(limit, 6), "period": "daily", "scope": "pipeline", "subject": pipeline}
    client.put(f"/api/v1/cost/budgets/{NAME}", body)
    return limit
