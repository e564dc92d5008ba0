"""Parsing time ranges of API queries and the dashboard's range picker."""

from __future__ import annotations

from dataclasses import dataclass

from mlvitals import durations
from mlvitals.errors import BadRequest, DurationError

_NICE_STEPS = (10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400)
RANGES = {
    "15m": 900.0,
    "1h": 3600.0,
    "6h": 6 * 3600.0,
    "24h": 86400.0,
    "7d": 7 * 86400.0,
    "30d": 30 * 86400.0,
}


def parse_duration(text: str, name: str) -> float:
    """``"90"``, ``"15m"``, ``"1h30m"``, ``"1w"`` to seconds (see :mod:`mlvitals.durations`)."""
    try:
        return durations.parse_duration(text)
    except DurationError as exc:
        raise BadRequest(f"'{name}': {exc}") from None


def parse_time(text: str, name: str, now: float) -> float:
    """Unix seconds, ``now`` or ``now-1h``."""
    text = text.strip()
    if text == "now":
        return now
    if text.startswith("now-"):
        return now - parse_duration(text[4:], name)
    try:
        return float(text)
    except ValueError:
        raise BadRequest(
            f"'{name}' must be Unix seconds, 'now' or 'now-6h'; got {text!r}"
        ) from None


def nice_step(span: float, points: int = 120) -> float:
    """A round step giving about ``points`` points over ``span`` seconds."""
    for step in _NICE_STEPS:
        if span / step <= points:
            return float(step)
    return float(_NICE_STEPS[-1])


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: float
    end: float
    step: float


def time_range(
    start: str | None, end: str | None, step: str | None, now: float, *, default: float = 3600.0
) -> TimeRange:
    """Resolve query parameters; ``end`` defaults to now, ``start`` to ``default`` before it.

    >>> time_range("now-6h", None, None, 100000.0)
    TimeRange(start=78400.0, end=100000.0, step=300.0)
    """
    e = parse_time(end, "end", now) if end else now
    s = parse_time(start, "start", now) if start else e - default
    if not e > s:
        raise BadRequest("'end' must be after 'start'")
    st = parse_duration(step, "step") if step else nice_step(e - s)
    if st <= 0:
        raise BadRequest("'step' must be positive")
    # Align to the step so that buckets line up with rollup periods.
    aligned = (s // st) * st
    return TimeRange(aligned, e, st)
