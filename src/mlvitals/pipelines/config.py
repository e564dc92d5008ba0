"""What a pipeline declares about itself: its schedule, grace period and maximum duration.

Declared in code (:class:`PipelineConfig`, sent as a ``pipeline`` record) or in YAML::

    pipelines:
      - name: nightly-etl
        schedule: "0 2 * * *"        # cron, evaluated in `timezone`
        timezone: UTC
        grace: 15m                    # a start later than this after the nominal time is late
        max_duration: 2h              # a run longer than this is overdue
        history: 20                   # good runs that baselines learn from

>>> PipelineConfig("etl", schedule="*/5 * * * *", grace_seconds=60).to_wire(0.0)["schedule"]
'*/5 * * * *'

Durations are seconds or durations like ``15m`` or ``1h30m`` (see :mod:`mlvitals.durations`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlvitals.durations import parse_duration
from mlvitals.errors import ConfigError, DurationError


def _duration(item: dict[str, Any], key: str, default: float, *, positive: bool) -> float:
    try:
        return parse_duration(item.get(key, default), positive=positive)
    except DurationError as exc:
        raise ConfigError(f"{key}: {exc}") from None


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """A pipeline's declared expectations; every field but ``name`` is optional."""

    name: str
    schedule: str | None = None
    timezone: str = "UTC"
    grace_seconds: float = 300.0
    max_duration_seconds: float | None = None
    history: int = 20

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 200:
            raise ConfigError("a pipeline name must be 1-200 characters")
        if self.schedule is not None:
            from mlvitals.pipelines.schedule import check_cron

            check_cron(self.schedule, self.timezone)
        if self.grace_seconds < 0:
            raise ConfigError(f"pipeline {self.name}: grace must not be negative")
        if self.max_duration_seconds is not None and self.max_duration_seconds <= 0:
            raise ConfigError(f"pipeline {self.name}: max_duration must be positive")
        if not 3 <= self.history <= 1000:
            raise ConfigError(f"pipeline {self.name}: history must be 3-1000 runs")

    def to_wire(self, time: float) -> dict[str, Any]:
        return {
            "kind": "pipeline",
            "pipeline": self.name,
            "time": time,
            "schedule": self.schedule,
            "timezone": self.timezone,
            "grace_seconds": self.grace_seconds,
            "max_duration_seconds": self.max_duration_seconds,
            "history": self.history,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PipelineConfig:
        return cls(
            name=row["pipeline"],
            schedule=row.get("schedule"),
            timezone=row.get("timezone") or "UTC",
            grace_seconds=float(row.get("grace_seconds") or 0.0),
            max_duration_seconds=row.get("max_duration_seconds"),
            history=int(row.get("history") or 20),
        )


def load_configs(path: str | Path) -> list[PipelineConfig]:
    """Read a YAML file with a list ``pipelines`` (see the module docstring)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    items = data.get("pipelines") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"{path}: expected a top-level list 'pipelines'")
    configs = []
    known = {"name", "schedule", "timezone", "grace", "max_duration", "history"}
    for i, item in enumerate(items):
        where = f"{path}, pipeline {i + 1}"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ConfigError(f"{where}: expected a mapping with a 'name'")
        unknown = sorted(set(item) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
        try:
            configs.append(
                PipelineConfig(
                    name=item["name"],
                    schedule=item.get("schedule"),
                    timezone=item.get("timezone", "UTC"),
                    grace_seconds=_duration(item, "grace", 300, positive=False),
                    max_duration_seconds=(
                        None
                        if item.get("max_duration") is None
                        else _duration(item, "max_duration", 0, positive=True)
                    ),
                    history=int(item.get("history", 20)),
                )
            )
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return configs
