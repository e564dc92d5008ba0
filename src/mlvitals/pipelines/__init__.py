"""Pipeline and retraining monitoring: runs, steps, datasets, environments, schedules.

>>> from mlvitals.pipelines import RunTracker
>>> records = []
>>> tracker = RunTracker(records.append, environment=False)
>>> with tracker.run("nightly-etl") as run:
...     with run.step("load") as step:
...         _ = step.input("warehouse.orders")
>>> run.state
'succeeded'

Scripts use :func:`run` (records go to a server); an SDK or a test injects ``emit``.
"""

from mlvitals.pipelines.config import PipelineConfig, load_configs
from mlvitals.pipelines.datasets import DatasetRef, describe
from mlvitals.pipelines.envdiff import EnvDiff, diff_environments
from mlvitals.pipelines.environment import (
    Environment,
    capture_environment,
    load_snapshot,
    save_snapshot,
)
from mlvitals.pipelines.lifecycle import Terminated
from mlvitals.pipelines.shortcuts import declare, run, step
from mlvitals.pipelines.sinks import HttpSink
from mlvitals.pipelines.tracker import Run, RunTracker, Step, current_run

__all__ = [
    "DatasetRef",
    "EnvDiff",
    "Environment",
    "HttpSink",
    "PipelineConfig",
    "Run",
    "RunTracker",
    "Step",
    "Terminated",
    "capture_environment",
    "current_run",
    "declare",
    "describe",
    "diff_environments",
    "load_configs",
    "load_snapshot",
    "run",
    "save_snapshot",
    "step",
]
