"""Spreading a measured quantity over the cells (days, rate periods) its period covers.

Usage arrives as totals over a period (an hour of serving, a run, a stored dataset). When
that period crosses a midnight or a rate change, each side gets the share of the total that
its time is of the period: within one measured period, use is taken as uniform.

>>> from mlvitals.cost.timegrid import DAY
>>> spread(DAY - 3600, DAY + 3600, start=0.0, end=10 * DAY)
[(82800.0, 86400.0, 0.5), (86400.0, 90000.0, 0.5)]
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from mlvitals.cost.timegrid import cells


def spread(
    row_start: float,
    row_end: float,
    *,
    start: float = -math.inf,
    end: float = math.inf,
    cuts: Iterable[float] = (),
) -> list[tuple[float, float, float]]:
    """``(cell_start, cell_end, fraction)`` for the part of ``[row_start, row_end)`` inside
    ``[start, end)``, cut at midnights and ``cuts``; fractions are of the whole row."""
    length = row_end - row_start
    lo, hi = max(row_start, start), min(row_end, end)
    if not length > 0 or not hi > lo:
        return []
    return [(a, b, (b - a) / length) for a, b in cells(lo, hi, cuts)]
