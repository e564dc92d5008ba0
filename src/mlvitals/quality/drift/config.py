"""Drift configuration: immutable values, kept apart from the computation.

The default policy, for every numeric, categorical and boolean column:

- numeric: the KS test gives the p-value; the Wasserstein distance divided by the reference's
  robust spread (interquartile range / 1.349) gives the effect size;
- categorical and boolean: the chi-squared test gives the p-value; PSI gives the effect size;
- p-values are adjusted for the number of columns tested (Benjamini-Hochberg);
- a column drifts when its adjusted p-value is below ``alpha`` (0.05) AND its effect size
  reaches ``effect_threshold`` (0.1). Significance alone is not enough: on a million rows a
  shift of 0.02 standard deviations is significant and meaningless; an effect alone is not
  enough either: on 30 rows a large effect may be noise;
- the dataset drifts when the share of drifted columns reaches ``dataset_share`` (0.5);
- ``fail_on`` says which drift fails the check (exit code 1): ``dataset-drift`` (the
  default), ``column-drift`` (any drifted column) or ``never`` (drift is reported only).

Datetime columns are not tested unless a method is named for them (time always moves).
Any column can instead name a single method and its threshold: a test drifts when its adjusted
p-value is below the threshold (alpha by default), a distance when it reaches the threshold.

>>> policy = DriftPolicy(columns={"age": ColumnRule("psi", 0.2), "id": ColumnRule(skip=True)})
>>> policy.rule_for("age").threshold, policy.rule_for("other").method
(0.2, None)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import yaml

from mlvitals.errors import ConfigError

if TYPE_CHECKING:
    from mlvitals.quality.drift.result import DriftReport


FailOn = Literal["dataset-drift", "column-drift", "never"]
FAIL_ON: tuple[FailOn, ...] = ("dataset-drift", "column-drift", "never")


@dataclass(frozen=True, slots=True)
class ColumnRule:
    """How one column is tested: ``method`` None means the default policy."""

    method: str | None = None
    threshold: float | None = None
    skip: bool = False


@dataclass(frozen=True, slots=True)
class DriftPolicy:
    alpha: float = 0.05
    effect_threshold: float = 0.1
    dataset_share: float = 0.5
    correction: Literal["bh", "none"] = "bh"
    ks_method: Literal["auto", "exact", "asymp"] = "auto"
    columns: Mapping[str, ColumnRule] = field(default_factory=dict)
    fail_on: FailOn = "dataset-drift"

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ConfigError(f"alpha must be between 0 and 1, got {self.alpha}")
        if self.effect_threshold < 0:
            raise ConfigError(f"effect_threshold must be >= 0, got {self.effect_threshold}")
        if not 0.0 < self.dataset_share <= 1.0:
            raise ConfigError(f"dataset_share must be in (0, 1], got {self.dataset_share}")
        if self.correction not in ("bh", "none"):
            raise ConfigError(f"correction must be 'bh' or 'none', got {self.correction!r}")
        if self.ks_method not in ("auto", "exact", "asymp"):
            raise ConfigError(f"ks_method must be auto, exact or asymp, got {self.ks_method!r}")
        if self.fail_on not in FAIL_ON:
            raise ConfigError(f"fail_on must be one of {', '.join(FAIL_ON)}, got {self.fail_on!r}")
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    def fails(self, report: DriftReport) -> bool:
        """Whether ``report``'s drift fails a check under :attr:`fail_on`."""
        if self.fail_on == "dataset-drift":
            return report.dataset_drift
        if self.fail_on == "column-drift":
            return bool(report.drifted)
        return False

    def rule_for(self, column: str) -> ColumnRule:
        return self.columns.get(column, ColumnRule())


_POLICY_KEYS = {
    "alpha",
    "effect_threshold",
    "dataset_share",
    "correction",
    "ks_method",
    "fail_on",
    "columns",
}


def load_policy(path: str | Path) -> DriftPolicy:
    """Read a drift policy from YAML::

    alpha: 0.05
    effect_threshold: 0.1
    dataset_share: 0.5
    fail_on: dataset-drift     # or column-drift, never
    columns:
      income: {method: psi, threshold: 0.2}
      user_id: {skip: true}
    """
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read drift policy {p}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p} is not valid YAML: {exc}") from None
    return policy_from_dict(doc, source=str(p))


def policy_from_dict(doc: Any, *, source: str = "drift policy") -> DriftPolicy:
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: expected a mapping")
    unknown = set(doc) - _POLICY_KEYS
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    columns: dict[str, ColumnRule] = {}
    for name, spec in (doc.get("columns") or {}).items():
        if not isinstance(spec, dict) or set(spec) - {"method", "threshold", "skip"}:
            raise ConfigError(
                f"{source}: column {name!r} takes a mapping of method, threshold and skip"
            )
        threshold = spec.get("threshold")
        if threshold is not None and not isinstance(threshold, int | float):
            raise ConfigError(f"{source}: column {name!r}: threshold must be a number")
        columns[str(name)] = ColumnRule(
            method=spec.get("method"),
            threshold=None if threshold is None else float(threshold),
            skip=bool(spec.get("skip", False)),
        )
    kwargs = {k: doc[k] for k in _POLICY_KEYS - {"columns"} if k in doc}
    try:
        return DriftPolicy(columns=columns, **kwargs)
    except TypeError as exc:
        raise ConfigError(f"{source}: {exc}") from None
