"""Alert rules as immutable values: what to watch (a kind-specific spec) and how to alert.

A rule is configuration only; signals compute its samples on the server and
:func:`mlvitals.alerts.evaluate.evaluate` turns samples into alert states.

>>> rule = Rule("HighErrorRate", ServingSpec("error_rate", Condition(">", 0.05), window=300.0))
>>> (rule.kind, rule.spec.condition.holds(0.1), rule.spec.condition.holds(0.01))
('serving', True, False)
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
COMPARISONS = tuple(_OPS)

# Metric names of serving rules: the figures of a merged serving aggregate.
SERVING_METRICS = (
    "calls",
    "calls_per_second",
    "errors",
    "error_rate",
    "latency_p50",
    "latency_p90",
    "latency_p95",
    "latency_p99",
    "latency_mean",
    "cpu_per_call",
    "cpu_p99",
    "peak_rss_bytes",
    "gpu_utilization",
    "gpu_peak_memory_bytes",
    "peak_in_flight",
)
METRIC_ALIASES = {
    "memory": "peak_rss_bytes",
    "rss": "peak_rss_bytes",
    "gpu_memory": "gpu_peak_memory_bytes",
}
SERVING_GROUPS = ("version", "operation", "instance")
PIPELINE_CONDITIONS = ("failed", "late", "missed", "overdue", "step_anomaly")
SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True, slots=True)
class Condition:
    """``value OP threshold``."""

    op: str
    threshold: float

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"unknown comparison {self.op!r}: use one of {', '.join(_OPS)}")

    def holds(self, value: float) -> bool:
        return _OPS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


@dataclass(frozen=True, slots=True)
class Selector:
    """Which serving series a rule reads; ``None`` means any."""

    service: str | None = None
    version: str | None = None
    operation: str | None = None
    instance: str | None = None


@dataclass(frozen=True, slots=True)
class ServingSpec:
    """A threshold on a serving figure over the last ``window`` seconds, per service (and
    per ``group_by`` label); series with fewer than ``min_calls`` calls are not judged."""

    metric: str
    condition: Condition
    window: float = 300.0
    selector: Selector = Selector()
    group_by: tuple[str, ...] = ()
    min_calls: int = 0
    kind: str = field(default="serving", init=False)


@dataclass(frozen=True, slots=True)
class AbsenceSpec:
    """No serving window or instance sample for longer than ``duration`` seconds, per
    service (or per instance with ``group_by=("instance",)``). Series silent for more than
    ``forget_after`` seconds are no longer watched (scaled-down replicas stop alerting)."""

    duration: float
    selector: Selector = Selector()
    group_by: tuple[str, ...] = ()
    forget_after: float = 86400.0
    kind: str = field(default="absence", init=False)

    @property
    def condition(self) -> Condition:
        return Condition(">", self.duration)


@dataclass(frozen=True, slots=True)
class AvailabilitySpec:
    """The share of successful uptime probes of a target over ``window`` is below ``below``."""

    below: float
    window: float = 600.0
    target: str | None = None
    min_checks: int = 1
    kind: str = field(default="availability", init=False)

    @property
    def condition(self) -> Condition:
        return Condition("<", self.below)


@dataclass(frozen=True, slots=True)
class BurnWindow:
    """Fire when the error budget burns faster than ``factor`` over both windows."""

    long: float
    short: float
    factor: float


@dataclass(frozen=True, slots=True)
class BurnRateSpec:
    """Multi-window error-budget burn rate on the serving error rate, for an availability
    objective (e.g. 0.999). The burn rate is ``error_rate / (1 - objective)``: 1 spends the
    budget exactly over the SLO period."""

    objective: float
    windows: tuple[BurnWindow, ...] = (
        BurnWindow(3600.0, 300.0, 14.4),
        BurnWindow(6 * 3600.0, 1800.0, 6.0),
    )
    selector: Selector = Selector()
    group_by: tuple[str, ...] = ()
    min_calls: int = 0
    kind: str = field(default="burn_rate", init=False)

    @property
    def budget(self) -> float:
        return 1.0 - self.objective

    def judge(self, burns: Mapping[float, float]) -> tuple[float, bool]:
        """From the burn rate per window length: the highest burn sustained over both
        windows of a pair (the lower of the two), and whether any pair is over its factor.

        >>> spec = BurnRateSpec(0.999, (BurnWindow(3600, 300, 14.4),))
        >>> spec.judge({3600: 20.0, 300: 15.0})
        (15.0, True)
        """
        worst, firing = 0.0, False
        for w in self.windows:
            low = min(burns.get(w.long, 0.0), burns.get(w.short, 0.0))
            firing = firing or low > w.factor
            worst = max(worst, low)
        return worst, firing

    @property
    def condition(self) -> Condition:
        return Condition(">", self.windows[0].factor)


@dataclass(frozen=True, slots=True)
class PipelineSpec:
    """A pipeline's last run failed, its start is late, a scheduled run was missed, a run is
    overdue, or a step of its last run is outside its usual band."""

    condition_name: str
    pipeline: str | None = None
    kind: str = field(default="pipeline", init=False)

    @property
    def condition(self) -> Condition:
        return Condition(">", 0.0)


@dataclass(frozen=True, slots=True)
class EnvironmentSpec:
    """The last run of a pipeline ran with other dependency versions than the run before."""

    pipeline: str | None = None
    kind: str = field(default="environment_changed", init=False)

    @property
    def condition(self) -> Condition:
        return Condition(">", 0.0)


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """The latest data-quality check of a dataset failed."""

    dataset: str | None = None
    kind: str = field(default="check_failed", init=False)

    @property
    def condition(self) -> Condition:
        return Condition(">", 0.0)


@dataclass(frozen=True, slots=True)
class DriftSpec:
    """In the latest check of a dataset, the share of drifted columns (or one column's drift
    distance, with ``column``) is over ``threshold``."""

    threshold: float
    dataset: str | None = None
    column: str | None = None
    kind: str = field(default="drift", init=False)

    @property
    def condition(self) -> Condition:
        return Condition(">", self.threshold)


@dataclass(frozen=True, slots=True)
class BudgetSpec:
    """The forecast spend of a budget over its period is more than ``threshold`` times the
    budget (1.0: forecast over budget)."""

    budget: str | None = None
    threshold: float = 1.0
    kind: str = field(default="budget", init=False)

    @property
    def condition(self) -> Condition:
        return Condition(">", self.threshold)


Spec = (
    ServingSpec
    | AbsenceSpec
    | AvailabilitySpec
    | BurnRateSpec
    | PipelineSpec
    | EnvironmentSpec
    | CheckSpec
    | DriftSpec
    | BudgetSpec
)


@dataclass(frozen=True, slots=True)
class Rule:
    """A named alert rule: its spec, how long the condition must hold before firing
    (``for_``), how long a firing alert outlives it (``keep_firing_for``), its severity and
    extra labels, and annotation templates (see :mod:`mlvitals.alerts.templates`)."""

    name: str
    spec: Spec
    for_: float = 0.0
    keep_firing_for: float = 0.0
    severity: str = "warning"
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.spec.kind
