"""UTC calendar arithmetic for cost: day and month boundaries, and cutting periods at them.

Cost periods, budget periods and rate changes are all in UTC, so a day is always 86,400 s.

>>> day_start(1_700_000_000.0)
1699920000.0
>>> cells(0.0, 2 * DAY, [3600.0])
[(0.0, 3600.0), (3600.0, 86400.0), (86400.0, 172800.0)]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from datetime import UTC, datetime

from mlvitals.durations import parse_duration

HOUR = 3600.0
DAY = 86400.0


def day_start(t: float) -> float:
    """Midnight UTC at or before ``t``."""
    return math.floor(t / DAY) * DAY


def hour_floor(t: float) -> float:
    return math.floor(t / HOUR) * HOUR


def hour_ceil(t: float) -> float:
    return math.ceil(t / HOUR) * HOUR


def month_start(t: float) -> float:
    """The first of the month, midnight UTC, at or before ``t``."""
    d = datetime.fromtimestamp(t, UTC)
    return datetime(d.year, d.month, 1, tzinfo=UTC).timestamp()


def next_month(t: float) -> float:
    """The first of the month after the one holding ``t``, midnight UTC."""
    d = datetime.fromtimestamp(t, UTC)
    year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return datetime(year, month, 1, tzinfo=UTC).timestamp()


def iso(t: float) -> str:
    """``2026-11-01T00:00:00Z``: ISO 8601 in UTC, to the second."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


def cells(start: float, end: float, cuts: Iterable[float] = ()) -> list[tuple[float, float]]:
    """Cut ``[start, end)`` at every UTC midnight and at each of ``cuts`` inside it."""
    if not end > start:
        return []
    points = {start, end}
    points.update(c for c in cuts if start < c < end)
    midnight = day_start(start) + DAY
    while midnight < end:
        points.add(midnight)
        midnight += DAY
    ordered = sorted(points)
    return list(itertools.pairwise(ordered))


def overlap(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    """Seconds that ``[a_start, a_end)`` and ``[b_start, b_end)`` share."""
    return max(0.0, min(a_end, b_end) - max(a_start, b_start))


def grid_cell(t: float, cuts: Iterable[float] = ()) -> tuple[float, float]:
    """The cell of the grid (UTC days cut at ``cuts``) that holds ``t``."""
    lo = day_start(t)
    hi = lo + DAY
    for c in cuts:
        if c <= t:
            lo = max(lo, c)
        else:
            hi = min(hi, c)
    return lo, hi


def parse_when(text: str, now: float) -> float:
    """Unix seconds, an ISO date or time (UTC when no zone is given), ``now`` or
    ``now-<duration>`` (``now-30d``, ``now-1w``); raises ``ValueError`` with what is accepted.

    >>> parse_when("2026-11-01", 0.0), parse_when("now-1d", 90000.0), parse_when("12.5", 0.0)
    (1793491200.0, 3600.0, 12.5)
    """
    text = text.strip()
    if text == "now":
        return now
    if text.startswith("now-"):
        return now - parse_duration(text[4:])
    else:
        try:
            value = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(value):
                return value
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.timestamp()
    raise ValueError(
        f"expected Unix seconds, an ISO date or time (2026-11-01, 2026-11-01T12:00Z), "
        f"'now' or 'now-30d'; got {text!r}"
    )
