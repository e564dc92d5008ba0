"""The cost configuration file (the "rate card"): rates with their dates, allocations,
uptime and dataset storage rules. Validation errors name the file and the field.

.. code-block:: yaml

    currency: USD
    uptime_max_gap_seconds: 30        # a longer gap between instance samples is downtime
    rates:
      - cpu_core_hour: 0.031611       # no effective_from: in force since always
        gpu_hour: {default: 0.95, A100: 1.7555}
      - effective_from: 2026-07-01    # a date (UTC midnight) or a whole-hour UTC time
        cpu_core_hour: 0.028          # fields not named carry over from the period before
    allocations:                      # override what instances report, or give run requests
      - service: fraud-model
        cpu_cores: 4
        memory_gib: 8
        gpus: [A10G]
      - pipeline: nightly-train
        cpu_cores: 8
        memory_gib: 32
        gpus: [A100, A100]
    storage:                          # first matching rule wins; default: object, kept forever
      - dataset: "warehouse.*"
        class: block
        retention_days: 30

>>> cfg = parse_config({"currency": "EUR", "rates": [{"cpu_core_hour": 0.03}]}, "cost.yaml")
>>> cfg.card.currency, cfg.card.at(0).cpu_core_hour, cfg.card.at(0).ram_gib_hour
('EUR', 0.03, 0.004237)
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from mlvitals.cost.defaults import DEFAULT_CURRENCY, DEFAULT_RATES
from mlvitals.cost.lines import GIB
from mlvitals.cost.rates import DEFAULT_GPU, RateCard, RatePeriod
from mlvitals.cost.validate import Validator
from mlvitals.errors import ConfigError

DEFAULT_MAX_GAP = 30.0
STORAGE_CLASSES = ("object", "block")

_RATE_FIELDS = (
    "cpu_core_hour",
    "ram_gib_hour",
    "block_storage_gib_month",
    "object_storage_gib_month",
    "egress_gib",
)
_MAP_FIELDS = ("gpu_hour", "per_1k_calls")


@dataclass(frozen=True, slots=True)
class Allocation:
    """Resources an instance holds or a run requests; ``None`` keeps what was measured."""

    cpu_cores: float | None = None
    memory_bytes: float | None = None
    gpus: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class AllocationRule:
    """An :class:`Allocation` for a service (optionally one version or instance) or a
    pipeline. The most specific matching rule wins."""

    allocation: Allocation
    service: str = ""
    version: str = ""
    instance: str = ""
    pipeline: str = ""

    def specificity(self) -> int:
        return (2 if self.instance else 0) + (1 if self.version else 0)


@dataclass(frozen=True, slots=True)
class StorageRule:
    """How a dataset (matched by a glob on its name) is stored and for how long."""

    dataset: str
    storage_class: str = "object"
    retention_days: float | None = None

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name, self.dataset)


@dataclass(frozen=True, slots=True)
class CostConfig:
    card: RateCard
    allocations: tuple[AllocationRule, ...] = ()
    storage: tuple[StorageRule, ...] = ()
    max_gap: float = DEFAULT_MAX_GAP
    source: str = "built-in defaults"

    def service_allocation(self, service: str, version: str, instance: str) -> Allocation:
        """The override for one instance of a service, or an empty :class:`Allocation`."""
        best: AllocationRule | None = None
        for rule in self.allocations:
            if rule.pipeline or rule.service != service:
                continue
            if (rule.version and rule.version != version) or (
                rule.instance and rule.instance != instance
            ):
                continue
            if best is None or rule.specificity() > best.specificity():
                best = rule
        return best.allocation if best is not None else Allocation()

    def pipeline_request(self, pipeline: str) -> Allocation:
        """What each run of ``pipeline`` requests, or an empty :class:`Allocation`."""
        for rule in self.allocations:
            if rule.pipeline and rule.pipeline == pipeline:
                return rule.allocation
        return Allocation()

    def storage_rule(self, dataset: str) -> StorageRule:
        for rule in self.storage:
            if rule.matches(dataset):
                return rule
        return StorageRule("*")


DEFAULT_CONFIG = CostConfig(RateCard(DEFAULT_CURRENCY, (RatePeriod(-math.inf, DEFAULT_RATES),)))


def load_config(path: str | Path | None) -> CostConfig:
    """Read a cost configuration file; no path (or ``""``) gives the built-in defaults."""
    if not path:
        return DEFAULT_CONFIG
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read rate card {p}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    return parse_config({} if data is None else data, str(p))


def parse_config(data: Any, source: str) -> CostConfig:
    """Validate a parsed configuration; errors read ``FILE: FIELD: what is wrong``."""
    v = Validator(source)
    top = v.mapping(
        data, "", {"currency", "uptime_max_gap_seconds", "rates", "allocations", "storage"}
    )
    currency = top.get("currency", DEFAULT_CURRENCY)
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        v.fail("currency", f"must be a three-letter ISO 4217 code such as USD, got {currency!r}")
    max_gap = v.number(
        top.get("uptime_max_gap_seconds", DEFAULT_MAX_GAP), "uptime_max_gap_seconds", positive=True
    )
    periods = _periods(v, top.get("rates", []))
    return CostConfig(
        card=RateCard(currency, tuple(periods)),
        allocations=tuple(
            _allocation(v, item, f"allocations[{i}]")
            for i, item in enumerate(v.sequence(top.get("allocations", []), "allocations"))
        ),
        storage=tuple(
            _storage(v, item, f"storage[{i}]")
            for i, item in enumerate(v.sequence(top.get("storage", []), "storage"))
        ),
        max_gap=max_gap,
        source=source,
    )


def _periods(v: Validator, raw: Any) -> list[RatePeriod]:
    periods = [RatePeriod(-math.inf, DEFAULT_RATES)]
    for i, item in enumerate(v.sequence(raw, "rates")):
        where = f"rates[{i}]"
        entry = v.mapping(item, where, {"effective_from", *_RATE_FIELDS, *_MAP_FIELDS})
        changes: dict[str, Any] = {}
        for name in _RATE_FIELDS:
            if name in entry:
                changes[name] = v.number(entry[name], f"{where}.{name}")
        for name in _MAP_FIELDS:
            if name in entry:
                table = v.mapping(entry[name], f"{where}.{name}", None)
                changes[name] = {
                    str(k): v.number(price, f"{where}.{name}.{k}") for k, price in table.items()
                }
        if "effective_from" not in entry:
            if i > 0:
                v.fail(f"{where}.effective_from", "is required on every entry but the first")
            periods[0] = RatePeriod(-math.inf, DEFAULT_RATES.with_changes(**changes))
            continue
        when = _effective_from(v, entry["effective_from"], f"{where}.effective_from")
        if when <= periods[-1].effective_from:
            v.fail(f"{where}.effective_from", "must be later than the entry before it")
        periods.append(RatePeriod(when, periods[-1].rates.with_changes(**changes)))
    if DEFAULT_GPU not in periods[0].rates.gpu_hour:  # pragma: no cover - defaults have it
        v.fail("rates[0].gpu_hour", f"needs a {DEFAULT_GPU!r} price")
    return periods


def _effective_from(v: Validator, raw: Any, where: str) -> float:
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, date):
        moment = datetime(raw.year, raw.month, raw.day)
    elif isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            v.fail(where, f"must be a date (2026-07-01) or an ISO time, got {raw!r}")
    else:
        v.fail(where, f"must be a date (2026-07-01) or an ISO time, got {raw!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    t = moment.timestamp()
    if t % 3600:
        # Usage is kept per hour; a change inside an hour could not be split exactly.
        v.fail(where, f"must fall on a whole hour (UTC), got {raw!r}")
    return t


def _allocation(v: Validator, raw: Any, where: str) -> AllocationRule:
    entry = v.mapping(
        raw,
        where,
        {"service", "version", "instance", "pipeline", "cpu_cores", "memory_gib", "gpus"},
    )
    service, pipeline = entry.get("service", ""), entry.get("pipeline", "")
    if bool(service) == bool(pipeline):
        v.fail(where, "needs exactly one of 'service' or 'pipeline'")
    if pipeline and ("version" in entry or "instance" in entry):
        v.fail(where, "'version' and 'instance' apply to services, not pipelines")
    cores = entry.get("cpu_cores")
    memory = entry.get("memory_gib")
    gpus = entry.get("gpus")
    allocation = Allocation(
        cpu_cores=None if cores is None else v.number(cores, f"{where}.cpu_cores"),
        memory_bytes=None if memory is None else v.number(memory, f"{where}.memory_gib") * GIB,
        gpus=None if gpus is None else _gpus(v, gpus, f"{where}.gpus"),
    )
    return AllocationRule(
        allocation,
        service=v.text(service, f"{where}.service"),
        version=v.text(entry.get("version", ""), f"{where}.version"),
        instance=v.text(entry.get("instance", ""), f"{where}.instance"),
        pipeline=v.text(pipeline, f"{where}.pipeline"),
    )


def _gpus(v: Validator, raw: Any, where: str) -> tuple[str, ...]:
    if isinstance(raw, Mapping):  # {A100: 2}
        out: list[str] = []
        for model, count in raw.items():
            n = v.number(count, f"{where}.{model}")
            if n != int(n):
                v.fail(f"{where}.{model}", f"must be a whole number of GPUs, got {count!r}")
            out += [str(model)] * int(n)
        return tuple(out)
    return tuple(v.text(m, f"{where}[{i}]") for i, m in enumerate(v.sequence(raw, where)))


def _storage(v: Validator, raw: Any, where: str) -> StorageRule:
    entry = v.mapping(raw, where, {"dataset", "class", "retention_days"})
    pattern = v.text(entry.get("dataset", "*"), f"{where}.dataset") or "*"
    cls = entry.get("class", "object")
    if cls not in STORAGE_CLASSES:
        v.fail(f"{where}.class", f"must be one of {', '.join(STORAGE_CLASSES)}, got {cls!r}")
    days = entry.get("retention_days")
    return StorageRule(
        pattern,
        cls,
        None if days is None else v.number(days, f"{where}.retention_days", positive=True),
    )
