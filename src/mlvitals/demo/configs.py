"""The files the demo server is started with, written into the demo folder: alert rules,
a rate card, budgets and uptime probes. They are ordinary configuration files (open them
to see how the demo is set up; ``mlvitals rules check`` accepts the rules file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlvitals.cost.defaults import DEFAULT_RATES
from mlvitals.demo import features, training
from mlvitals.demo.budget import serving_limit
from mlvitals.demo.fleet import REPLICAS, free_port
from mlvitals.demo.history import SERVICE
from mlvitals.demo.rules import rules_yaml
from mlvitals.demo.timing import Timing

SERVING_BUDGET = "serving-monthly"
CORES, MEMORY_GIB = 2, 4  # what each replica is given (its container's requests)

_RATE_CARD_HEADER = """\
# The rate card of `mlvitals demo`. It sets no rates, so the built-in ones apply (public
# on-demand list prices, see docs/cost.md). It says what the replicas are allocated (as
# their containers' requests would) and what each run of the pipelines requests.
"""


@dataclass(frozen=True, slots=True)
class DemoFiles:
    """Where the configuration files are, and the replicas' ports (probed by the server)."""

    folder: Path
    rules: Path
    rate_card: Path
    budgets: Path
    probes: Path
    ports: dict[str, int] = field(default_factory=dict)

    def settings(self, timing: Timing) -> dict[str, Any]:
        """Server settings for the demo (names of :mod:`mlvitals.settings`)."""
        return {
            "db": str(self.folder / "demo.db"),
            "rules_file": str(self.rules),
            "rate_card": str(self.rate_card),
            "budgets_file": str(self.budgets),
            "probes_file": str(self.probes),
            "alert_interval": timing.alert_interval,
            "down_after": timing.absence,
        }


def rate_card() -> dict[str, Any]:
    return {
        "allocations": [
            {"service": SERVICE, "cpu_cores": CORES, "memory_gib": MEMORY_GIB},
            {"pipeline": training.TRAIN, "cpu_cores": 8, "memory_gib": 32, "gpus": {"A10G": 4}},
            {"pipeline": features.PIPELINE, "cpu_cores": 1, "memory_gib": 2},
        ]
    }


def serving_hourly() -> float:
    """What the replicas cost an hour at the built-in rates."""
    rates = DEFAULT_RATES
    return len(REPLICAS) * (CORES * rates.cpu_core_hour + MEMORY_GIB * rates.ram_gib_hour)


def write(folder: Path, timing: Timing, now: float) -> DemoFiles:
    """Write the configuration into ``folder`` (created if missing), picking free ports
    for the replicas. The serving budget is twice the forecast of the history that the
    demo is about to send (see :func:`mlvitals.demo.budget.serving_limit`)."""
    folder.mkdir(parents=True, exist_ok=True)
    ports = {instance: free_port() for instance, _, _ in REPLICAS}
    files = DemoFiles(
        folder,
        folder / "rules.yaml",
        folder / "cost.yaml",
        folder / "budgets.yaml",
        folder / "probes.yaml",
        ports,
    )
    files.rules.write_text(rules_yaml(timing), encoding="utf-8")
    files.rate_card.write_text(
        _RATE_CARD_HEADER + yaml.safe_dump(rate_card(), sort_keys=False), encoding="utf-8"
    )
    budgets = {
        "budgets": [
            {
                "name": SERVING_BUDGET,
                "limit": serving_limit(now, timing.history_hours, serving_hourly()),
                "period": "monthly",
                "scope": "service",
                "subject": SERVICE,
            }
        ]
    }
    files.budgets.write_text(
        "# Budgets of `mlvitals demo`; the retraining budget is set through the API.\n"
        + yaml.safe_dump(budgets, sort_keys=False),
        encoding="utf-8",
    )
    interval = timing.probe_interval
    probes = {
        "probes": [
            {
                "name": f"{SERVICE}/{instance}",
                "url": f"http://127.0.0.1:{port}/health",
                "interval": interval,
                "timeout": min(interval, 2.0),
            }
            for instance, port in ports.items()
        ]
    }
    files.probes.write_text(yaml.safe_dump(probes, sort_keys=False), encoding="utf-8")
    return files
