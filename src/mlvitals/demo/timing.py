"""The demo's clock settings: how fast incidents follow each other, and every window that
must scale with that pace so each incident is detected quickly and the quiet period stays
quiet.

Everything derives from one number, the *pace* (seconds between staged incidents): 60 by
default, 6 to 8 to run the whole story in about a minute.

>>> t = Timing.for_pace(60)
>>> (t.alert_interval, t.sdk_window, t.rule_window, t.cron, t.grace)
(5.0, 5.0, 20.0, '* * * * *', 15.0)
>>> Timing.for_pace(6).cron
'* * * * * */10'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlvitals.errors import ConfigError

MIN_PACE = 6.0
DEFAULT_PACE = 60.0
_DIVISORS_OF_60 = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)


def _divisor_at_least(value: float) -> int:
    """The smallest divisor of 60 that is at least ``value`` (60 when none is)."""
    return next((d for d in _DIVISORS_OF_60 if d >= value), 60)


def _divisor_at_most(value: float) -> int:
    """The largest divisor of 60 that is at most ``value`` (1 when none is)."""
    return max((d for d in _DIVISORS_OF_60 if d <= value), default=1)


@dataclass(frozen=True, slots=True)
class Timing:
    """Every duration of the demo, in seconds (build it with :meth:`for_pace`)."""

    pace: float
    clean: float  # normal operation before the first incident: no alert may fire in it
    alert_interval: float  # the server evaluates its rules this often
    sdk_window: float  # the replicas' Monitor window
    rule_window: float  # serving rules look back this far
    absence: float  # an instance silent this long is down
    probe_interval: float  # uptime probes of the replicas
    schedule_every: float  # the feature pipeline's period: a divisor or multiple of a minute
    grace: float  # a feature run that starts later than this after its slot is late
    late_by: float  # how long after its grace period the late run starts
    run_seconds: float  # how long a feature run takes
    incident_seconds: float  # how long the error burst and the latency regression last
    retrain_seconds: float  # how long the retraining that fails runs before failing
    history_runs: int = 30  # good feature runs backfilled before the demo starts
    history_hours: float = 6.0  # of serving history backfilled before the demo starts

    @classmethod
    def for_pace(cls, pace: float = DEFAULT_PACE) -> Timing:
        """The timings for incidents ``pace`` seconds apart (at least 6)."""
        if not pace >= MIN_PACE:
            raise ConfigError(
                f"--pace must be at least {MIN_PACE:g} seconds (got {pace:g}): the staged "
                "incidents need a few evaluation intervals each to raise their alerts"
            )
        interval = min(max(round(pace / 12, 1), 1.0), 15.0)
        if pace < 60:
            # Room for the 2.5 s grace period, a start three intervals later and the run
            # itself (a fifth of the period): at least 10 s between slots.
            every = float(_divisor_at_least(max(pace, 1.25 * (2.5 + 3 * interval) + 0.1)))
        else:
            # Whole minutes, at most the pace: the pipeline incidents come within a pace.
            every = 60.0 * _divisor_at_most(pace / 60)
        return cls(
            pace=float(pace),
            clean=1.25 * pace,
            alert_interval=interval,
            sdk_window=interval,
            rule_window=4 * interval,
            # Long enough to cover the start, between the history's end and the first
            # window of the live monitors.
            absence=max(4 * interval, 8.0),
            probe_interval=max(2 * interval, 2.0),
            schedule_every=every,
            grace=max(2.5, 0.25 * every),
            late_by=3 * interval,
            run_seconds=0.2 * every,
            incident_seconds=0.75 * pace,
            retrain_seconds=0.4 * pace,
            # A quick run-through needs less history, and starts sooner without it.
            history_hours=6.0 if pace >= 30 else 1.0,
        )

    def __post_init__(self) -> None:
        # The late run must start and end before the next slot, or the next slot would
        # look late too (and the late slot missed).
        if self.grace + self.late_by + self.run_seconds >= self.schedule_every:
            raise ConfigError(
                f"a feature run every {self.schedule_every:g}s cannot fit a {self.grace:g}s "
                f"grace period, a start {self.late_by:g}s later and {self.run_seconds:g}s of run"
            )

    @property
    def cron(self) -> str:
        """The feature pipeline's schedule: minutes, or seconds as croniter's sixth field."""
        every = int(self.schedule_every)
        if every < 60:
            return f"* * * * * */{every}"
        minutes = every // 60
        if minutes >= 60:
            return "0 * * * *"
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"

    @property
    def ship_margin(self) -> float:
        """Allowance for a record to travel from the demo's shippers into the store."""
        return max(0.5, self.alert_interval / 2)

    def serving_holds_from(self, staged_at: float) -> float:
        """When a change of the replicas' behaviour at ``staged_at`` is in the store for the
        rules to see: the first whole SDK window after it has closed, been taken by the
        collector (at most one tick later) and shipped."""
        w = self.sdk_window
        first_full_end = math.ceil(staged_at / w) * w + w
        return first_full_end + min(1.0, w) + self.ship_margin
