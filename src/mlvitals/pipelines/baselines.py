"""Per-step bands learned from recent good runs, and the anomalies outside them.

A band is ``median ± max(k × 1.4826 × MAD, rel_floor × |median|, abs_floor)``: the MAD
(scaled to a standard deviation for normal data) resists the odd slow run, and the floors
keep perfectly regular histories (MAD 0) from flagging every tiny change.

Durations depend on the machine's load as much as on the work, so a duration is anomalous
only well outside its band: above ``max(2 × high, high + 60 s)`` or below
``min(low / 2, low − 60 s)``. A 2 s step that takes 3.7 s on a busy machine is no anomaly, nor
is any step under a minute that finishes early; a one-hour step is flagged past twice its
usual upper bound. (Overdue runs follow the same rule, see
:func:`mlvitals.pipelines.schedule.overdue`.)

>>> band = learn_band([10.0, 11.0, 9.0, 10.0, 10.5])
>>> (band.low < 10.0 < band.high, band.check(30.0))
(True, 'high')
>>> duration_check(band, 30.0), duration_check(band, 80.0)
(None, 'high')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median

MIN_HISTORY = 5
MAD_TO_SIGMA = 1.4826

# Metrics of a step, with the absolute floor of their band's half-width.
STEP_METRICS: dict[str, float] = {
    "duration_seconds": 1.0,  # and judged with duration_check
    "input_files": 1.0,
    "input_bytes": 1024.0,
    "input_rows": 1.0,
    "output_files": 1.0,
    "output_bytes": 1024.0,
    "output_rows": 1.0,
}


@dataclass(frozen=True, slots=True)
class Band:
    median: float
    mad: float
    low: float
    high: float
    n: int

    def check(self, value: float) -> str | None:
        """``"low"``, ``"high"``, or ``None`` inside the band."""
        if value < self.low:
            return "low"
        if value > self.high:
            return "high"
        return None


def learn_band(
    values: Sequence[float],
    *,
    k: float = 4.0,
    rel_floor: float = 0.1,
    abs_floor: float = 0.0,
    min_history: int = MIN_HISTORY,
) -> Band | None:
    """The band of ``values``, or ``None`` with fewer than ``min_history`` of them."""
    if len(values) < min_history:
        return None
    mid = median(values)
    mad = median(abs(v - mid) for v in values)
    half = max(k * MAD_TO_SIGMA * mad, rel_floor * abs(mid), abs_floor)
    return Band(mid, mad, mid - half, mid + half, len(values))


@dataclass(frozen=True, slots=True)
class Anomaly:
    step: str
    metric: str
    value: float
    band: Band
    direction: str

    def to_dict(self) -> dict[str, object]:
        return {
            "step": self.step,
            "metric": self.metric,
            "value": self.value,
            "direction": self.direction,
            "median": self.band.median,
            "low": self.band.low,
            "high": self.band.high,
            "history": self.band.n,
        }


DURATION_FACTOR = 2.0
DURATION_SLACK_SECONDS = 60.0
DURATION = "duration_seconds"


def duration_check(band: Band, value: float) -> str | None:
    """Like :meth:`Band.check`, with the wider limits of durations (see the module)."""
    high = max(DURATION_FACTOR * band.high, band.high + DURATION_SLACK_SECONDS)
    low = min(band.low / DURATION_FACTOR, band.low - DURATION_SLACK_SECONDS)
    if value > high:
        return "high"
    if value < low:
        return "low"
    return None


StepMetrics = Mapping[str, Mapping[str, float | None]]


def step_anomalies(
    current: StepMetrics, history: Sequence[StepMetrics], *, k: float = 4.0
) -> list[Anomaly]:
    """Metrics of ``current`` steps (name -> metric -> value) outside the bands learned from
    the same step in ``history`` (one mapping per past good run)."""
    out = []
    for step, metrics in current.items():
        for metric, value in metrics.items():
            if value is None or metric not in STEP_METRICS:
                continue
            past = [float(v) for run in history if (v := run.get(step, {}).get(metric)) is not None]
            band = learn_band(past, k=k, abs_floor=STEP_METRICS[metric])
            if band is None:
                continue
            check = duration_check if metric == DURATION else Band.check
            direction = check(band, float(value))
            if direction is not None:
                out.append(Anomaly(step, metric, float(value), band, direction))
    return out
