"""Cost of ML systems: a rate card, allocation (hosting, per call, per run, storage), budgets.

Pure functions of values (no database, no server): usage in, :class:`CostLine` values out.
The vocabulary is OpenCost's: allocated ``cpuCoreHours``, ``ramByteHours`` and ``gpuHours``
× rates, and *idle* for what was allocated but not used.

>>> from mlvitals.cost import DEFAULT_CONFIG, RunUsage, Allocation, run_lines
>>> run = RunUsage("run-1", "nightly-train", 0.0, 3600.0, cpu_seconds=1800.0,
...                requested=Allocation(cpu_cores=2))
>>> round(run_lines([run], DEFAULT_CONFIG).amount, 6)  # 2 core-hours at 0.031611
0.063222
"""

from mlvitals.cost.budgets import Budget, BudgetStatus, budget_status, load_budgets
from mlvitals.cost.config import (
    DEFAULT_CONFIG,
    Allocation,
    AllocationRule,
    CostConfig,
    StorageRule,
    load_config,
    parse_config,
)
from mlvitals.cost.focus import FOCUS_COLUMNS, write_focus_csv
from mlvitals.cost.lines import CostLine
from mlvitals.cost.rates import RateCard, RatePeriod, Rates
from mlvitals.cost.report import allocations, breakdown, daily, idle_share
from mlvitals.cost.result import CostResult
from mlvitals.cost.runs import RunUsage, run_lines
from mlvitals.cost.serving import InstanceUsage, OperationUsage, per_call, serving_lines
from mlvitals.cost.storage import (
    DatasetStorage,
    EgressUsage,
    dataset_versions,
    egress_lines,
    storage_lines,
)

__all__ = [
    "DEFAULT_CONFIG",
    "FOCUS_COLUMNS",
    "Allocation",
    "AllocationRule",
    "Budget",
    "BudgetStatus",
    "CostConfig",
    "CostLine",
    "CostResult",
    "DatasetStorage",
    "EgressUsage",
    "InstanceUsage",
    "OperationUsage",
    "RateCard",
    "RatePeriod",
    "Rates",
    "RunUsage",
    "StorageRule",
    "allocations",
    "breakdown",
    "budget_status",
    "daily",
    "dataset_versions",
    "egress_lines",
    "idle_share",
    "load_budgets",
    "load_config",
    "parse_config",
    "per_call",
    "run_lines",
    "serving_lines",
    "storage_lines",
    "write_focus_csv",
]
