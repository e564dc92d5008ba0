"""Today's retraining, live: a run that breaks after a dependency upgrade, then the rerun
with the dependency pinned back, which succeeds and brings the retraining budget's
forecast close to its limit."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlvitals.cost import RunUsage
from mlvitals.demo import training
from mlvitals.demo.budget import NAME as BUDGET
from mlvitals.demo.sim import waiter
from mlvitals.demo.timeline import Expect, Staged, Timeline
from mlvitals.demo.timing import Timing
from mlvitals.pipelines import Environment, RunTracker, Terminated

NEW_VERSION = "1.6.0"
LOAD_AND_FIT = 0.1 + training.FIT_SHARE  # share of a retraining done when ``fit`` ends


@dataclass(frozen=True, slots=True)
class RetrainPlan:
    """When today's two retraining runs start and end (Unix seconds)."""

    start: float
    fails_at: float
    rerun_ends: float

    def usages(self) -> list[RunUsage]:
        """What the two runs will use, for pricing them ahead (see :mod:`demo.budget`)."""
        out = []
        for name, a, b in (
            ("broken", self.start, self.fails_at),
            ("rerun", self.fails_at, self.rerun_ends),
        ):
            wall = b - a
            out.append(
                RunUsage(
                    name,
                    training.TRAIN,
                    a,
                    b,
                    cpu_seconds=training.CPU_CORES * wall,
                    peak_rss_bytes=training.RSS_BYTES,
                    gpu_seconds=training.GPUS_BUSY * wall,
                )
            )
        return out


def newest_features(parent: Path) -> Path | None:
    tables = sorted(parent.glob("*/features.parquet"))
    return tables[-1] if tables else None


class Retraining:
    """Runs :class:`RetrainPlan` on a thread, putting each step on the timeline."""

    def __init__(
        self,
        emit: Callable[[dict[str, Any]], None],
        env: Environment,
        model: Any,
        folder: Path,
        timing: Timing,
        timeline: Timeline,
        stop: threading.Event,
    ) -> None:
        self._emit = emit
        self._env = env
        self._model = model
        self._folder = folder
        self._timing = timing
        self._timeline = timeline
        self._stop = stop
        self._thread: threading.Thread | None = None

    def launch(self, plan: RetrainPlan) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(plan,), name="mlvitals-demo-retrain", daemon=True
        )
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _tracker(self, env: Environment) -> RunTracker:
        return RunTracker(
            self._emit, environment=lambda: env, meter=training.meter(time.time), host="trainer-1"
        )

    def _run(self, plan: RetrainPlan) -> None:
        with contextlib.suppress(Terminated):  # the demo stopped during a run (now aborted)
            self._retrain(plan)

    def _retrain(self, plan: RetrainPlan) -> None:
        margin = self._timing.ship_margin
        broken = training.upgraded(self._env)
        old = self._env.packages.get(training.UPGRADED, "?")
        new = broken.packages[training.UPGRADED]
        page = f"/pipelines/{training.TRAIN}"
        started = time.time()
        self._timeline.staged(
            Staged(
                "dependency-change",
                started,
                started + margin,
                (Expect("EnvironmentChanged", {"pipeline": training.TRAIN}),),
                f"{training.TRAIN}: retraining started with {training.UPGRADED} {new}"
                f" (the last good run had {old})",
                page,
            )
        )
        common = {
            "model": self._model,
            "models": self._folder / "models",
            "features": newest_features(self._folder / "features"),
        }
        wait = waiter(self._stop)
        failed = training.training_run(
            self._tracker(broken),
            wait,
            seconds=(plan.fails_at - started) / LOAD_AND_FIT,
            version=NEW_VERSION,
            trigger="drift_alert",
            scheduled_at=started - 20.0,
            error=training.fit_error(broken),
            **common,
        )
        ended = time.time()
        self._timeline.staged(
            Staged(
                "retraining-failed",
                started,
                ended + margin,
                (Expect("PipelineRunFailed", {"pipeline": training.TRAIN}),),
                f"{training.TRAIN}: retraining {failed.state} in fit; its run page shows the"
                f" {training.UPGRADED} upgrade",
                f"/runs/{failed.id}",
            )
        )
        restarted = time.time()
        rerun = training.training_run(
            self._tracker(self._env),
            wait,
            seconds=max(plan.rerun_ends - time.time(), 1.0),
            version=NEW_VERSION,
            trigger="manual",
            **common,
        )
        done = time.time()
        self._timeline.staged(
            Staged(
                "budget-near-limit",
                restarted,
                done + margin,
                (Expect("BudgetForecastHigh", {"budget": BUDGET}),),
                f"{training.TRAIN}: rerun with {training.UPGRADED} {old} {rerun.state}; today's"
                f" retraining forecast is now close to the {BUDGET} budget",
                "/cost",
            )
        )
