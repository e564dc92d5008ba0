"""Schedule adherence: late starts, missed runs and overdue runs, as pure functions of time.

Every function takes ``now`` (Unix seconds); nothing reads a clock. Cron expressions are
evaluated with croniter in the pipeline's time zone.

Each nominal time opens a *slot* that lasts until the next nominal time. A run fills the
slot whose nominal time equals its ``scheduled_at``, or, without one, the slot its start
falls in (a little early counts: clocks drift). A slot is

- ``on_time``: its run started within the grace period after the nominal time;
- ``late``: its run started after the grace period, or none has started yet although the
  grace period is over and the next slot has not begun;
- ``missed``: the next slot began and no run filled this one;
- ``pending``: the nominal time has passed, the grace period has not.

>>> from mlvitals.pipelines.config import PipelineConfig
>>> cfg = PipelineConfig("etl", schedule="0 * * * *", grace_seconds=300)
>>> runs = [RunTiming("r1", None, 3600.0 + 10, None, "succeeded")]
>>> a = adherence(cfg, runs, now=3 * 3600.0, since=3000.0)
>>> [(s.nominal, s.status) for s in a.slots]
[(3600.0, 'on_time'), (7200.0, 'missed'), (10800.0, 'pending')]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from mlvitals.errors import ConfigError
from mlvitals.pipelines.config import PipelineConfig

MIN_HISTORY = 5
OVERDUE_SLACK_SECONDS = 60.0
"""A run is never overdue by its history less than this long past its usual duration (p95)."""
_EARLY_SECONDS = 60.0


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {tz!r}: use an IANA name like UTC") from None


def check_cron(expr: str, tz: str = "UTC") -> None:
    """Raise :class:`ConfigError` unless ``expr`` is a valid cron expression."""
    _zone(tz)
    if not croniter.is_valid(expr):
        raise ConfigError(f"not a valid cron expression: {expr!r}; e.g. '0 2 * * *'")


def nominal_times(expr: str, tz: str, start: float, end: float) -> list[float]:
    """Nominal times of ``expr`` in ``(start, end]``, ascending."""
    it = croniter(expr, datetime.fromtimestamp(start, _zone(tz)))
    out: list[float] = []
    while True:
        t = float(it.get_next(float))
        if t > end:
            return out
        out.append(t)


def previous_nominal(expr: str, tz: str, at: float, count: int = 1) -> list[float]:
    """The ``count`` nominal times at or before ``at``, ascending."""
    it = croniter(expr, datetime.fromtimestamp(at + 1e-3, _zone(tz)))
    times = [float(it.get_prev(float)) for _ in range(count)]
    return sorted(times)


def next_nominal(expr: str, tz: str, after: float) -> float:
    return float(croniter(expr, datetime.fromtimestamp(after, _zone(tz))).get_next(float))


@dataclass(frozen=True, slots=True)
class RunTiming:
    """What schedule checks need from a run."""

    run_id: str
    scheduled_at: float | None
    started_at: float | None
    ended_at: float | None
    state: str
    trigger: str | None = None


@dataclass(frozen=True, slots=True)
class Slot:
    nominal: float
    status: str
    run_id: str | None = None
    delay_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Adherence:
    slots: list[Slot] = field(default_factory=list)
    next_nominal: float | None = None

    def count(self, status: str) -> int:
        return sum(1 for s in self.slots if s.status == status)

    def to_dict(self) -> dict[str, object]:
        return {
            "on_time": self.count("on_time"),
            "late": self.count("late"),
            "missed": self.count("missed"),
            "pending": self.count("pending"),
            "next_nominal": self.next_nominal,
            "slots": [
                {
                    "nominal": s.nominal,
                    "status": s.status,
                    "run_id": s.run_id,
                    "delay_seconds": s.delay_seconds,
                }
                for s in self.slots
            ],
        }


def adherence(
    config: PipelineConfig,
    runs: Sequence[RunTiming],
    now: float,
    *,
    slots: int = 20,
    since: float | None = None,
) -> Adherence:
    """The status of the last ``slots`` nominal times up to ``now`` (see the module doc),
    leaving out those before ``since`` (when the pipeline was first declared or seen).
    """
    if config.schedule is None:
        return Adherence()
    expr, tz = config.schedule, config.timezone
    nominals = previous_nominal(expr, tz, now, slots)
    if since is not None:
        nominals = [n for n in nominals if n >= since]
    following = [*nominals[1:], next_nominal(expr, tz, nominals[-1])] if nominals else []
    unmatched = sorted(
        (r for r in runs if r.started_at is not None and r.trigger != "manual"),
        key=lambda r: r.started_at or 0.0,
    )
    by_scheduled: dict[int, RunTiming] = {}
    for r in unmatched:
        if r.scheduled_at is not None:
            by_scheduled.setdefault(round(r.scheduled_at), r)
    used: set[str] = set()
    out: list[Slot] = []
    for nominal, nxt in zip(nominals, following, strict=True):
        early = min(_EARLY_SECONDS, (nxt - nominal) * 0.1)
        run = by_scheduled.get(round(nominal))
        if run is None:
            run = next(
                (
                    r
                    for r in unmatched
                    if r.scheduled_at is None
                    and r.run_id not in used
                    and nominal - early <= (r.started_at or 0.0) < nxt - early
                ),
                None,
            )
        if run is not None and run.started_at is not None:
            used.add(run.run_id)
            delay = max(run.started_at - nominal, 0.0)
            status = "on_time" if delay <= config.grace_seconds else "late"
            out.append(Slot(nominal, status, run.run_id, delay))
        elif now < nominal + config.grace_seconds:
            out.append(Slot(nominal, "pending"))
        elif now < nxt:
            out.append(Slot(nominal, "late", None, now - nominal))
        else:
            out.append(Slot(nominal, "missed"))
    return Adherence(out, next_nominal(expr, tz, now))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0-1) with linear interpolation between order statistics."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class Overdue:
    elapsed_seconds: float
    limit_seconds: float
    reason: str


def overdue(
    started_at: float,
    now: float,
    config: PipelineConfig | None,
    good_durations: Sequence[float],
    *,
    factor: float = 2.0,
) -> Overdue | None:
    """Whether a run still going at ``now`` has run too long: past the declared maximum,
    or past ``factor`` times the 95th percentile of recent good runs (with at least
    ``MIN_HISTORY`` of them), and never less than :data:`OVERDUE_SLACK_SECONDS` past that
    percentile: a job that usually takes seconds is not overdue for a few seconds' jitter.

    >>> overdue(0.0, 30.0, None, [5.0] * 6) is None  # 2 x 5 s, but within a minute of it
    True
    >>> overdue(0.0, 66.0, None, [5.0] * 6).reason
    'more than 60 s past the p95 of the last 6 good runs'
    """
    elapsed = now - started_at
    limits: list[tuple[float, str]] = []
    if config is not None and config.max_duration_seconds is not None:
        limits.append((config.max_duration_seconds, "longer than the declared maximum duration"))
    if len(good_durations) >= MIN_HISTORY:
        p95 = percentile(good_durations, 0.95)
        runs = len(good_durations)
        if factor * p95 >= p95 + OVERDUE_SLACK_SECONDS:
            reason = f"longer than {factor:g} × p95 of the last {runs} good runs"
            limits.append((factor * p95, reason))
        else:
            reason = (
                f"more than {OVERDUE_SLACK_SECONDS:g} s past the p95 of the last {runs} good runs"
            )
            limits.append((p95 + OVERDUE_SLACK_SECONDS, reason))
    for limit, reason in sorted(limits):
        if elapsed > limit:
            return Overdue(elapsed, limit, reason)
    return None
