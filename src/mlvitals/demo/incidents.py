"""The staged incidents and when each happens.

Incidents follow each other ``pace`` seconds apart, after a clean period:

====  ==================================================  =============================
pace  incident                                            alert it raises
====  ==================================================  =============================
0     replica-b fails 80 % of its calls for a while       HighErrorRate
1     the next feature run is held back past its grace    PipelineLateStart
2     the canary answers 1.5 s slower for a while         HighLatencyP90 (version 1.5.0)
3     the next feature run extracts 24 rows, not ~400     PipelineStepAnomaly
4     the next feature run's batch has drifted            DataDrift, DataCheckFailed
5     replica-a crashes                                   InstanceDown
5.6   retraining starts with scikit-learn upgraded        EnvironmentChanged
6     ... and fails in fit                                PipelineRunFailed
7     the rerun (pinned back) succeeds; its cost brings   BudgetForecastHigh
      the retraining budget's forecast to ~95 %
====  ==================================================  =============================
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from mlvitals.demo.fleet import Fleet
from mlvitals.demo.history import SERVICE
from mlvitals.demo.jobs import RetrainPlan
from mlvitals.demo.timeline import Expect, Staged, Timeline
from mlvitals.demo.timing import Timing

BURST_REPLICA, BURST_SHARE = "replica-b", 0.8
SLOW_REPLICA, EXTRA_LATENCY = "canary", 1.5
STOPPED_REPLICA = "replica-a"


@dataclass(frozen=True, slots=True)
class Plan:
    """Absolute times of the timeline: the first incident at ``first``."""

    first: float
    timing: Timing

    def at(self, paces: float) -> float:
        return self.first + paces * self.timing.pace

    @property
    def retraining(self) -> RetrainPlan:
        fails = self.at(6)
        return RetrainPlan(fails - self.timing.retrain_seconds, fails, self.at(7))

    @property
    def end(self) -> float:
        """When every staged alert has had two evaluation intervals to fire."""
        t = self.timing
        return self.at(7) + 2 * t.alert_interval + 2 * t.ship_margin + 1.0


Action = tuple[float, str, Callable[[], None]]


class ServingIncidents:
    """Incidents of the model service, staged on the replicas."""

    def __init__(self, fleet: Fleet, timing: Timing, timeline: Timeline) -> None:
        self.fleet = fleet
        self.timing = timing
        self.timeline = timeline
        self._normal_failing = 0.0

    def error_burst(self) -> None:
        traffic = self.fleet[BURST_REPLICA].traffic
        assert traffic is not None
        self._normal_failing = traffic.mix.failing
        traffic.mix.failing = BURST_SHARE
        at = time.time()
        self.timeline.staged(
            Staged(
                "error-burst",
                at,
                self.timing.serving_holds_from(at),
                (Expect("HighErrorRate", {"service": SERVICE}),),
                f"error burst: {BURST_REPLICA} fails {BURST_SHARE:.0%} of its calls for"
                f" {self.timing.incident_seconds:g}s",
                f"/services/{SERVICE}?split=instance",
            )
        )

    def error_burst_over(self) -> None:
        traffic = self.fleet[BURST_REPLICA].traffic
        assert traffic is not None
        traffic.mix.failing = self._normal_failing
        self.timeline.note(f"error burst over: {BURST_REPLICA} serves normally again")

    def latency(self) -> None:
        replica = self.fleet[SLOW_REPLICA]
        replica.faults.extra_latency = EXTRA_LATENCY
        at = time.time()
        self.timeline.staged(
            Staged(
                "latency-regression",
                at,
                # A call is recorded when it ends: the slow calls show from at + the delay.
                self.timing.serving_holds_from(at + EXTRA_LATENCY),
                (Expect("HighLatencyP90", {"service": SERVICE, "version": replica.version}),),
                f"latency regression: the {SLOW_REPLICA} ({replica.version}) answers"
                f" {EXTRA_LATENCY:g}s slower for {self.timing.incident_seconds:g}s",
                f"/services/{SERVICE}?split=version",
            )
        )

    def latency_over(self) -> None:
        self.fleet[SLOW_REPLICA].faults.extra_latency = 0.0
        self.timeline.note(f"latency regression over: the {SLOW_REPLICA} is fast again")

    def stop_instance(self) -> None:
        at = time.time()
        self.fleet[STOPPED_REPLICA].crash()
        # Its monitor shipped its last window within the last tick: silence starts now.
        silent_from = time.time()
        self.timeline.staged(
            Staged(
                "instance-stopped",
                at,
                silent_from + self.timing.absence,
                (Expect("InstanceDown", {"service": SERVICE, "instance": STOPPED_REPLICA}),),
                f"{STOPPED_REPLICA} stopped: its process is gone and sends nothing more",
                f"/services/{SERVICE}",
            )
        )
